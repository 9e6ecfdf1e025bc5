// Byte builders for GGUF tests, independent of GgufWriter: little-endian fields, gguf strings, key/values,
// tensor infos and whole files assembled from raw parts, so tests can write any field, valid or not.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace lmaas::gguf_test {

inline std::string le32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
inline std::string le64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
inline std::string f32_bytes(float v) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, 4);
  return le32(bits);
}
inline std::string gstr(std::string_view s) { return le64(s.size()) + std::string(s); }

// "GGUF", version, n_tensors, n_kv.
inline std::string header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  return "GGUF" + le32(version) + le64(n_tensors) + le64(n_kv);
}
// A key/value: key, type id, then the raw payload bytes.
inline std::string kv(std::string_view key, uint32_t type, const std::string& payload) {
  return gstr(key) + le32(type) + payload;
}
inline std::string kv_u32(std::string_view key, uint32_t v) { return kv(key, 4, le32(v)); }
inline std::string kv_str(std::string_view key, std::string_view v) { return kv(key, 8, gstr(v)); }
// Array payload: element type, count, raw element bytes.
inline std::string array_payload(uint32_t elem_type, uint64_t count, const std::string& elements) {
  return le32(elem_type) + le64(count) + elements;
}
inline std::string tensor_info(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type,
                               uint64_t offset) {
  std::string out = gstr(name) + le32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) out += le64(d);
  return out + le32(type) + le64(offset);
}
inline std::string pad_to(const std::string& s, size_t alignment) {
  return s + std::string((alignment - s.size() % alignment) % alignment, '\0');
}

// A whole file: header + kvs + infos, padded to `alignment` when there are infos, + data.
inline std::string file(const std::vector<std::string>& kvs, const std::vector<std::string>& infos,
                        const std::string& data = "", size_t alignment = 32, uint32_t version = 3) {
  std::string out = header(version, infos.size(), kvs.size());
  for (const std::string& k : kvs) out += k;
  for (const std::string& t : infos) out += t;
  if (!infos.empty()) out = pad_to(out, alignment);
  return out + data;
}

}  // namespace lmaas::gguf_test
