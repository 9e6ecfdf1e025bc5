#include "text/text_encoder.h"

#include <filesystem>

#include "base/file_util.h"
#include "text/normalizer.h"
#include "text/utf8.h"

namespace lmaas::text {
namespace {

constexpr const char* kWordFile = "tokenizer.json";
constexpr const char* kSpmFile = "tokenizer.model";

bool is_spm(const std::string& type) { return type == "spm-bpe" || type == "spm-unigram"; }

// FNV-1a over the n-gram's token ids: the bucket of an n-gram is stable across runs and platforms.
constexpr uint64_t kFnvOffset = 1469598103934665603ull, kFnvPrime = 1099511628211ull;

uint64_t hash_ngram(const int32_t* ids, int64_t n) {
  uint64_t h = kFnvOffset;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t v = static_cast<uint32_t>(ids[i]);
    for (int b = 0; b < 4; ++b, v >>= 8) h = (h ^ (v & 0xff)) * kFnvPrime;
  }
  return h;
}

// FNV-1a over a character n-gram's bytes, started from a different state than the word n-grams so the
// two kinds spread independently over the shared buckets.
uint64_t hash_chars(std::string_view bytes) {
  uint64_t h = kFnvOffset ^ 0x63686172ull;  // "char"
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

// Byte offsets of each code point's start in valid UTF-8, plus the end, into `starts` (reused).
void code_point_starts(std::string_view s, std::vector<size_t>& starts) {
  starts.clear();
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) starts.push_back(i);
  starts.push_back(s.size());
}

}  // namespace

Status check_spec(const TextEncoderSpec& s) {
  if (s.type != "word" && s.type != "char" && !is_spm(s.type))
    return Status(Code::kInvalidArgument, "tokenizer type '" + s.type + "' is not word, char, spm-bpe or spm-unigram");
  if (s.max_len < 1) return Status(Code::kInvalidArgument, "tokenizer max_len must be positive");
  if (s.ngrams < 1 || (s.ngrams > 1 && s.buckets < 1))
    return Status(Code::kInvalidArgument, "tokenizer: ngrams > 1 needs buckets > 0");
  if (s.char_ngram_max > 0) {
    if (s.type != "word")
      return Status(Code::kInvalidArgument, "tokenizer: character n-grams need the word tokenizer, not " + s.type);
    if (s.char_ngram_min < 1 || s.char_ngram_min > s.char_ngram_max)
      return Status(Code::kInvalidArgument, "tokenizer: character n-grams need 1 <= char_ngram_min <= char_ngram_max");
    if (s.buckets < 1) return Status(Code::kInvalidArgument, "tokenizer: character n-grams need buckets > 0");
  }
  return Status::ok();
}

Result<TextEncoderSpec> spec_from_json(const nlohmann::json& j) {
  try {
    TextEncoderSpec s;
    s.type = j.at("type").get<std::string>();
    s.nfkc = j.at("nfkc").get<bool>();
    s.max_len = j.at("max_len").get<int64_t>();
    s.vocab_size = j.at("vocab_size").get<int64_t>();
    s.lower = j.value("lower", true);
    s.oov_token = j.value("oov_token", std::string());
    s.ngrams = j.value("ngrams", int64_t{1});
    s.buckets = j.value("buckets", int64_t{0});
    s.char_ngram_min = j.value("char_ngram_min", int64_t{0});
    s.char_ngram_max = j.value("char_ngram_max", int64_t{0});
    Status valid = check_spec(s);
    if (!valid.is_ok()) return valid;
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kInvalidArgument, std::string("tokenizer spec: ") + e.what());
  }
}

nlohmann::json spec_to_json(const TextEncoderSpec& s) {
  return {{"type", s.type},     {"nfkc", s.nfkc},           {"max_len", s.max_len}, {"vocab_size", s.vocab_size},
          {"lower", s.lower},   {"oov_token", s.oov_token}, {"ngrams", s.ngrams},   {"buckets", s.buckets},
          {"char_ngram_min", s.char_ngram_min}, {"char_ngram_max", s.char_ngram_max}};
}

std::string TextEncoder::prepare(std::string_view text) const {
  std::string clean = find_invalid_utf8(text) ? replace_invalid_utf8(text) : std::string(text);
  return spec_.nfkc ? nfkc(clean) : clean;
}

Result<TextEncoder> TextEncoder::fit(
    const TextEncoderSpec& spec,
    const std::function<Status(const std::function<void(std::string_view)>&)>& for_each_text) {
  Status valid = check_spec(spec);
  if (!valid.is_ok()) return valid;
  TextEncoder e;
  e.spec_ = spec;
  if (is_spm(spec.type)) {
    std::vector<std::string> texts;
    Status s = for_each_text([&](std::string_view t) {
      if (static_cast<int64_t>(texts.size()) < spec.spm_max_texts) texts.push_back(e.prepare(t));
    });
    if (!s.is_ok()) return s;
    SentencePieceTrainOptions o;
    o.model_type = spec.type == "spm-bpe" ? "bpe" : "unigram";
    o.vocab_size = spec.vocab_size > 0 ? spec.vocab_size : 8000;
    auto spm = SentencePieceTokenizer::train(texts, o);
    if (!spm.is_ok()) return spm.status();
    e.spm_ = std::make_shared<SentencePieceTokenizer>(std::move(spm.value()));
    e.spec_.vocab_size = e.spm_->vocab_size();
    return e;
  }
  WordTokenizerOptions o;
  o.num_words = spec.vocab_size, o.lower = spec.lower, o.char_level = spec.type == "char";
  if (!spec.oov_token.empty()) o.oov_token = spec.oov_token;
  e.word_ = std::make_shared<WordTokenizer>(o);
  Status s = for_each_text([&](std::string_view t) { e.word_->fit_on_text(e.prepare(t)); });
  if (!s.is_ok()) return s;
  e.word_->finish_fit();
  return e;
}

