// cpu::matmul for weights in the layouts of quant_types.h: picks the instruction set, owns threading and
// scratch memory, and routes each call to a path (see cpu/quant.h for the contract):
//   Q8_0/Q4_0               activations quantized once, then groups of 16 rows packed (quant_isa.h) × all tokens:
//                           packed once (PackedQuantMatrix, what models use), or a group at a time per call
//                           (matmul on the stored layout)
//   floats                  the ISA's float kernels: whole rows (few tokens) or blocks of rows (many)
// Every path computes a row with the same canonical sequence of operations, and a row's arithmetic never
// depends on which task computes it, so results depend neither on the batch nor on the thread count.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/cpu/quant.h"
#include "kernels/cpu/quant_isa.h"
#include "kernels/ref/quant.h"

namespace lmaas::kernels::cpu {
namespace {

using quant_isa::ActQ8;
using quant_isa::Problem;

using quant_isa::kFewTokens;
constexpr int64_t kMinTaskWeightBytes = 1 << 15;  // below this much of W per task, fewer tasks
constexpr int64_t kStreamTasksPerThread = 4;

using quant_isa::kPackRows;
using quant_isa::PackedProblem;

struct IsaPaths {
  decltype(&quant_isa::avx2::quantize_activations) quantize_activations;
  decltype(&quant_isa::avx2::packed_groups) packed_groups;
  decltype(&quant_isa::avx2::float_rows) float_rows;
  int32_t q8_bias_scale;  // bias scale of Q8_0 activations (0: unused)
  quant_isa::ActLayout act_layout;  // of packed_groups' activations
};

// The paths of an instruction set for a call of n_tokens: kAmx is the AVX-512 path with the AMX tile kernels
// for the packed products of more than kFewTokens tokens (they give bit-identical results).
IsaPaths paths_of(QuantIsa isa, int64_t n_tokens) {
  if (isa == QuantIsa::kAvx512 || isa == QuantIsa::kAmx) {
    namespace k = quant_isa::avx512;
    const bool tiles = isa == QuantIsa::kAmx && n_tokens > kFewTokens;
    return {k::quantize_activations, tiles ? quant_isa::amx::packed_groups : k::packed_groups, k::float_rows,
            quant_isa::kBiasQ8_0Unsigned, tiles ? quant_isa::kActLayoutAmx : quant_isa::kActLayoutAvx512};
  }
  namespace k = quant_isa::avx2;
  return {k::quantize_activations, k::packed_groups, k::float_rows, 0, quant_isa::kActLayoutAvx2};
}

// Packs groups [g0, g1) of W's rows into `out` (quant_isa.h's layout; rows ≥ n_rows as zeros).
void pack_groups(WeightType type, const uint8_t* w, int64_t n_rows, int64_t n_cols, int64_t g0, int64_t g1, uint8_t* out) {
  const int64_t n_blocks = n_cols / kQuantBlock;
  const int64_t row_bytes_w = row_bytes(type, n_cols);
  const int64_t src_block = type == WeightType::kQ8_0 ? 34 : 18;
  const int64_t level_bytes = src_block - 2;  // 32 levels (Q8_0) or 16 bytes of nibbles (Q4_0)
  const int64_t block_bytes = quant_isa::packed_block_bytes(type);
  for (int64_t g = g0; g < g1; ++g) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      uint8_t* dst = out + ((g - g0) * n_blocks + b) * block_bytes;
      std::memset(dst, 0, static_cast<size_t>(block_bytes));
      for (int64_t i = 0; i < kPackRows; ++i) {
        const int64_t r = g * kPackRows + i;
        if (r >= n_rows) break;
        const uint8_t* src = w + r * row_bytes_w + b * src_block;
        std::memcpy(dst + 2 * i, src, 2);  // d
        for (int64_t k = 0; k < level_bytes / 4; ++k)
          std::memcpy(dst + 2 * kPackRows + (k * kPackRows + i) * 4, src + 2 + 4 * k, 4);
      }
    }
  }
}

// [0, n_units) (n_units ≥ 1) cut into at most max_pieces contiguous pieces of `size` units, the last
// possibly shorter.
struct Pieces {
  int64_t n_units, size, count;
  Pieces(int64_t units, int64_t max_pieces) : n_units(units) {
    max_pieces = std::clamp<int64_t>(max_pieces, 1, units);
    size = (units + max_pieces - 1) / max_pieces;
    count = (units + size - 1) / size;
  }
  std::pair<int64_t, int64_t> operator[](int64_t i) const { return {i * size, std::min(n_units, (i + 1) * size)}; }
};

