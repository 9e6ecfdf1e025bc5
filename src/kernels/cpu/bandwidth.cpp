// measure_read_bandwidth: see bandwidth.h.
#include "kernels/cpu/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "base/thread_pool.h"

namespace lmaas::kernels::cpu {

double measure_read_bandwidth(int64_t n_bytes, int repetitions) {
  const int64_t n = std::max<int64_t>(n_bytes / 8, 1 << 20);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[static_cast<size_t>(n)]);
  // First touch by the threads that will read, so pages sit near them.
  parallel_for(n, 1 << 20, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) buf[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  });
  std::atomic<uint64_t> sink{0};
  std::vector<double> rates;
  for (int r = 0; r < std::max(1, repetitions); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    parallel_for(n, 1 << 20, [&](int64_t i0, int64_t i1) {
      // Four independent sums keep several loads in flight.
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = i0;
      for (; i + 4 <= i1; i += 4) {
        s0 += buf[static_cast<size_t>(i)];
        s1 += buf[static_cast<size_t>(i + 1)];
        s2 += buf[static_cast<size_t>(i + 2)];
        s3 += buf[static_cast<size_t>(i + 3)];
      }
      for (; i < i1; ++i) s0 += buf[static_cast<size_t>(i)];
      sink.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(n) * 8.0 / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace lmaas::kernels::cpu
