// TextStream: see text_stream.h.
#include "runtime/text_stream.h"

#include <algorithm>

#include "text/utf8.h"

namespace lmaas::runtime {

size_t incomplete_utf8_suffix(std::string_view s) {
  // Walk back over at most 3 continuation bytes to a lead byte; incomplete if the lead wants more.
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t want = 1;
    if ((c & 0xE0) == 0xC0) want = 2;
    else if ((c & 0xF0) == 0xE0) want = 3;
    else if ((c & 0xF8) == 0xF0) want = 4;
    return want > back ? back : 0;
  }
  return 0;
}

TextStream::TextStream(std::vector<std::string> stop_sequences) : stops_(std::move(stop_sequences)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string TextStream::push(std::string_view piece) {
  if (stopped_) return {};
  pending_ += piece;
  // The earliest complete stop sequence ends the stream.
  size_t stop_at = std::string::npos;
  for (const std::string& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (at < stop_at) {
      stop_at = at;
      matched_stop_ = stop;
    }
  }
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string out = text::replace_invalid_utf8(std::string_view(pending_).substr(0, stop_at));
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that a stop sequence starts with, and an unfinished character.
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    for (size_t len = std::min(stop.size() - 1, pending_.size()); len > hold; --len) {
      if (pending_.compare(pending_.size() - len, len, stop, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  hold = std::max(hold, incomplete_utf8_suffix(pending_));
  std::string out = text::replace_invalid_utf8(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string TextStream::finish() {
  if (stopped_) return {};
  std::string out = text::replace_invalid_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace lmaas::runtime