// Runs fn(u0, u1) over [0, n_units) in at most n_tasks contiguous pieces, on the pool (tasks are claimed
// by whichever thread is free, so many small tasks balance themselves).
template <typename Fn>
void run_pieces(int64_t n_units, int64_t n_tasks, const Fn& fn) {
  const Pieces pieces(n_units, n_tasks);
  global_pool().run(static_cast<int>(pieces.count), [&](int i) {
    const auto [u0, u1] = pieces[i];
    fn(u0, u1);
  });
}

// Tasks of a call that streams W (few tokens): a few contiguous ranges of rows per thread (claimed
// dynamically, so a thread the OS preempts does not hold the others up), fewer when W is small.
int64_t stream_task_count(int64_t weight_bytes) {
  return std::min<int64_t>(std::max<int64_t>(1, weight_bytes / kMinTaskWeightBytes), kStreamTasksPerThread * num_threads());
}

// Tasks over n_groups packed row groups of `group_bytes` each: streaming ranges for few tokens, else a group each.
int64_t group_task_count(int64_t n_groups, int64_t group_bytes, int64_t n_tokens) {
  return n_tokens <= kFewTokens ? stream_task_count(n_groups * group_bytes) : n_groups;
}

// Portable fallback: each row dequantized by the reference, dotted in double.
void matmul_portable(const Problem& p, int64_t n_rows) {
  run_pieces(n_rows, stream_task_count(n_rows * p.row_bytes), [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(p.n_cols));
    for (int64_t r = r0; r < r1; ++r) {
      ref::dequantize_row(p.type, p.w + r * p.row_bytes, row.data(), p.n_cols);
      for (int64_t t = 0; t < p.n_tokens; ++t) {
        double acc = 0.0;
        for (int64_t c = 0; c < p.n_cols; ++c) acc += static_cast<double>(row[c]) * p.x[t * p.n_cols + c];
        p.y[t * p.ldy + r] = static_cast<float>(acc);
      }
    }
  });
}

// Runs fn(r0, r1) over [0, n_rows) in pieces of whole units of unit_rows rows (the last one short).
template <typename Fn>
void run_row_pieces(int64_t n_rows, int64_t unit_rows, int64_t n_tasks, const Fn& fn) {
  const int64_t n_units = (n_rows + unit_rows - 1) / unit_rows;
  run_pieces(n_units, n_tasks, [&](int64_t u0, int64_t u1) { fn(u0 * unit_rows, std::min(n_rows, u1 * unit_rows)); });
}

// W as stored: each task packs one group of rows at a time and runs every token over it.
void matmul_quant_stored(const IsaPaths& k, const Problem& p, const ActQ8& act, int64_t n_rows) {
  const int64_t n_groups = (n_rows + kPackRows - 1) / kPackRows;
  run_pieces(n_groups, group_task_count(n_groups, kPackRows * p.row_bytes, p.n_tokens), [&](int64_t g0, int64_t g1) {
    thread_local std::vector<uint8_t> scratch;
    scratch.resize(static_cast<size_t>(act.n_blocks * quant_isa::packed_block_bytes(p.type)));
    for (int64_t g = g0; g < g1; ++g) {
      pack_groups(p.type, p.w, n_rows, p.n_cols, g, g + 1, scratch.data());
      const PackedProblem one{p.type, scratch.data(), std::min(kPackRows, n_rows - g * kPackRows), p.n_cols,
                              p.n_tokens, p.y + g * kPackRows, p.ldy};
      k.packed_groups(one, act, 0, 1);
    }
  });
}

// Packed W: ranges of groups per task; several problems (each with its activations) in one pool run, the
// tasks of one problem after those of the one before.
void matmul_packed_groups(const IsaPaths& k, std::span<const PackedProblem> problems, std::span<const ActQ8> acts) {
  std::vector<Pieces> pieces;
  int64_t n_tasks = 0;
  for (size_t i = 0; i < problems.size(); ++i) {
    const PackedProblem& p = problems[i];
    const int64_t n_groups = (p.n_rows + kPackRows - 1) / kPackRows;
    pieces.emplace_back(n_groups,
                        group_task_count(n_groups, acts[i].n_blocks * quant_isa::packed_block_bytes(p.type), p.n_tokens));
    n_tasks += pieces.back().count;
  }
  global_pool().run(static_cast<int>(n_tasks), [&](int task) {
    int64_t t = task;
    size_t i = 0;
    while (t >= pieces[i].count) t -= pieces[i++].count;
    const auto [g0, g1] = pieces[i][t];
    k.packed_groups(problems[i], acts[i], g0, g1);
  });
}

