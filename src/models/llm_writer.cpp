// write_llama_gguf and random_llama: see llm_writer.h.
#include "models/llm_writer.h"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "base/rng.h"
#include "base/thread_pool.h"
#include "formats/gguf_vocab_writer.h"
#include "formats/gguf_writer.h"
#include "models/llm_weight_convert.h"

namespace lmaas::models {

namespace k = lmaas::kernels;

namespace {

GgmlType ggml_type(k::WeightType t) { return static_cast<GgmlType>(k::gguf_type_id(t)); }

void add_matrix(GgufWriter& w, const std::string& name, const WeightMatrix& m, k::WeightType type, ConvertedBuffers& buffers,
                const std::vector<int64_t>* source_rows = nullptr) {
  // Rows that do not split into whole blocks keep 16-bit floats (llama.cpp's quantizer falls back too).
  if (m.n_cols % k::block_size(type) != 0) type = k::WeightType::kF16;
  const int64_t dims[2] = {m.n_cols, m.n_rows};
  w.add_tensor(name, ggml_type(type), dims, convert_matrix(m, type, buffers, source_rows));
}

void add_vector(GgufWriter& w, const std::string& name, const float* v, int64_t n) {
  const int64_t dims[1] = {n};
  w.add_tensor(name, GgmlType::kF32, dims, {reinterpret_cast<const uint8_t*>(v), static_cast<size_t>(n) * sizeof(float)});
}

uint32_t file_type_of(k::WeightType t) {
  // llama.cpp's `general.file_type` (llama_ftype) of an all-one-type file.
  switch (t) {
    case k::WeightType::kF32: return 0;
    case k::WeightType::kF16: return 1;
    case k::WeightType::kQ4_0: return 2;
    case k::WeightType::kQ8_0: return 7;
    case k::WeightType::kBF16: return 32;
  }
  return 0;
}

}  // namespace

Status write_llama_gguf(const std::string& path, const LlamaModel& model, const text::LlmVocab& vocab,
                        const LlmWriteOptions& options) {
  const LlamaConfig& c = model.config();
  const LlamaWeights& weights = model.weights();
  // GGUF llama files pair RoPE dimensions adjacently: a model that pairs halves gets its q/k rows reordered.
  const bool halves = c.rope_style == k::ref::RopeStyle::kHalves;
  const std::vector<int64_t> q_rows = halves ? halves_to_adjacent_rows(c.n_heads, c.head_dim) : std::vector<int64_t>{};
  const std::vector<int64_t> k_rows = halves ? halves_to_adjacent_rows(c.n_kv_heads, c.head_dim) : std::vector<int64_t>{};
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  if (!options.name.empty()) w.add_string("general.name", options.name);
  w.add_u32("general.file_type", file_type_of(options.type));
  w.add_u32("llama.context_length", static_cast<uint32_t>(c.context_length));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(c.dim));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(c.hidden_dim));
  w.add_u32("llama.block_count", static_cast<uint32_t>(c.n_layers));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  if (c.head_dim * c.n_heads != c.dim) w.add_u32("llama.attention.key_length", static_cast<uint32_t>(c.head_dim));
  if (c.head_dim * c.n_heads != c.dim) w.add_u32("llama.attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.add_f32("llama.attention.layer_norm_rms_epsilon", c.rms_eps);
  w.add_f32("llama.rope.freq_base", c.rope_theta);
  if (c.rope_freq_scale != 1.0f) {
    w.add_string("llama.rope.scaling.type", "linear");
    w.add_f32("llama.rope.scaling.factor", 1.0f / c.rope_freq_scale);
  }
  const bool yarn = c.rope_yarn.factor > 1.0;
  if (yarn) {  // llama.cpp's keys; it has none for other beta_fast / beta_slow than its 32 and 1
    if (c.rope_yarn.beta_fast != 32.0 || c.rope_yarn.beta_slow != 1.0) {
      return Status(Code::kUnimplemented,
                    fmt::format("{}: YaRN with beta_fast {} and beta_slow {} cannot be written to GGUF (its readers "
                                "assume 32 and 1)", path, c.rope_yarn.beta_fast, c.rope_yarn.beta_slow));
    }
    w.add_string("llama.rope.scaling.type", "yarn");
    w.add_f32("llama.rope.scaling.factor", static_cast<float>(c.rope_yarn.factor));
    w.add_u32("llama.rope.scaling.original_context_length", static_cast<uint32_t>(c.rope_yarn.original_context));
    const double attn_factor = c.rope_mscale / k::ref::yarn_mscale(c.rope_yarn.factor);
    if (std::abs(attn_factor - 1.0) > 1e-7) w.add_f32("llama.rope.scaling.attn_factor", static_cast<float>(attn_factor));
  }
  w.add_u32("llama.vocab_size", static_cast<uint32_t>(c.n_vocab));
  add_vocab_to_gguf(w, vocab);
  if (!options.chat_template.empty()) w.add_string("tokenizer.chat_template", options.chat_template);

  ConvertedBuffers buffers;
  add_matrix(w, "token_embd.weight", weights.token_embedding, options.type, buffers);
  add_vector(w, "output_norm.weight", weights.output_norm, c.dim);
  if (!c.rope_freq_factors.empty() && !yarn) {  // YaRN's divisors follow from its keys
    add_vector(w, "rope_freqs.weight", c.rope_freq_factors.data(), static_cast<int64_t>(c.rope_freq_factors.size()));
  }
  if (weights.output.data != weights.token_embedding.data) {
    add_matrix(w, "output.weight", weights.output, options.type, buffers);
  }
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const LlamaLayerWeights& l = weights.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    add_vector(w, p + "attn_norm.weight", l.attn_norm, c.dim);
    add_matrix(w, p + "attn_q.weight", l.wq, options.type, buffers, halves ? &q_rows : nullptr);
    add_matrix(w, p + "attn_k.weight", l.wk, options.type, buffers, halves ? &k_rows : nullptr);
    add_matrix(w, p + "attn_v.weight", l.wv, options.type, buffers);
    add_matrix(w, p + "attn_output.weight", l.wo, options.type, buffers);
    add_vector(w, p + "ffn_norm.weight", l.ffn_norm, c.dim);
    add_matrix(w, p + "ffn_gate.weight", l.w_gate, options.type, buffers);
    add_matrix(w, p + "ffn_up.weight", l.w_up, options.type, buffers);
    add_matrix(w, p + "ffn_down.weight", l.w_down, options.type, buffers);
  }
  LMAAS_RETURN_IF_ERROR(w.status());
  return w.write(path);
}

