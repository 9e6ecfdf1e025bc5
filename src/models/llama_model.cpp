// LlamaModel: see llama_model.h. Each layer is the usual pre-norm block:
//   x += Wo · attention(rope(Wq · rms(x)), rope(Wk · rms(x)), Wv · rms(x))
//   x += Wdown · (silu(Wgate · rms(x)) ⊙ Wup · rms(x))
// with the batch's tokens as the rows of every matrix product (one pass over each weight per batch).
#include "models/llama_model.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/llm.h"
#include "kernels/cpu/quant.h"
#include "kernels/ref/quant.h"

namespace lmaas::models {

namespace k = lmaas::kernels;

void LlamaConfig::set_yarn(const k::ref::YarnScaling& yarn, double mscale) {
  rope_yarn = yarn;
  rope_freq_factors.resize(static_cast<size_t>(head_dim / 2));
  k::ref::yarn_freq_divisors(head_dim, rope_theta, rope_yarn, rope_freq_factors.data());
  rope_mscale = static_cast<float>(mscale);
}

void LlamaConfig::set_llama3(const k::ref::Llama3Scaling& scaling) {
  rope_llama3 = scaling;
  rope_freq_factors.resize(static_cast<size_t>(head_dim / 2));
  k::ref::llama3_freq_divisors(head_dim, rope_theta, rope_llama3, rope_freq_factors.data());
}

Status LlamaConfig::validate() const {
  auto bad = [](const char* field, int64_t value, const char* expected) {
    return Status(Code::kInvalidArgument, fmt::format("model config: {} = {}; expected {}", field, value, expected));
  };
  if (n_vocab <= 0) return bad("n_vocab", n_vocab, "> 0");
  if (dim <= 0) return bad("dim", dim, "> 0");
  if (hidden_dim <= 0) return bad("hidden_dim", hidden_dim, "> 0");
  if (n_layers <= 0) return bad("n_layers", n_layers, "> 0");
  if (n_heads <= 0) return bad("n_heads", n_heads, "> 0");
  if (n_kv_heads <= 0 || n_heads % n_kv_heads != 0) return bad("n_kv_heads", n_kv_heads, "a divisor of n_heads");
  if (head_dim <= 0 || head_dim % 2 != 0) return bad("head_dim", head_dim, "a positive even number");
  if (context_length <= 0) return bad("context_length", context_length, "> 0");
  if (!(rms_eps > 0.0f)) return Status(Code::kInvalidArgument, fmt::format("model config: rms_eps = {}; expected > 0", rms_eps));
  if (!(rope_theta > 0.0f) || !(rope_freq_scale > 0.0f)) {
    return Status(Code::kInvalidArgument,
                  fmt::format("model config: rope theta {} / frequency scale {}; expected both > 0", rope_theta, rope_freq_scale));
  }
  if (!rope_freq_factors.empty() && static_cast<int64_t>(rope_freq_factors.size()) != head_dim / 2) {
    return Status(Code::kInvalidArgument, fmt::format("model config: {} RoPE frequency factors; expected head_dim / 2 = {}",
                                                      rope_freq_factors.size(), head_dim / 2));
  }
  for (size_t i = 0; i < rope_freq_factors.size(); ++i) {
    if (!(rope_freq_factors[i] > 0.0f) || !std::isfinite(rope_freq_factors[i])) {
      return Status(Code::kInvalidArgument,
                    fmt::format("model config: RoPE frequency factor {} = {}; expected a finite number > 0", i, rope_freq_factors[i]));
    }
  }
  return Status::ok();
}

namespace {

Status check_matrix(const WeightMatrix& m, const std::string& name, int64_t n_rows, int64_t n_cols) {
  if (m.data == nullptr) return Status(Code::kInvalidArgument, fmt::format("weights: {} is missing", name));
  if (m.n_rows != n_rows || m.n_cols != n_cols) {
    return Status(Code::kInvalidArgument, fmt::format("weights: {} has shape [{}, {}]; expected [{}, {}]", name, m.n_rows,
                                                      m.n_cols, n_rows, n_cols));
  }
  if (n_cols % k::block_size(m.type) != 0) {
    return Status(Code::kInvalidArgument, fmt::format("weights: {} has {} columns, not a multiple of {}'s block of {}", name,
                                                      n_cols, k::weight_type_name(m.type), k::block_size(m.type)));
  }
  return Status::ok();
}

Status check_vector(const float* v, const std::string& name) {
  if (v == nullptr) return Status(Code::kInvalidArgument, fmt::format("weights: {} is missing", name));
  return Status::ok();
}

}  // namespace

Status validate_weights(const LlamaConfig& c, const LlamaWeights& w) {
  LMAAS_RETURN_IF_ERROR(c.validate());
  LMAAS_RETURN_IF_ERROR(check_matrix(w.token_embedding, "token_embd", c.n_vocab, c.dim));
  LMAAS_RETURN_IF_ERROR(check_matrix(w.output, "output", c.n_vocab, c.dim));
  LMAAS_RETURN_IF_ERROR(check_vector(w.output_norm, "output_norm"));
  if (static_cast<int64_t>(w.layers.size()) != c.n_layers) {
    return Status(Code::kInvalidArgument, fmt::format("weights: {} layers; the config says {}", w.layers.size(), c.n_layers));
  }
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LlamaLayerWeights& l = w.layers[i];
    const std::string p = fmt::format("blk.{}.", i);
    LMAAS_RETURN_IF_ERROR(check_vector(l.attn_norm, p + "attn_norm"));
    LMAAS_RETURN_IF_ERROR(check_vector(l.ffn_norm, p + "ffn_norm"));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.wq, p + "attn_q", c.q_dim(), c.dim));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.wk, p + "attn_k", c.kv_dim(), c.dim));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.wv, p + "attn_v", c.kv_dim(), c.dim));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.wo, p + "attn_output", c.dim, c.q_dim()));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.w_gate, p + "ffn_gate", c.hidden_dim, c.dim));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.w_up, p + "ffn_up", c.hidden_dim, c.dim));
    LMAAS_RETURN_IF_ERROR(check_matrix(l.w_down, p + "ffn_down", c.dim, c.hidden_dim));
  }
  return Status::ok();
}