Result<TextEncoder> TextEncoder::load(const std::string& dir, const nlohmann::json& spec_json) {
  auto spec = spec_from_json(spec_json);
  if (!spec.is_ok()) return spec.status();
  TextEncoder e;
  e.spec_ = spec.value();
  if (is_spm(e.spec_.type)) {
    auto spm = SentencePieceTokenizer::load((std::filesystem::path(dir) / kSpmFile).string());
    if (!spm.is_ok()) return spm.status();
    e.spm_ = std::make_shared<SentencePieceTokenizer>(std::move(spm.value()));
    return e;
  }
  const std::string path = (std::filesystem::path(dir) / kWordFile).string();
  auto bytes = read_file(path);
  if (!bytes.is_ok()) return bytes.status();
  nlohmann::json j = nlohmann::json::parse(bytes.value(), nullptr, false);
  if (j.is_discarded()) return Status(Code::kInvalidArgument, path + ": not valid JSON");
  auto word = WordTokenizer::from_json(j);
  if (!word.is_ok()) return Status(word.status().code(), path + ": " + word.status().message());
  e.word_ = std::make_shared<WordTokenizer>(std::move(word.value()));
  return e;
}

Status TextEncoder::save(const std::string& dir) const {
  if (spm_) return write_file_atomic((std::filesystem::path(dir) / kSpmFile).string(), spm_->serialized());
  return write_file_atomic((std::filesystem::path(dir) / kWordFile).string(), word_->to_json().dump());
}

int64_t TextEncoder::token_vocab_size() const { return spm_ ? spm_->vocab_size() : word_->vocab_size(); }

std::vector<std::string> TextEncoder::token_strings() const {
  if (spm_) return {};
  std::vector<std::string> out(static_cast<size_t>(token_vocab_size()));
  for (size_t id = 1; id < out.size() && id <= word_->words().size(); ++id) out[id] = word_->words()[id - 1];
  return out;
}

int64_t TextEncoder::vocab_size() const { return token_vocab_size() + (has_buckets() ? spec_.buckets : 0); }

std::vector<int32_t> TextEncoder::encode(std::string_view text) const {
  const std::string prepared = prepare(text);
  std::vector<std::string> words;  // word tokenizer: split once, for the ids and the character n-grams
  std::vector<int32_t> ids;
  if (spm_) {
    ids = spm_->encode(prepared);
  } else {
    words = word_->text_to_word_sequence(prepared);
    ids = word_->words_to_sequence(words);
  }
  if (static_cast<int64_t>(ids.size()) > spec_.max_len) ids.resize(static_cast<size_t>(spec_.max_len));
  if (spec_.ngrams > 1) {
    const int64_t n_tokens = static_cast<int64_t>(ids.size()), base = token_vocab_size();
    for (int64_t n = 2; n <= spec_.ngrams; ++n)
      for (int64_t i = 0; i + n <= n_tokens; ++i)
        ids.push_back(static_cast<int32_t>(base + static_cast<int64_t>(hash_ngram(ids.data() + i, n) %
                                                                      static_cast<uint64_t>(spec_.buckets))));
  }
  if (spec_.char_ngram_max > 0) append_char_ngrams(std::move(words), ids);
  return ids;
}

void TextEncoder::append_char_ngrams(std::vector<std::string> words, std::vector<int32_t>& ids) const {
  const int64_t base = token_vocab_size();
  const auto buckets = static_cast<uint64_t>(spec_.buckets);
  if (static_cast<int64_t>(words.size()) > spec_.max_len) words.resize(static_cast<size_t>(spec_.max_len));
  std::string marked;  // buffers reused across words
  std::vector<size_t> starts;
  for (const std::string& word : words) {
    marked.assign(1, '<').append(word).push_back('>');
    code_point_starts(marked, starts);
    const int64_t n_chars = static_cast<int64_t>(starts.size()) - 1;
    for (int64_t n = spec_.char_ngram_min; n <= spec_.char_ngram_max; ++n)
      for (int64_t i = 0; i + n <= n_chars; ++i) {
        if (n == 1 && (i == 0 || i == n_chars - 1)) continue;  // the markers alone say nothing
        const size_t from = starts[static_cast<size_t>(i)], to = starts[static_cast<size_t>(i + n)];
        const uint64_t h = hash_chars(std::string_view(marked).substr(from, to - from));
        ids.push_back(static_cast<int32_t>(base + static_cast<int64_t>(h % buckets)));
      }
  }
}

nlohmann::json TextEncoder::spec_json() const {
  nlohmann::json j = spec_to_json(spec_);
  j["file"] = spm_ ? kSpmFile : kWordFile;
  return j;
}

}  // namespace lmaas::text
