// Reference embedding lookup. ids[n] index rows of weight[vocab, dim]; ids are validated by the op.
// forward: out[i,:] = weight[ids[i],:]. backward accumulates dweight[ids[i],:] += dout[i,:], skipping
// ids equal to padding_idx (pass -1 for none), so the padding row never learns (PyTorch semantics).
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

}  // namespace lmaas::kernels::ref