// x quantized for the Q8_0 / Q4_0 kernels into buffers of the calling thread (valid until its next call).
// `slot` picks one of two sets of buffers, so that activations for both weight types can be live at once.
ActQ8 quantize_for(const IsaPaths& k, WeightType type, const float* x, int64_t n_tokens, int64_t n_cols, int slot = 0) {
  const int64_t n_blocks = n_cols / kQuantBlock;
  struct Buffers {
    std::vector<int8_t> q;
    std::vector<float> d;
    std::vector<int32_t> bias;
  };
  thread_local Buffers buffers[2];
  auto& [q, d, bias] = buffers[slot];
  // The AMX kernels read whole tiles of tokens (quant_isa.h kActLayoutAmx).
  q.resize(static_cast<size_t>((n_tokens + quant_isa::kAmxTileTokens) * n_cols));
  d.resize(static_cast<size_t>(n_tokens * n_blocks));
  bias.resize(static_cast<size_t>(n_tokens * n_blocks));
  const int32_t bias_scale = type == WeightType::kQ4_0 ? quant_isa::kBiasQ4_0 : k.q8_bias_scale;
  // The caller's buffers (a thread_local named inside the lambda would be the worker's own).
  int8_t* q_data = q.data();
  float* d_data = d.data();
  int32_t* bias_data = bias.data();
  // A batch of 16 tokens already splits: at every step it would otherwise be serial work. The split is by
  // blocks: a tile's tokens share cache lines, a block's levels and scales do not.
  parallel_for(n_blocks, std::max<int64_t>(1, (1 << 13) / (kQuantBlock * n_tokens)), [&](int64_t b0, int64_t b1) {
    k.quantize_activations(x, n_cols, n_tokens, b0, b1, k.act_layout, bias_scale, q_data, d_data, bias_data);
  });
  return ActQ8{q_data, d_data, bias_data, n_blocks};
}

// Float weights, any number of tokens: few tokens stream W in a few pieces per thread; many tokens work
// in blocks of kFloatBlockRows rows.
void matmul_float(const IsaPaths& k, const Problem& p, int64_t n_rows) {
  const bool few = p.n_tokens <= kFewTokens;
  const int64_t n_blocks = (n_rows + quant_isa::kFloatBlockRows - 1) / quant_isa::kFloatBlockRows;
  run_row_pieces(n_rows, few ? 2 : quant_isa::kFloatBlockRows, few ? stream_task_count(n_rows * p.row_bytes) : n_blocks,
                 [&](int64_t r0, int64_t r1) { k.float_rows(p, r0, r1); });
}

}  // namespace

bool quant_isa_supported(QuantIsa isa) {
  static const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                             __builtin_cpu_supports("avx512vnni");
  // LMAAS_CPU_NO_AMX=1 keeps the AVX-512 kernels (to compare; the results are the same).
  static const bool amx = avx512 && !std::getenv("LMAAS_CPU_NO_AMX") && quant_isa::amx::usable();
  switch (isa) {
    case QuantIsa::kRef: return true;
    case QuantIsa::kAvx2: return avx2;
    case QuantIsa::kAvx512: return avx512;
    case QuantIsa::kAmx: return amx;
  }
  return false;
}

QuantIsa best_quant_isa() {
  static const QuantIsa best = quant_isa_supported(QuantIsa::kAmx)      ? QuantIsa::kAmx
                               : quant_isa_supported(QuantIsa::kAvx512) ? QuantIsa::kAvx512
                               : quant_isa_supported(QuantIsa::kAvx2) ? QuantIsa::kAvx2
                                                                      : QuantIsa::kRef;
  return best;
}

const char* quant_isa_name(QuantIsa isa) {
  switch (isa) {
    case QuantIsa::kRef: return "ref";
    case QuantIsa::kAvx2: return "avx2";
    case QuantIsa::kAvx512: return "avx512";
    case QuantIsa::kAmx: return "amx";
  }
  return "?";
}