namespace {

void pack(WeightMatrix& w) { w.packed = k::cpu::pack_quant_matrix(w.type, w.data, w.n_rows, w.n_cols); }

}  // namespace

LlamaModel::LlamaModel(LlamaConfig config, LlamaWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)), avx2_(k::cpu::cpu_supports_avx2()) {
  for (LlamaLayerWeights& l : weights_.layers) {
    for (WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) pack(*w);
  }
  pack(weights_.output);
}

int64_t LlamaModel::n_params() const {
  const LlamaConfig& c = config_;
  const int64_t per_layer = 2 * c.dim + c.q_dim() * c.dim * 2 + c.kv_dim() * c.dim * 2 + 3 * c.hidden_dim * c.dim;
  const bool tied = weights_.output.data == weights_.token_embedding.data;
  return c.n_vocab * c.dim * (tied ? 1 : 2) + c.dim + c.n_layers * per_layer;
}

namespace {

// y[t, :] = W · x[t, :] for the batch's rows.
void project(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) {
  if (w.packed) return k::cpu::matmul_packed(*w.packed, x, n_tokens, y, w.n_rows);
  k::cpu::matmul(w.type, w.data, w.n_rows, w.n_cols, x, n_tokens, y, w.n_rows);
}

// project() of several matrices over the same rows x: packed ones quantize x once and share a pool run.
void project_shared(std::initializer_list<std::pair<const WeightMatrix*, float*>> outputs, const float* x,
                    int64_t n_tokens) {
  std::vector<k::cpu::PackedProduct> packed;
  for (const auto& [w, y] : outputs) {
    if (w->packed) packed.push_back({w->packed.get(), y, w->n_rows});
    else project(*w, x, n_tokens, y);
  }
  k::cpu::matmul_packed_shared(packed, x, n_tokens);
}

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

void LlamaModel::run_layers(std::span<const BatchToken> batch, KvCache& cache) {
  const LlamaConfig& c = config_;
  const auto n_tokens = static_cast<int64_t>(batch.size());
  const int64_t dim = c.dim;

  // Positions must continue each slot's sequence; room for them is reserved before any is written.
  std::map<int32_t, int64_t> next_pos;
  for (const BatchToken& t : batch) {
    LMAAS_CHECK(t.token >= 0 && t.token < c.n_vocab, "token id {} out of range [0, {})", t.token, c.n_vocab);
    LMAAS_CHECK(t.slot >= 0 && t.slot < cache.n_slots(), "slot {} out of range [0, {})", t.slot, cache.n_slots());
    auto [it, inserted] = next_pos.try_emplace(t.slot, cache.length(t.slot));
    LMAAS_CHECK(t.pos == it->second, "slot {}: position {} given where the sequence continues at {}", t.slot, t.pos,
                it->second);
    LMAAS_CHECK(t.pos < c.context_length, "position {} is past the model's context length {}", t.pos, c.context_length);
    ++it->second;
  }
  for (const auto& [slot, end] : next_pos) cache.reserve(slot, end);

  grow(x_, n_tokens * dim);
  grow(xb_, n_tokens * std::max(dim, c.q_dim()));
  grow(q_, n_tokens * c.q_dim());
  grow(k_, n_tokens * c.kv_dim());
  grow(v_, n_tokens * c.kv_dim());
  grow(att_, n_tokens * c.q_dim());
  grow(gate_, n_tokens * c.hidden_dim);
  grow(up_, n_tokens * c.hidden_dim);

  // The rotation of each token's position, shared by every layer.
  const int64_t half = c.head_dim / 2;
  grow(rope_cos_, n_tokens * half);
  grow(rope_sin_, n_tokens * half);
  parallel_for(n_tokens, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      k::ref::rope_cos_sin(batch[static_cast<size_t>(t)].pos, c.head_dim, c.rope_theta, c.rope_freq_scale,
                           c.rope_freq_factors.empty() ? nullptr : c.rope_freq_factors.data(),
                           rope_cos_.data() + t * half, rope_sin_.data() + t * half, c.rope_mscale);
    }
  });

  const WeightMatrix& emb = weights_.token_embedding;
  const auto emb_row_bytes = static_cast<size_t>(k::row_bytes(emb.type, dim));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* row = static_cast<const uint8_t*>(emb.data) + static_cast<size_t>(batch[t].token) * emb_row_bytes;
    k::cpu::dequantize_row(emb.type, row, x_.data() + t * dim, dim);
  }

  add_and_norm(false, weights_.layers[0].attn_norm, n_tokens);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LlamaLayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    project_shared({{&w.wq, q_.data()}, {&w.wk, k_.data()}, {&w.wv, v_.data()}}, xb_.data(), n_tokens);
    attention(batch, cache, l);
    project(w.wo, att_.data(), n_tokens, xb_.data());
    add_and_norm(true, w.ffn_norm, n_tokens);
    project_shared({{&w.w_gate, gate_.data()}, {&w.w_up, up_.data()}}, xb_.data(), n_tokens);
    // Row by row: a token's values must not depend on where its row starts in the batch.
    parallel_for(n_tokens, 1, [&](int64_t t0, int64_t t1) {
      const auto swiglu = avx2_ ? k::cpu::swiglu : k::ref::swiglu;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t off = t * c.hidden_dim;
        swiglu(gate_.data() + off, up_.data() + off, gate_.data() + off, c.hidden_dim);
      }
    });
    project(w.w_down, gate_.data(), n_tokens, xb_.data());
    add_and_norm(true, l + 1 < c.n_layers ? weights_.layers[static_cast<size_t>(l) + 1].attn_norm : nullptr, n_tokens);
  }
  for (const auto& [slot, end] : next_pos) cache.set_length(slot, end);
}

