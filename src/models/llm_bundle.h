// A generator as an lmaas model directory (the repository's version directories hold these):
//   config.json  {"format_version": 1, "task": "generation", "file": "model.gguf" | "x.bin",
//                 "tokenizer"?: "tok.bin", "chat_template"?: "chatml" | …, "context"?: n, "max_running"?: n}
//   model.gguf   (or the llama2.c checkpoint and its tokenizer that config.json names)
// A directory with no config.json but exactly one .gguf file is read as a bundle of that file, and a Hugging Face
// checkpoint directory (llm_hf_checkpoint.h) as a bundle of itself.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "models/llama_model.h"
#include "models/llm_writer.h"
#include "text/llm_vocab.h"

namespace lmaas::models {

struct LlmBundle {
  std::string file, tokenizer;  // full paths
  std::string chat_template;    // a format name (runtime/chat_template.h), "" = from the model file
  int64_t context = 0, max_running = 0;
};

// The bundle in `dir`: nullopt when the directory holds another kind of model (a config.json whose task is
// not "generation", or neither config.json nor a .gguf file); an error naming the field for a malformed one.
Result<std::optional<LlmBundle>> read_llm_bundle(const std::string& dir);

// Writes `model` with `vocab` as a bundle directory (model.gguf + config.json), atomically.
Status write_llm_bundle(const std::string& dir, const LlamaModel& model, const text::LlmVocab& vocab,
                        const LlmWriteOptions& options);

}  // namespace lmaas::models
