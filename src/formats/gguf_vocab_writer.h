// add_vocab_to_gguf: writes an LlmVocab as GGUF `tokenizer.ggml.*` metadata — the keys vocab_from_gguf
// (gguf_vocab.h) and llama.cpp read: model, pre, tokens, scores, token_type, merges, the special ids
// that are set, add_bos_token / add_eos_token / add_sep_token / add_space_prefix.
#pragma once

#include "formats/gguf_writer.h"
#include "text/llm_vocab.h"

namespace lmaas {

void add_vocab_to_gguf(GgufWriter& writer, const text::LlmVocab& vocab);

}  // namespace lmaas
