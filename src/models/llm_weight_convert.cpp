// Weight conversion for the model writers: see llm_weight_convert.h.
#include "models/llm_weight_convert.h"

#include <cstring>

#include "base/thread_pool.h"
#include "kernels/cpu/quant.h"
#include "kernels/ref/quant.h"

namespace lmaas::models {

namespace k = lmaas::kernels;

std::vector<int64_t> halves_to_adjacent_rows(int64_t n_heads, int64_t head_dim) {
  std::vector<int64_t> rows(static_cast<size_t>(n_heads * head_dim));
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      rows[static_cast<size_t>(h * head_dim + 2 * i)] = h * head_dim + i;
      rows[static_cast<size_t>(h * head_dim + 2 * i + 1)] = h * head_dim + half + i;
    }
  }
  return rows;
}

std::vector<int64_t> adjacent_to_halves_rows(int64_t n_heads, int64_t head_dim) {
  const std::vector<int64_t> forward = halves_to_adjacent_rows(n_heads, head_dim);
  std::vector<int64_t> rows(forward.size());
  for (size_t r = 0; r < forward.size(); ++r) rows[static_cast<size_t>(forward[r])] = static_cast<int64_t>(r);
  return rows;
}

std::span<const uint8_t> convert_matrix(const WeightMatrix& m, k::WeightType type, ConvertedBuffers& buffers,
                                        const std::vector<int64_t>* source_rows) {
  const int64_t src_row = k::row_bytes(m.type, m.n_cols);
  const int64_t dst_row = k::row_bytes(type, m.n_cols);
  const auto* src = static_cast<const uint8_t*>(m.data);
  if (m.type == type && source_rows == nullptr) return {src, static_cast<size_t>(src_row * m.n_rows)};
  std::vector<uint8_t>& out = buffers.emplace_back(static_cast<size_t>(dst_row * m.n_rows));
  parallel_for(m.n_rows, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(m.n_cols));
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* from = src + (source_rows ? (*source_rows)[static_cast<size_t>(r)] : r) * src_row;
      if (m.type == type) {
        std::memcpy(out.data() + r * dst_row, from, static_cast<size_t>(dst_row));
        continue;
      }
      k::cpu::dequantize_row(m.type, from, row.data(), m.n_cols);
      k::ref::quantize_row(type, row.data(), out.data() + r * dst_row, m.n_cols);
    }
  });
  return out;
}

}  // namespace lmaas::models
