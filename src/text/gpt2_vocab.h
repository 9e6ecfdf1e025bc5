// GPT-2's tokenizer files (encoder.json: token → id; vocab.bpe: "#version" line, then one merge
// "left right" per line, highest priority first), read into a byte-level BPE LlmVocab with the "gpt-2"
// pre-tokenizer. "<|endoftext|>" is a control token and bos/eos when present; the rest are normal.
// Errors: kNotFound/kUnavailable from reading; kDataLoss naming the file and what is wrong: JSON that
// does not parse or is not an object of non-negative integer ids, ids that are not exactly 0..n-1 once
// each, a merge line without "left right".
#pragma once

#include <string>

#include "base/status.h"
#include "text/llm_vocab.h"

namespace lmaas::text {

Result<LlmVocab> read_gpt2_vocab(const std::string& encoder_json_path, const std::string& vocab_bpe_path);

}  // namespace lmaas::text
