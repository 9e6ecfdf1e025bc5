#include "text/pad.h"

#include <algorithm>

#include "base/check.h"

namespace lmaas::text {

Result<PadSide> parse_pad_side(const std::string& name) {
  if (name == "pre") return PadSide::kPre;
  if (name == "post") return PadSide::kPost;
  return Status(Code::kInvalidArgument, "padding/truncating must be 'pre' or 'post', got '" + name + "'");
}

PaddedSequences pad_sequences(const std::vector<std::vector<int32_t>>& sequences, const PadOptions& options) {
  int64_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, static_cast<int64_t>(s.size()));
  const int64_t cols = options.maxlen.value_or(longest);
  LMAAS_CHECK(cols > 0 || (!options.maxlen && longest == 0), "pad_sequences: maxlen must be positive, got {}", cols);
  PaddedSequences out{static_cast<int64_t>(sequences.size()), cols, {}};
  out.ids.assign(static_cast<size_t>(out.rows * cols), options.value);
  for (int64_t r = 0; r < out.rows; ++r) {
    const auto& s = sequences[static_cast<size_t>(r)];
    const int64_t n = std::min(cols, static_cast<int64_t>(s.size()));
    auto first = options.truncating == PadSide::kPre ? s.end() - n : s.begin();
    int32_t* row = out.ids.data() + r * cols;
    std::copy(first, first + n, options.padding == PadSide::kPre ? row + (cols - n) : row);
  }
  return out;
}

}  // namespace lmaas::text
