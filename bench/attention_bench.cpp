// Decode attention speed (cpu::attend_one_head: one query against a head's cached keys and values) for every
// KV-cache entry type, on one thread: the model runs one (token, head) pair per task, so this is a task's
// cost. `cache/...` attends to the same head again and again (its rows stay in L1/L2: the arithmetic alone);
// `memory/...` walks heads whose rows total > 160 MB, each attended once per pass, the next head's keys
// fetched meanwhile as the model does (rows come from memory, as in a 16-sequence step). Counters: keys/s and
// kv_bytes/s (bytes of keys and values read per second). The f32 and f16 caches run once per instruction set
// the machine has (avx2, avx512: cpu::attend_one_head's `isa`).
//   build/<dir>/bench/attention_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cpu/llm.h"
#include "kernels/quant_types.h"
#include "kernels/ref/quant.h"

namespace {

namespace kernels = lmaas::kernels;
using kernels::WeightType;
using kernels::cpu::QuantIsa;

constexpr int64_t kRotateBytes = int64_t{160} << 20;

// Rows for n_heads heads of n_keys rows each (keys and values apart), from N(0, 1) entries.
struct Heads {
  WeightType type;
  int64_t head_dim, n_keys, n_heads, head_bytes;
  std::vector<uint8_t> keys, values;
  std::vector<float> q;

  Heads(WeightType t, int64_t hd, int64_t keys_per_head, int64_t heads)
      : type(t),
        head_dim(hd),
        n_keys(keys_per_head),
        n_heads(heads),
        head_bytes(kernels::row_bytes(t, hd) * keys_per_head) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(hd));
    const int64_t rb = kernels::row_bytes(t, hd);
    for (auto* rows : {&keys, &values}) {
      rows->resize(static_cast<size_t>(head_bytes * heads));
      for (int64_t r = 0; r < keys_per_head * heads; ++r) {
        for (float& v : row) v = normal(rng);
        kernels::ref::quantize_row(t, row.data(), rows->data() + r * rb, hd);
      }
    }
    q.resize(static_cast<size_t>(hd));
    for (float& v : q) v = normal(rng) / 8.0f;
  }

  const void* key_rows(int64_t h) const { return keys.data() + (h % n_heads) * head_bytes; }
  const void* value_rows(int64_t h) const { return values.data() + (h % n_heads) * head_bytes; }

  // One head's attention, the next head's keys fetched meanwhile (none when next < 0).
  void attend(int64_t h, int64_t next, float* scores, float* out, QuantIsa isa) const {
    if (type == WeightType::kQ8_0) return attend_rows<kernels::BlockQ8_0>(h, next, scores, out, isa);
    if (type == WeightType::kF16) return attend_rows<uint16_t>(h, next, scores, out, isa);
    attend_rows<float>(h, next, scores, out, isa);
  }

  template <typename Row>
  void attend_rows(int64_t h, int64_t next, float* scores, float* out, QuantIsa isa) const {
    const auto* k = static_cast<const Row*>(key_rows(h));
    const auto* v = static_cast<const Row*>(value_rows(h));
    const auto* next_k = next < 0 ? nullptr : static_cast<const Row*>(key_rows(next));
    const int64_t n_next = next < 0 ? 0 : n_keys;
    constexpr float kScale = 0.125f;
    if constexpr (std::is_same_v<Row, kernels::BlockQ8_0>) {
      kernels::cpu::attend_one_head(q.data(), k, v, n_keys, head_dim, kScale, scores, out, next_k, n_next);
    } else {
      kernels::cpu::attend_one_head(q.data(), k, v, head_dim, n_keys, head_dim, kScale, scores, out, next_k,
                                    n_next, isa);
    }
  }
};

void bm_attend(benchmark::State& state, WeightType type, QuantIsa isa, int64_t head_dim, int64_t n_keys,
               bool from_memory) {
  const int64_t head_bytes = kernels::row_bytes(type, head_dim) * n_keys;
  const int64_t n_heads = from_memory ? std::max<int64_t>(2, kRotateBytes / (2 * head_bytes)) : 1;
  const Heads heads(type, head_dim, n_keys, n_heads);
  std::vector<float> scores(static_cast<size_t>(n_keys)), out(static_cast<size_t>(head_dim));
  int64_t h = 0;
  for (auto _ : state) {
    heads.attend(h, from_memory ? h + 1 : -1, scores.data(), out.data(), isa);
    benchmark::DoNotOptimize(out.data());
    h = (h + 1) % n_heads;
  }
  state.counters["keys/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n_keys), benchmark::Counter::kIsRate);
  state.counters["kv_bytes/s"] = benchmark::Counter(static_cast<double>(state.iterations() * 2 * head_bytes),
                                                    benchmark::Counter::kIsRate);
}

void register_all() {
  const std::pair<WeightType, const char*> types[] = {
      {WeightType::kF32, "f32"}, {WeightType::kF16, "f16"}, {WeightType::kQ8_0, "q8_0"}};
  for (const bool from_memory : {false, true}) {
    for (const auto& [type, name] : types) {
      for (const QuantIsa isa : {QuantIsa::kAvx2, QuantIsa::kAvx512}) {
        // The Q8_0 cache has one (AVX2) pass.
        if (!kernels::cpu::quant_isa_supported(isa) || (type == WeightType::kQ8_0 && isa != QuantIsa::kAvx2))
          continue;
        for (const int64_t head_dim : {64, 128}) {
          for (const int64_t n_keys : {128, 1024}) {
            const std::string label = std::string(from_memory ? "memory/" : "cache/") + name +
                                      (isa == QuantIsa::kAvx512 ? "/avx512" : "/avx2") +
                                      "/head_dim:" + std::to_string(head_dim) +
                                      "/keys:" + std::to_string(n_keys);
            benchmark::RegisterBenchmark(label.c_str(), [=](benchmark::State& s) {
              bm_attend(s, type, isa, head_dim, n_keys, from_memory);
            })->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
