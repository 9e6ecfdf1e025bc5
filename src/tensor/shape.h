// Shape and strides: plain vectors of int64 (element counts, not bytes), row-major by default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmaas {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"
// Maps a possibly negative dimension index into [0, n_dims); throws lmaas::Error when out of range.
int64_t normalize_dim(int64_t dim, int64_t n_dims);
// The broadcast of two shapes (NumPy rules); throws lmaas::Error naming both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace lmaas
