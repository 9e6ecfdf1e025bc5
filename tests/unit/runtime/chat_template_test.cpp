// Chat templates against Jinja2 renders of the published templates (fixture written by
// tests/tools/gen_chat_template_fixtures.py): every template is detected as its format and every
// conversation renders byte for byte as Jinja2 rendered it. Names, fallback, stop strings and the
// validation errors are checked against hand-written expectations.
#include "runtime/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace lmaas::runtime {
namespace {

const std::string kFixture = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/chat_templates.json";

nlohmann::json load_fixture() {
  std::ifstream in(kFixture);
  EXPECT_TRUE(in.good()) << "missing " << kFixture;
  return nlohmann::json::parse(in);
}

ChatFormat format_named(const std::string& name) {
  Result<ChatFormat> format = chat_format_from_name(name);
  EXPECT_TRUE(format.is_ok()) << format.status().to_string();
  return format.is_ok() ? format.value() : ChatFormat::kFallback;
}

std::vector<ChatMessage> messages_of(const nlohmann::json& j) {
  std::vector<ChatMessage> out;
  for (const auto& m : j)
    out.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  return out;
}

Status render_error(ChatFormat format, const std::vector<ChatMessage>& messages) {
  Result<std::string> text = apply_chat_template(format, messages, "<s>", "</s>");
  return text.is_ok() ? Status::ok() : text.status();
}

void expect_invalid(ChatFormat format, const std::vector<ChatMessage>& messages, const std::string& needle) {
  const Status status = render_error(format, messages);
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << chat_format_name(format) << ": " << status.to_string();
  EXPECT_NE(status.message().find(needle), std::string::npos)
      << chat_format_name(format) << ": '" << status.message() << "' lacks '" << needle << "'";
}

TEST(ChatTemplate, PublishedTemplatesAreDetected) {
  const nlohmann::json fixture = load_fixture();
  std::set<std::string> formats;
  for (const auto& t : fixture.at("templates")) {
    const std::string format = t.at("format").get<std::string>();
    formats.insert(format);
    EXPECT_EQ(chat_format_name(detect_chat_format(t.at("source").get<std::string>())), format)
        << t.at("id").get<std::string>() << " (" << t.at("model").get<std::string>() << ")";
  }
  // Every format but the fallback has a published reference.
  EXPECT_EQ(formats.size(), 15u);
}

TEST(ChatTemplate, RendersAsJinjaRendersThePublishedTemplates) {
  const nlohmann::json fixture = load_fixture();
  ASSERT_GE(fixture.at("cases").size(), 100u);
  for (const auto& c : fixture.at("cases")) {
    const std::string where =
        c.at("template").get<std::string>() + " / " + c.at("conversation").get<std::string>();
    const std::vector<ChatMessage> messages = messages_of(c.at("messages"));
    Result<std::string> text =
        apply_chat_template(format_named(c.at("format").get<std::string>()), messages,
                            c.at("bos").get<std::string>(), c.at("eos").get<std::string>());
    ASSERT_TRUE(text.is_ok()) << where << ": " << text.status().to_string();
    EXPECT_EQ(text.value(), c.at("expected").get<std::string>()) << where;
  }
}

TEST(ChatTemplate, NamesRoundTripAndUnknownNamesAreRejected) {
  for (ChatFormat f : {ChatFormat::kChatML, ChatFormat::kLlama2, ChatFormat::kLlama3, ChatFormat::kMistral,
                       ChatFormat::kPhi3, ChatFormat::kZephyr, ChatFormat::kGemma, ChatFormat::kVicuna,
                       ChatFormat::kDeepSeek, ChatFormat::kLlama31, ChatFormat::kQwen2, ChatFormat::kQwen25,
                       ChatFormat::kMistralV3, ChatFormat::kMistralV3Tekken, ChatFormat::kPhi4,
                       ChatFormat::kFallback}) {
    Result<ChatFormat> back = chat_format_from_name(chat_format_name(f));
    ASSERT_TRUE(back.is_ok()) << chat_format_name(f);
    EXPECT_EQ(back.value(), f);
  }
  EXPECT_EQ(chat_format_name(ChatFormat::kLlama3), "llama3");
  Result<ChatFormat> bad = chat_format_from_name("alpaca");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'alpaca'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("chatml"), std::string::npos);
}

