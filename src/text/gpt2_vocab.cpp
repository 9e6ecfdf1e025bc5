// GPT-2 encoder.json + vocab.bpe reader (see gpt2_vocab.h).
#include "text/gpt2_vocab.h"

#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace lmaas::text {
namespace {

Status data_loss(const std::string& path, const std::string& message) {
  return Status(Code::kDataLoss, "GPT-2 vocab '" + path + "': " + message);
}

Result<std::vector<std::string>> read_encoder(const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return data_loss(path, "is not a JSON object of token → id");
  }
  std::vector<std::string> tokens(json.size());
  std::vector<bool> seen(json.size());
  for (const auto& [token, id] : json.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() >= static_cast<int64_t>(json.size())) {
      return data_loss(path, "token '" + token + "' has id " + id.dump() + ", expected an integer in 0.." +
                                 std::to_string(json.size() - 1) + " (ids must be 0..n-1, each once)");
    }
    const auto i = static_cast<size_t>(id.get<int64_t>());
    if (seen[i]) return data_loss(path, "id " + std::to_string(i) + " is given twice, expected each id once");
    seen[i] = true;
    tokens[i] = token;
  }
  return tokens;
}

Result<std::vector<std::string>> read_merges(const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  std::vector<std::string> merges;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ', 1);
    if (space == std::string::npos || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      return data_loss(path, "line " + std::to_string(line_no) + " is '" + line + "', expected 'left right'");
    }
    merges.push_back(std::move(line));
  }
  return merges;
}

}  // namespace

Result<LlmVocab> read_gpt2_vocab(const std::string& encoder_json_path, const std::string& vocab_bpe_path) {
  LlmVocab vocab;
  vocab.type = LlmVocabType::kBpe;
  vocab.pre = "gpt-2";
  vocab.source = encoder_json_path;
  LMAAS_ASSIGN_OR_RETURN(vocab.tokens, read_encoder(encoder_json_path));
  LMAAS_ASSIGN_OR_RETURN(vocab.merges, read_merges(vocab_bpe_path));
  vocab.token_types.assign(vocab.tokens.size(), LlmTokenType::kNormal);
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    if (vocab.tokens[i] == "<|endoftext|>") {
      vocab.token_types[i] = LlmTokenType::kControl;
      vocab.bos_id = vocab.eos_id = static_cast<int32_t>(i);
    }
  }
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  return vocab;
}

}  // namespace lmaas::text
