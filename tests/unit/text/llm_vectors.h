// Test helper: the tokenizer vector files of ../shared/data/tokenizer-vectors (llama.cpp's format).
// `.inp`: each input string followed by the line "__ggml_vocab_test__" (split exactly as llama.cpp's
// test-tokenizer-0 does: on "\n__ggml_vocab_test__\n", so an input keeps its own newlines and the
// final separator ends the last input); `.out`: one line of space-separated ids per input.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/rng.h"
#include "text/utf8.h"

namespace lmaas::test {

inline std::string tokenizer_vectors_dir() {
  return std::string(LMAAS_SOURCE_DIR) + "/../shared/data/tokenizer-vectors/";
}

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

// Empty when either file is missing or their counts differ (tests assert on the count).
inline std::vector<VectorCase> read_vector_cases(const std::string& inp_path, const std::string& out_path) {
  const std::string raw = read_whole_file(inp_path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<VectorCase> cases;
  for (size_t pos = 0; pos < raw.size();) {
    const size_t next = raw.find(sep, pos);
    cases.push_back({raw.substr(pos, next == std::string::npos ? std::string::npos : next - pos), {}});
    if (next == std::string::npos) break;
    pos = next + sep.size();
  }
  std::istringstream out(read_whole_file(out_path));
  size_t i = 0;
  for (std::string line; std::getline(out, line); ++i) {
    if (i >= cases.size()) return {};
    std::istringstream ids(line);
    for (int32_t id = 0; ids >> id;) cases[i].ids.push_back(id);
  }
  if (i != cases.size()) return {};
  return cases;
}

// Seeded random Unicode for round trips: ASCII, whitespace runs, Latin/Cyrillic letters, combining marks,
// CJK, emoji (with ZWJ and variation selectors). Never U+2581, which SPM reads back as a space.
inline std::string random_unicode_text(Rng& rng) {
  std::string s;
  const uint64_t n = rng.below(40);
  for (uint64_t i = 0; i < n; ++i) {
    switch (rng.below(8)) {
      case 0:
        s.append(1 + rng.below(6), " \t\n\r"[rng.below(4)]);
        break;
      case 1:
        text::append_utf8(s, static_cast<char32_t>(0x4E00 + rng.below(0x5200)));
        break;
      case 2:
        text::append_utf8(s, static_cast<char32_t>(0x1F300 + rng.below(0x700)));
        break;
      case 3:
        text::append_utf8(s, 0x200D);
        text::append_utf8(s, 0xFE0F);
        break;
      case 4:
        text::append_utf8(s, static_cast<char32_t>(0x0300 + rng.below(0x70)));
        break;
      case 5:
        text::append_utf8(
            s, static_cast<char32_t>(rng.below(2) ? 0xC0 + rng.below(0x180) : 0x410 + rng.below(0x40)));
        break;
      default:
        s.push_back(static_cast<char>(0x20 + rng.below(0x5F)));
        break;
    }
  }
  return s;
}

}  // namespace lmaas::test
