// Byte-level BPE (GPT-2 style; see llm_encoders.h, BpeEncoder), and GPT-2's byte ↔ unicode alphabet.
// Merges are looked up by the ids of the two pieces (every piece a merge produces is a token), so a
// word's symbols carry ids, never strings. Per word: a min-heap of candidate pairs keyed by (rank, then
// leftmost), stale entries skipped on pop.
// Merges whose sides or result are not tokens can never apply and are dropped at creation; a byte whose
// alphabet character is not a token becomes unk_id (or nothing when the vocab has none).
#include <algorithm>
#include <array>

#include "text/llm_encoders.h"
#include "text/utf8.h"

namespace lmaas::text::detail {
namespace {

constexpr char32_t kAlphabetEnd = 0x144;  // the alphabet's code points are all below 256 + 68

struct ByteAlphabet {
  std::array<char32_t, 256> to_unicode{};
  std::array<int16_t, kAlphabetEnd> to_byte{};

  ByteAlphabet() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      const char32_t cp = printable ? static_cast<char32_t>(byte) : next++;
      to_unicode[static_cast<size_t>(byte)] = cp;
      to_byte[cp] = static_cast<int16_t>(byte);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet kAlphabet;
  return kAlphabet;
}

struct Symbol {
  int32_t id;  // the token this symbol is, -1 when none
  int32_t prev;
  int32_t next;
  uint32_t length;  // bytes of the word; 0 once merged into its left neighbour
};

// A pair that may merge: `key` orders the heap (rank in the high half, left index in the low half, so
// lower rank and then further left comes first); the ids tell whether the pair is still the same.
struct Candidate {
  uint64_t key;
  int32_t left_id;
  int32_t right_id;
};

// std::push_heap keeps the largest on top; here the largest is the smallest key.
struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.key > b.key; }
};

}  // namespace

char32_t byte_to_unicode(uint8_t byte) { return alphabet().to_unicode[byte]; }

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) append_utf8(out, byte_to_unicode(static_cast<uint8_t>(c)));
  return out;
}

void byte_level_decode(std::string_view text, std::string& out) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = utf8_char_length(text, pos);
    size_t end = pos;
    const char32_t cp = next_code_point(text, end);
    const bool valid = n > 1 || static_cast<unsigned char>(text[pos]) < 0x80;
    if (valid && cp < kAlphabetEnd && alphabet().to_byte[cp] >= 0) {
      out.push_back(static_cast<char>(alphabet().to_byte[cp]));
    } else {
      out.append(text.substr(pos, n));
    }
    pos += n;
  }
}

Result<BpeEncoder> BpeEncoder::create(const VocabIndex& index) {
  const LlmVocab& vocab = index.vocab();
  LMAAS_ASSIGN_OR_RETURN(PreTokenizer pre,
                         vocab.pre_patterns.empty()
                             ? PreTokenizer::for_name(vocab.pre)
                             : PreTokenizer::from_patterns(vocab.pre_patterns, RegexAnchors::kLineEnds));
  BpeEncoder encoder(index, std::move(pre));
  encoder.ignore_merges_ =
      vocab.ignore_merges || (vocab.pre_patterns.empty() && pre_tokenizer_ignores_merges(vocab.pre));
  for (int byte = 0; byte < 256; ++byte) {
    std::string piece;
    append_utf8(piece, byte_to_unicode(static_cast<uint8_t>(byte)));
    encoder.byte_ids_[static_cast<size_t>(byte)] = index.find(piece);
  }
  encoder.merges_.reserve(vocab.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string_view merge = vocab.merges[rank];
    const size_t space = merge.find(' ', 1);
    const int32_t left = index.find(merge.substr(0, space));
    const int32_t right = index.find(merge.substr(space + 1));
    joined.assign(merge.substr(0, space)).append(merge.substr(space + 1));
    const int32_t merged = index.find(joined);
    if (left < 0 || right < 0 || merged < 0) continue;
    const uint64_t key = static_cast<uint64_t>(left) << 32 | static_cast<uint32_t>(right);
    encoder.merges_.emplace(key, Merge{static_cast<int32_t>(rank), merged});  // the first rank wins
  }
  return encoder;
}

const BpeEncoder::Merge* BpeEncoder::find_merge(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  const auto it = merges_.find(static_cast<uint64_t>(left) << 32 | static_cast<uint32_t>(right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::string_view> words;
  pre_.split(text, words);
  for (std::string_view word : words) encode_word(word, out);
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    const int32_t id = index_->find(byte_level_encode(word));
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const auto n = static_cast<int32_t>(word.size());
  std::vector<Symbol> symbols(word.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[static_cast<size_t>(i)] = {byte_ids_[static_cast<uint8_t>(word[static_cast<size_t>(i)])], i - 1,
                                       i + 1 < n ? i + 1 : -1, 1};
  }
  std::vector<Candidate> heap;
  auto candidate = [&](int32_t left, int32_t right, std::vector<Candidate>& into) {
    if (left < 0 || right < 0) return false;
    const int32_t left_id = symbols[static_cast<size_t>(left)].id;
    const int32_t right_id = symbols[static_cast<size_t>(right)].id;
    const Merge* merge = find_merge(left_id, right_id);
    if (merge == nullptr) return false;
    into.push_back(
        {static_cast<uint64_t>(merge->rank) << 32 | static_cast<uint32_t>(left), left_id, right_id});
    return true;
  };
  for (int32_t i = 1; i < n; ++i) candidate(i - 1, i, heap);
  std::make_heap(heap.begin(), heap.end(), LowerPriority());
  auto push = [&](int32_t left, int32_t right) {
    if (candidate(left, right, heap)) std::push_heap(heap.begin(), heap.end(), LowerPriority());
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LowerPriority());
    const Candidate top = heap.back();
    heap.pop_back();
    const auto left_index = static_cast<int32_t>(top.key & 0xFFFFFFFFu);
    Symbol& left = symbols[static_cast<size_t>(left_index)];
    // Stale when the left symbol was merged away or grew, or its right neighbour changed: a symbol's
    // start never moves, so its id fixes its text.
    if (left.length == 0 || left.id != top.left_id || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    if (right.id != top.right_id) continue;
    left.id = find_merge(left.id, right.id)->id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = left_index;
    push(left.prev, left_index);
    push(left_index, left.next);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const int32_t id = symbols[static_cast<size_t>(i)].id;
    if (id >= 0) {
      out.push_back(id);
    } else if (index_->vocab().unk_id >= 0) {
      out.push_back(index_->vocab().unk_id);
    }
  }
}

}  // namespace lmaas::text::detail
