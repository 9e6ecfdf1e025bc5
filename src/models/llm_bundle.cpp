// Generator model directories: see llm_bundle.h.
#include "models/llm_bundle.h"

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "formats/json_file.h"
#include "models/llm_hf_checkpoint.h"
#include "models/llm_writer.h"

namespace lmaas::models {

namespace fs = std::filesystem;

Result<std::optional<LlmBundle>> read_llm_bundle(const std::string& dir) {
  std::error_code ec;
  if (is_hf_checkpoint(dir)) {  // served as it is: load_llm reads the directory
    LlmBundle b;
    b.file = dir;
    return std::optional<LlmBundle>(b);
  }
  const fs::path config_path = fs::path(dir) / "config.json";
  if (fs::exists(config_path, ec)) {
    LMAAS_ASSIGN_OR_RETURN(const JsonFile config, read_json_file(config_path.string()));
    const nlohmann::json& j = config.root;
    LMAAS_ASSIGN_OR_RETURN(const std::string task, string_or(config, j, "", "task", ""));
    if (task != "generation") return std::optional<LlmBundle>();  // a trained model's directory
    LlmBundle b;
    try {
      if (j.value("format_version", 1) > 1) {
        return Status(Code::kUnimplemented, config_path.string() + ": format_version " + j["format_version"].dump() +
                                                " is newer than this lmaas reads (1)");
      }
      b.file = (fs::path(dir) / j.at("file").get<std::string>()).string();
      if (j.contains("tokenizer")) b.tokenizer = (fs::path(dir) / j.at("tokenizer").get<std::string>()).string();
      b.chat_template = j.value("chat_template", "");
      b.context = j.value("context", int64_t{0});
      b.max_running = j.value("max_running", int64_t{0});
    } catch (const nlohmann::json::exception& e) {
      return Status(Code::kInvalidArgument, config_path.string() + ": a generator config needs \"file\" (a string) and "
                                            "optional \"tokenizer\", \"chat_template\" (strings), \"context\", "
                                            "\"max_running\" (integers): " + e.what());
    }
    return std::optional<LlmBundle>(b);
  }
  std::vector<std::string> ggufs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".gguf") ggufs.push_back(entry.path().string());
  }
  if (ggufs.empty()) return std::optional<LlmBundle>();
  if (ggufs.size() > 1) {
    return Status(Code::kInvalidArgument, dir + " holds " + std::to_string(ggufs.size()) +
                                              " .gguf files; keep one, or name it in config.json (\"file\")");
  }
  LlmBundle b;
  b.file = ggufs.front();
  return std::optional<LlmBundle>(b);
}

Status write_llm_bundle(const std::string& dir, const LlamaModel& model, const text::LlmVocab& vocab,
                        const LlmWriteOptions& options) {
  const std::string& name = options.name;
  const kernels::WeightType type = options.type;
  return publish_directory_atomic(dir, [&](const std::string& tmp) -> Status {
    LMAAS_RETURN_IF_ERROR(write_llama_gguf((fs::path(tmp) / "model.gguf").string(), model, vocab, options));
    const LlamaConfig& c = model.config();
    const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    const nlohmann::json config = {{"format_version", 1},
                                   {"task", "generation"},
                                   {"file", "model.gguf"},
                                   {"name", name},
                                   {"architecture", {{"arch", c.arch}, {"dim", c.dim}, {"n_layers", c.n_layers},
                                                     {"n_heads", c.n_heads}, {"n_kv_heads", c.n_kv_heads},
                                                     {"hidden_dim", c.hidden_dim}, {"n_vocab", c.n_vocab},
                                                     {"context_length", c.context_length}}},
                                   {"weight_type", std::string(kernels::weight_type_name(type))},
                                   {"created", created}};
    return write_file_atomic((fs::path(tmp) / "config.json").string(), config.dump(2) + "\n");
  });
}

}  // namespace lmaas::models
