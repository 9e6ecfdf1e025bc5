// Whole-file reads and atomic writes (temp file in the same directory + fsync + rename), so a reader
// never sees a half-written model, checkpoint or database file.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace lmaas {

Result<std::string> read_file(const std::string& path);
// Writes `bytes` to `path` atomically: `path` holds either its old content or all of `bytes`.
Status write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace lmaas
