// TextStream: turns the pieces of generated tokens into text that is safe to show as it arrives, and finds
// stop sequences. Held back until the next piece decides them:
//   - a trailing incomplete UTF-8 sequence (byte-fallback tokens spell a character over several tokens);
//   - a tail that could be the start of a stop sequence.
// When a stop sequence appears, the text before it is released and the stream is stopped; the stop
// sequence itself and anything after it are never released (OpenAI's behaviour).
// Released text is always valid UTF-8: invalid bytes become U+FFFD (so does an incomplete character
// left at finish()).
// Not thread-safe: one per sequence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lmaas::runtime {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_sequences);

  // Adds a piece; returns the text now safe to release (possibly empty).
  std::string push(std::string_view piece);
  // Releases the held-back text (empty once stopped).
  std::string finish();
  bool stopped() const { return stopped_; }
  // The stop sequence that matched (empty when none did).
  const std::string& matched_stop() const { return matched_stop_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_stop_;
};

// Bytes at the end of `s` that form an incomplete (so far valid) UTF-8 sequence: 0..3.
size_t incomplete_utf8_suffix(std::string_view s);

}  // namespace lmaas::runtime
