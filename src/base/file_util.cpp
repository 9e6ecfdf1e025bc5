// File helpers. POSIX calls so that fsync of the file and its directory can be done.
#include "base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lmaas {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status(Code::kDataLoss, "error while reading '" + path + "'");
  return buffer.str();
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  return write_file_atomic(path, std::span<const std::string_view>(&bytes, 1));
}

Status write_file_atomic(const std::string& path, std::span<const std::string_view> chunks) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  int fd = mkstemp(tmp.data());
  if (fd < 0) return Status(Code::kFailedPrecondition, "cannot create a temporary file in '" + dir.string() + "': " + std::strerror(errno));
  ::fchmod(fd, 0644);  // mkstemp makes 0600; models and data are for other readers too
  for (std::string_view chunk : chunks) {
    size_t written = 0;
    while (written < chunk.size()) {
      ssize_t n = ::write(fd, chunk.data() + written, chunk.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::string why = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        return Status(Code::kResourceExhausted, "write to '" + tmp + "' failed: " + why);
      }
      written += static_cast<size_t>(n);
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status(Code::kDataLoss, "fsync of '" + tmp + "' failed: " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status(Code::kFailedPrecondition, "rename of '" + tmp + "' to '" + path + "' failed: " + why);
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::ok();
}

namespace {

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status publish_directory_atomic(const std::string& dir, const std::function<Status(const std::string& tmp_dir)>& fill) {
  namespace fs = std::filesystem;
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Status(Code::kFailedPrecondition, "cannot create '" + parent.string() + "': " + ec.message());
  std::string tmp = (parent / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  if (::mkdtemp(tmp.data()) == nullptr)
    return Status(Code::kFailedPrecondition, "cannot create a temporary directory in '" + parent.string() + "': " +
                                                 std::strerror(errno));
  ::chmod(tmp.c_str(), 0755);  // mkdtemp makes 0700
  Status filled = fill(tmp);
  if (filled.is_ok()) {
    for (const auto& entry : fs::directory_iterator(tmp, ec)) fsync_path(entry.path().string(), O_RDONLY);
    fsync_path(tmp, O_RDONLY | O_DIRECTORY);
  }
  if (!filled.is_ok()) {
    fs::remove_all(tmp, ec);
    return filled;
  }
  // rename() cannot replace a non-empty directory: move the old one aside first, then drop it.
  const std::string old = tmp + ".old";
  const bool had_old = fs::exists(target, ec);
  if (had_old && ::rename(target.c_str(), old.c_str()) != 0) {
    std::string why = std::strerror(errno);
    fs::remove_all(tmp, ec);
    return Status(Code::kFailedPrecondition, "cannot move the old '" + target.string() + "' aside: " + why);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    std::string why = std::strerror(errno);
    if (had_old) ::rename(old.c_str(), target.c_str());
    fs::remove_all(tmp, ec);
    return Status(Code::kFailedPrecondition, "cannot rename '" + tmp + "' to '" + target.string() + "': " + why);
  }
  fsync_path(parent.string(), O_RDONLY | O_DIRECTORY);
  if (had_old) fs::remove_all(old, ec);
  return Status::ok();
}

}  // namespace lmaas