// Stores one head's key or value (hd floats) at position `pos` of its cache rows, as the cache's entry type.
void LlamaModel::store_entries(const float* x, const KvCache& cache, void* rows, int32_t pos, int64_t hd) const {
  uint8_t* dst = static_cast<uint8_t*>(rows) + int64_t{pos} * cache.row_bytes();
  const k::WeightType type = cache.entry_type();
  if (avx2_ && type == k::WeightType::kF16) {
    k::cpu::floats_to_halves(x, reinterpret_cast<uint16_t*>(dst), hd);
  } else if (avx2_ && type == k::WeightType::kQ8_0) {
    k::cpu::quantize_row_q8_0(x, reinterpret_cast<k::BlockQ8_0*>(dst), hd);
  } else {
    k::ref::quantize_row(type, x, dst, hd);
  }
}

void LlamaModel::attention(std::span<const BatchToken> batch, KvCache& cache, int64_t layer) {
  const LlamaConfig& c = config_;
  const auto n_tokens = static_cast<int64_t>(batch.size());
  const int64_t hd = c.head_dim;
  const int64_t kv_dim = c.kv_dim();

  // Rotate this batch's queries and keys, then store keys and values at their positions (token by token:
  // every token writes only its own rows).
  const auto rope = avx2_ ? k::cpu::rope_apply : k::ref::rope_apply;
  parallel_for(n_tokens, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* cos_v = rope_cos_.data() + t * (hd / 2);
      const float* sin_v = rope_sin_.data() + t * (hd / 2);
      rope(q_.data() + t * c.q_dim(), c.n_heads, hd, cos_v, sin_v, c.rope_style);
      rope(k_.data() + t * kv_dim, c.n_kv_heads, hd, cos_v, sin_v, c.rope_style);
      const BatchToken& b = batch[static_cast<size_t>(t)];
      for (int64_t h = 0; h < c.n_kv_heads; ++h) {
        store_entries(k_.data() + t * kv_dim + h * hd, cache, cache.keys(b.slot, layer, h), b.pos, hd);
        store_entries(v_.data() + t * kv_dim + h * hd, cache, cache.values(b.slot, layer, h), b.pos, hd);
      }
    }
  });

  // Every (token, head) attends to its slot's positions 0..pos, in parallel.
  const int64_t group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // Small work (a generation step over a short context) runs on this thread: handing it to the pool
  // costs more than it saves. A (token, head) item is about 2·(pos+1)·head_dim multiply-adds.
  int64_t max_keys = 1;
  for (const BatchToken& b : batch) max_keys = std::max<int64_t>(max_keys, int64_t{b.pos} + 1);
  constexpr int64_t kMinTaskMacs = int64_t{1} << 17;
  const int64_t grain = std::max<int64_t>(1, kMinTaskMacs / (2 * max_keys * hd));
  // Item i is (token i / n_heads, head i % n_heads): its keys' rows and their count.
  auto keys_of = [&](int64_t i) {
    const BatchToken& b = batch[static_cast<size_t>(i / c.n_heads)];
    return std::pair<const void*, int64_t>(cache.keys(b.slot, layer, i % c.n_heads / group), int64_t{b.pos} + 1);
  };
  parallel_for(n_tokens * c.n_heads, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / c.n_heads;
      const int64_t h = i % c.n_heads;
      const BatchToken& b = batch[static_cast<size_t>(t)];
      const auto [keys, n_keys] = keys_of(i);
      const void* values = cache.values(b.slot, layer, h / group);
      const auto [next_keys, n_next_keys] = i + 1 < end ? keys_of(i + 1) : std::pair<const void*, int64_t>(nullptr, 0);
      scores.resize(static_cast<size_t>(n_keys));
      const float* q = q_.data() + t * c.q_dim() + h * hd;
      float* out = att_.data() + t * c.q_dim() + h * hd;
      auto attend = [&](const auto* k_rows, const auto* v_rows) {  // float or half entries
        using Entry = std::remove_cv_t<std::remove_pointer_t<decltype(k_rows)>>;
        if (avx2_) {
          k::cpu::attend_one_head(q, k_rows, v_rows, hd, n_keys, hd, scale, scores.data(), out,
                                  static_cast<const Entry*>(next_keys), n_next_keys);
        } else {
          k::ref::attend_one_head(q, k_rows, v_rows, hd, n_keys, hd, scale, scores.data(), out);
        }
      };
      if (cache.type() == KvType::kQ8_0) {
        const auto* k_rows = static_cast<const k::BlockQ8_0*>(keys);
        const auto* v_rows = static_cast<const k::BlockQ8_0*>(values);
        if (avx2_) {
          k::cpu::attend_one_head(q, k_rows, v_rows, n_keys, hd, scale, scores.data(), out,
                                  static_cast<const k::BlockQ8_0*>(next_keys), n_next_keys);
        } else {
          k::ref::attend_one_head_q8_0(q, k_rows, v_rows, n_keys, hd, scale, scores.data(), out);
        }
      } else if (cache.type() == KvType::kF16) {
        attend(static_cast<const uint16_t*>(keys), static_cast<const uint16_t*>(values));
      } else {
        attend(static_cast<const float*>(keys), static_cast<const float*>(values));
      }
    }
  });
}

