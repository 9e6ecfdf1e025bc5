// Renderers of the newer chat formats: see chat_template_formats.h.
#include "runtime/chat_template_formats.h"

#include <fmt/format.h>

namespace lmaas::runtime::chat_formats {
namespace {

constexpr std::string_view kLlama31DateHeader =
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";

std::string llama3_turn(std::string_view role, std::string_view content) {
  return fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>", role, content);
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string render_llama31(std::span<const ChatMessage> messages, std::string_view bos) {
  size_t first = 0;
  std::string_view system;
  if (messages[0].role == "system") {
    system = strip_python_whitespace(messages[0].content);
    first = 1;
  }
  std::string out(bos);
  out += llama3_turn("system", fmt::format("{}{}", kLlama31DateHeader, system));
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    out += m.role == "tool" ? llama3_turn("ipython", json_quote(m.content))
                            : llama3_turn(m.role, strip_python_whitespace(m.content));
  }
  return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

std::string render_qwen(std::span<const ChatMessage> messages, std::string_view default_system,
                        bool tool_response_blocks) {
  std::string out;
  if (messages[0].role != "system") out += fmt::format("<|im_start|>system\n{}<|im_end|>\n", default_system);
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role != "tool" || !tool_response_blocks) {
      out += fmt::format("<|im_start|>{}\n{}<|im_end|>\n", m.role, m.content);
      continue;
    }
    if (i == 0 || messages[i - 1].role != "tool") out += "<|im_start|>user";
    out += fmt::format("\n<tool_response>\n{}\n</tool_response>", m.content);
    if (i + 1 == messages.size() || messages[i + 1].role != "tool") out += "<|im_end|>\n";
  }
  return out + "<|im_start|>assistant\n";
}

std::string render_mistral_v3(std::span<const ChatMessage> messages, std::string_view bos,
                              std::string_view eos, bool tekken) {
  const bool has_system = messages[0].role == "system";
  const std::string_view inst = tekken ? "[INST]" : "[INST] ";
  std::string out(bos);
  for (size_t i = has_system ? 1 : 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user") {
      const bool last = i + 1 == messages.size();
      const std::string prefix = has_system && last ? messages[0].content + "\n\n" : "";
      out += fmt::format("{}{}{}[/INST]", inst, prefix, m.content);
    } else if (tekken) {
      out += fmt::format("{}{}", m.content, eos);
    } else {
      out += fmt::format(" {}{}", strip_python_whitespace(m.content), eos);
    }
  }
  return out;
}

std::string render_phi4(std::span<const ChatMessage> messages) {
  std::string out;
  for (const ChatMessage& m : messages)
    out += fmt::format("<|im_start|>{}<|im_sep|>{}<|im_end|>", m.role, m.content);
  return out + "<|im_start|>assistant<|im_sep|>";
}

}  // namespace lmaas::runtime::chat_formats
