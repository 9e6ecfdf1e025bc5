// write_llama_hf: see llm_hf_writer.h.
#include "models/llm_hf_writer.h"

#include <cmath>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "formats/hf_tokenizer_writer.h"
#include "formats/safetensors.h"
#include "models/llm_weight_convert.h"

namespace lmaas::models {

namespace fs = std::filesystem;
namespace k = lmaas::kernels;
using Json = nlohmann::ordered_json;

namespace {

constexpr double kLlama3OriginalContext = 8192;
constexpr double kDivisorTolerance = 1e-5;  // relative; the divisors are float32

bool close(double a, double b) { return std::abs(a - b) <= kDivisorTolerance * std::abs(b); }

// A float as the shortest decimal that reads back as the same float (1e-5f → 1e-05, not 9.99999974e-06).
double decimal(float value) { return std::stod(fmt::format("{}", value)); }

// A whole number as a JSON integer (as config.json files spell context lengths), anything else as it is.
Json number(double value) {
  return value == std::floor(value) && std::abs(value) < 9e15 ? Json(static_cast<int64_t>(value)) : Json(value);
}

Result<Json> rope_scaling(const LlamaConfig& c, const std::string& dir) {
  const bool yarn = c.rope_yarn.factor > 1.0;
  const bool divisors = !c.rope_freq_factors.empty();
  if (c.rope_freq_scale != 1.0f && divisors) {
    return Status(Code::kUnimplemented, fmt::format("{}: linear RoPE scaling together with per-pair frequency "
                                                    "divisors cannot be written as a Hugging Face rope_scaling",
                                                    dir));
  }
  if (c.rope_mscale != 1.0f && !yarn) {
    return Status(Code::kUnimplemented,
                  fmt::format("{}: a RoPE attention factor ({}) without YaRN cannot be written to config.json", dir,
                              c.rope_mscale));
  }
  if (c.rope_freq_scale != 1.0f) {
    const double factor = decimal(1.0f / c.rope_freq_scale);
    return Json{{"type", "linear"}, {"rope_type", "linear"}, {"factor", factor}};
  }
  if (yarn) {
    return Json{{"rope_type", "yarn"},
                {"factor", c.rope_yarn.factor},
                {"original_max_position_embeddings", number(c.rope_yarn.original_context)},
                {"beta_fast", c.rope_yarn.beta_fast},
                {"beta_slow", c.rope_yarn.beta_slow},
                {"attention_factor", static_cast<double>(c.rope_mscale)}};
  }
  if (!divisors) return Json(nullptr);
  k::ref::Llama3Scaling s = c.rope_llama3;
  if (!(s.factor > 1.0)) {
    auto fitted = llama3_scaling_from_divisors(c);
    if (!fitted.is_ok()) return Status(fitted.status().code(), dir + ": " + fitted.status().message());
    s = fitted.value();
  }
  return Json{{"rope_type", "llama3"},
              {"factor", s.factor},
              {"low_freq_factor", s.low_freq_factor},
              {"high_freq_factor", s.high_freq_factor},
              {"original_max_position_embeddings", number(s.original_context)}};
}

const char* torch_dtype(k::WeightType type) {
  switch (type) {
    case k::WeightType::kF32: return "float32";
    case k::WeightType::kBF16: return "bfloat16";
    default: return "float16";
  }
}

Result<Json> config_json(const LlamaConfig& c, const text::LlmVocab& vocab, bool tied, k::WeightType type,
                         const std::string& dir) {
  LMAAS_ASSIGN_OR_RETURN(Json scaling, rope_scaling(c, dir));
  auto id_or_null = [](int32_t id) { return id >= 0 ? Json(id) : Json(nullptr); };
  return Json{{"architectures", {"LlamaForCausalLM"}},
              {"model_type", "llama"},
              {"vocab_size", c.n_vocab},
              {"hidden_size", c.dim},
              {"intermediate_size", c.hidden_dim},
              {"num_hidden_layers", c.n_layers},
              {"num_attention_heads", c.n_heads},
              {"num_key_value_heads", c.n_kv_heads},
              {"head_dim", c.head_dim},
              {"max_position_embeddings", c.context_length},
              {"rms_norm_eps", decimal(c.rms_eps)},
              {"rope_theta", decimal(c.rope_theta)},
              {"rope_scaling", scaling},
              {"hidden_act", "silu"},
              {"attention_bias", false},
              {"mlp_bias", false},
              {"tie_word_embeddings", tied},
              {"bos_token_id", id_or_null(vocab.bos_id)},
              {"eos_token_id", id_or_null(vocab.eos_id)},
              {"torch_dtype", torch_dtype(type)}};
}

// One tensor of the checkpoint: a matrix (converted to the file's type, rows reordered when `rows` is given)
// or a float32 vector.
struct PlannedTensor {
  std::string name;
  const WeightMatrix* matrix = nullptr;
  const std::vector<int64_t>* rows = nullptr;
  const float* vector = nullptr;
  int64_t n = 0;  // vector length

