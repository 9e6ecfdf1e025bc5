#include "eval/translation_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "text/utf8.h"

namespace lmaas::eval {
namespace {

std::u32string decode(std::string_view s) {
  const std::string valid = text::find_invalid_utf8(s) ? text::replace_invalid_utf8(s) : std::string(s);
  std::u32string out;
  for (size_t pos = 0; pos < valid.size();) out.push_back(text::next_code_point(valid, pos));
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) text::append_utf8(out, c);
  return out;
}

// str.isspace() in Python: what its split() and strip() remove.
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::vector<std::u32string> split_words(std::u32string_view s) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) words.emplace_back(s.substr(start, i - start));
  }
  return words;
}

std::u32string join_words(const std::vector<std::u32string>& words) {
  std::u32string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(U' ');
    out += w;
  }
  return out;
}

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

// One regex pass whose matches are two characters: from left to right, where match(c, next) holds the
// pair is replaced by emit's output and scanning resumes after it (Python's re.sub on such a pattern).
template <typename Match, typename Emit>
std::u32string pair_pass(const std::u32string& s, Match match, Emit emit) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// The mteval-v13a regular expressions, applied one after the other as sacreBLEU's tokenizer does.
std::u32string mteval_regexps(const std::u32string& s) {
  std::u32string out;
  // 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 "
  for (char32_t c : s) {
    const bool punct = (c >= U'{' && c <= U'~') || (c >= U'[' && c <= U'`') || (c >= U' ' && c <= U'&') ||
                       (c >= U'(' && c <= U'+') || (c >= U':' && c <= U'@') || c == U'/';
    if (punct) out += {U' ', c, U' '};
    else out.push_back(c);
  }
  auto period_or_comma = [](char32_t c) { return c == U'.' || c == U','; };
  // 2: ([^0-9])([\.,]) -> "\1 \2 "
  out = pair_pass(out, [&](char32_t a, char32_t b) { return !is_digit(a) && period_or_comma(b); },
                  [](std::u32string& o, char32_t a, char32_t b) { o += {a, U' ', b, U' '}; });
  // 3: ([\.,])([^0-9]) -> " \1 \2"
  out = pair_pass(out, [&](char32_t a, char32_t b) { return period_or_comma(a) && !is_digit(b); },
                  [](std::u32string& o, char32_t a, char32_t b) { o += {U' ', a, U' ', b}; });
  // 4: ([0-9])(-) -> "\1 \2 "
  out = pair_pass(out, [](char32_t a, char32_t b) { return is_digit(a) && b == U'-'; },
                  [](std::u32string& o, char32_t a, char32_t b) { o += {a, U' ', b, U' '}; });
  return join_words(split_words(out));
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

// sacreBLEU's "zh" ranges, as its Python compares them: '\u20000' and '\u2f800' are two-character strings
// there ('\u2000' + '0', ...), so those two ranges are in effect U+2001..U+2A6D and U+2F81..U+2FA1.
bool is_zh_char(char32_t c) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A}, {0xFA70, 0xFAD9},
      {0x2001, 0x2A6D}, {0x2F81, 0x2FA1}, {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF}, {0x3000, 0x303F}, {0x31C0, 0x31EF},
      {0x2F00, 0x2FDF}, {0x2FF0, 0x2FFF}, {0x3100, 0x312F}, {0x31A0, 0x31BF}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
      {0x2600, 0x26FF}, {0x2700, 0x27BF}, {0x3200, 0x32FF}, {0x3300, 0x33FF}};
  for (const auto& [lo, hi] : kRanges)
    if (c >= lo && c <= hi) return true;
  return false;
}

