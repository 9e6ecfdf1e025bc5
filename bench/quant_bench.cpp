// Quantized matmul speed (cpu::matmul) on the projection shapes of a ~110M-parameter LLaMA (dim 768,
// hidden 2048, vocab 32000, 12 layers), for every weight type, at 1 token (generation: memory bound)
// 16 tokens (a generation step of 16 running sequences) and 512 tokens (prefill: compute bound), on 2 threads (--threads=N to change). Counters:
// weight_bytes/s (bytes of W read per second of matmul) and tokens/s. `model/...` runs the 85 projections of the whole model in order on
// distinct weights (matmul time per token of the full model); `packed/...` multiplies one packed Q8_0/Q4_0 matrix
// again and again (the kernels with W in cache, level_macs/s against the core's peak). `stream_read` measures the machine's
// memory bandwidth: a sum over 1 GiB on the same threads, so weight_bytes/s can be read as a fraction of it.
// With 1 token, weights rotate over copies totalling > 160 MB so that they come from memory, not L3.
//   build/<dir>/bench/quant_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/bandwidth.h"
#include "kernels/cpu/quant.h"
#include "kernels/ref/quant.h"

namespace {

using lmaas::kernels::WeightType;
namespace kernels = lmaas::kernels;

int g_threads = 2;  // --threads=N
constexpr int64_t kRotateBytes = int64_t{160} << 20;
constexpr WeightType kTypes[] = {WeightType::kF32, WeightType::kF16, WeightType::kBF16, WeightType::kQ8_0,
                                 WeightType::kQ4_0};

struct Shape {
  int64_t n_rows, n_cols;
};
constexpr Shape kShapes[] = {{768, 768}, {2048, 768}, {768, 2048}, {32000, 768}};

// A [n_rows, n_cols] matrix of `type` from N(0, 0.02²) weights (quantized once, by rows).
std::vector<uint8_t> make_weights(WeightType type, int64_t n_rows, int64_t n_cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const int64_t rb = kernels::row_bytes(type, n_cols);
  std::vector<uint8_t> w(static_cast<size_t>(n_rows * rb));
  std::vector<float> row(static_cast<size_t>(n_cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (float& v : row) v = normal(rng);
    kernels::ref::quantize_row(type, row.data(), w.data() + r * rb, n_cols);
  }
  return w;
}

std::vector<float> make_activations(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  return x;
}

void set_counters(benchmark::State& state, int64_t weight_bytes, int64_t n_tokens) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["weight_bytes/s"] = benchmark::Counter(iters * static_cast<double>(weight_bytes),
                                                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
  state.counters["tokens/s"] = benchmark::Counter(iters * static_cast<double>(n_tokens), benchmark::Counter::kIsRate);
}

void bm_matmul(benchmark::State& state, WeightType type, Shape shape, int64_t n_tokens) {
  lmaas::set_num_threads(g_threads);
  const int64_t bytes = shape.n_rows * kernels::row_bytes(type, shape.n_cols);
  const int64_t n_copies = n_tokens == 1 ? std::max<int64_t>(2, kRotateBytes / bytes + 1) : 1;
  const std::vector<uint8_t> w0 = make_weights(type, shape.n_rows, shape.n_cols, 1);
  std::vector<std::vector<uint8_t>> copies(static_cast<size_t>(n_copies), w0);
  const std::vector<float> x = make_activations(n_tokens * shape.n_cols, 2);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.n_rows));
  size_t next = 0;
  for (auto _ : state) {
    kernels::cpu::matmul(type, copies[next].data(), shape.n_rows, shape.n_cols, x.data(), n_tokens, y.data(),
                         shape.n_rows);
    benchmark::DoNotOptimize(y.data());
    next = (next + 1) % copies.size();
  }
  set_counters(state, bytes, n_tokens);
}

// One packed Q8_0 / Q4_0 matrix (cpu::pack_quant_matrix), multiplied again and again: the kernels' speed
// with W in cache (the smaller shapes fit in L2 or L3), apart from memory.
void bm_packed(benchmark::State& state, WeightType type, Shape shape, int64_t n_tokens) {
  lmaas::set_num_threads(g_threads);
  const std::vector<uint8_t> w = make_weights(type, shape.n_rows, shape.n_cols, 1);
  const auto packed = kernels::cpu::pack_quant_matrix(type, w.data(), shape.n_rows, shape.n_cols);
  const std::vector<float> x = make_activations(n_tokens * shape.n_cols, 2);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.n_rows));
  for (auto _ : state) {
    kernels::cpu::matmul_packed(*packed, x.data(), n_tokens, y.data(), shape.n_rows);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, static_cast<int64_t>(w.size()), n_tokens);
  // Integer dot-product instructions per second (each covers 64 weight levels × one token; Q8_0 takes two
  // on AVX2), to compare with the core's peak rate.
  state.counters["level_macs/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(shape.n_rows * shape.n_cols * n_tokens),
      benchmark::Counter::kIsRate);
}

