// Hugging Face LLaMA checkpoints: see llm_hf_checkpoint.h.
#include "models/llm_hf_checkpoint.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/mapped_file.h"
#include "formats/safetensors.h"

namespace lmaas::models {

namespace fs = std::filesystem;
namespace k = lmaas::kernels;
using Json = nlohmann::json;

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kShardIndex = "model.safetensors.index.json";

Result<Json> read_json(const fs::path& path) {
  LMAAS_ASSIGN_OR_RETURN(std::string text, read_file(path.string()));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status(Code::kDataLoss, path.string() + ": not a JSON object");
  return j;
}

// Reads config.json fields with messages naming the file and the field.
struct ConfigFields {
  const Json& j;
  std::string path;

  Status bad(const std::string& field, const std::string& expected) const {
    const auto it = j.find(field);
    const std::string got = it == j.end() ? "missing" : it->dump();
    return Status(Code::kDataLoss, fmt::format("{}: field \"{}\" is {}; expected {}", path, field, got, expected));
  }
  Result<int64_t> positive(const std::string& field, std::optional<int64_t> fallback = std::nullopt) const {
    const auto it = j.find(field);
    if ((it == j.end() || it->is_null()) && fallback) return *fallback;
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) return bad(field, "a positive integer");
    return it->get<int64_t>();
  }
  Result<double> number(const std::string& field, double fallback) const {
    const auto it = j.find(field);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_number() || !(it->get<double>() > 0)) return bad(field, "a positive number");
    return it->get<double>();
  }
  Status unsupported(const std::string& what) const {
    return Status(Code::kUnimplemented, fmt::format("{}: {}", path, what));
  }
};

Status check_architecture(const ConfigFields& f) {
  const std::string type = f.j.value("model_type", "");
  if (type != "llama" && type != "mistral") {
    return f.unsupported(fmt::format("model_type \"{}\" is not supported (supported: llama, mistral)", type));
  }
  if (f.j.value("hidden_act", "silu") != "silu") {
    return f.unsupported(fmt::format("hidden_act {} is not supported (supported: silu)", f.j["hidden_act"].dump()));
  }
  for (const char* bias : {"attention_bias", "mlp_bias"}) {
    if (f.j.value(bias, false)) return f.unsupported(fmt::format("{} true: biases are not supported", bias));
  }
  return Status::ok();
}

// rope_scaling: null, or {"type" | "rope_type": "linear", "factor": f}.
Status read_rope_scaling(const ConfigFields& f, LlamaConfig& c) {
  const auto it = f.j.find("rope_scaling");
  if (it == f.j.end() || it->is_null()) return Status::ok();
  if (!it->is_object()) return f.bad("rope_scaling", "null or an object");
  const std::string type = it->value("rope_type", it->value("type", ""));
  if (type == "default") return Status::ok();
  if (type != "linear") {
    return f.unsupported(fmt::format("rope_scaling type \"{}\" is not supported (supported: linear)", type));
  }
  const double factor = it->value("factor", 0.0);
  if (!(factor > 0)) return f.bad("rope_scaling", "a positive \"factor\"");
  c.rope_freq_scale = static_cast<float>(1.0 / factor);
  return Status::ok();
}