  int64_t bytes(k::WeightType type) const {
    return matrix ? k::row_bytes(type, matrix->n_cols) * matrix->n_rows : n * static_cast<int64_t>(sizeof(float));
  }
};

std::string dtype_name(k::WeightType type) {
  switch (type) {
    case k::WeightType::kF32: return "F32";
    case k::WeightType::kBF16: return "BF16";
    default: return "F16";
  }
}

// Converts and writes `tensors` as one safetensors file; the converted bytes live only while it is written.
Status write_shard(const std::string& path, const std::vector<const PlannedTensor*>& tensors, k::WeightType type) {
  ConvertedBuffers buffers;
  std::vector<SafetensorsEntry> entries;
  for (const PlannedTensor* t : tensors) {
    if (t->matrix != nullptr) {
      const std::span<const uint8_t> bytes = convert_matrix(*t->matrix, type, buffers, t->rows);
      entries.push_back({t->name, dtype_name(type), {t->matrix->n_rows, t->matrix->n_cols},
                         {reinterpret_cast<const char*>(bytes.data()), bytes.size()}});
    } else {
      entries.push_back({t->name, "F32", {t->n},
                         {reinterpret_cast<const char*>(t->vector), static_cast<size_t>(t->n) * sizeof(float)}});
    }
  }
  // transformers refuses safetensors files whose metadata does not name the framework.
  return write_safetensors_entries(path, entries, {{"format", "pt"}});
}

// Splits `tensors` into shards of at most `max_bytes` (a larger tensor gets a shard of its own) and writes them.
Status write_weights(const fs::path& dir, const std::vector<PlannedTensor>& tensors, k::WeightType type,
                     int64_t max_bytes) {
  std::vector<std::vector<const PlannedTensor*>> shards(1);
  int64_t shard_bytes = 0;
  int64_t total = 0;
  for (const PlannedTensor& t : tensors) {
    const int64_t bytes = t.bytes(type);
    if (!shards.back().empty() && shard_bytes + bytes > max_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&t);
    shard_bytes += bytes;
    total += bytes;
  }
  if (shards.size() == 1) return write_shard((dir / "model.safetensors").string(), shards[0], type);
  Json weight_map = Json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string file = fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
    LMAAS_RETURN_IF_ERROR(write_shard((dir / file).string(), shards[i], type));
    for (const PlannedTensor* t : shards[i]) weight_map[t->name] = file;
  }
  const Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  return write_file_atomic((dir / "model.safetensors.index.json").string(), index.dump(2) + "\n");
}

}  // namespace

Result<k::ref::Llama3Scaling> llama3_scaling_from_divisors(const LlamaConfig& c) {
  const std::vector<float>& d = c.rope_freq_factors;
  const auto unfit = [](const std::string& why) {
    return Status(Code::kUnimplemented, "RoPE frequency divisors (rope_freqs.weight) " + why +
                                            ": they cannot be written as a Hugging Face rope_scaling");
  };
  if (d.empty()) return unfit("are missing");
  double factor = 1.0;
  for (float v : d) factor = std::max(factor, static_cast<double>(v));
  if (!(factor > 1.0)) return unfit("do not slow any pair down");
  // Pairs by rising wavelength: first those kept (divisor 1, stage 0), then those in the blend (1), then the
  // slowed ones (2).
  const auto stage_of = [&](size_t i) { return close(d[i], 1.0) ? 0 : close(d[i], factor) ? 2 : 1; };
  std::vector<size_t> blend;
  int64_t last_kept = -1, first_slowed = -1;
  for (size_t i = 0; i < d.size(); ++i) {
    const int stage = stage_of(i);
    if (i > 0 && stage < stage_of(i - 1)) return unfit("do not rise with the wavelength as Llama 3.1 scaling's do");
    if (stage == 0) last_kept = static_cast<int64_t>(i);
    if (stage == 1) blend.push_back(i);
    if (stage == 2 && first_slowed < 0) first_slowed = static_cast<int64_t>(i);
  }
  const auto wavelength = [&](size_t i) {
    return 2.0 * M_PI / k::ref::rope_inv_freq(static_cast<int64_t>(i), c.head_dim, c.rope_theta);
  };
  k::ref::Llama3Scaling s;
  s.factor = factor;
  s.low_freq_factor = s.high_freq_factor = 0.0;  // unset until found
  s.original_context = kLlama3OriginalContext;
  // In the blend, smooth = (1/divisor − 1/factor) / (1 − 1/factor) = (original/wavelength − low) / (high − low).
  const auto smooth = [&](size_t i) { return (1.0 / d[i] - 1.0 / factor) / (1.0 - 1.0 / factor); };
  if (blend.size() >= 2) {
    const size_t a = blend.front(), b = blend.back();
    const double slope = (smooth(a) - smooth(b)) / (1.0 / wavelength(a) - 1.0 / wavelength(b));
    const double offset = smooth(a) - slope / wavelength(a);
    const double width = s.original_context / slope;  // high − low
    s.low_freq_factor = -offset * width;
    s.high_freq_factor = s.low_freq_factor + width;
  } else if (blend.size() == 1) {
    // One pair in the blend fixes only a relation between its two edges: take the edge on the kept side
    // nearer and nearer to that pair until the other edge falls between the pair and the first slowed one.
    const size_t i = blend.front();
    const double u = s.original_context / wavelength(i);
    const double high_limit = last_kept >= 0 ? s.original_context / wavelength(static_cast<size_t>(last_kept)) : 2.0 * u;
    const double low_limit = s.original_context / wavelength(static_cast<size_t>(first_slowed));
    for (double high = (u + high_limit) / 2.0; high > u; high = (u + high) / 2.0) {
      const double low = (u - smooth(i) * high) / (1.0 - smooth(i));
      if (low > low_limit && low > 0.0) {
        s.low_freq_factor = low;
        s.high_freq_factor = high;
        break;
      }
    }
  } else {
    // No pair in the blend: put both of its edges between the last kept pair and the first slowed one.
    const double kept = last_kept >= 0 ? wavelength(static_cast<size_t>(last_kept)) : 0.0;
    const double slowed = wavelength(static_cast<size_t>(first_slowed));
    s.high_freq_factor = s.original_context / (kept + (slowed - kept) / 3.0);
    s.low_freq_factor = s.original_context / (kept + 2.0 * (slowed - kept) / 3.0);
  }
  if (!(s.low_freq_factor > 0.0) || !(s.high_freq_factor > s.low_freq_factor)) {
    return unfit("do not blend as Llama 3.1 scaling does");
  }
  std::vector<float> again(d.size());
  k::ref::llama3_freq_divisors(c.head_dim, c.rope_theta, s, again.data());
  for (size_t i = 0; i < d.size(); ++i) {
    if (!close(again[i], d[i])) {
      return unfit(fmt::format("are not Llama 3.1 scaling (pair {}: {}, the closest settings give {})", i, d[i],
                               again[i]));
    }
  }
  return s;
}

