// JsonWriter: appends JSON text to a string as values are given, for the responses on the inference
// path, where building an nlohmann DOM first costs more than the model does. Commas are placed by the
// writer; keys and values must alternate inside objects (the caller's job, as in any SAX writer).
//   std::string out;
//   JsonWriter w(out);
//   w.begin_object().key("label").value("pos").key("score").value(0.9f).end_object();
// Strings come out as nlohmann's dump() writes them (UTF-8 kept, invalid bytes replaced by U+FFFD);
// floats as the shortest text that reads back as the same float; non-finite numbers as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmaas::api {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(uint64_t n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(float x);
  JsonWriter& value(double x);

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void before_value();  // the comma before a value that is not the first in its array
  void string(std::string_view s);

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace lmaas::api
