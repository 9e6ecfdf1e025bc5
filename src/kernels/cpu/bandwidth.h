// The machine's memory read bandwidth as the kernel pool sees it: every pool thread sums its share of a
// buffer far larger than the caches. Weight-streaming kernels (matrix-vector products during generation)
// are bounded by this number, so benchmarks report their bytes/s as a fraction of it.
#pragma once

#include <cstdint>

namespace lmaas::kernels::cpu {

// Median bytes/s of `repetitions` passes over a buffer of `n_bytes` (rounded down to 8-byte words),
// with the global pool's threads. Allocates and first-touches the buffer once.
double measure_read_bandwidth(int64_t n_bytes = int64_t{1} << 30, int repetitions = 5);

}  // namespace lmaas::kernels::cpu
