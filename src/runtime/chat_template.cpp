// Chat templates: see chat_template.h. Validation runs first (one pass, first error wins); each renderer
// then assumes a valid conversation for its format.
#include "runtime/chat_template.h"

#include "runtime/chat_template_formats.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace lmaas::runtime {
namespace {

struct FormatInfo {
  ChatFormat format;
  std::string_view name;
  bool allows_tool;  // the template writes any role name as given
  bool alternates;   // optional leading system, then user/assistant alternating from user
};

constexpr std::array<FormatInfo, 16> kFormats = {{
    {ChatFormat::kChatML, "chatml", true, false},
    {ChatFormat::kLlama2, "llama2", false, true},
    {ChatFormat::kLlama3, "llama3", true, false},
    {ChatFormat::kMistral, "mistral", false, true},
    {ChatFormat::kPhi3, "phi3", false, false},
    {ChatFormat::kZephyr, "zephyr", false, false},
    {ChatFormat::kGemma, "gemma", false, true},
    {ChatFormat::kVicuna, "vicuna", false, false},
    {ChatFormat::kDeepSeek, "deepseek", false, false},
    {ChatFormat::kLlama31, "llama3.1", true, false},
    {ChatFormat::kQwen2, "qwen2", true, false},
    {ChatFormat::kQwen25, "qwen2.5", true, false},
    {ChatFormat::kMistralV3, "mistral-v3", false, true},
    {ChatFormat::kMistralV3Tekken, "mistral-v3-tekken", false, true},
    {ChatFormat::kPhi4, "phi4", false, false},
    {ChatFormat::kFallback, "fallback", true, false},
}};

const FormatInfo& info(ChatFormat format) {
  for (const FormatInfo& f : kFormats) {
    if (f.format == format) return f;
  }
  return kFormats.back();
}

// DeepSeek-Coder-Instruct's template writes this when the conversation has no system message.
constexpr std::string_view kDeepSeekDefaultSystem =
    "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, "
    "and you only answer questions related to computer science. For politically sensitive questions, "
    "security "
    "and privacy issues, and other non-computer science questions, you will refuse to answer\n";

// The default system messages of Qwen2-Instruct's and Qwen2.5-Instruct's templates.
constexpr std::string_view kQwen2DefaultSystem = "You are a helpful assistant.";
constexpr std::string_view kQwen25DefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// UTF-8 encodings of the code points Python's str.isspace() accepts (besides ASCII ones).
constexpr std::array<std::string_view, 18> kWideSpaces = {
    "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82",
    "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88",
    "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
};
constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";

bool is_ascii_space(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x09 && u <= 0x0D) || (u >= 0x1C && u <= 0x20);
}

// Length of the whitespace character `s` starts (front) or ends (back) with; 0 when none.
size_t space_length(std::string_view s, bool front) {
  if (s.empty()) return 0;
  if (is_ascii_space(front ? s.front() : s.back())) return 1;
  auto matches = [&](std::string_view w) { return front ? s.starts_with(w) : s.ends_with(w); };
  for (std::string_view w : kWideSpaces) {
    if (matches(w)) return w.size();
  }
  return matches(kIdeographicSpace) ? kIdeographicSpace.size() : 0;
}

bool is_role(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant" || role == "tool";
}

Status invalid(size_t index, std::string_view field, const std::string& what) {
  return Status(Code::kInvalidArgument, fmt::format("messages[{}].{}: {}", index, field, what));
}

// The alternation rule of the folding formats (llama2, mistral, mistral-v3, gemma): [system] user assistant ….
Status validate_alternation(const FormatInfo& f, std::span<const ChatMessage> messages) {
  const size_t first = messages[0].role == "system" ? 1 : 0;
  if (first == messages.size()) {
    return invalid(0, "role",
                   fmt::format("format '{}' folds the system message into a user turn, "
                               "so a user message must follow it",
                               f.name));
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role == "system") {
      return invalid(i, "role",
                     fmt::format("'system' must be the first message in format '{}' (it is folded "
                                 "into a user turn)",
                                 f.name));
    }
    const char* expected = (i - first) % 2 == 0 ? "user" : "assistant";
    if (role != expected) {
      return invalid(i, "role",
                     fmt::format("'{}', expected '{}': format '{}' needs user and assistant turns "
                                 "to alternate, starting with user",
                                 role, expected, f.name));
    }
  }
  return Status::ok();
}

std::string tool_format_names() {
  std::string names;
  for (const FormatInfo& f : kFormats) {
    if (!f.allows_tool) continue;
    names += names.empty() ? "" : ", ";
    names += f.name;
  }
  return names;
}

