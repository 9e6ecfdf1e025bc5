// Row gather and scatter (packed token layouts: run position-wise layers on real tokens only).
#include <cstring>
#include <vector>

#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

// Validates indices against n_rows; `distinct` additionally rejects repeats (scatter would drop them).
std::vector<int64_t> checked_indices(const char* op, const Tensor& indices, int64_t n_rows, bool distinct) {
  detail::check_defined(op, "indices", indices);
  LMAAS_CHECK(indices.dtype() == DType::kI32 && indices.dim() == 1, "{}: indices must be I32 [M], got {} {}", op,
              dtype_name(indices.dtype()), shape_str(indices.shape()));
  std::vector<int64_t> out = indices.to_vector<int64_t>();
  std::vector<bool> seen(distinct ? static_cast<size_t>(n_rows) : 0, false);
  for (size_t i = 0; i < out.size(); ++i) {
    LMAAS_CHECK(out[i] >= 0 && out[i] < n_rows, "{}: index {} at position {} is outside [0, {})", op, out[i], i, n_rows);
    if (distinct) {
      LMAAS_CHECK(!seen[out[i]], "{}: index {} appears twice", op, out[i]);
      seen[out[i]] = true;
    }
  }
  return out;
}

// dst row dst_index[i] (or i) = src row src_index[i] (or i), for rows of `row_bytes`.
void copy_rows(const Tensor& src, const Tensor& dst, const std::vector<int64_t>& index, bool index_is_src) {
  const size_t row_bytes = static_cast<size_t>(src.dim() > 1 ? src.numel() / src.size(0) : 1) * dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t from = index_is_src ? index[i] : static_cast<int64_t>(i);
    const int64_t to = index_is_src ? static_cast<int64_t>(i) : index[i];
    std::memcpy(d + to * row_bytes, s + from * row_bytes, row_bytes);
  }
}

}  // namespace

Tensor gather_rows(const Tensor& x, const Tensor& indices) {
  detail::check_floating("gather_rows", "x", x);
  LMAAS_CHECK(x.dim() == 2, "gather_rows: x must be [N, D], got {}", shape_str(x.shape()));
  auto index = checked_indices("gather_rows", indices, x.size(0), false);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty({static_cast<int64_t>(index.size()), x.size(1)}, x.dtype());
  copy_rows(xc, out, index, true);
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, indices, out] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      // Repeated indices accumulate: add row by row.
      Tensor dx = Tensor::zeros(x.shape(), x.dtype());
      Tensor gc = g.contiguous();
      auto idx = indices.to_vector<int64_t>();
      LMAAS_DISPATCH_FLOATING(x.dtype(), "gather_rows backward", [&] {
        const int64_t d = x.size(1);
        for (size_t i = 0; i < idx.size(); ++i)
          for (int64_t j = 0; j < d; ++j) dx.data<T>()[idx[i] * d + j] += gc.data<T>()[static_cast<int64_t>(i) * d + j];
      });
      autograd::accumulate_grad(x, dx, true);
    });
  }
  return out;
}

Tensor scatter_rows(const Tensor& x, const Tensor& indices, int64_t n_rows) {
  detail::check_floating("scatter_rows", "x", x);
  LMAAS_CHECK(x.dim() == 2 && x.size(0) == indices.numel(), "scatter_rows: x {} must be [M, D] with M = {} indices",
              shape_str(x.shape()), indices.numel());
  auto index = checked_indices("scatter_rows", indices, n_rows, true);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::zeros({n_rows, x.size(1)}, x.dtype());
  copy_rows(xc, out, index, false);
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, index, out] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor dx = Tensor::empty(x.shape(), x.dtype());
      copy_rows(g.contiguous(), dx, index, true);
      autograd::accumulate_grad(x, dx, true);
    });
  }
  return out;
}

}  // namespace lmaas::ops