// All projections of the 12-layer model in order (q, k, v, o, w1, w3, w2 per layer, then the output), as
// LlamaModel runs them: Q8_0 / Q4_0 weights packed once (cpu::pack_quant_matrix), others as stored.
void bm_model(benchmark::State& state, WeightType type, int64_t n_tokens) {
  lmaas::set_num_threads(g_threads);
  std::vector<Shape> shapes;
  for (int layer = 0; layer < 12; ++layer) {
    for (int i = 0; i < 4; ++i) shapes.push_back({768, 768});
    shapes.push_back({2048, 768});
    shapes.push_back({2048, 768});
    shapes.push_back({768, 2048});
  }
  shapes.push_back({32000, 768});
  std::vector<std::vector<uint8_t>> weights;
  int64_t bytes = 0;
  for (const Shape& s : shapes) {
    weights.push_back(make_weights(type, s.n_rows, s.n_cols, static_cast<uint32_t>(weights.size())));
    bytes += static_cast<int64_t>(weights.back().size());
  }
  std::vector<std::shared_ptr<const kernels::cpu::PackedQuantMatrix>> packed;
  for (size_t i = 0; i < shapes.size(); ++i) {
    packed.push_back(kernels::cpu::pack_quant_matrix(type, weights[i].data(), shapes[i].n_rows, shapes[i].n_cols));
    if (packed.back()) std::vector<uint8_t>().swap(weights[i]);  // the model reads only the packed copy
  }
  const std::vector<float> x = make_activations(n_tokens * 2048, 3);
  std::vector<float> y(static_cast<size_t>(n_tokens * 32000));
  for (auto _ : state) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      if (packed[i]) {
        kernels::cpu::matmul_packed(*packed[i], x.data(), n_tokens, y.data(), shapes[i].n_rows);
      } else {
        kernels::cpu::matmul(type, weights[i].data(), shapes[i].n_rows, shapes[i].n_cols, x.data(), n_tokens, y.data(),
                             shapes[i].n_rows);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, bytes, n_tokens);
}

// Memory bandwidth: g_threads threads summing a 1 GiB buffer (kernels/cpu/bandwidth.h, the probe `lmaas bench
// --llm` uses), the median of 5 passes per iteration.
void bm_stream_read(benchmark::State& state) {
  lmaas::set_num_threads(g_threads);
  constexpr int64_t kBytes = int64_t{1} << 30;
  double rate = 0;
  for (auto _ : state) rate = lmaas::kernels::cpu::measure_read_bandwidth(kBytes, 5);
  state.counters["bytes/s"] = benchmark::Counter(rate, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

void register_all() {
  benchmark::RegisterBenchmark("stream_read/1GiB", bm_stream_read)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (int64_t n_tokens : {1, 4, 8, 16, 32, 64, 512}) {  // generation, 16 running sequences, prefill
    for (WeightType type : kTypes) {
      const std::string t(kernels::weight_type_name(type));
      for (const Shape& s : kShapes) {
        const std::string name = "matmul/" + t + "/" + std::to_string(s.n_rows) + "x" + std::to_string(s.n_cols) +
                                 "/tokens:" + std::to_string(n_tokens);
        benchmark::RegisterBenchmark(name.c_str(), bm_matmul, type, s, n_tokens)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
        if (type == WeightType::kQ8_0 || type == WeightType::kQ4_0) {
          benchmark::RegisterBenchmark(("packed" + name.substr(6)).c_str(), bm_packed, type, s, n_tokens)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
      benchmark::RegisterBenchmark(("model/" + t + "/tokens:" + std::to_string(n_tokens)).c_str(), bm_model, type,
                                   n_tokens)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int n_args = 0;  // strip --threads=N before Google Benchmark sees the arguments
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) g_threads = std::max(1, std::atoi(argv[i] + 10));
    else argv[n_args++] = argv[i];
  }
  argc = n_args;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