std::u32string strip(std::u32string_view s, bool left) {
  size_t b = 0, e = s.size();
  while (left && b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::u32string(s.substr(b, e - b));
}

std::string preprocess(std::string_view segment, BleuTokenize tokenize) {
  const std::string trimmed = encode(strip(decode(segment), /*left=*/false));  // sacreBLEU rstrip()s first
  switch (tokenize) {
    case BleuTokenize::k13a: return tokenize_13a(trimmed);
    case BleuTokenize::kZh: return tokenize_zh(trimmed);
    case BleuTokenize::kNone: return trimmed;
  }
  return trimmed;
}

// n-grams of orders 1..4 of a tokenized line, keyed by their words joined with U+001F (whitespace, so
// never inside a word); and the number of words.
using NgramCounts = std::unordered_map<std::string, int64_t>;
int64_t word_ngrams(const std::string& line, std::array<NgramCounts, 4>& out) {
  const std::vector<std::u32string> words = split_words(decode(line));
  std::vector<std::string> w;
  for (const auto& x : words) w.push_back(encode(x));
  for (size_t n = 1; n <= 4; ++n)
    for (size_t i = 0; i + n <= w.size(); ++i) {
      std::string key = w[i];
      for (size_t j = 1; j < n; ++j) key.append("\x1f").append(w[i + j]);
      ++out[n - 1][key];
    }
  return static_cast<int64_t>(w.size());
}

void check_streams(size_t n_hyp, const std::vector<std::vector<std::string>>& references, const char* metric) {
  if (references.empty()) throw std::invalid_argument(std::string(metric) + ": no references");
  for (size_t k = 0; k < references.size(); ++k)
    if (references[k].size() != n_hyp)
      throw std::invalid_argument(std::string(metric) + ": reference stream " + std::to_string(k) + " has " +
                                  std::to_string(references[k].size()) + " segments, the hypotheses " +
                                  std::to_string(n_hyp));
}

}  // namespace

BleuTokenize default_bleu_tokenize(std::string_view lang) {
  const bool chinese = lang == "zh" || lang == "cmn" || lang.substr(0, 3) == "zh-" || lang.substr(0, 3) == "zh_";
  return chinese ? BleuTokenize::kZh : BleuTokenize::k13a;
}

bool parse_bleu_tokenize(std::string_view name, BleuTokenize& out) {
  if (name == "13a") out = BleuTokenize::k13a;
  else if (name == "zh") out = BleuTokenize::kZh;
  else if (name == "none") out = BleuTokenize::kNone;
  else return false;
  return true;
}

std::string tokenize_13a(std::string_view line) {
  std::string s(line);
  replace_all(s, "<skipped>", "");
  replace_all(s, "-\n", "");
  replace_all(s, "\n", " ");
  if (s.find('&') != std::string::npos) {
    replace_all(s, "&quot;", "\"");
    replace_all(s, "&amp;", "&");
    replace_all(s, "&lt;", "<");
    replace_all(s, "&gt;", ">");
  }
  return encode(mteval_regexps(decode(" " + s + " ")));
}

std::string tokenize_zh(std::string_view line) {
  std::u32string spaced;
  for (char32_t c : strip(decode(line), /*left=*/true)) {
    if (is_zh_char(c)) spaced += {U' ', c, U' '};
    else spaced.push_back(c);
  }
  return encode(mteval_regexps(spaced));
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references,
                      BleuTokenize tokenize) {
  check_streams(hypotheses.size(), references, "BLEU");
  BleuScore s;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    std::array<NgramCounts, 4> hyp, ref_max;
    const int64_t hyp_len = word_ngrams(preprocess(hypotheses[i], tokenize), hyp);
    int64_t closest = -1, closest_diff = -1;
    for (const auto& stream : references) {
      std::array<NgramCounts, 4> ref;
      const int64_t ref_len = word_ngrams(preprocess(stream[i], tokenize), ref);
      const int64_t diff = std::llabs(hyp_len - ref_len);
      if (closest_diff < 0 || diff < closest_diff || (diff == closest_diff && ref_len < closest)) closest = ref_len, closest_diff = diff;
      for (size_t n = 0; n < 4; ++n)
        for (const auto& [g, c] : ref[n]) ref_max[n][g] = std::max(ref_max[n][g], c);
    }
    s.sys_len += hyp_len;
    s.ref_len += closest;
    for (size_t n = 0; n < 4; ++n)
      for (const auto& [g, c] : hyp[n]) {
        s.total[n] += c;
        if (auto it = ref_max[n].find(g); it != ref_max[n].end()) s.correct[n] += std::min(c, it->second);
      }
  }
  s.brevity_penalty = s.sys_len >= s.ref_len ? 1.0
                      : s.sys_len > 0        ? std::exp(1.0 - static_cast<double>(s.ref_len) / static_cast<double>(s.sys_len))
                                             : 0.0;
  if (std::all_of(s.correct.begin(), s.correct.end(), [](int64_t c) { return c == 0; })) return s;
  double smooth = 1.0, log_sum = 0.0;
  for (size_t n = 0; n < 4; ++n) {
    if (s.total[n] == 0) break;  // this and higher orders keep precision 0: the score is 0
    if (s.correct[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * static_cast<double>(s.total[n]));
    } else {
      s.precisions[n] = 100.0 * static_cast<double>(s.correct[n]) / static_cast<double>(s.total[n]);
    }
  }
  for (double p : s.precisions) log_sum += p > 0 ? std::log(p) : -9999999999.0;  // sacreBLEU's log of 0
  s.score = s.brevity_penalty * std::exp(log_sum / 4.0);
  return s;
}