Status validate(ChatFormat format, std::span<const ChatMessage> messages) {
  const FormatInfo& f = info(format);
  if (messages.empty()) {
    return Status(Code::kInvalidArgument, "messages: empty; expected at least one message");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (!is_role(role)) {
      return invalid(i, "role",
                     fmt::format("'{}' is not a chat role; expected system, user, assistant or tool", role));
    }
    if (role == "tool" && !f.allows_tool) {
      return invalid(i, "role",
                     fmt::format("'tool' cannot be expressed in format '{}'; tool messages need one of {}",
                                 f.name, tool_format_names()));
    }
  }
  if (messages.back().role == "assistant") {
    return invalid(
        messages.size() - 1, "role",
        "the conversation ends with an 'assistant' message; expected it to end with a user or tool "
        "message (the prompt is for a new assistant turn; continuing a finished one is not supported)");
  }
  return f.alternates ? validate_alternation(f, messages) : Status::ok();
}

// Splits off a leading system message: returns its content (or nullptr) and the index of the first turn.
std::pair<const std::string*, size_t> leading_system(std::span<const ChatMessage> messages) {
  if (messages[0].role == "system") return {&messages[0].content, 1};
  return {nullptr, 0};
}

std::string render_chatml(std::span<const ChatMessage> messages) {
  std::string out;
  for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  return out + "<|im_start|>assistant\n";
}

std::string render_llama2(std::span<const ChatMessage> messages, std::string_view bos, std::string_view eos) {
  auto [system, first] = leading_system(messages);
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user") {
      std::string content = m.content;
      if (system != nullptr && i == first) content = "<<SYS>>\n" + *system + "\n<</SYS>>\n\n" + content;
      out += fmt::format("{}[INST] {} [/INST]", bos, strip_python_whitespace(content));
    } else {
      out += fmt::format(" {} {}", strip_python_whitespace(m.content), eos);
    }
  }
  return out;
}

std::string render_llama3(std::span<const ChatMessage> messages, std::string_view bos) {
  std::string out(bos);
  for (const ChatMessage& m : messages) {
    out += fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>", m.role,
                       strip_python_whitespace(m.content));
  }
  return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

std::string render_mistral(std::span<const ChatMessage> messages, std::string_view bos,
                           std::string_view eos) {
  auto [system, first] = leading_system(messages);
  std::string out(bos);
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user") {
      const std::string prefix = system != nullptr && i == first ? *system + "\n\n" : "";
      out += "[INST] " + prefix + m.content + " [/INST]";
    } else {
      out += m.content;
      out += eos;
    }
  }
  return out;
}

std::string render_phi3(std::span<const ChatMessage> messages, std::string_view bos) {
  std::string out(bos);
  for (const ChatMessage& m : messages) {
    if (m.role == "system" && m.content.empty())
      continue;  // as Phi-3.5's template: an empty system is dropped
    out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
  }
  return out + "<|assistant|>\n";
}

std::string render_zephyr(std::span<const ChatMessage> messages, std::string_view eos) {
  std::string out;
  for (const ChatMessage& m : messages) out += fmt::format("<|{}|>\n{}{}\n", m.role, m.content, eos);
  return out + "<|assistant|>\n";
}

std::string render_gemma(std::span<const ChatMessage> messages, std::string_view bos) {
  auto [system, first] = leading_system(messages);
  std::string out(bos);
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    out += "<start_of_turn>";
    out += m.role == "assistant" ? "model" : "user";
    out += "\n";
    if (system != nullptr && i == first) out += *system + "\n\n";
    out += strip_python_whitespace(m.content);
    out += "<end_of_turn>\n";
  }
  return out + "<start_of_turn>model\n";
}

std::string render_vicuna(std::span<const ChatMessage> messages, std::string_view eos) {
  std::string out;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += m.content + "\n\n";
    } else if (m.role == "user") {
      out += "USER: " + m.content + "\n";
    } else {
      out += fmt::format("ASSISTANT: {}{}\n", m.content, eos);
    }
  }
  return out + "ASSISTANT:";
}

std::string render_deepseek(std::span<const ChatMessage> messages, std::string_view bos) {
  std::string out(bos);
  bool has_system = false;
  for (const ChatMessage& m : messages) has_system = has_system || m.role == "system";
  if (!has_system) out += kDeepSeekDefaultSystem;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += m.content;
    } else if (m.role == "user") {
      out += "### Instruction:\n" + m.content + "\n";
    } else {
      out += "### Response:\n" + m.content + "\n<|EOT|>\n";
    }
  }
  return out + "### Response:\n";
}

}  // namespace

std::string_view strip_python_whitespace(std::string_view s) {
  while (size_t n = space_length(s, true)) s.remove_prefix(n);
  while (size_t n = space_length(s, false)) s.remove_suffix(n);
  return s;
}

