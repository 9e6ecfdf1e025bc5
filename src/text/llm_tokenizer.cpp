// LlmTokenizer (see llm_tokenizer.h): special-token cutting, the per-type text preparation around the
// encoders of llm_encoders.h, pieces and decoding.
// Special tokens are found with a byte trie over their texts: at each position whose byte can start
// one, the longest special token starting there wins (leftmost-longest, as HF tokenizers' added
// vocabulary), so the cost is linear in the text times the longest special token.
#include "text/llm_tokenizer.h"

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>

#include "text/llm_encoders.h"

namespace lmaas::text {
namespace detail {

VocabIndex::VocabIndex(const LlmVocab& vocab) : vocab_(&vocab) {
  ids_.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    ids_.emplace(vocab.tokens[i], static_cast<int32_t>(i));
    max_token_bytes_ = std::max(max_token_bytes_, vocab.tokens[i].size());
  }
}

}  // namespace detail

namespace {

using detail::kSpmSpace;

// Byte trie over the texts of the tokens encode() cuts out before the subword algorithm.
class SpecialMatcher {
 public:
  explicit SpecialMatcher(const LlmVocab& vocab) {
    nodes_.push_back({});
    for (int32_t id = 0; id < vocab.n_tokens(); ++id) {
      const LlmTokenType type = vocab.token_type(id);
      if (type != LlmTokenType::kControl && type != LlmTokenType::kUnknown &&
          type != LlmTokenType::kUserDefined) {
        continue;
      }
      int32_t node = 0;
      for (char c : vocab.tokens[static_cast<size_t>(id)])
        node = child_or_insert(node, static_cast<uint8_t>(c));
      nodes_[static_cast<size_t>(node)] = {id, type == LlmTokenType::kUserDefined};
      first_bytes_[static_cast<uint8_t>(vocab.tokens[static_cast<size_t>(id)][0])] = true;
    }
  }

  // The longest special token at text[pos] (-1 if none) and its length.
  std::pair<int32_t, size_t> match(std::string_view text, size_t pos, bool parse_special) const {
    std::pair<int32_t, size_t> best{-1, 0};
    if (!first_bytes_[static_cast<uint8_t>(text[pos])]) return best;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const auto it = edges_.find(key(node, static_cast<uint8_t>(text[i])));
      if (it == edges_.end()) break;
      node = it->second;
      const Node& n = nodes_[static_cast<size_t>(node)];
      if (n.id >= 0 && (n.always || parse_special)) best = {n.id, i + 1 - pos};
    }
    return best;
  }

 private:
  struct Node {
    int32_t id = -1;
    bool always = false;  // user-defined: matched even without parse_special
  };
  static uint64_t key(int32_t node, uint8_t byte) { return static_cast<uint64_t>(node) << 8 | byte; }
  int32_t child_or_insert(int32_t node, uint8_t byte) {
    const auto [it, inserted] = edges_.emplace(key(node, byte), static_cast<int32_t>(nodes_.size()));
    if (inserted) nodes_.push_back({});
    return it->second;
  }

  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> edges_;
  std::array<bool, 256> first_bytes_{};
};

bool is_eog_text(std::string_view text) {
  static constexpr std::string_view kEndings[] = {"<|endoftext|>", "<|eot_id|>", "<|im_end|>", "<|end|>",
                                                  "<end_of_turn>", "</s>",       "<|eom_id|>"};
  return std::find(std::begin(kEndings), std::end(kEndings), text) != std::end(kEndings);
}

// Linear in s (a rebuilt string, not replace() in place, which would shift the tail each time).
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t done = 0;
  for (; pos != std::string::npos; pos = s.find(from, done)) {
    out.append(s, done, pos - done).append(to);
    done = pos + from.size();
  }
  out.append(s, done, std::string::npos);
  s = std::move(out);
}

std::string make_piece(const LlmVocab& vocab, int32_t id) {
  const std::string& text = vocab.tokens[static_cast<size_t>(id)];
  const LlmTokenType type = vocab.token_type(id);
  if (type == LlmTokenType::kControl || type == LlmTokenType::kUserDefined) {
    return vocab.type == LlmVocabType::kWordPiece ? " " + text : text;  // a WordPiece special is a word
  }
  std::string piece;
  switch (vocab.type) {
    case LlmVocabType::kSpm:
      if (type == LlmTokenType::kByte) {  // "<0xXX>" (validated)
        return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
      }
      piece = text;
      replace_all(piece, kSpmSpace, " ");
      return piece;
    case LlmVocabType::kBpe:
      detail::byte_level_decode(text, piece);
      return piece;
    case LlmVocabType::kWordPiece:
      return text.rfind(kSpmSpace, 0) == 0 ? " " + text.substr(kSpmSpace.size()) : text;
  }
  return text;
}

}  // namespace

struct LlmTokenizer::Impl {
  explicit Impl(LlmVocab v) : vocab(std::move(v)), index(vocab), specials(vocab) {}

