#include "nn/init.h"

#include <cmath>
#include <vector>

#include "base/check.h"

namespace lmaas::nn::init {
namespace {

template <typename Fn>
void fill_with(Tensor& t, Fn draw) {
  LMAAS_CHECK(t.is_contiguous() && (t.dtype() == DType::kF32 || t.dtype() == DType::kF64),
              "init: expected a contiguous float tensor, got {} {}", dtype_name(t.dtype()), shape_str(t.shape()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = draw();
    if (t.dtype() == DType::kF32) t.data<float>()[i] = static_cast<float>(v);
    else t.data<double>()[i] = v;
  }
}

}  // namespace

void uniform(Tensor& t, Rng& rng, double lo, double hi) { fill_with(t, [&] { return rng.uniform(lo, hi); }); }

void normal(Tensor& t, Rng& rng, double mean, double stddev) { fill_with(t, [&] { return mean + stddev * rng.normal(); }); }

void glorot_uniform(Tensor& t, Rng& rng, int64_t fan_in, int64_t fan_out) {
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform(t, rng, -limit, limit);
}

void orthogonal(Tensor& t, Rng& rng) {
  LMAAS_CHECK(t.dim() == 2, "orthogonal init needs a matrix, got shape {}", shape_str(t.shape()));
  const int64_t rows = t.size(0), cols = t.size(1);
  const bool tall = rows >= cols;
  const int64_t n = tall ? rows : cols, k = tall ? cols : rows;  // orthonormalise k vectors of length n
  std::vector<double> q(static_cast<size_t>(n * k));
  for (auto& v : q) v = rng.normal();
  // Modified Gram–Schmidt in double precision; equivalent to QR with a positive diagonal of R.
  for (int64_t j = 0; j < k; ++j) {
    double* vj = &q[static_cast<size_t>(j * n)];
    for (int64_t i = 0; i < j; ++i) {
      const double* vi = &q[static_cast<size_t>(i * n)];
      double dot = 0;
      for (int64_t e = 0; e < n; ++e) dot += vi[e] * vj[e];
      for (int64_t e = 0; e < n; ++e) vj[e] -= dot * vi[e];
    }
    double norm = 0;
    for (int64_t e = 0; e < n; ++e) norm += vj[e] * vj[e];
    norm = std::sqrt(norm);
    for (int64_t e = 0; e < n; ++e) vj[e] /= norm;
  }
  Tensor full = Tensor::empty({rows, cols}, DType::kF64);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      full.data<double>()[r * cols + c] = tall ? q[static_cast<size_t>(c * n + r)] : q[static_cast<size_t>(r * n + c)];
  t.copy_from(full);
}

}  // namespace lmaas::nn::init
