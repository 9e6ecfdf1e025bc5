// pad_sequences with Keras' semantics and defaults: every sequence becomes `maxlen` long (default: the
// longest), cut from the front (truncating "pre") or the back ("post"), filled with `value` on the
// front (padding "pre") or the back ("post"). Empty sequences become all `value`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lmaas::text {

enum class PadSide { kPre, kPost };
Result<PadSide> parse_pad_side(const std::string& name);  // "pre" | "post"

struct PadOptions {
  std::optional<int64_t> maxlen;  // nullopt: the longest sequence (Keras' None)
  PadSide padding = PadSide::kPre;
  PadSide truncating = PadSide::kPre;
  int32_t value = 0;
};

// Row-major [rows, cols] ids.
struct PaddedSequences {
  int64_t rows = 0, cols = 0;
  std::vector<int32_t> ids;
  int32_t at(int64_t r, int64_t c) const { return ids[static_cast<size_t>(r * cols + c)]; }
};

PaddedSequences pad_sequences(const std::vector<std::vector<int32_t>>& sequences, const PadOptions& options = {});

}  // namespace lmaas::text