namespace {

constexpr int kCharOrder = 6;
constexpr double kBeta = 2.0;

using CharNgrams = std::array<std::map<std::u32string, int64_t>, kCharOrder>;

CharNgrams char_ngrams(std::string_view segment) {
  std::u32string chars;
  for (char32_t c : decode(segment))
    if (!is_space(c)) chars.push_back(c);
  CharNgrams out;
  for (size_t n = 1; n <= kCharOrder; ++n)
    for (size_t i = 0; i + n <= chars.size(); ++i) ++out[n - 1][chars.substr(i, n)];
  return out;
}

// Per order: hypothesis n-grams (0 when the reference has none of that order), reference n-grams, matches.
using ChrfStats = std::array<int64_t, 3 * kCharOrder>;

double chrf_from_stats(const ChrfStats& st) {
  const double factor = kBeta * kBeta;
  double avg_prec = 0, avg_rec = 0;
  int effective = 0;
  for (int n = 0; n < kCharOrder; ++n) {
    const auto hyp = static_cast<double>(st[3 * n]), ref = static_cast<double>(st[3 * n + 1]),
               match = static_cast<double>(st[3 * n + 2]);
    if (hyp > 0 && ref > 0) {
      avg_prec += match / hyp;
      avg_rec += match / ref;
      ++effective;
    }
  }
  if (effective == 0) return 0.0;
  avg_prec /= effective;
  avg_rec /= effective;
  if (avg_prec + avg_rec == 0) return 0.0;
  return 100.0 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
}

}  // namespace

double corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::vector<std::string>>& references) {
  check_streams(hypotheses.size(), references, "chrF");
  ChrfStats total{};
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const CharNgrams hyp = char_ngrams(hypotheses[i]);
    ChrfStats best{};
    double best_f = -1;
    for (const auto& stream : references) {
      const CharNgrams ref = char_ngrams(stream[i]);
      ChrfStats st{};
      for (int n = 0; n < kCharOrder; ++n) {
        int64_t hyp_count = 0, ref_count = 0, match = 0;
        for (const auto& [g, c] : hyp[n]) {
          hyp_count += c;
          if (auto it = ref[n].find(g); it != ref[n].end()) match += std::min(c, it->second);
        }
        for (const auto& [g, c] : ref[n]) ref_count += c;
        st[3 * n] = ref[n].empty() ? 0 : hyp_count;
        st[3 * n + 1] = ref_count;
        st[3 * n + 2] = match;
      }
      if (const double f = chrf_from_stats(st); f > best_f) best_f = f, best = st;
    }
    for (size_t k = 0; k < total.size(); ++k) total[k] += best[k];
  }
  return chrf_from_stats(total);
}

}  // namespace lmaas::eval
