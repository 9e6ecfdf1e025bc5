// SentencePiece-style BPE over piece scores (see llm_encoders.h, SpmEncoder).
// Symbols form a linked list over the text; a max-heap holds candidate pairs keyed by (score of the
// merged piece, then leftmost). A popped pair is stale when either side has changed since it was
// pushed (sides only grow, so comparing lengths and adjacency is exact). O(n log n) in the text length.
#include <algorithm>
#include <queue>

#include "text/llm_encoders.h"

namespace lmaas::text::detail {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;
  uint32_t length;  // 0 once merged into its left neighbour
};

struct Candidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // of the merged text when pushed
};

struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SpmEncoder::SpmEncoder(const VocabIndex& index) : index_(&index) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int byte = 0; byte < 256; ++byte) {
    const std::string piece = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
    const int32_t id = index.find(piece);
    const bool is_byte = id >= 0 && index.vocab().token_type(id) == LlmTokenType::kByte;
    byte_ids_[static_cast<size_t>(byte)] = is_byte ? id : -1;
  }
}

int32_t SpmEncoder::mergeable_id(std::string_view text) const {
  const int32_t id = index_->find(text);
  if (id < 0) return -1;
  const LlmTokenType type = index_->vocab().token_type(id);
  return type == LlmTokenType::kNormal || type == LlmTokenType::kUserDefined ? id : -1;
}

void SpmEncoder::emit_symbol(std::string_view text, std::vector<int32_t>& out) const {
  const int32_t id = mergeable_id(text);
  if (id >= 0) {
    out.push_back(id);
    return;
  }
  const bool has_bytes = std::all_of(text.begin(), text.end(),
                                     [&](char c) { return byte_ids_[static_cast<unsigned char>(c)] >= 0; });
  if (has_bytes) {
    for (char c : text) out.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  } else if (index_->vocab().unk_id >= 0) {
    out.push_back(index_->vocab().unk_id);
  }
}

void SpmEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const auto n = static_cast<uint32_t>(utf8_char_length(text, pos));
    const auto i = static_cast<int32_t>(symbols.size());
    symbols.push_back({i - 1, pos + n < text.size() ? i + 1 : -1, static_cast<uint32_t>(pos), n});
    pos += n;
  }
  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue;
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const uint32_t length = l.length + symbols[static_cast<size_t>(right)].length;
    const int32_t id = mergeable_id(text.substr(l.start, length));
    if (id >= 0) queue.push({index_->vocab().score(id), left, right, length});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.left)];
    Symbol& right = symbols[static_cast<size_t>(top.right)];
    if (left.length == 0 || right.length == 0 || left.next != top.right ||
        left.length + right.length != top.length) {
      continue;  // stale
    }
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.left;
    try_pair(left.prev, top.left);
    try_pair(top.left, left.next);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& symbol = symbols[static_cast<size_t>(i)];
    emit_symbol(text.substr(symbol.start, symbol.length), out);
  }
}

}  // namespace lmaas::text::detail