// `name` under GGUF's naming, or nullopt for a tensor the model does not use.
Result<std::optional<std::string>> gguf_name(const std::string& name, const std::string& shard) {
  static const std::map<std::string, std::string> kGlobal = {{"model.embed_tokens.weight", "token_embd.weight"},
                                                             {"model.norm.weight", "output_norm.weight"},
                                                             {"lm_head.weight", "output.weight"}};
  static const std::map<std::string, std::string> kLayer = {
      {"input_layernorm.weight", "attn_norm.weight"},   {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},     {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},     {"self_attn.o_proj.weight", "attn_output.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  if (const auto it = kGlobal.find(name); it != kGlobal.end()) return std::optional<std::string>(it->second);
  static const std::regex kLayerName(R"(model\.layers\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(name, m, kLayerName)) {
    if (const auto it = kLayer.find(m[2].str()); it != kLayer.end()) {
      return std::optional<std::string>(fmt::format("blk.{}.{}", m[1].str(), it->second));
    }
    if (m[2].str() == "self_attn.rotary_emb.inv_freq") return std::optional<std::string>();  // recomputed
  }
  return Status(Code::kUnimplemented,
                fmt::format("{}: tensor \"{}\" is not part of a LLaMA model lmaas runs", shard, name));
}

Result<k::WeightType> weight_type(const SafetensorsEntry& e, const std::string& shard) {
  if (e.dtype == "F32") return k::WeightType::kF32;
  if (e.dtype == "F16") return k::WeightType::kF16;
  if (e.dtype == "BF16") return k::WeightType::kBF16;
  return Status(Code::kUnimplemented, fmt::format("{}: tensor \"{}\" has dtype {} (supported: F32, F16, BF16)", shard,
                                                  e.name, e.dtype));
}

// The shard files of `dir`: model.safetensors, or every file model.safetensors.index.json's weight_map names.
Result<std::vector<fs::path>> shard_paths(const fs::path& dir) {
  if (fs::exists(dir / kSingleFile)) return std::vector<fs::path>{dir / kSingleFile};
  LMAAS_ASSIGN_OR_RETURN(Json index, read_json(dir / kShardIndex));
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    return Status(Code::kDataLoss, (dir / kShardIndex).string() + ": field \"weight_map\" is missing or not an object");
  }
  std::vector<fs::path> out;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos) {
      return Status(Code::kDataLoss, fmt::format("{}: weight_map[\"{}\"] is {}; expected a file name in the directory",
                                                 (dir / kShardIndex).string(), tensor, file.dump()));
    }
    const fs::path shard = dir / file.get<std::string>();
    if (std::find(out.begin(), out.end(), shard) == out.end()) out.push_back(shard);
  }
  return out;
}

struct NamedTensors {
  NamedWeights by_name;
  std::vector<std::shared_ptr<const void>> owners;
};

// Adds one mapped shard's tensors. Bytes not aligned to their element size (the format does not promise
// alignment) are copied so that the kernels may read them as arrays.
Status add_shard(const fs::path& path, NamedTensors& out) {
  LMAAS_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path.string()));
  auto file = std::make_shared<const MappedFile>(std::move(mapped));
  LMAAS_ASSIGN_OR_RETURN(SafetensorsIndex index, index_safetensors(file->view(), path.string()));
  out.owners.push_back(file);
  for (const SafetensorsEntry& e : index.tensors) {
    LMAAS_ASSIGN_OR_RETURN(std::optional<std::string> name, gguf_name(e.name, path.string()));
    if (!name) continue;
    if (out.by_name.contains(*name)) {
      return Status(Code::kDataLoss, fmt::format("{}: tensor \"{}\" appears in two shards", path.string(), e.name));
    }
    LMAAS_ASSIGN_OR_RETURN(k::WeightType type, weight_type(e, path.string()));
    if (e.shape.empty() || e.shape.size() > 2) {
      return Status(Code::kDataLoss, fmt::format("{}: tensor \"{}\" has {} dimensions; expected 1 or 2", path.string(),
                                                 e.name, e.shape.size()));
    }
    const int64_t n_cols = e.shape.back();
    const int64_t n_rows = e.shape.size() == 2 ? e.shape[0] : 1;
    const void* data = e.bytes.data();
    if (reinterpret_cast<uintptr_t>(data) % k::row_bytes(type, 1) != 0) {
      auto copy = std::make_shared<std::vector<uint64_t>>((e.bytes.size() + 7) / 8);
      std::memcpy(copy->data(), e.bytes.data(), e.bytes.size());
      data = copy->data();
      out.owners.push_back(copy);
    }
    out.by_name[*name] = {type, n_rows, n_cols, data};
  }
  return Status::ok();
}

}  // namespace

