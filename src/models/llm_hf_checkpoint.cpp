// Hugging Face LLaMA checkpoints: see llm_hf_checkpoint.h.
#include "models/llm_hf_checkpoint.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "formats/json_file.h"
#include "formats/safetensors.h"

namespace lmaas::models {

namespace fs = std::filesystem;
namespace k = lmaas::kernels;

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kShardIndex = "model.safetensors.index.json";

// Optional members of config.json: the fallback when absent or null; kDataLoss naming the field otherwise.
Result<int64_t> positive_int(const JsonFile& f, const char* field, std::optional<int64_t> fallback = std::nullopt) {
  const nlohmann::json* v = member(f.root, field);
  if (v == nullptr && fallback) return *fallback;
  if (v == nullptr) return f.error(Code::kDataLoss, field, "is missing, expected a positive integer");
  LMAAS_ASSIGN_OR_RETURN(const int64_t n, as_int(f, *v, field));
  if (n <= 0) return f.error(Code::kDataLoss, field, "is " + show(*v) + ", expected a positive integer");
  return n;
}

Result<double> positive_number(const JsonFile& f, const nlohmann::json& object, const std::string& path,
                               const char* key, double fallback) {
  const nlohmann::json* v = member(object, key);
  if (v == nullptr) return fallback;
  if (!v->is_number() || !(v->get<double>() > 0)) {
    return f.error(Code::kDataLoss, member_path(path, key), "is " + show(*v) + ", expected a positive number");
  }
  return v->get<double>();
}

// positive_number with no fallback: a missing key is an error too.
Result<double> required_positive_number(const JsonFile& f, const nlohmann::json& object, const std::string& path,
                                        const char* key) {
  LMAAS_ASSIGN_OR_RETURN(const double value, positive_number(f, object, path, key, 0.0));
  if (!(value > 0)) return f.error(Code::kDataLoss, member_path(path, key), "is missing, expected a positive number");
  return value;
}

Status unsupported(const JsonFile& f, const std::string& what) {
  return Status(Code::kUnimplemented, fmt::format("{}: {}", f.name, what));
}

Status check_architecture(const JsonFile& f) {
  LMAAS_ASSIGN_OR_RETURN(const std::string type, string_or(f, f.root, "", "model_type", ""));
  if (type != "llama" && type != "mistral") {
    return unsupported(f, fmt::format("model_type \"{}\" is not supported (supported: llama, mistral)", type));
  }
  LMAAS_ASSIGN_OR_RETURN(const std::string act, string_or(f, f.root, "", "hidden_act", "silu"));
  if (act != "silu") return unsupported(f, fmt::format("hidden_act \"{}\" is not supported (supported: silu)", act));
  for (const char* bias : {"attention_bias", "mlp_bias"}) {
    LMAAS_ASSIGN_OR_RETURN(const bool has_bias, bool_or(f, f.root, "", bias, false));
    if (has_bias) return unsupported(f, fmt::format("{} true: biases are not supported", bias));
  }
  return Status::ok();
}

// Llama 3.1's scaling (kernels/ref/llm.h Llama3Scaling): "factor", "low_freq_factor", "high_freq_factor",
// "original_max_position_embeddings".
Status read_llama3_rope_factors(const JsonFile& f, const nlohmann::json& scaling, LlamaConfig& c) {
  const std::string path = "rope_scaling";
  k::ref::Llama3Scaling s;
  LMAAS_ASSIGN_OR_RETURN(s.factor, required_positive_number(f, scaling, path, "factor"));
  LMAAS_ASSIGN_OR_RETURN(s.low_freq_factor, required_positive_number(f, scaling, path, "low_freq_factor"));
  LMAAS_ASSIGN_OR_RETURN(s.high_freq_factor, required_positive_number(f, scaling, path, "high_freq_factor"));
  LMAAS_ASSIGN_OR_RETURN(s.original_context,
                         required_positive_number(f, scaling, path, "original_max_position_embeddings"));
  if (!(s.high_freq_factor > s.low_freq_factor)) {
    return f.error(Code::kDataLoss, member_path(path, "high_freq_factor"),
                   fmt::format("is {}, expected more than low_freq_factor ({})", s.high_freq_factor,
                               s.low_freq_factor));
  }
  c.set_llama3(s);
  return Status::ok();
}

// YaRN as transformers computes it (_compute_yarn_parameters): "factor"; "original_max_position_embeddings"
// (default max_position_embeddings); "beta_fast" / "beta_slow" (32 / 1); the attention temperature
// "attention_factor", else get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are
// given, else get_mscale(factor) = 1 + 0.1 ln(factor).
Status read_yarn(const JsonFile& f, const nlohmann::json& scaling, LlamaConfig& c) {
  const std::string path = "rope_scaling";
  LMAAS_ASSIGN_OR_RETURN(const double factor, required_positive_number(f, scaling, path, "factor"));
  LMAAS_ASSIGN_OR_RETURN(const double max_positions, positive_number(f, f.root, "", "max_position_embeddings", 2048));
  LMAAS_ASSIGN_OR_RETURN(const double original,
                         positive_number(f, scaling, path, "original_max_position_embeddings", max_positions));
  LMAAS_ASSIGN_OR_RETURN(const double beta_fast, positive_number(f, scaling, path, "beta_fast", 32.0));
  LMAAS_ASSIGN_OR_RETURN(const double beta_slow, positive_number(f, scaling, path, "beta_slow", 1.0));
  LMAAS_ASSIGN_OR_RETURN(const bool truncate, bool_or(f, scaling, path, "truncate", true));
  if (!truncate) return unsupported(f, "rope_scaling \"truncate\": false (YaRN without whole correction pairs) is not supported");
  double attention = k::ref::yarn_mscale(factor);
  if (member(scaling, "attention_factor") != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(attention, required_positive_number(f, scaling, path, "attention_factor"));
  } else if (member(scaling, "mscale") != nullptr && member(scaling, "mscale_all_dim") != nullptr) {
    LMAAS_ASSIGN_OR_RETURN(const double mscale, required_positive_number(f, scaling, path, "mscale"));
    LMAAS_ASSIGN_OR_RETURN(const double mscale_all_dim, required_positive_number(f, scaling, path, "mscale_all_dim"));
    attention = k::ref::yarn_mscale(factor, mscale) / k::ref::yarn_mscale(factor, mscale_all_dim);
  }
  c.set_yarn({factor, original, beta_fast, beta_slow}, attention);
  return Status::ok();
}

// rope_scaling: null, {"type" | "rope_type": "linear", "factor": f}, Llama 3.1's
// {"rope_type": "llama3", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"},
// or {"rope_type": "yarn", "factor", …} (read_yarn).
Status read_rope_scaling(const JsonFile& f, LlamaConfig& c) {
  const nlohmann::json* scaling = member(f.root, "rope_scaling");
  if (scaling == nullptr) return Status::ok();
  if (!scaling->is_object()) {
    return f.error(Code::kDataLoss, "rope_scaling", "is " + show(*scaling) + ", expected null or an object");
  }
  LMAAS_ASSIGN_OR_RETURN(const std::string legacy_type, string_or(f, *scaling, "rope_scaling", "type", ""));
  LMAAS_ASSIGN_OR_RETURN(const std::string type, string_or(f, *scaling, "rope_scaling", "rope_type", legacy_type));
  if (type == "default") return Status::ok();
  if (type == "llama3") return read_llama3_rope_factors(f, *scaling, c);
  if (type == "yarn") return read_yarn(f, *scaling, c);
  if (type != "linear") {
    return unsupported(f, fmt::format("rope_scaling type \"{}\" is not supported (supported: linear, llama3, yarn)", type));
  }
  LMAAS_ASSIGN_OR_RETURN(const double factor, required_positive_number(f, *scaling, "rope_scaling", "factor"));
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
  LMAAS_ASSIGN_OR_RETURN(const JsonFile index, read_json_file((dir / kShardIndex).string()));
  const nlohmann::json* map = member(index.root, "weight_map");
  if (map == nullptr || !map->is_object()) {
    return index.error(Code::kDataLoss, "weight_map", "is " + (map ? show(*map) : "missing") + ", expected an object");
  }
  std::vector<fs::path> out;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos) {
      return index.error(Code::kDataLoss, "weight_map[\"" + tensor + "\"]",
                         "is " + show(file) + ", expected a file name in the directory");
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
  const Result<JsonFile> config = read_json_file((d / "config.json").string());
  if (!config.is_ok() || config.value().root.contains("task")) return false;
  return config.value().root.contains("model_type") || config.value().root.contains("architectures");
}

Result<HfConfig> read_hf_config(const std::string& dir) {
  LMAAS_ASSIGN_OR_RETURN(const JsonFile f, read_json_file((fs::path(dir) / "config.json").string()));
  LMAAS_RETURN_IF_ERROR(check_architecture(f));
  HfConfig out;
  LlamaConfig& c = out.llama;
  c.arch = "llama";
  LMAAS_ASSIGN_OR_RETURN(c.n_vocab, positive_int(f, "vocab_size"));
  LMAAS_ASSIGN_OR_RETURN(c.dim, positive_int(f, "hidden_size"));
  LMAAS_ASSIGN_OR_RETURN(c.hidden_dim, positive_int(f, "intermediate_size"));
  LMAAS_ASSIGN_OR_RETURN(c.n_layers, positive_int(f, "num_hidden_layers"));
  LMAAS_ASSIGN_OR_RETURN(c.n_heads, positive_int(f, "num_attention_heads"));
  LMAAS_ASSIGN_OR_RETURN(c.n_kv_heads, positive_int(f, "num_key_value_heads", c.n_heads));
  LMAAS_ASSIGN_OR_RETURN(c.head_dim, positive_int(f, "head_dim", c.dim / c.n_heads));
  LMAAS_ASSIGN_OR_RETURN(c.context_length, positive_int(f, "max_position_embeddings", 2048));
  // Attention limited to a sliding window equals full attention while sequences fit in the window.
  LMAAS_ASSIGN_OR_RETURN(const int64_t window, positive_int(f, "sliding_window", c.context_length));
  c.context_length = std::min(c.context_length, window);
  LMAAS_ASSIGN_OR_RETURN(const double eps, positive_number(f, f.root, "", "rms_norm_eps", 1e-6));
  LMAAS_ASSIGN_OR_RETURN(const double theta, positive_number(f, f.root, "", "rope_theta", 10000.0));
  c.rms_eps = static_cast<float>(eps);
  c.rope_theta = static_cast<float>(theta);
  c.rope_style = k::ref::RopeStyle::kHalves;
  LMAAS_RETURN_IF_ERROR(read_rope_scaling(f, c));
  const Status valid = c.validate();
  if (!valid.is_ok()) return Status(Code::kDataLoss, fmt::format("{}: {}", f.name, valid.message()));
  LMAAS_ASSIGN_OR_RETURN(out.tie_word_embeddings, bool_or(f, f.root, "", "tie_word_embeddings", false));
  return out;
}

Result<LlamaWeights> llama_weights_from_hf(const std::string& dir, const HfConfig& config) {
  LMAAS_ASSIGN_OR_RETURN(std::vector<fs::path> shards, shard_paths(dir));
  NamedTensors named;
  for (const fs::path& shard : shards) LMAAS_RETURN_IF_ERROR(add_shard(shard, named));
  if (!config.tie_word_embeddings && !named.by_name.contains("output.weight")) {
    return Status(Code::kDataLoss, fmt::format("{}: tensor \"lm_head.weight\" is missing and config.json does not "
                                               "set tie_word_embeddings", dir));
  }
  auto weights = llama_weights_from_named(config.llama, find_in(named.by_name));
  if (!weights.is_ok()) return Status(weights.status().code(), fmt::format("{}: {}", dir, weights.status().message()));
  for (auto& owner : named.owners) weights.value().owners.push_back(std::move(owner));
  return std::move(weights.value());
}

}  // namespace lmaas::models
