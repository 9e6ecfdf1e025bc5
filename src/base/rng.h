// Rng: a small seeded generator (xoshiro256**, seeded by splitmix64) with its own uniform and normal
// transforms, so a seed gives the same numbers on every platform and standard library.
// Not thread-safe: one Rng per owner (a module initialiser, a data shuffler, a dropout layer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lmaas {

// splitmix64: a well-mixed 64-bit value from a counter (counter-based randomness for parallel loops).
uint64_t mix64(uint64_t counter);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0x5eed);
  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float uniform_float();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform_double(); }
  // Standard normal (Box–Muller; the second value of each pair is kept for the next call).
  double normal();
  // Uniform integer in [0, n), n > 0, without modulo bias.
  uint64_t below(uint64_t n);

 private:
  uint64_t state_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Fisher–Yates with our Rng: the same permutation on every platform and standard library.
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace lmaas
