// Weight matrices rewritten for another file: converted to another weight type row by row (dequantize to
// float32, quantize again — llama.cpp's rules, so Q8_0/Q4_0 bytes from float32 match its quantizer), and the
// query/key rows reordered between the two RoPE pairings (kernels/ref/llm.h RopeStyle): GGUF's adjacent
// pairs (2i, 2i+1) and Hugging Face's halves (i, i + head_dim/2).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/quant_types.h"
#include "models/llama_model.h"

namespace lmaas::models {

// Bytes a converted matrix views until the file is written (the inner vectors stay put when this grows).
using ConvertedBuffers = std::vector<std::vector<uint8_t>>;

// For each output row, the source row that turns a query/key matrix of n_heads heads from halves pairing
// into adjacent pairing, and the inverse.
std::vector<int64_t> halves_to_adjacent_rows(int64_t n_heads, int64_t head_dim);
std::vector<int64_t> adjacent_to_halves_rows(int64_t n_heads, int64_t head_dim);

// `m` as `type` bytes, row by row in parallel; output row r is source row source_rows[r] when given. Views
// m's own bytes when nothing changes, else a new entry of `buffers`.
std::span<const uint8_t> convert_matrix(const WeightMatrix& m, kernels::WeightType type, ConvertedBuffers& buffers,
                                        const std::vector<int64_t>* source_rows = nullptr);

}  // namespace lmaas::models
