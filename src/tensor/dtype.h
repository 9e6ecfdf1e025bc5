// DType: the element types a Tensor may hold. F32 is the engine's type; F64 runs the reference kernels
// (gradient checks); integer types carry token ids, lengths and masks; BF16 is reserved for weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lmaas {

enum class DType : uint8_t { kF32, kF64, kI32, kI64, kU8, kBF16 };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);  // "F32", "F64", "I32", ... (safetensors spelling)
bool dtype_is_floating(DType dtype);

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kF32; }
template <> constexpr DType dtype_of<double>() { return DType::kF64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kI32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kI64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kU8; }

}  // namespace lmaas