ChatFormat detect_chat_format(std::string_view source) {
  auto has = [&](std::string_view needle) { return source.find(needle) != std::string_view::npos; };
  if (has("<|im_start|>") && has("<|im_sep|>")) return ChatFormat::kPhi4;
  if (has("<|im_start|>")) {
    if (has(kQwen25DefaultSystem)) return ChatFormat::kQwen25;
    if (has("You are a helpful assistant.<|im_end|>")) return ChatFormat::kQwen2;
    return ChatFormat::kChatML;
  }
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) {
    return has("Cutting Knowledge Date:") ? ChatFormat::kLlama31 : ChatFormat::kLlama3;
  }
  if (has("[INST]")) {
    if (has("<<SYS>>")) return ChatFormat::kLlama2;
    if (!has("loop.last and system_message is defined")) return ChatFormat::kMistral;
    return has("\"[INST] \"") ? ChatFormat::kMistralV3 : ChatFormat::kMistralV3Tekken;
  }
  if (has("<|assistant|>") && has("<|end|>")) return ChatFormat::kPhi3;
  if (has("<|user|>")) return ChatFormat::kZephyr;
  if (has("<start_of_turn>")) return ChatFormat::kGemma;
  if (has("### Instruction:") && has("<|EOT|>")) return ChatFormat::kDeepSeek;
  if (has("USER: ") && has("ASSISTANT: ")) return ChatFormat::kVicuna;
  return ChatFormat::kFallback;
}

Result<ChatFormat> chat_format_from_name(std::string_view name) {
  std::string known;
  for (const FormatInfo& f : kFormats) {
    if (f.name == name) return f.format;
    known += known.empty() ? "" : ", ";
    known += f.name;
  }
  return Status(Code::kInvalidArgument,
                fmt::format("chat template name '{}' is not known; expected one of {}", name, known));
}

std::string_view chat_format_name(ChatFormat format) { return info(format).name; }

Result<std::string> apply_chat_template(ChatFormat format, std::span<const ChatMessage> messages,
                                        std::string_view bos_text, std::string_view eos_text) {
  LMAAS_RETURN_IF_ERROR(validate(format, messages));
  switch (format) {
    case ChatFormat::kChatML:
    case ChatFormat::kFallback:
      return render_chatml(messages);
    case ChatFormat::kLlama2:
      return render_llama2(messages, bos_text, eos_text);
    case ChatFormat::kLlama3:
      return render_llama3(messages, bos_text);
    case ChatFormat::kMistral:
      return render_mistral(messages, bos_text, eos_text);
    case ChatFormat::kPhi3:
      return render_phi3(messages, bos_text);
    case ChatFormat::kZephyr:
      return render_zephyr(messages, eos_text);
    case ChatFormat::kGemma:
      return render_gemma(messages, bos_text);
    case ChatFormat::kVicuna:
      return render_vicuna(messages, eos_text);
    case ChatFormat::kDeepSeek:
      return render_deepseek(messages, bos_text);
    case ChatFormat::kLlama31:
      return chat_formats::render_llama31(messages, bos_text);
    case ChatFormat::kQwen2:
      return chat_formats::render_qwen(messages, kQwen2DefaultSystem, false);
    case ChatFormat::kQwen25:
      return chat_formats::render_qwen(messages, kQwen25DefaultSystem, true);
    case ChatFormat::kMistralV3:
      return chat_formats::render_mistral_v3(messages, bos_text, eos_text, false);
    case ChatFormat::kMistralV3Tekken:
      return chat_formats::render_mistral_v3(messages, bos_text, eos_text, true);
    case ChatFormat::kPhi4:
      return chat_formats::render_phi4(messages);
  }
  return Status(Code::kInvalidArgument,
                fmt::format("chat format {} is not a ChatFormat", static_cast<int>(format)));
}

std::vector<std::string> chat_stop_strings(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatML:
    case ChatFormat::kQwen2:
    case ChatFormat::kQwen25:
    case ChatFormat::kPhi4:
    case ChatFormat::kFallback:
      return {"<|im_end|>"};
    case ChatFormat::kLlama3:
    case ChatFormat::kLlama31:
      return {"<|eot_id|>"};
    case ChatFormat::kPhi3:
      return {"<|end|>"};
    case ChatFormat::kGemma:
      return {"<end_of_turn>"};
    case ChatFormat::kDeepSeek:
      return {"<|EOT|>"};
    case ChatFormat::kLlama2:
    case ChatFormat::kMistral:
    case ChatFormat::kMistralV3:
    case ChatFormat::kMistralV3Tekken:
    case ChatFormat::kZephyr:
    case ChatFormat::kVicuna:
      return {"</s>"};
  }
  return {};
}

}  // namespace lmaas::runtime
