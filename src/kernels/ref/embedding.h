// Reference embedding lookup. ids[n] index rows of weight[vocab, dim]; ids are validated by the op.
// forward: out[i,:] = weight[ids[i],:]. backward accumulates dweight[ids[i],:] += dout[i,:], skipping
// ids equal to padding_idx (pass -1 for none), so the padding row never learns (PyTorch semantics).
// embedding_bag_mean: ids[batch, steps]; out[b,:] = the mean of weight[ids[b,t],:] over the t whose id is not
// padding_idx (zero when there is none), without materialising the [batch, steps, dim] lookups
// (PyTorch's EmbeddingBag, mode "mean"); inv_count[b] = 1/count (0 for none) feeds the backward pass,
// dweight[ids[b,t],:] += dout[b,:]·inv_count[b].
#pragma once

#include <cstdint>

namespace lmaas::kernels::ref {

template <typename T>
void embedding_forward(const int32_t* ids, const T* weight, T* out, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t d = 0; d < dim; ++d) out[i * dim + d] = weight[static_cast<int64_t>(ids[i]) * dim + d];
}

template <typename T>
void embedding_backward(const int32_t* ids, const T* dout, T* dweight, int64_t n, int64_t dim, int64_t padding_idx) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] == padding_idx) continue;
    for (int64_t d = 0; d < dim; ++d) dweight[static_cast<int64_t>(ids[i]) * dim + d] += dout[i * dim + d];
  }
}

template <typename T>
void embedding_bag_mean_forward(const int32_t* ids, const T* weight, T* out, T* inv_count, int64_t batch,
                                int64_t steps, int64_t dim, int64_t padding_idx) {
  for (int64_t b = 0; b < batch; ++b) {
    T* o = out + b * dim;
    for (int64_t d = 0; d < dim; ++d) o[d] = T(0);
    int64_t count = 0;
    for (int64_t t = 0; t < steps; ++t) {
      const int32_t id = ids[b * steps + t];
      if (id == padding_idx) continue;
      ++count;
      const T* row = weight + static_cast<int64_t>(id) * dim;
      for (int64_t d = 0; d < dim; ++d) o[d] += row[d];
    }
    const T inv = count > 0 ? T(1) / static_cast<T>(count) : T(0);
    for (int64_t d = 0; d < dim; ++d) o[d] *= inv;
    inv_count[b] = inv;
  }
}

template <typename T>
void embedding_bag_mean_backward(const int32_t* ids, const T* dout, const T* inv_count, T* dweight, int64_t batch,
                                 int64_t steps, int64_t dim, int64_t padding_idx) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < steps; ++t) {
      const int32_t id = ids[b * steps + t];
      if (id == padding_idx) continue;
      T* row = dweight + static_cast<int64_t>(id) * dim;
      for (int64_t d = 0; d < dim; ++d) row[d] += dout[b * dim + d] * inv_count[b];
    }
}

}  // namespace lmaas::kernels::ref
