// llama2.c's tokenizer.bin, read into the LlmVocab form the SPM tokenizer runs.
// Layout (little-endian): i32 max_token_length, then per token: f32 score, i32 length, `length` bytes.
// The file does not hold the number of tokens: llama2.c takes it from the model header, and so does the
// caller here (vocab_size). The file must hold exactly that many tokens.
// llama2.c's exporter wrote SentencePiece pieces with "▁" replaced by " ", <s> and </s> as "\n<s>\n" and
// "\n</s>\n", byte pieces as "<0xXX>". The reader undoes that: spaces become "▁" again, ids 0/1/2 are
// unk (type unknown) / <s> (control, bos) / </s> (control, eos), "<0xXX>" pieces have type byte, the
// rest are normal; add_bos and add_space_prefix are on (llama2.c's encoder adds BOS and a dummy prefix).
// Errors: kNotFound/kUnavailable from reading; kInvalidArgument for vocab_size < 1; kDataLoss for a
// file that does not match, naming the file, the token index and byte offset, the value and what was
// expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "text/llm_vocab.h"

namespace lmaas::text {

Result<LlmVocab> read_llama2c_tokenizer(const std::string& path, int32_t vocab_size);
// The same over the file's bytes; `source` names it in messages.
Result<LlmVocab> parse_llama2c_tokenizer(std::string_view bytes, int32_t vocab_size,
                                         const std::string& source);

}  // namespace lmaas::text
