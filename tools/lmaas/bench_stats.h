// Statistics the benchmark subcommands share.
#pragma once

#include <algorithm>
#include <vector>

namespace lmaas::cli {

// The middle value (upper middle for an even count); 0 for no values.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace lmaas::cli