TEST(ChatTemplate, UnknownOrMissingTemplatesFallBackToChatML) {
  EXPECT_EQ(detect_chat_format(""), ChatFormat::kFallback);
  EXPECT_EQ(detect_chat_format("{% for m in messages %}{{ m['content'] }}{% endfor %}"),
            ChatFormat::kFallback);
  const std::vector<ChatMessage> messages = {{"system", "Be brief."}, {"user", "Hi"}};
  Result<std::string> text = apply_chat_template(ChatFormat::kFallback, messages, "<s>", "</s>");
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(
      text.value(),
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, StopStringsEndTheAssistantTurn) {
  using V = std::vector<std::string>;
  EXPECT_EQ(chat_stop_strings(ChatFormat::kChatML), V{"<|im_end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kFallback), V{"<|im_end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kLlama3), V{"<|eot_id|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kPhi3), V{"<|end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kGemma), V{"<end_of_turn>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kDeepSeek), V{"<|EOT|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kLlama2), V{"</s>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kMistral), V{"</s>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kZephyr), V{"</s>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kVicuna), V{"</s>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kLlama31), V{"<|eot_id|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kQwen2), V{"<|im_end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kQwen25), V{"<|im_end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kPhi4), V{"<|im_end|>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kMistralV3), V{"</s>"});
  EXPECT_EQ(chat_stop_strings(ChatFormat::kMistralV3Tekken), V{"</s>"});
}

TEST(ChatTemplate, NewerFormatsByNameAndHandWrittenRenders) {
  EXPECT_EQ(format_named("llama3.1"), ChatFormat::kLlama31);
  EXPECT_EQ(format_named("qwen2.5"), ChatFormat::kQwen25);
  EXPECT_EQ(format_named("mistral-v3-tekken"), ChatFormat::kMistralV3Tekken);
  EXPECT_EQ(format_named("phi4"), ChatFormat::kPhi4);
  // Llama 3.1 without a system message still writes the dated system turn.
  const std::vector<ChatMessage> hi = {{"user", " Hi "}};
  Result<std::string> text = apply_chat_template(ChatFormat::kLlama31, hi, "<B>", "<E>");
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(text.value(),
            "<B><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
            "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Mistral v0.3 puts the system message in the last user turn, not the first.
  const std::vector<ChatMessage> turns = {{"system", "S"}, {"user", "a"}, {"assistant", " b "}, {"user", "c"}};
  text = apply_chat_template(ChatFormat::kMistralV3, turns, "<s>", "</s>");
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(text.value(), "<s>[INST] a[/INST] b</s>[INST] S\n\nc[/INST]");
}

TEST(ChatTemplate, StripRemovesPythonWhitespaceOnly) {
  EXPECT_EQ(strip_python_whitespace(" \t\n\x1c\xC2\xA0\xE3\x80\x80 a b\xE2\x80\x8A\x0b"), "a b");
  // U+200B ZERO WIDTH SPACE is not whitespace to Python; a lone 0xC2 byte is not either.
  EXPECT_EQ(strip_python_whitespace("\xE2\x80\x8B"
                                    "x \xC2"),
            "\xE2\x80\x8B"
            "x \xC2");
  EXPECT_EQ(strip_python_whitespace(" \n "), "");
}

TEST(ChatTemplate, EveryFormatRejectsBadConversations) {
  for (ChatFormat f : {ChatFormat::kChatML, ChatFormat::kLlama2, ChatFormat::kLlama3, ChatFormat::kMistral,
                       ChatFormat::kPhi3, ChatFormat::kZephyr, ChatFormat::kGemma, ChatFormat::kVicuna,
                       ChatFormat::kDeepSeek, ChatFormat::kLlama31, ChatFormat::kQwen2, ChatFormat::kQwen25,
                       ChatFormat::kMistralV3, ChatFormat::kMistralV3Tekken, ChatFormat::kPhi4,
                       ChatFormat::kFallback}) {
    expect_invalid(f, {}, "messages: empty");
    expect_invalid(f, {{"user", "a"}, {"robot", "b"}, {"user", "c"}},
                   "messages[1].role: 'robot' is not a chat role");
    expect_invalid(f, {{"user", "a"}, {"assistant", "b"}},
                   "messages[1].role: the conversation ends with an "
                   "'assistant' message");
  }
}

TEST(ChatTemplate, ToolMessagesOnlyWhereRolesAreWrittenAsGiven) {
  const std::vector<ChatMessage> with_tool = {{"user", "a"}, {"assistant", "b"}, {"tool", "c"}};
  for (ChatFormat f : {ChatFormat::kChatML, ChatFormat::kLlama3, ChatFormat::kFallback, ChatFormat::kLlama31,
                       ChatFormat::kQwen2, ChatFormat::kQwen25}) {
    EXPECT_TRUE(render_error(f, with_tool).is_ok()) << chat_format_name(f);
  }
  for (ChatFormat f : {ChatFormat::kLlama2, ChatFormat::kMistral, ChatFormat::kPhi3, ChatFormat::kZephyr,
                       ChatFormat::kGemma, ChatFormat::kVicuna, ChatFormat::kDeepSeek, ChatFormat::kMistralV3,
                       ChatFormat::kMistralV3Tekken, ChatFormat::kPhi4}) {
    expect_invalid(f, with_tool, "messages[2].role: 'tool' cannot be expressed");
  }
}

TEST(ChatTemplate, FoldingFormatsNeedAlternationAfterALeadingSystem) {
  for (ChatFormat f : {ChatFormat::kLlama2, ChatFormat::kMistral, ChatFormat::kGemma, ChatFormat::kMistralV3,
                       ChatFormat::kMistralV3Tekken}) {
    expect_invalid(f, {{"system", "s"}}, "messages[0].role");
    expect_invalid(f, {{"user", "a"}, {"system", "s"}, {"user", "b"}},
                   "messages[1].role: 'system' must be the first message");
    expect_invalid(f, {{"user", "a"}, {"user", "b"}}, "messages[1].role: 'user', expected 'assistant'");
    expect_invalid(f, {{"system", "s"}, {"assistant", "a"}, {"user", "b"}},
                   "messages[1].role: 'assistant', expected 'user'");
  }
  // Formats that write each message as its own turn accept these orders.
  for (ChatFormat f : {ChatFormat::kChatML, ChatFormat::kLlama3, ChatFormat::kPhi3, ChatFormat::kZephyr,
                       ChatFormat::kVicuna, ChatFormat::kDeepSeek, ChatFormat::kLlama31, ChatFormat::kQwen2,
                       ChatFormat::kQwen25, ChatFormat::kPhi4}) {
    EXPECT_TRUE(render_error(f, {{"user", "a"}, {"system", "s"}, {"user", "b"}}).is_ok())
        << chat_format_name(f);
    EXPECT_TRUE(render_error(f, {{"user", "a"}, {"user", "b"}}).is_ok()) << chat_format_name(f);
  }
}

}  // namespace
}  // namespace lmaas::runtime