void matmul_isa(QuantIsa isa, WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x,
                int64_t n_tokens, float* y, int64_t ldy) {
  if (n_rows <= 0 || n_tokens <= 0) return;
  const Problem p{type, static_cast<const uint8_t*>(w), row_bytes(type, n_cols), n_cols, x, n_tokens, y, ldy};
  if (isa == QuantIsa::kRef || n_cols == 0) return matmul_portable(p, n_rows);
  const IsaPaths k = paths_of(isa, n_tokens);
  const bool quantized = type == WeightType::kQ8_0 || type == WeightType::kQ4_0;
  if (!quantized) return matmul_float(k, p, n_rows);
  matmul_quant_stored(k, p, quantize_for(k, type, x, n_tokens, n_cols), n_rows);
}

void matmul(WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x, int64_t n_tokens, float* y,
            int64_t ldy) {
  matmul_isa(best_quant_isa(), type, w, n_rows, n_cols, x, n_tokens, y, ldy);
}

void dequantize_row(WeightType type, const void* w, float* y, int64_t n) { ref::dequantize_row(type, w, y, n); }

std::shared_ptr<const PackedQuantMatrix> pack_quant_matrix(WeightType type, const void* w, int64_t n_rows,
                                                           int64_t n_cols) {
  if ((type != WeightType::kQ8_0 && type != WeightType::kQ4_0) || best_quant_isa() == QuantIsa::kRef || n_rows <= 0 ||
      n_cols <= 0) {
    return nullptr;
  }
  auto packed = std::make_shared<PackedQuantMatrix>();
  packed->type = type;
  packed->n_rows = n_rows;
  packed->n_cols = n_cols;
  const int64_t n_groups = (n_rows + kPackRows - 1) / kPackRows;
  const int64_t group_bytes = (n_cols / kQuantBlock) * quant_isa::packed_block_bytes(type);
  packed->bytes.resize(static_cast<size_t>(n_groups * group_bytes));
  parallel_for(n_groups, 16, [&](int64_t g0, int64_t g1) {
    pack_groups(type, static_cast<const uint8_t*>(w), n_rows, n_cols, g0, g1, packed->bytes.data() + g0 * group_bytes);
  });
  return packed;
}

void matmul_packed_isa(QuantIsa isa, const PackedQuantMatrix& w, const float* x, int64_t n_tokens, float* y,
                       int64_t ldy) {
  if (w.n_rows <= 0 || n_tokens <= 0) return;
  const PackedProduct product{&w, y, ldy};
  matmul_packed_shared_isa(isa, {&product, 1}, x, n_tokens);
}

void matmul_packed(const PackedQuantMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t ldy) {
  matmul_packed_isa(best_quant_isa(), w, x, n_tokens, y, ldy);
}

void matmul_packed_shared_isa(QuantIsa isa, std::span<const PackedProduct> products, const float* x, int64_t n_tokens) {
  if (products.empty() || n_tokens <= 0) return;
  const IsaPaths k = paths_of(isa, n_tokens);
  std::vector<PackedProblem> problems;
  std::vector<ActQ8> acts;
  std::optional<ActQ8> by_type[2];  // Q8_0, Q4_0: quantized once each
  for (const PackedProduct& p : products) {
    LMAAS_CHECK(p.w->n_cols == products[0].w->n_cols, "matmul_packed_shared: widths {} and {} differ", p.w->n_cols,
                products[0].w->n_cols);
    if (p.w->n_rows <= 0) continue;
    const int slot = p.w->type == WeightType::kQ4_0 ? 1 : 0;
    if (!by_type[slot]) by_type[slot] = quantize_for(k, p.w->type, x, n_tokens, p.w->n_cols, slot);
    problems.push_back({p.w->type, p.w->bytes.data(), p.w->n_rows, p.w->n_cols, n_tokens, p.y, p.ldy});
    acts.push_back(*by_type[slot]);
  }
  matmul_packed_groups(k, problems, acts);
}

void matmul_packed_shared(std::span<const PackedProduct> products, const float* x, int64_t n_tokens) {
  matmul_packed_shared_isa(best_quant_isa(), products, x, n_tokens);
}

}  // namespace lmaas::kernels::cpu
