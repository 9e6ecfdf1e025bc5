// The pointwise functions every backend implements, named once here.
#pragma once

namespace lmaas::kernels {

enum class Unary { kSigmoid, kTanh, kRelu, kGelu, kGeluTanh, kExp, kLog, kNeg, kSqrt };

}  // namespace lmaas::kernels
