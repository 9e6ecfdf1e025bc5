#include "api/json_writer.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace lmaas::api {

JsonWriter& JsonWriter::open(char bracket) {
  before_value();
  out_.push_back(bracket);
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_.push_back(bracket);
  first_.pop_back();
  return *this;
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (!first_.back()) out_.push_back(',');
  first_.back() = false;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  before_value();
  string(name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

void JsonWriter::string(std::string_view s) {
  // Printable ASCII without quotes or backslashes goes as it is; anything else (escapes, UTF-8 to
  // check) takes nlohmann's serializer, so there is one definition of a JSON string.
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out_.append(nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
    }
  }
  out_.push_back('"');
  out_.append(s);
  out_.push_back('"');
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  string(s);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t n) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
  return *this;
}

namespace {
template <typename T>
void append_number(std::string& out, T x) {
  if (!std::isfinite(x)) {
    out.append("null");
    return;
  }
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
}
}  // namespace

JsonWriter& JsonWriter::value(float x) {
  before_value();
  append_number(out_, x);
  return *this;
}

JsonWriter& JsonWriter::value(double x) {
  before_value();
  append_number(out_, x);
  return *this;
}

}  // namespace lmaas::api
