// vocab_from_gguf: the tokenizer a GGUF model carries (`tokenizer.ggml.*` metadata), as an LlmVocab.
// Keys: model ("llama" | "gpt2" | "bert", required), pre (default "default"), tokens (string array,
// required), scores (f32/f64, or i32 as llama.cpp accepts), token_type (integers), merges (strings;
// required for gpt2), bos/eos/eot/eom/unknown/seperator (sic)/padding/cls/mask _token_id,
// add_bos_token / add_eos_token / add_sep_token / add_space_prefix.
// Defaults for missing keys are llama.cpp's: llama bos 1, eos 2, unk 0, add_bos, add_space_prefix;
// bert bos = cls 101, unk 100, sep 102, pad 0, mask 103, add_bos, add_sep; gpt2 nothing, add_bos only for
// llama3-style pre-tokenizers. A default id the vocab is too small for is left absent.
// Errors: the GgufFile getters' (kNotFound for a missing required key, kDataLoss for a wrong type), and
// kInvalidArgument from LlmVocab::validate naming the file (arrays of other lengths than tokens, special
// ids out of range, an unknown model name, ...).
#pragma once

#include "base/status.h"
#include "formats/gguf.h"
#include "text/llm_vocab.h"

namespace lmaas {

Result<text::LlmVocab> vocab_from_gguf(const GgufFile& file);

}  // namespace lmaas