bool is_hf_checkpoint(const std::string& dir) {
  std::error_code ec;
  const fs::path d(dir);
  if (!fs::exists(d / "config.json", ec)) return false;
  if (!fs::exists(d / kSingleFile, ec) && !fs::exists(d / kShardIndex, ec)) return false;
  const Result<Json> config = read_json(d / "config.json");
  if (!config.is_ok() || config.value().contains("task")) return false;
  return config.value().contains("model_type") || config.value().contains("architectures");
}

Result<LlamaConfig> llama_config_from_hf(const std::string& dir) {
  const fs::path path = fs::path(dir) / "config.json";
  LMAAS_ASSIGN_OR_RETURN(Json j, read_json(path));
  const ConfigFields f{j, path.string()};
  LMAAS_RETURN_IF_ERROR(check_architecture(f));
  LlamaConfig c;
  c.arch = "llama";
  LMAAS_ASSIGN_OR_RETURN(c.n_vocab, f.positive("vocab_size"));
  LMAAS_ASSIGN_OR_RETURN(c.dim, f.positive("hidden_size"));
  LMAAS_ASSIGN_OR_RETURN(c.hidden_dim, f.positive("intermediate_size"));
  LMAAS_ASSIGN_OR_RETURN(c.n_layers, f.positive("num_hidden_layers"));
  LMAAS_ASSIGN_OR_RETURN(c.n_heads, f.positive("num_attention_heads"));
  LMAAS_ASSIGN_OR_RETURN(c.n_kv_heads, f.positive("num_key_value_heads", c.n_heads));
  LMAAS_ASSIGN_OR_RETURN(c.head_dim, f.positive("head_dim", c.dim / c.n_heads));
  LMAAS_ASSIGN_OR_RETURN(c.context_length, f.positive("max_position_embeddings", 2048));
  // Attention limited to a sliding window equals full attention while sequences fit in the window.
  LMAAS_ASSIGN_OR_RETURN(const int64_t window, f.positive("sliding_window", c.context_length));
  c.context_length = std::min(c.context_length, window);
  LMAAS_ASSIGN_OR_RETURN(const double eps, f.number("rms_norm_eps", 1e-6));
  LMAAS_ASSIGN_OR_RETURN(const double theta, f.number("rope_theta", 10000.0));
  c.rms_eps = static_cast<float>(eps);
  c.rope_theta = static_cast<float>(theta);
  c.rope_style = k::ref::RopeStyle::kHalves;
  LMAAS_RETURN_IF_ERROR(read_rope_scaling(f, c));
  const Status valid = c.validate();
  if (!valid.is_ok()) return Status(Code::kDataLoss, fmt::format("{}: {}", path.string(), valid.message()));
  return c;
}

Result<LlamaWeights> llama_weights_from_hf(const std::string& dir, const LlamaConfig& config) {
  LMAAS_ASSIGN_OR_RETURN(std::vector<fs::path> shards, shard_paths(dir));
  NamedTensors named;
  for (const fs::path& shard : shards) LMAAS_RETURN_IF_ERROR(add_shard(shard, named));
  LMAAS_ASSIGN_OR_RETURN(Json j, read_json(fs::path(dir) / "config.json"));
  if (!j.value("tie_word_embeddings", false) && !named.by_name.contains("output.weight")) {
    return Status(Code::kDataLoss, fmt::format("{}: tensor \"lm_head.weight\" is missing and config.json does not "
                                               "set tie_word_embeddings", dir));
  }
  auto weights = llama_weights_from_named(config, find_in(named.by_name));
  if (!weights.is_ok()) return Status(weights.status().code(), fmt::format("{}: {}", dir, weights.status().message()));
  for (auto& owner : named.owners) weights.value().owners.push_back(std::move(owner));
  return std::move(weights.value());
}

}  // namespace lmaas::models
