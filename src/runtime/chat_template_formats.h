// Renderers of the chat formats added after Llama 3 / Mistral v0.2 (used by chat_template.cpp only):
// Llama 3.1/3.2, Qwen2/Qwen2.5, Mistral v0.3 and its Tekken variant, Phi-4. Each assumes a conversation that
// chat_template.cpp has already validated for its format and ends where the assistant's reply begins.
// Pure functions, thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "runtime/chat_template.h"

namespace lmaas::runtime::chat_formats {

// Llama 3.1 / 3.2: BOS, a system turn that always opens with the knowledge/date header (the templates'
// default date_string "26 Jul 2024"), contents trimmed; tool results as "ipython" turns holding the content
// as a JSON string (the templates' tojson of a string).
std::string render_llama31(std::span<const ChatMessage> messages, std::string_view bos);

// Qwen2 / Qwen2.5: ChatML with `default_system` as the system turn when the first message is not a system
// one. With `tool_response_blocks` (Qwen2.5) consecutive tool messages share one user turn, each as
// "\n<tool_response>\n…\n</tool_response>"; without it (Qwen2) a tool message is a "tool" turn.
std::string render_qwen(std::span<const ChatMessage> messages, std::string_view default_system,
                        bool tool_response_blocks);

// Mistral v0.3 (`tekken` false): "[INST] user[/INST]", assistant turns as " " + trimmed content + EOS.
// Mistral Nemo / Tekken (`tekken` true): "[INST]user[/INST]", assistant turns as content + EOS.
// A leading system message is joined to the last user message with a blank line.
std::string render_mistral_v3(std::span<const ChatMessage> messages, std::string_view bos,
                              std::string_view eos, bool tekken);

// Phi-4: <|im_start|>role<|im_sep|>content<|im_end|> without newlines; no BOS.
std::string render_phi4(std::span<const ChatMessage> messages);

// `s` as a JSON string literal the way Python's json.dumps(s, ensure_ascii=False) writes it.
std::string json_quote(std::string_view s);

}  // namespace lmaas::runtime::chat_formats
