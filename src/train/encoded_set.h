// EncodedSet: the encoded examples of a data set (token ids and a label per text), appended once while
// the file streams in, then read by index. Ids live in memory up to a budget; beyond it they spill to
// an anonymous temporary file (created in `spill_dir` and unlinked at once, so a crash leaves nothing)
// that is memory-mapped when the set is finished — the page cache, not the process, then holds them,
// so a training file whose encoded ids exceed memory still trains. Offsets and labels (12 bytes per
// example) stay in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace lmaas::train {

class EncodedSet {
 public:
  // budget_bytes: ids kept in memory before spilling; spill_dir: where the temporary file goes.
  explicit EncodedSet(int64_t budget_bytes = int64_t{1} << 30, std::string spill_dir = ".");
  ~EncodedSet();
  EncodedSet(EncodedSet&&) noexcept;
  EncodedSet& operator=(EncodedSet&&) noexcept;

  Status append(std::span<const int32_t> ids, int32_t label);
  // Ends appending; a spilled set is mapped. Reading before finish() is an error (checked).
  Status finish();

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  size_t length(size_t i) const { return static_cast<size_t>(offsets_[i + 1] - offsets_[i]); }
  std::span<const int32_t> ids(size_t i) const;
  int32_t label(size_t i) const { return labels_[i]; }
  bool spilled() const { return fd_ >= 0; }

 private:
  Status flush_buffer();
  void release();

  int64_t budget_bytes_;
  std::string spill_dir_;
  std::vector<int64_t> offsets_{0};
  std::vector<int32_t> labels_;
  std::vector<int32_t> buffer_;  // all ids (in memory) or those not yet written (spilling)
  int fd_ = -1;
  const int32_t* mapped_ = nullptr;
  size_t mapped_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace lmaas::train
