// Sequence pooling x[B, T, D] → [B, D] under a mask[B, T] U8 (1 = token; undefined = all tokens):
//   kLast: the last position whose mask is 1 (Keras return_sequences=False on right-padded input);
//   kMean: mean over tokens; kMax: max over tokens; kFirst: position 0 (a [CLS]-style token).
// A row without tokens pools to zeros (kMean, kLast) or to about -1e30 (kMax).
#pragma once

#include "tensor/tensor.h"

namespace lmaas::nn {

enum class Pooling { kLast, kMean, kMax, kFirst };

Tensor pool(const Tensor& x, const Tensor& mask, Pooling pooling);

}  // namespace lmaas::nn