RandomLlama random_llama(const LlamaConfig& c, uint64_t seed) {
  auto storage = std::make_shared<std::vector<std::vector<float>>>();
  // Normal values from a counter-based hash, filled in parallel (a 110M model draws 110M numbers).
  uint64_t stream = 0;
  auto random_matrix = [&](int64_t rows, int64_t cols) {
    std::vector<float>& v = storage->emplace_back(static_cast<size_t>(rows * cols));
    const uint64_t key = mix64(seed ^ (++stream * 0x9E3779B97F4A7C15ull));
    parallel_for(rows * cols, 1 << 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        // Irwin–Hall: the sum of 4 uniforms, centred and scaled to σ = 0.02.
        const uint64_t h = mix64(key + static_cast<uint64_t>(i));
        double sum = 0;
        for (int j = 0; j < 4; ++j) sum += static_cast<double>((h >> (16 * j)) & 0xFFFF) / 65536.0;
        v[static_cast<size_t>(i)] = static_cast<float>((sum - 2.0) * std::sqrt(3.0) * 0.02);
      }
    });
    return WeightMatrix{k::WeightType::kF32, v.data(), rows, cols, nullptr};
  };
  auto ones = [&](int64_t n) { return storage->emplace_back(static_cast<size_t>(n), 1.0f).data(); };

  LlamaWeights w;
  w.token_embedding = random_matrix(c.n_vocab, c.dim);
  w.output = w.token_embedding;
  w.output_norm = ones(c.dim);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    LlamaLayerWeights l;
    l.attn_norm = ones(c.dim);
    l.ffn_norm = ones(c.dim);
    l.wq = random_matrix(c.q_dim(), c.dim);
    l.wk = random_matrix(c.kv_dim(), c.dim);
    l.wv = random_matrix(c.kv_dim(), c.dim);
    l.wo = random_matrix(c.dim, c.q_dim());
    l.w_gate = random_matrix(c.hidden_dim, c.dim);
    l.w_up = random_matrix(c.hidden_dim, c.dim);
    l.w_down = random_matrix(c.dim, c.hidden_dim);
    w.layers.push_back(l);
  }
  w.owners.push_back(storage);

  RandomLlama out;
  out.model = std::make_shared<LlamaModel>(c, std::move(w));
  text::LlmVocab& v = out.vocab;
  v.type = text::LlmVocabType::kSpm;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.token_types = {text::LlmTokenType::kUnknown, text::LlmTokenType::kControl, text::LlmTokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(fmt::format("<0x{:02X}>", b));
    v.token_types.push_back(text::LlmTokenType::kByte);
  }
  for (int64_t i = static_cast<int64_t>(v.tokens.size()); i < c.n_vocab; ++i) {
    v.tokens.push_back(fmt::format("\u2581w{}", i));
    v.token_types.push_back(text::LlmTokenType::kNormal);
  }
  v.tokens.resize(static_cast<size_t>(c.n_vocab));
  v.token_types.resize(static_cast<size_t>(c.n_vocab));
  for (int64_t i = 0; i < c.n_vocab; ++i) v.scores.push_back(-static_cast<float>(i));
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  return out;
}

}  // namespace lmaas::models
