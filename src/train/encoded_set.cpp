#include "train/encoded_set.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/check.h"

namespace lmaas::train {
namespace {

// Ids written to the spill file in blocks of this many bytes.
constexpr size_t kSpillBlockBytes = size_t{8} << 20;

}  // namespace

EncodedSet::EncodedSet(int64_t budget_bytes, std::string spill_dir)
    : budget_bytes_(budget_bytes), spill_dir_(std::move(spill_dir)) {}

EncodedSet::~EncodedSet() { release(); }

EncodedSet::EncodedSet(EncodedSet&& other) noexcept { *this = std::move(other); }

EncodedSet& EncodedSet::operator=(EncodedSet&& other) noexcept {
  if (this == &other) return *this;
  release();
  budget_bytes_ = other.budget_bytes_;
  spill_dir_ = std::move(other.spill_dir_);
  offsets_ = std::move(other.offsets_);
  labels_ = std::move(other.labels_);
  buffer_ = std::move(other.buffer_);
  fd_ = std::exchange(other.fd_, -1);
  mapped_ = std::exchange(other.mapped_, nullptr);
  mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  finished_ = other.finished_;
  other.offsets_ = {0};
  return *this;
}

void EncodedSet::release() {
  if (mapped_) ::munmap(const_cast<int32_t*>(mapped_), mapped_bytes_);
  if (fd_ >= 0) ::close(fd_);
  mapped_ = nullptr, mapped_bytes_ = 0, fd_ = -1;
}

Status EncodedSet::flush_buffer() {
  const char* data = reinterpret_cast<const char*>(buffer_.data());
  size_t left = buffer_.size() * sizeof(int32_t);
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status(Code::kResourceExhausted,
                    "writing encoded ids to a temporary file in '" + spill_dir_ + "' failed: " + std::strerror(errno));
    data += n, left -= static_cast<size_t>(n);
  }
  buffer_.clear();
  return Status::ok();
}

Status EncodedSet::append(std::span<const int32_t> ids, int32_t label) {
  LMAAS_CHECK(!finished_, "EncodedSet::append after finish()");
  buffer_.insert(buffer_.end(), ids.begin(), ids.end());
  offsets_.push_back(offsets_.back() + static_cast<int64_t>(ids.size()));
  labels_.push_back(label);
  const size_t buffered = buffer_.size() * sizeof(int32_t);
  if (fd_ < 0 && static_cast<int64_t>(buffered) > budget_bytes_) {
    std::string path = (std::filesystem::path(spill_dir_) / ".lmaas-ids.XXXXXX").string();
    fd_ = ::mkstemp(path.data());
    if (fd_ < 0)
      return Status(Code::kResourceExhausted, "the encoded ids exceed the in-memory budget of " +
                                                  std::to_string(budget_bytes_ >> 20) + " MiB and no temporary file "
                                                  "can be created in '" + spill_dir_ + "': " + std::strerror(errno));
    ::unlink(path.c_str());  // the file lives while it is open
    return flush_buffer();
  }
  return fd_ >= 0 && buffered >= kSpillBlockBytes ? flush_buffer() : Status::ok();
}

Status EncodedSet::finish() {
  if (finished_) return Status::ok();
  finished_ = true;
  if (fd_ < 0) return Status::ok();
  Status s = flush_buffer();
  if (!s.is_ok()) return s;
  buffer_.shrink_to_fit();
  mapped_bytes_ = static_cast<size_t>(offsets_.back()) * sizeof(int32_t);
  if (mapped_bytes_ == 0) return Status::ok();
  void* p = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    mapped_bytes_ = 0;
    return Status(Code::kResourceExhausted, std::string("mapping the spilled encoded ids failed: ") + std::strerror(errno));
  }
  mapped_ = static_cast<const int32_t*>(p);
  return Status::ok();
}

std::span<const int32_t> EncodedSet::ids(size_t i) const {
  LMAAS_CHECK(finished_, "EncodedSet::ids before finish()");
  const int32_t* base = fd_ >= 0 ? mapped_ : buffer_.data();
  return {base + offsets_[i], length(i)};
}

}  // namespace lmaas::train
