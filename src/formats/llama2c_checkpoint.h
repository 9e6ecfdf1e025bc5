// llama2.c checkpoints (`.bin`, as written by llama2.c's export.py): the float32 formats.
//   version 0 ("legacy"): 7 × i32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
//     seq_len; a negative vocab_size means a separate output matrix), then float32 weights in the order
//     token embedding, attention norms, wq, wk, wv, wo (all layers each), ffn norms, w1, w2, w3, final norm,
//     two unused RoPE tables (seq_len · head_size / 2 each), and the output matrix when not shared.
//   version 1: a 256-byte header (u32 magic "ak42" = 0x616b3432, i32 version 1, the 7 × i32 above with a
//     positive vocab_size, u8 shared_classifier, zero padding), then float32 weights: attention norms, ffn
//     norms, final norm, token embedding, wq, wk, wv, wo, w1, w2, w3 (all layers each), output when not shared.
// Version 2 (int8 groups with float scales) is recognised and refused (kUnimplemented).
// The tensors are views into the caller's bytes, named as in GGUF llama files (token_embd.weight,
// blk.N.attn_q.weight, …) with rows = output features, so one loader builds the model from either format.
// Parsing validates the header (positive sizes, heads dividing dim, sizes that cannot overflow) and the
// byte count (exact for version 0, at least for version 1) and never reads out of bounds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace lmaas {

struct Llama2cHeader {
  int32_t version = 0;
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
};

// A float32 matrix [n_rows, n_cols] (a vector: n_rows = 1) inside the checkpoint's bytes.
struct Llama2cTensor {
  std::string name;
  int64_t n_rows = 0, n_cols = 0;
  const float* data = nullptr;
};

struct Llama2cCheckpoint {
  Llama2cHeader header;
  std::vector<Llama2cTensor> tensors;  // GGUF names; "output.weight" only when not shared
};

// True when `bytes` start like a llama2.c checkpoint (the v1/v2 magic, or a plausible v0 header).
bool looks_like_llama2c(std::span<const uint8_t> bytes);

// Parses `bytes` (which must stay alive and 4-byte aligned while the views are used); `source_name`
// appears in every error message.
Result<Llama2cCheckpoint> parse_llama2c_checkpoint(std::span<const uint8_t> bytes, const std::string& source_name);

}  // namespace lmaas
