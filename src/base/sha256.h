// SHA-256 (FIPS 180-4), streaming: identifies training data in model bundles.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lmaas {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The hex SHA-256 of a whole file, read in chunks.
Result<std::string> sha256_file(const std::string& path);

}  // namespace lmaas
