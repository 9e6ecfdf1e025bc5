// MappedFile: POSIX open/fstat/mmap; the descriptor is closed once the mapping exists.
#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lmaas {
namespace {

Status open_error(const std::string& path, const char* what, int err) {
  Code code = Code::kUnavailable;
  if (err == ENOENT || err == ENOTDIR) code = Code::kNotFound;
  if (err == EACCES || err == EPERM) code = Code::kPermissionDenied;
  return Status(code, std::string("cannot ") + what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return open_error(path, "open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return open_error(path, "stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Code::kInvalidArgument, "cannot map '" + path + "': not a regular file");
  }
  auto n_bytes = static_cast<size_t>(st.st_size);
  if (n_bytes == 0) {
    ::close(fd);
    return MappedFile(path, nullptr, 0);
  }
  void* addr = ::mmap(nullptr, n_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps its own reference to the file
  if (addr == MAP_FAILED) {
    return Status(Code::kResourceExhausted,
                  "cannot map '" + path + "' (" + std::to_string(n_bytes) + " bytes): " + std::strerror(err));
  }
  return MappedFile(path, static_cast<const uint8_t*>(addr), n_bytes);
}

MappedFile::~MappedFile() { unmap(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), n_bytes_(other.n_bytes_) {
  other.data_ = nullptr;
  other.n_bytes_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    data_ = other.data_;
    n_bytes_ = other.n_bytes_;
    other.data_ = nullptr;
    other.n_bytes_ = 0;
  }
  return *this;
}

void MappedFile::unmap() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), n_bytes_);
  data_ = nullptr;
  n_bytes_ = 0;
}

}  // namespace lmaas
