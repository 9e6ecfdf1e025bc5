// Chat templates: turns the messages of a chat request into the prompt text a model was tuned on.
// A GGUF model may carry `tokenizer.chat_template` (a Jinja2 template, as in Hugging Face's
// tokenizer_config.json). lmaas does not run Jinja: detect_chat_format() recognises the common formats by
// distinctive substrings of the template, and apply_chat_template() renders each format in C++, matching
// what the published template renders with add_generation_prompt = true (checked against Jinja2 renders of
// the real templates: tests/tools/gen_chat_template_fixtures.py).
//
// Formats and the templates they follow (roles are system, user, assistant, tool):
//   chatml    <|im_start|>role\n…<|im_end|>\n            OpenHermes-2.5, Qwen (without Qwen's default system)
//   llama2    <s>[INST] <<SYS>>\n…\n<</SYS>>\n\n… [/INST]  Llama-2-chat (contents stripped)
//   llama3    <|start_header_id|>role<|end_header_id|>…      Llama-3-Instruct (contents trimmed)
//   mistral   <s>[INST] … [/INST]…</s>                      Mistral-7B-Instruct v0.2, Mixtral v0.1
//   phi3      <s><|user|>\n…<|end|>\n<|assistant|>\n         Phi-3-mini / Phi-3.5-mini
//   zephyr    <|user|>\n…</s>\n<|assistant|>\n               Zephyr-7B-beta
//   gemma     <bos><start_of_turn>user\n…<end_of_turn>\n     Gemma 2 / Gemma 3 (contents trimmed)
//   vicuna    USER: …\nASSISTANT:                            Vicuna 1.1
//   deepseek  ### Instruction:\n…\n### Response:\n           DeepSeek-Coder-Instruct (its default system)
//   llama3.1  llama3 with a system turn that always starts "Cutting Knowledge Date: December 2023\nToday Date:
//             26 Jul 2024\n\n" (the templates' default date_string; the clock is never read); tool results
//             as "ipython" turns holding the content as a JSON string      Llama-3.1/3.2-Instruct
//   qwen2     chatml, plus the system turn "You are a helpful assistant." when the first message is not a
//             system message                                             Qwen2-Instruct
//   qwen2.5   chatml with the default system "You are Qwen, created by Alibaba Cloud. You are a helpful
//             assistant."; consecutive tool results share one user turn as <tool_response> blocks
//                                                                        Qwen2.5-Instruct
//   mistral-v3  <s>[INST] …[/INST] …</s>; the system message joins the LAST user message ("system\n\nuser");
//             assistant turns " " + trimmed + EOS                        Mistral-7B-Instruct v0.3
//   mistral-v3-tekken  <s>[INST]…[/INST]…</s> without spaces; assistant turns as given
//                                                                        Mistral-Nemo-Instruct-2407
//   phi4      <|im_start|>role<|im_sep|>…<|im_end|> (no newlines, no BOS) Phi-4
//   fallback  ChatML: for no template or one not recognised (llama.cpp's choice too)
// "strip"/"trim" remove Python's whitespace (str.strip(): ASCII whitespace, U+0085, U+00A0, U+1680,
// U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) from both ends, as Jinja's trim filter does.
//
// Rules every format shares:
// - The text ends where the assistant's reply begins (add_generation_prompt = true).
// - At least one message; every role is system, user, assistant or tool.
// - The last message must not be from the assistant: lmaas renders the prompt of a new assistant turn and
//   does not continue a finished one (Llama 2, Mistral and Phi-3-mini's templates cannot even express a
//   new assistant turn after one). Error kInvalidArgument.
// - tool messages only where the template writes them (chatml, llama3, llama3.1, qwen2, qwen2.5, fallback).
// - Formats without a system role fold the first message, when it is a system message, into the first
//   user turn: llama2 as <<SYS>> block (as its template), gemma as "system\n\nuser" (as Gemma 3's template;
//   Gemma 2's template refuses system messages), mistral as "system\n\nuser" (its original template
//   refuses them; later Mistral templates join them with a blank line); mistral-v3 and mistral-v3-tekken
//   fold it into the last user turn instead. These five formats also require
//   user and assistant turns to alternate, starting with user, as their templates do; a system message
//   elsewhere is an error.
// Validation errors name the message index and field, e.g. "messages[2].role: …".
//
// BOS: llama2, llama3, llama3.1, mistral, mistral-v3(-tekken), phi3, gemma and deepseek start with the BOS text (as their templates do;
// Phi-3.5's template omits it and relies on the tokenizer, which gives the same tokens). The caller
// tokenizes the result with parse_special = true, and with add_special = false when the text already
// starts with the BOS text (as llama.cpp does), so BOS is never doubled.
// vicuna and zephyr end assistant turns with the EOS text given (Vicuna's template writes "</s>"), llama2
// and mistral too. phi3 drops a system message with empty content, as Phi-3.5's template does.
// All functions are pure and thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lmaas::runtime {

struct ChatMessage {
  std::string role;  // system | user | assistant | tool
  std::string content;
};

enum class ChatFormat {
  kChatML,
  kLlama2,
  kLlama3,
  kMistral,
  kPhi3,
  kZephyr,
  kGemma,
  kVicuna,
  kDeepSeek,
  kLlama31,
  kQwen2,
  kQwen25,
  kMistralV3,
  kMistralV3Tekken,
  kPhi4,
  kFallback
};

// The format a template source renders, found by its distinctive substrings (checked in this order):
// "<|im_start|>" chatml; "<|start_header_id|>" and "<|end_header_id|>" llama3; "[INST]" with "<<SYS>>"
// llama2, without mistral; "<|assistant|>" and "<|end|>" phi3; "<|user|>" zephyr; "<start_of_turn>" gemma;
// "### Instruction:" and "<|EOT|>" deepseek; "USER: " and "ASSISTANT: " vicuna. Refinements: "<|im_start|>"
// with "<|im_sep|>" phi4; chatml with Qwen2.5's default system text qwen2.5, with "You are a helpful
// assistant.<|im_end|>" qwen2; llama3 with "Cutting Knowledge Date:" llama3.1; "[INST]" without "<<SYS>>"
// but with "loop.last and system_message is defined" mistral-v3 when it writes "[INST] " (quoted, with the
// space), else mistral-v3-tekken. An empty or unrecognised template gives kFallback.
ChatFormat detect_chat_format(std::string_view template_source);
// By name: chatml, llama2, llama3, mistral, phi3, zephyr, gemma, vicuna, deepseek, llama3.1, qwen2, qwen2.5,
// mistral-v3, mistral-v3-tekken, phi4, fallback.
Result<ChatFormat> chat_format_from_name(std::string_view name);
std::string_view chat_format_name(ChatFormat format);

// Renders `messages` as `format` does, ending where the assistant's reply begins. See the rules above.
Result<std::string> apply_chat_template(ChatFormat format, std::span<const ChatMessage> messages,
                                        std::string_view bos_text, std::string_view eos_text);

// The texts that end an assistant turn in `format` ("<|im_end|>", "<|eot_id|>", "<|end|>", "</s>", …): the
// server adds them to a request's stop sequences when the tokenizer does not already treat them as end
// tokens. "</s>" stands for the EOS text of the Llama-2-era tokenizers these formats come with.
std::vector<std::string> chat_stop_strings(ChatFormat format);

// `s` without Python-whitespace (see above) at either end. Works on bytes: never fails on invalid UTF-8.
std::string_view strip_python_whitespace(std::string_view s);

}  // namespace lmaas::runtime