void LlamaModel::add_and_norm(bool add, const float* norm_weight, int64_t n_tokens) {
  const int64_t dim = config_.dim;
  parallel_for(n_tokens, 4, [&](int64_t t0, int64_t t1) {
    float* x = x_.data() + t0 * dim;
    float* xb = xb_.data() + t0 * dim;
    if (add) {
      for (int64_t i = 0; i < (t1 - t0) * dim; ++i) x[i] += xb[i];
    }
    if (norm_weight != nullptr) norm_rows(x, norm_weight, xb, t1 - t0);
  });
}

void LlamaModel::norm_rows(const float* x, const float* weight, float* y, int64_t n_rows) const {
  const int64_t dim = config_.dim;
  const auto norm = avx2_ ? k::cpu::rms_norm : k::ref::rms_norm;
  for (int64_t r = 0; r < n_rows; ++r) norm(x + r * dim, weight, y + r * dim, dim, config_.rms_eps);
}

int64_t LlamaModel::gather_final(std::span<const BatchToken> batch) {
  const int64_t dim = config_.dim;
  int64_t n_out = 0;
  for (const BatchToken& t : batch) n_out += t.want_logits ? 1 : 0;
  grow(final_, n_out * dim);
  int64_t row = 0;
  for (size_t t = 0; t < batch.size(); ++t) {
    if (!batch[t].want_logits) continue;
    norm_rows(x_.data() + static_cast<int64_t>(t) * dim, weights_.output_norm, final_.data() + row * dim, 1);
    ++row;
  }
  return n_out;
}

void LlamaModel::forward(std::span<const BatchToken> batch, KvCache& cache, float* logits) {
  if (batch.empty()) return;
  run_layers(batch, cache);
  const int64_t n_out = gather_final(batch);
  if (n_out > 0) project(weights_.output, final_.data(), n_out, logits);
}

void LlamaModel::forward_hidden(std::span<const BatchToken> batch, KvCache& cache, float* hidden) {
  if (batch.empty()) return;
  run_layers(batch, cache);
  const int64_t n_out = gather_final(batch);
  std::copy_n(final_.data(), n_out * config_.dim, hidden);
}

}  // namespace lmaas::models