Status write_llama_hf(const std::string& dir, const LlamaModel& model, const text::LlmVocab& vocab,
                      const HfWriteOptions& options) {
  const k::WeightType type = options.type;
  if (type != k::WeightType::kF32 && type != k::WeightType::kF16 && type != k::WeightType::kBF16) {
    return Status(Code::kInvalidArgument,
                  fmt::format("{}: Hugging Face checkpoints hold f32, f16 or bf16 weights, not {}", dir,
                              k::weight_type_name(type)));
  }
  if (options.max_shard_bytes <= 0) {
    return Status(Code::kInvalidArgument, fmt::format("{}: the shard size must be positive", dir));
  }
  const LlamaConfig& c = model.config();
  const LlamaWeights& w = model.weights();
  const bool tied = w.output.data == w.token_embedding.data;
  LMAAS_ASSIGN_OR_RETURN(const Json config, config_json(c, vocab, tied, type, dir));
  // Hugging Face stores q/k for rotate-half RoPE: a model that pairs adjacent dimensions gets its rows reordered.
  const bool adjacent = c.rope_style == k::ref::RopeStyle::kAdjacentPairs;
  const std::vector<int64_t> q_rows = adjacent ? adjacent_to_halves_rows(c.n_heads, c.head_dim) : std::vector<int64_t>{};
  const std::vector<int64_t> k_rows = adjacent ? adjacent_to_halves_rows(c.n_kv_heads, c.head_dim) : std::vector<int64_t>{};
  std::vector<PlannedTensor> tensors;
  tensors.push_back({"model.embed_tokens.weight", &w.token_embedding});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const LlamaLayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("model.layers.{}.", i);
    tensors.push_back({p + "input_layernorm.weight", nullptr, nullptr, l.attn_norm, c.dim});
    tensors.push_back({p + "self_attn.q_proj.weight", &l.wq, adjacent ? &q_rows : nullptr});
    tensors.push_back({p + "self_attn.k_proj.weight", &l.wk, adjacent ? &k_rows : nullptr});
    tensors.push_back({p + "self_attn.v_proj.weight", &l.wv});
    tensors.push_back({p + "self_attn.o_proj.weight", &l.wo});
    tensors.push_back({p + "post_attention_layernorm.weight", nullptr, nullptr, l.ffn_norm, c.dim});
    tensors.push_back({p + "mlp.gate_proj.weight", &l.w_gate});
    tensors.push_back({p + "mlp.up_proj.weight", &l.w_up});
    tensors.push_back({p + "mlp.down_proj.weight", &l.w_down});
  }
  tensors.push_back({"model.norm.weight", nullptr, nullptr, w.output_norm, c.dim});
  if (!tied) tensors.push_back({"lm_head.weight", &w.output});
  return publish_directory_atomic(dir, [&](const std::string& tmp) -> Status {
    LMAAS_RETURN_IF_ERROR(write_weights(tmp, tensors, type, options.max_shard_bytes));
    LMAAS_RETURN_IF_ERROR(write_file_atomic((fs::path(tmp) / "config.json").string(), config.dump(2) + "\n"));
    return write_hf_tokenizer(tmp, vocab, {options.chat_template, c.context_length});
  });
}

}  // namespace lmaas::models
