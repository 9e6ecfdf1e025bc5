// Whole-file reads and atomic writes (temp file in the same directory + fsync + rename), so a reader
// never sees a half-written model, checkpoint or database file.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lmaas {

Result<std::string> read_file(const std::string& path);
// Writes `bytes` to `path` atomically: `path` holds either its old content or all of `bytes`.
Status write_file_atomic(const std::string& path, std::string_view bytes);
// The same for the concatenation of `chunks`, written in turn (large tensors need no joined copy).
Status write_file_atomic(const std::string& path, std::span<const std::string_view> chunks);

// Publishes a directory atomically: `fill(tmp_dir)` writes the content into a fresh sibling directory,
// which then replaces `dir` by rename. Readers see the old directory or the complete new one, never a
// partial one; when `fill` fails, `dir` is untouched and the temporary directory is removed.
Status publish_directory_atomic(const std::string& dir, const std::function<Status(const std::string& tmp_dir)>& fill);

}  // namespace lmaas
