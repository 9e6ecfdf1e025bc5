// The GGUF reader against corrupt and unsupported files: a named catalogue (each a mutation of a valid
// hand-built file, the expected Code and a piece of the message), truncation at every section boundary
// and at every byte, and byte flips. The reader must return a Status naming the problem, never crash,
// never read out of bounds (run under the asan preset) and never allocate from an unchecked count.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "formats/gguf.h"
#include "unit/formats/gguf_test_bytes.h"

namespace lmaas {
namespace {

using namespace gguf_test;  // NOLINT

constexpr uint64_t kHuge = uint64_t{1} << 60;
constexpr uint32_t kF32 = 0, kQ4_0 = 2, kF64 = 28;
constexpr uint32_t kU32 = 4, kBool = 7, kString = 8, kArray = 9, kU64 = 10;

const std::string kArchKv = kv_str("general.architecture", "llama");
const std::string kData = pad_to(std::string(16, 'a'), 32) + pad_to(std::string(16, 'b'), 32);

// The valid base: two key/values, tensors "a" (F32 [4]) at 0 and "b" (F32 [2, 2]) at 32.
std::string base_with(const std::vector<std::string>& kvs, const std::vector<std::string>& infos,
                      const std::string& data = kData) {
  return file(kvs, infos, data);
}
std::string base() {
  return base_with({kArchKv, kv_u32("nn", 3)},
                   {tensor_info("a", {4}, kF32, 0), tensor_info("b", {2, 2}, kF32, 32)});
}
// A file whose only content is one key/value with raw payload.
std::string one_kv(uint32_t type, const std::string& payload) { return file({kv("k", type, payload)}, {}); }
std::string one_tensor(const std::string& info, const std::string& data = kData) {
  return base_with({kArchKv}, {info}, data);
}
std::string nested_arrays(int depth) {
  std::string payload = array_payload(kU32, 0, "");
  for (int i = 1; i < depth; ++i) payload = array_payload(kArray, 1, payload);
  return one_kv(kArray, payload);
}
std::string with_version(uint32_t version) {
  std::string bytes = base();
  return bytes.replace(4, 4, le32(version));
}

struct CorruptCase {
  const char* name;
  std::string bytes;
  Code code;
  const char* message;
};

std::vector<CorruptCase> catalogue() {
  const Code kLoss = Code::kDataLoss, kUnimpl = Code::kUnimplemented;
  std::string b = base();
  return {
      {"empty file", "", kLoss, "header: file is 0 bytes"},
      {"bad magic", "GGML" + b.substr(4), kLoss, "magic is \"GGML\", expected \"GGUF\""},
      {"version 0", with_version(0), kLoss, "version is 0, expected 2 or 3"},
      {"version 1", with_version(1), kUnimpl, "version is 1 (32-bit counts"},
      {"version 4", with_version(4), kUnimpl, "version is 4, newer than"},
      {"big-endian version", with_version(0x03000000), kUnimpl, "big-endian"},
      {"huge n_kv", header(3, 0, kHuge), kLoss, "n_kv is 1152921504606846976, but the 0 bytes"},
      {"huge n_tensors", header(3, kHuge, 0), kLoss, "n_tensors is 1152921504606846976"},
      {"key length beyond file", header(3, 0, 1) + le64(1000) + "abcdefghijklm", kLoss,
       "key 0: key length is 1000, but only 13 bytes remain"},
      {"key length 2^63", header(3, 0, 1) + le64(uint64_t{1} << 63) + "abcdefghijklm", kLoss,
       "key length is 9223372036854775808"},
      {"key longer than 65535", file({kv_u32(std::string(65536, 'k'), 1)}, {}), kLoss,
       "expected at most 65535"},
      {"invalid UTF-8 key", file({kv_u32("ab\xc3\x28", 1)}, {}), kLoss,
       "key is not valid UTF-8 (bad byte 0xc3 at offset 2"},
      {"overlong UTF-8 key", file({kv_u32("\xc0\xaf", 1)}, {}), kLoss, "key is not valid UTF-8"},
      {"surrogate in key", file({kv_u32("\xed\xa0\x80", 1)}, {}), kLoss, "key is not valid UTF-8"},
      {"duplicate key", file({kv_u32("n", 1), kArchKv, kv_u32("n", 2)}, {}), kLoss,
       "key 2 \"n\": duplicate key (first defined as key 0)"},
      {"unknown value type", one_kv(13, le32(0)), kLoss,
       "key 0 \"k\": value type is 13, expected a GGUF type id"},
      {"bool value 2", one_kv(kBool, "\x02"), kLoss, "value is a BOOL of byte value 2, expected 0 or 1"},
      {"string length 2^63", one_kv(kString, le64(uint64_t{1} << 63) + "xyz"), kLoss,
       "value length is 9223372036854775808, but only 3 bytes remain"},
      {"scalar cut short", one_kv(kU64, "1234"), kLoss, "value needs 8 bytes at offset"},
      {"array of unknown type", one_kv(kArray, array_payload(13, 1, "x")), kLoss, "value element type is 13"},
      {"array count beyond file", one_kv(kArray, array_payload(kU32, 1000, le32(1) + le32(2))), kLoss,
       "value holds 1000 U32 elements of at least 4 bytes, but only 8 bytes remain"},
      {"huge string array", one_kv(kArray, array_payload(kString, kHuge, gstr("a"))), kLoss,
       "holds 1152921504606846976 STRING elements"},
      {"huge array of arrays", one_kv(kArray, array_payload(kArray, kHuge, "")), kLoss,
       "holds 1152921504606846976 ARRAY elements"},
      {"bool array element 2", one_kv(kArray, array_payload(kBool, 3, std::string("\x01\x02\x00", 3))), kLoss,
       "value[1] is a BOOL of byte value 2"},
      {"string element cut short", one_kv(kArray, array_payload(kString, 2, gstr("ok") + le64(50) + "abc")),
       kLoss, "value[1] length is 50, but only 3 bytes remain"},
      {"arrays nested too deep", nested_arrays(kGgufMaxArrayDepth + 1), kLoss,
       "nests arrays deeper than 8 levels"},
      {"alignment 0", base_with({kv_u32("general.alignment", 0)}, {}), kLoss,
       "\"general.alignment\": alignment is 0, expected a non-zero power of two"},
      {"alignment 3", base_with({kv_u32("general.alignment", 3)}, {}), kLoss, "alignment is 3"},
      {"alignment U64", base_with({kv("general.alignment", kU64, le64(32))}, {}), kLoss,
       "value type is U64, expected U32"},
      {"alignment string", base_with({kv_str("general.alignment", "32")}, {}), kLoss,
       "value type is STRING, expected U32"},
      {"tensor name 65 bytes", one_tensor(tensor_info(std::string(65, 'n'), {4}, kF32, 0)), kLoss,
       "tensor 0: name length is 65, expected at most 64"},
      {"tensor name not UTF-8", one_tensor(tensor_info("w\xff", {4}, kF32, 0)), kLoss,
       "name is not valid UTF-8"},
      {"n_dims 5", one_tensor(tensor_info("t", {1, 1, 1, 1, 1}, kF32, 0)), kLoss,
       "tensor 0 \"t\": n_dims is 5"},
      {"dimension above 2^63-1", one_tensor(tensor_info("t", {uint64_t{1} << 63}, kF32, 0)), kLoss,
       "dimension 0 is 9223372036854775808, expected at most 2^63-1"},
      {"element count overflow",
       one_tensor(tensor_info("t", {uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0)), kLoss,
       "dimensions 4294967296x4294967296 hold more than 2^63-1 elements"},
      {"byte size overflow", one_tensor(tensor_info("t", {uint64_t{1} << 62}, kF64, 0)), kLoss,
       "need more than 2^64-1 bytes"},
      {"unknown ggml type", one_tensor(tensor_info("t", {4}, 99, 0)), kLoss,
       "ggml type is 99: not a ggml type"},
      {"removed ggml type 4", one_tensor(tensor_info("t", {32}, 4, 0)), kLoss,
       "ggml type is 4: Q4_2 (removed"},
      {"removed ggml type 31", one_tensor(tensor_info("t", {32}, 31, 0)), kLoss, "Q4_0_4_4 (removed"},
      {"ne0 not a block multiple", one_tensor(tensor_info("t", {33, 2}, kQ4_0, 0)), kLoss,
       "ne0 (dimension 0) is 33, expected a multiple of the Q4_0 block size 32"},
      {"misaligned offset", one_tensor(tensor_info("t", {1}, kF32, 4)), kLoss,
       "offset is 4, expected a multiple of the alignment 32"},
      {"offset beyond file", one_tensor(tensor_info("t", {4}, kF32, 1024)), kLoss,
       "tensor 0 \"t\": offset 1024 + 16 bytes (F32 4) goes past the end of the 64-byte data section"},
      {"tensor overlapping another",
       base_with({}, {tensor_info("a", {8}, kF32, 0), tensor_info("b", {4}, kF32, 0)}), kLoss,
       "overlap tensor"},
      {"overlap out of file order",
       base_with({}, {tensor_info("late", {4}, kF32, 32), tensor_info("early", {16}, kF32, 0)}), kLoss,
       "tensor 0 \"late\": bytes [32, 48) overlap tensor 1 \"early\" at [0, 64)"},
      {"duplicate tensor name",
       base_with({}, {tensor_info("a", {4}, kF32, 0), tensor_info("a", {4}, kF32, 32)}), kLoss,
       "tensor 1 \"a\": duplicate tensor name (first used by tensor 0)"},
      {"data section shorter than declared", b.substr(0, b.size() - 20), kLoss,
       "tensor 1 \"b\": offset 32 + 16 bytes (F32 2x2) goes past the end of the 44-byte data section"},
      {"more key/values than present",
       [] {
         std::string s = file({kArchKv, kv_u32("n", 3)}, {});
         return s.replace(16, 8, le64(3));
       }(),
       kLoss, "key 2: key length needs 8 bytes"},
  };
}

TEST(GgufCorrupt, Catalogue) {
  for (const CorruptCase& c : catalogue()) {
    SCOPED_TRACE(c.name);
    Result<GgufFile> file = GgufFile::parse(c.bytes, "bad.gguf");
    ASSERT_FALSE(file.is_ok());
    EXPECT_EQ(file.status().code(), c.code) << file.status().to_string();
    EXPECT_NE(file.status().message().find("GGUF 'bad.gguf': "), std::string::npos)
        << file.status().message();
    EXPECT_NE(file.status().message().find(c.message), std::string::npos) << file.status().message();
  }
}

// Values the reader accepts although they look odd: a zero dimension, a scalar (n_dims 0), an array nested
// exactly to the limit, a big alignment, a tensor-less file without trailing padding.
TEST(GgufCorrupt, EdgesThatAreValid) {
  EXPECT_TRUE(GgufFile::parse(base(), "ok.gguf").is_ok());
  EXPECT_TRUE(GgufFile::parse(nested_arrays(kGgufMaxArrayDepth), "ok.gguf").is_ok());
  EXPECT_TRUE(GgufFile::parse(one_tensor(tensor_info("t", {0, 5}, kF32, 64)), "ok.gguf").is_ok());
  EXPECT_TRUE(GgufFile::parse(one_tensor(tensor_info("t", {}, kF32, 32)), "ok.gguf").is_ok());
  std::string big_align =
      header(3, 1, 1) + kv_u32("general.alignment", 1u << 31) + tensor_info("t", {0}, kF32, 0);
  EXPECT_FALSE(GgufFile::parse(big_align, "big.gguf").is_ok());  // the padding is not in the file
  EXPECT_TRUE(GgufFile::parse(file({kv_u32("general.alignment", 1u << 31)}, {}), "ok.gguf").is_ok());
}

// Cuts at each section boundary of the base file name the section and the field that ran out.
TEST(GgufCorrupt, TruncatedAtSectionBoundaries) {
  const std::string b = base();
  const size_t kv0 = 24 + kArchKv.size(), kv1 = kv0 + kv_u32("nn", 3).size();
  const size_t info0 = kv1 + tensor_info("a", {4}, kF32, 0).size();
  const size_t info1 = info0 + tensor_info("b", {2, 2}, kF32, 32).size();
  const size_t data = (info1 + 31) / 32 * 32;
  ASSERT_NE(info1, data);  // the base file has padding before its data section
  const std::pair<size_t, const char*> cuts[] = {
      {0, "header: file is 0 bytes"},
      {4, "header: version needs 4 bytes at offset 4"},
      {8, "header: n_tensors needs 8 bytes"},
      {16, "header: n_kv needs 8 bytes"},
      {24, "header: n_kv is 2, but the 0 bytes after the header"},
      {kv0, "key 1: key length needs 8 bytes"},
      {kv1, "n_tensors is 2, but the 0 bytes after the metadata"},
      {info0, "n_tensors is 2"},
      {info1, "data section: padding to the alignment 32 ends at byte"},
      {data, "tensor 0 \"a\": offset 0 + 16 bytes"},
      {data + 40, "tensor 1 \"b\": offset 32 + 16 bytes"},
  };
  for (const auto& [cut, message] : cuts) {
    SCOPED_TRACE(cut);
    Result<GgufFile> file = GgufFile::parse(b.substr(0, cut), "cut.gguf");
    ASSERT_FALSE(file.is_ok());
    EXPECT_EQ(file.status().code(), Code::kDataLoss);
    EXPECT_NE(file.status().message().find(message), std::string::npos) << file.status().message();
  }
  EXPECT_TRUE(GgufFile::parse(b.substr(0, data + 48), "cut.gguf").is_ok());  // the last padding is optional
}

// Every prefix of a valid file fails cleanly, unless it still holds every tensor's bytes.
void expect_prefixes_fail_cleanly(const std::string& bytes) {
  GgufFile whole = GgufFile::parse(bytes, "whole.gguf").value();
  uint64_t needed = whole.data_offset();
  for (const GgufTensor& t : whole.tensors())
    needed = std::max(needed, whole.data_offset() + t.offset + t.n_bytes);
  if (whole.tensors().empty()) needed = bytes.size();
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<GgufFile> file = GgufFile::parse(bytes.substr(0, n), "cut.gguf");
    if (n >= needed) {
      EXPECT_TRUE(file.is_ok()) << n << ": " << file.status().message();
    } else {
      ASSERT_FALSE(file.is_ok()) << n;
      EXPECT_EQ(file.status().code(), Code::kDataLoss) << n << ": " << file.status().message();
      EXPECT_EQ(file.status().message().rfind("GGUF 'cut.gguf': ", 0), 0u) << file.status().message();
    }
  }
}

TEST(GgufCorrupt, TruncatedAtEveryByte) {
  expect_prefixes_fail_cleanly(base());
  std::ifstream in(std::string(LMAAS_SOURCE_DIR) + "/tests/fuzz/corpus/gguf/every_type_v3.gguf",
                   std::ios::binary);
  std::string corpus((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(corpus.size(), 500u);
  expect_prefixes_fail_cleanly(corpus);
}

// Flipping any byte of the base file either still parses or fails with a message; never crashes.
TEST(GgufCorrupt, ByteFlipsNeverCrash) {
  const std::string b = base();
  for (size_t i = 0; i < b.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string mutated = b;
      mutated[i] = static_cast<char>(static_cast<uint8_t>(mutated[i]) ^ mask);
      Result<GgufFile> file = GgufFile::parse(mutated, "flip.gguf");
      if (file.is_ok()) continue;
      EXPECT_TRUE(file.status().code() == Code::kDataLoss || file.status().code() == Code::kUnimplemented);
      EXPECT_EQ(file.status().message().rfind("GGUF 'flip.gguf': ", 0), 0u);
    }
  }
}

}  // namespace
}  // namespace lmaas