  LlmVocab vocab;
  detail::VocabIndex index;  // views into vocab
  SpecialMatcher specials;
  std::optional<detail::SpmEncoder> spm;
  std::optional<detail::BpeEncoder> bpe;
  std::optional<detail::WordPieceEncoder> wordpiece;
  std::vector<std::string> pieces;
  std::vector<bool> eog;

  // `text`: a stretch of plain text, at the start of the whole text or after a special token.
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
  bool space_prefix(std::string_view text, bool at_start) const;
};

bool LlmTokenizer::Impl::space_prefix(std::string_view text, bool at_start) const {
  if (!vocab.add_space_prefix) return false;
  switch (vocab.space_prefix) {
    case LlmSpacePrefix::kEveryStretch:
      return true;
    case LlmSpacePrefix::kFirstUnlessSpace:
      return at_start && text[0] != ' ' && !text.starts_with(kSpmSpace);
    case LlmSpacePrefix::kEveryUnlessSpace:
      return text[0] != ' ' && !text.starts_with(kSpmSpace);
  }
  return true;
}

void LlmTokenizer::Impl::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& out) const {
  if (spm) {
    std::string escaped;
    escaped.reserve(text.size() + text.size() / 4 + 3);
    if (space_prefix(text, at_start)) escaped = kSpmSpace;
    for (char c : text) {
      if (c == ' ') {
        escaped.append(kSpmSpace);
      } else {
        escaped.push_back(c);
      }
    }
    spm->encode(escaped, out);
  } else if (bpe) {
    bpe->encode(text, out);
  } else {
    wordpiece->encode(text, out);
  }
}

Result<LlmTokenizer> LlmTokenizer::create(LlmVocab vocab) {
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  auto impl = std::make_shared<Impl>(std::move(vocab));
  const LlmVocab& v = impl->vocab;
  switch (v.type) {
    case LlmVocabType::kSpm:
      impl->spm.emplace(impl->index);
      break;
    case LlmVocabType::kWordPiece:
      impl->wordpiece.emplace(impl->index);
      break;
    case LlmVocabType::kBpe: {
      auto bpe = detail::BpeEncoder::create(impl->index);
      if (!bpe.is_ok()) {
        const std::string where = v.source.empty() ? "" : "tokenizer vocab '" + v.source + "': ";
        return Status(bpe.status().code(), where + bpe.status().message());
      }
      impl->bpe.emplace(std::move(bpe).value());
      break;
    }
  }
  impl->pieces.reserve(v.tokens.size());
  impl->eog.resize(v.tokens.size());
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    impl->pieces.push_back(make_piece(v, id));
    impl->eog[static_cast<size_t>(id)] =
        id == v.eos_id || id == v.eot_id || id == v.eom_id ||
        (v.token_type(id) == LlmTokenType::kControl && is_eog_text(v.tokens[static_cast<size_t>(id)]));
  }
  return LlmTokenizer(std::move(impl));
}

std::vector<int32_t> LlmTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const LlmVocab& v = impl_->vocab;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && v.add_bos) out.push_back(v.bos_id);
  size_t plain_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const auto [id, length] = impl_->specials.match(text, pos, parse_special);
    if (id < 0) {
      ++pos;
      continue;
    }
    if (pos > plain_start)
      impl_->encode_text(text.substr(plain_start, pos - plain_start), plain_start == 0, out);
    out.push_back(id);
    pos += length;
    plain_start = pos;
  }
  if (plain_start < text.size()) impl_->encode_text(text.substr(plain_start), plain_start == 0, out);
  if (add_special && v.add_eos) out.push_back(v.eos_id);
  if (add_special && v.add_sep) out.push_back(v.sep_id);
  return out;
}

std::string LlmTokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  return impl_->pieces[static_cast<size_t>(id)];
}

std::string LlmTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const LlmVocab& v = impl_->vocab;
  std::string out;
  bool at_start = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab() || (skip_special && is_control(id))) continue;
    std::string_view piece = impl_->pieces[static_cast<size_t>(id)];
    const LlmTokenType type = v.token_type(id);
    const bool spm_text =
        v.type == LlmVocabType::kSpm && type != LlmTokenType::kControl && type != LlmTokenType::kByte;
    if (at_start && !piece.empty() && piece[0] == ' ' &&
        ((spm_text && v.add_space_prefix) || v.type == LlmVocabType::kWordPiece)) {
      piece.remove_prefix(1);
    }
    out.append(piece);
    if (!piece.empty() || spm_text) at_start = false;
  }
  if (v.type == LlmVocabType::kWordPiece) {  // BERT's clean_up_tokenization
    static constexpr std::pair<std::string_view, std::string_view> kJoins[] = {
        {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kJoins) replace_all(out, from, to);
  }
  return out;
}

const LlmVocab& LlmTokenizer::vocab() const { return impl_->vocab; }

bool LlmTokenizer::is_eog(int32_t id) const {
  return id >= 0 && id < n_vocab() && impl_->eog[static_cast<size_t>(id)];
}

bool LlmTokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && vocab().token_type(id) == LlmTokenType::kControl;
}

}  // namespace lmaas::text
