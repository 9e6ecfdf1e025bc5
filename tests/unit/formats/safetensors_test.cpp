// Tests of the safetensors reader/writer: round trips, a hand-built file (bytes written here, independent of
// our writer), the committed fixtures written by tests/tools/gen_golden.py (an independent Python writer),
// a named catalogue of corrupt files, every truncation and every byte flip of a valid file, writer misuse,
// and atomic writes. Corrupt inputs must come back as a Status naming the offending thing, never a crash.
#include "formats/safetensors.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file_util.h"

namespace lmaas {
namespace {

namespace fs = std::filesystem;

// ---- byte builders (independent of the writer) ----

std::string le64(uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

std::string make_file(std::string_view header, std::string_view buffer) {
  return le64(header.size()) + std::string(header) + std::string(buffer);
}

template <typename T>
std::string raw_bytes(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

std::string tensor_bytes(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.nbytes());
}

// A fresh directory under the test temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::path(::testing::TempDir()) / "lmaas_formats_XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    return names;
  }

 private:
  std::string path_;
};

TensorMap sample_map() {
  TensorMap map;
  map.metadata = {{"format", "pt"}, {"note", "h\xC3\xA9llo"}, {"", "empty key"}};
  auto add = [&map](std::string name, Tensor t) { map.tensors.emplace_back(std::move(name), std::move(t)); };
  add("u8", Tensor::from_vector<uint8_t>({1, 2, 255}, {3}));
  add("f32.matrix", Tensor::from_vector<float>({1.5f, -2.0f, 0.25f, 3.0f, 1e-30f, -0.0f}, {2, 3}));
  add("f64.scalar", Tensor::from_vector<double>({3.141592653589793}, {}));
  add("i32", Tensor::from_vector<int32_t>({-1, 0, std::numeric_limits<int32_t>::max(), 7}, {4}));
  add("i64", Tensor::from_vector<int64_t>({std::numeric_limits<int64_t>::min(), 42}, {2, 1}));
  add("bf16", Tensor::from_vector<float>({1.0f, -2.5f, 0.125f}, {3}).to(DType::kBF16));
  add("empty", Tensor::zeros({0}));
  add("empty.3d", Tensor::zeros({3, 0, 2}, DType::kI64));
  add("transposed", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose(0, 1));
  Tensor big = Tensor::empty({17, 33});
  for (int64_t i = 0; i < big.numel(); ++i) big.data<float>()[i] = static_cast<float>(i) * 0.5f - 7.0f;
  add("big", big);
  return map;
}

void expect_same_maps(const TensorMap& expected, const TensorMap& actual) {
  EXPECT_EQ(actual.metadata, expected.metadata);
  ASSERT_EQ(actual.tensors.size(), expected.tensors.size());
  for (size_t i = 0; i < expected.tensors.size(); ++i) {
    const auto& [name, want] = expected.tensors[i];
    const auto& [got_name, got] = actual.tensors[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(got_name, name);  // insertion order survives
    EXPECT_EQ(got.dtype(), want.dtype());
    EXPECT_EQ(got.shape(), want.shape());
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got.raw_data()) % Storage::kAlignment, 0u);
    EXPECT_EQ(tensor_bytes(got), tensor_bytes(want));
  }
}

// ---- round trips ----

TEST(SafetensorsRoundTrip, InMemoryKeepsDtypesShapesValuesOrderAndMetadata) {
  TensorMap map = sample_map();
  Result<TensorMap> back = parse_safetensors(serialize_safetensors(map), "memory");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  expect_same_maps(map, back.value());
  EXPECT_EQ(back->find("transposed")->to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(back->find("f64.scalar")->dim(), 0);
  EXPECT_EQ(back->find("empty.3d")->numel(), 0);
  EXPECT_EQ(back->find("missing"), nullptr);
}

TEST(SafetensorsRoundTrip, ThroughAFile) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string path = dir.path() + "/model.safetensors";
  TensorMap map = sample_map();
  ASSERT_TRUE(write_safetensors(path, map).is_ok());
  Result<TensorMap> back = read_safetensors(path);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  expect_same_maps(map, back.value());
}

TEST(SafetensorsRoundTrip, EmptyMapIsAValidFile) {
  std::string bytes = serialize_safetensors(TensorMap{});
  Result<TensorMap> back = parse_safetensors(bytes, "empty");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(back->tensors.empty());
  EXPECT_TRUE(back->metadata.empty());
}

TEST(SafetensorsWriter, PadsHeaderAndAlignsEveryTensorToItsElementSize) {
  TensorMap map = sample_map();
  std::string bytes = serialize_safetensors(map);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  std::string header = bytes.substr(8, n);
  size_t json_end = header.find_last_not_of(' ') + 1;  // only spaces pad, and fewer than 8 of them
  EXPECT_EQ(header[json_end - 1], '}');
  EXPECT_LT(header.size() - json_end, 8u);
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(header);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) {
    keys.push_back(key);
    if (key == "__metadata__") continue;
    uint64_t begin = value["data_offsets"][0].get<uint64_t>();
    EXPECT_EQ(begin % dtype_size(map.find(key)->dtype()), 0u) << key;
  }
  std::vector<std::string> expected = {"__metadata__"};
  for (const auto& [name, t] : map.tensors) expected.push_back(name);
  EXPECT_EQ(keys, expected);
}

// ---- a file built byte by byte ----

TEST(SafetensorsHandBuilt, ParsesKnownBytesToKnownValues) {
  std::string header = R"({"__metadata__":{"k":"v"},)"
                       R"("b":{"dtype":"I32","shape":[2],"data_offsets":[12,20]},)"
                       R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                       R"("c":{"dtype":"BF16","shape":[1,2],"data_offsets":[20,24]},)"
                       R"("d":{"dtype":"U8","shape":[],"data_offsets":[24,25]},)"
                       R"("e":{"dtype":"F64","shape":[0],"data_offsets":[25,25]}}   )";
  std::string buffer = raw_bytes<float>({1.5f, -2.0f, 0.25f}) + raw_bytes<int32_t>({7, -9}) +
                       std::string("\x80\x3f\x00\xc0", 4) /* bf16 1.0, -2.0 */ + std::string("\xfe", 1);
  Result<TensorMap> map = parse_safetensors(make_file(header, buffer), "hand.safetensors");
  ASSERT_TRUE(map.is_ok()) << map.status().to_string();
  EXPECT_EQ(map->metadata, (std::map<std::string, std::string>{{"k", "v"}}));
  ASSERT_EQ(map->tensors.size(), 5u);
  EXPECT_EQ(map->tensors[0].first, "b");  // header order, not offset order
  EXPECT_EQ(map->tensors[1].first, "a");
  EXPECT_EQ(map->find("a")->to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 0.25f}));
  EXPECT_EQ(map->find("b")->dtype(), DType::kI32);
  EXPECT_EQ(map->find("b")->to_vector<int32_t>(), (std::vector<int32_t>{7, -9}));
  EXPECT_EQ(map->find("c")->shape(), (Shape{1, 2}));
  EXPECT_EQ(map->find("c")->to_vector<float>(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(map->find("d")->dim(), 0);
  EXPECT_EQ(map->find("d")->item(), 254.0);
  EXPECT_EQ(map->find("e")->numel(), 0);
  EXPECT_EQ(map->find("e")->dtype(), DType::kF64);
}

TEST(SafetensorsHandBuilt, IgnoresUnknownEntryFieldsAndAcceptsEmptyHeader) {
  std::string header = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":[1,2]}})";
  Result<TensorMap> map = parse_safetensors(make_file(header, "\x05"), "extra");
  ASSERT_TRUE(map.is_ok()) << map.status().to_string();
  EXPECT_EQ(map->find("w")->item(), 5.0);
  EXPECT_TRUE(parse_safetensors(make_file("{}", ""), "empty").is_ok());
}

// Files written by an independent writer (tests/tools/gen_golden.py, struct + json) must load.
TEST(SafetensorsFixtures, EveryCommittedFixtureLoads) {
  std::error_code ec;
  int n_files = 0;
  for (const auto& entry : fs::directory_iterator(LMAAS_FIXTURES_DIR, ec)) {
    if (entry.path().extension() != ".safetensors") continue;
    ++n_files;
    Result<TensorMap> map = read_safetensors(entry.path().string());
    EXPECT_TRUE(map.is_ok()) << map.status().to_string();
    if (map.is_ok()) {
      EXPECT_FALSE(map->tensors.empty()) << entry.path();
    }
  }
  if (n_files == 0) GTEST_SKIP() << "no fixtures in " << LMAAS_FIXTURES_DIR;
}

// ---- the catalogue of corrupt files ----

struct CorruptCase {
  std::string name;
  std::string bytes;
  Code code;
  std::vector<std::string> mentions;  // substrings the message must contain
};
void PrintTo(const CorruptCase& c, std::ostream* os) { *os << c.name; }

// A header with one F32 tensor "w" whose entry is `entry` (an object body or any JSON), over `buffer`.
std::string one_tensor(std::string_view entry, std::string_view buffer = std::string(8, '\0')) {
  return make_file(std::string(R"({"w":)") + std::string(entry) + "}", buffer);
}
std::string w_entry(std::string_view dtype, std::string_view shape, std::string_view offsets) {
  return std::string(R"({"dtype":)") + std::string(dtype) + R"(,"shape":)" + std::string(shape) +
         R"(,"data_offsets":)" + std::string(offsets) + "}";
}
std::string two_tensors(std::string_view v_offsets, size_t buffer_bytes) {
  return make_file(std::string(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)") +
                       R"("v":{"dtype":"I32","shape":[1],"data_offsets":)" + std::string(v_offsets) + "}}",
                   std::string(buffer_bytes, '\0'));
}

// Defects of the length prefix, the header as a whole, the metadata and the set of names.
std::vector<CorruptCase> file_level_cases() {
  const Code kLoss = Code::kDataLoss;
  std::string deep = std::string(R"({"w":)") + std::string(1000, '[') + std::string(1000, ']') + "}";
  std::string valid_w = w_entry(R"("F32")", "[2]", "[0,8]");
  // clang-format off
  return {
      {"empty_file", "", kLoss, {"0 bytes", "8-byte"}},
      {"shorter_than_prefix", "abc", kLoss, {"3 bytes", "8-byte"}},
      {"header_length_beyond_file", le64(100) + "{}", kLoss, {"100 bytes", "2 bytes follow", "truncated"}},
      {"header_length_over_limit", le64(200'000'000) + "{}", kLoss, {"200000000", "limit"}},
      {"header_length_max_u64", le64(std::numeric_limits<uint64_t>::max()), kLoss, {"18446744073709551615"}},
      {"header_empty", le64(0), kLoss, {"not valid JSON"}},
      {"header_not_json", make_file(R"({"w":)", ""), kLoss, {"not valid JSON"}},
      {"header_not_object", make_file("[1,2]", ""), kLoss, {"header is an array"}},
      {"header_invalid_utf8", make_file("{\"w\xff\":{}}", ""), kLoss, {"not valid JSON", "UTF-8"}},
      {"header_nan_literal", one_tensor(w_entry(R"("F32")", "[NaN]", "[0,8]")), kLoss, {"not valid JSON"}},
      {"header_too_deep", make_file(deep, ""), kLoss, {"deeper than"}},
      {"duplicate_tensor_names", make_file(R"({"w":)" + valid_w + R"(,"w":)" + valid_w + "}", std::string(8, '\0')), kLoss, {"duplicate tensor name \"w\""}},
      {"metadata_not_object", make_file(R"({"__metadata__":[1]})", ""), kLoss, {"__metadata__", "an array"}},
      {"metadata_null", make_file(R"({"__metadata__":null})", ""), kLoss, {"__metadata__", "null"}},
      {"metadata_value_not_string", make_file(R"({"__metadata__":{"epoch":3}})", ""), kLoss, {"__metadata__", "\"epoch\"", "an integer (3)"}},
  };
  // clang-format on
}

// Defects inside one tensor's entry: dtype, shape, data_offsets.
std::vector<CorruptCase> entry_cases() {
  const Code kLoss = Code::kDataLoss;
  // clang-format off
  return {
      {"entry_not_object", one_tensor("5"), kLoss, {"\"w\"", "entry is an integer (5)"}},
      {"missing_dtype", one_tensor(R"({"shape":[2],"data_offsets":[0,8]})"), kLoss, {"\"w\"", "missing field \"dtype\""}},
      {"dtype_not_string", one_tensor(w_entry("32", "[2]", "[0,8]")), kLoss, {"\"w\"", "\"dtype\"", "32"}},
      {"dtype_unknown", one_tensor(w_entry(R"("F33")", "[2]", "[0,8]")), kLoss, {"\"w\"", "\"F33\""}},
      {"dtype_unsupported_f16", one_tensor(w_entry(R"("F16")", "[4]", "[0,8]")), Code::kUnimplemented, {"\"w\"", "\"F16\"", "does not support"}},
      {"dtype_unsupported_bool", one_tensor(w_entry(R"("BOOL")", "[8]", "[0,8]")), Code::kUnimplemented, {"BOOL"}},
      {"missing_shape", one_tensor(R"({"dtype":"F32","data_offsets":[0,8]})"), kLoss, {"\"w\"", "missing field \"shape\""}},
      {"shape_not_array", one_tensor(w_entry(R"("F32")", R"("2")", "[0,8]")), kLoss, {"\"shape\"", "a string", "\"2\""}},
      {"shape_negative_dim", one_tensor(w_entry(R"("F32")", "[2,-1]", "[0,8]")), kLoss, {"\"w\"", "dimension 1", "-1"}},
      {"shape_fractional_dim", one_tensor(w_entry(R"("F32")", "[2.5]", "[0,8]")), kLoss, {"dimension 0", "2.5"}},
      {"shape_bool_dim", one_tensor(w_entry(R"("F32")", "[true]", "[0,8]")), kLoss, {"dimension 0", "true"}},
      {"shape_dim_over_int64", one_tensor(w_entry(R"("F32")", "[18446744073709551615]", "[0,8]")), kLoss, {"18446744073709551615"}},
      {"shape_product_overflow", one_tensor(w_entry(R"("F32")", "[4294967296,4294967296]", "[0,8]")), kLoss, {"[4294967296,4294967296]", "64 bits"}},
      {"shape_bytes_overflow", one_tensor(w_entry(R"("F32")", "[4611686018427387904]", "[0,8]")), kLoss, {"4611686018427387904", "64 bits"}},
      {"missing_data_offsets", one_tensor(R"({"dtype":"F32","shape":[2]})"), kLoss, {"\"w\"", "missing field \"data_offsets\""}},
      {"offsets_one_number", one_tensor(w_entry(R"("F32")", "[2]", "[0]")), kLoss, {"\"data_offsets\"", "[0]"}},
      {"offsets_three_numbers", one_tensor(w_entry(R"("F32")", "[2]", "[0,4,8]")), kLoss, {"[0,4,8]"}},
      {"offsets_negative", one_tensor(w_entry(R"("F32")", "[2]", "[-4,4]")), kLoss, {"\"data_offsets\"", "[-4,4]"}},
      {"offsets_strings", one_tensor(w_entry(R"("F32")", "[2]", R"(["0","8"])")), kLoss, {"[\"0\",\"8\"]"}},
      {"offsets_begin_after_end", one_tensor(w_entry(R"("F32")", "[2]", "[8,0]")), kLoss, {"[8, 0]", "begin is after end"}},
      {"offsets_end_beyond_buffer", one_tensor(w_entry(R"("F32")", "[200]", "[0,800]")), kLoss, {"\"w\"", "[0, 800]", "beyond the 8-byte"}},
      {"byte_length_mismatch", one_tensor(w_entry(R"("F32")", "[3]", "[0,8]")), kLoss, {"\"w\"", "spans 8 bytes", "[3]", "needs 12"}},
      {"duplicate_entry_field", one_tensor(R"({"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]})"), kLoss, {"\"w\"", "duplicate field \"dtype\""}},
  };
  // clang-format on
}

// Entries that are each fine but do not tile the buffer exactly.
std::vector<CorruptCase> layout_cases() {
  const Code kLoss = Code::kDataLoss;
  std::string valid_w = w_entry(R"("F32")", "[2]", "[0,8]");
  // clang-format off
  return {
      {"overlapping_tensors", two_tensors("[4,8]", 8), kLoss, {"\"v\"", "\"w\"", "overlap", "[4, 8]"}},
      {"gap_between_tensors", two_tensors("[12,16]", 16), kLoss, {"\"v\"", "unused", "[8, 12)"}},
      {"gap_at_start", one_tensor(w_entry(R"("F32")", "[2]", "[4,12]"), std::string(12, '\0')), kLoss, {"\"w\"", "[0, 4)"}},
      {"trailing_bytes", one_tensor(valid_w, std::string(12, '\0')), kLoss, {"cover 8 bytes", "holds 12", "trailing"}},
      {"buffer_without_tensors", make_file("{}", "abcd"), kLoss, {"cover 0 bytes", "holds 4"}},
  };
  // clang-format on
}

std::vector<CorruptCase> corrupt_cases() {
  std::vector<CorruptCase> cases = file_level_cases();
  for (auto more : {entry_cases(), layout_cases()}) cases.insert(cases.end(), more.begin(), more.end());
  return cases;
}

class SafetensorsCorrupt : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(SafetensorsCorrupt, IsRejectedWithAMessageNamingTheProblem) {
  const CorruptCase& c = GetParam();
  std::string source = "corrupt/" + c.name + ".safetensors";
  Result<TensorMap> map = parse_safetensors(c.bytes, source);
  ASSERT_FALSE(map.is_ok());
  EXPECT_EQ(map.status().code(), c.code) << map.status().to_string();
  EXPECT_NE(map.status().message().find(source), std::string::npos) << map.status().message();
  // Messages end up in JSON error bodies: they must be valid UTF-8 even when the input is not.
  EXPECT_NO_THROW((void)nlohmann::json(map.status().message()).dump()) << map.status().message();
  for (const std::string& s : c.mentions) {
    EXPECT_NE(map.status().message().find(s), std::string::npos)
        << "message does not mention '" << s << "': " << map.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, SafetensorsCorrupt, ::testing::ValuesIn(corrupt_cases()),
                         [](const ::testing::TestParamInfo<CorruptCase>& param) { return param.param.name; });

TEST(SafetensorsCorruptCatalogue, HasManyDistinctCases) {
  std::set<std::string> names;
  for (const CorruptCase& c : corrupt_cases()) names.insert(c.name);
  EXPECT_GE(names.size(), 15u);
  EXPECT_EQ(names.size(), corrupt_cases().size());
}

// ---- every truncation, every byte flip ----

std::string small_valid_file() {
  TensorMap map;
  map.metadata = {{"k", "v"}};
  map.tensors.emplace_back("a", Tensor::from_vector<float>({1, 2, 3}, {3}));
  map.tensors.emplace_back("b", Tensor::from_vector<uint8_t>({9}, {}));
  map.tensors.emplace_back("c", Tensor::from_vector<int64_t>({5, 6}, {1, 2}));
  return serialize_safetensors(map);
}

TEST(SafetensorsTruncation, EveryProperPrefixOfAValidFileIsRejected) {
  std::string bytes = small_valid_file();
  ASSERT_TRUE(parse_safetensors(bytes, "whole").is_ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<TensorMap> map = parse_safetensors(std::string_view(bytes).substr(0, n), "prefix");
    EXPECT_FALSE(map.is_ok()) << "prefix of " << n << " of " << bytes.size() << " bytes was accepted";
    if (!map.is_ok()) {
      EXPECT_EQ(map.status().code(), Code::kDataLoss) << map.status().to_string();
    }
  }
}

TEST(SafetensorsTruncation, EveryByteFlipIsHandledWithoutCrashing) {
  std::string bytes = small_valid_file();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0xff}, uint8_t{0x01}, uint8_t{0x20}}) {
      std::string mutated = bytes;
      mutated[i] = static_cast<char>(static_cast<uint8_t>(mutated[i]) ^ mask);
      Result<TensorMap> map = parse_safetensors(mutated, "flipped");
      if (!map.is_ok()) {
        EXPECT_FALSE(map.status().message().empty());
        continue;
      }
      size_t n_bytes = 0;  // an accepted mutant must still describe the whole buffer
      for (const auto& [name, t] : map->tensors) n_bytes += t.nbytes();
      uint64_t n_header = 0;
      std::memcpy(&n_header, mutated.data(), 8);
      EXPECT_EQ(n_bytes, mutated.size() - 8 - n_header) << "flip at byte " << i;
    }
  }
}

// ---- the writer's contract ----

TEST(SafetensorsWriter, RejectsInvalidMapsWithoutCreatingTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/bad.safetensors";
  Tensor t = Tensor::zeros({2});
  std::vector<std::pair<std::string, TensorMap>> bad(4);
  bad[0] = {"duplicate tensor name", TensorMap{{{"x", t}, {"x", t}}, {}}};
  bad[1] = {"reserved", TensorMap{{{"__metadata__", t}}, {}}};
  bad[2] = {"undefined", TensorMap{{{"x", Tensor()}}, {}}};
  bad[3] = {"not valid UTF-8", TensorMap{{{"x\xff", t}}, {}}};
  for (const auto& [why, map] : bad) {
    Status status = write_safetensors(path, map);
    EXPECT_FALSE(status.is_ok()) << why;
    EXPECT_EQ(status.code(), Code::kInvalidArgument);
    EXPECT_NE(status.message().find(why), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
    EXPECT_THROW(serialize_safetensors(map), Error) << why;
  }
  TensorMap bad_meta;
  bad_meta.metadata["k"] = "\xc3";
  EXPECT_FALSE(write_safetensors(path, bad_meta).is_ok());
  EXPECT_TRUE(dir.entries().empty());
}

TEST(SafetensorsWriter, AtomicWriteLeavesOnlyTheTargetFile) {
  TempDir dir;
  std::string path = dir.path() + "/model.safetensors";
  ASSERT_TRUE(write_safetensors(path, sample_map()).is_ok());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
  TensorMap smaller;  // overwriting replaces the whole content, still leaving no temp file
  smaller.tensors.emplace_back("only", Tensor::full({2}, 3.0));
  ASSERT_TRUE(write_safetensors(path, smaller).is_ok());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
  Result<TensorMap> back = read_safetensors(path);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_EQ(back->tensors.size(), 1u);
  EXPECT_EQ(back->find("only")->to_vector<float>(), (std::vector<float>{3.0f, 3.0f}));
}

TEST(SafetensorsWriter, FailsCleanlyWhenTheDirectoryIsMissing) {
  TempDir dir;
  std::string path = dir.path() + "/no/such/dir/model.safetensors";
  Status status = write_safetensors(path, sample_map());
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("no/such/dir"), std::string::npos) << status.message();
}

TEST(SafetensorsReader, MissingFileIsNotFoundAndNamesThePath) {
  TempDir dir;
  std::string path = dir.path() + "/absent.safetensors";
  Result<TensorMap> map = read_safetensors(path);
  ASSERT_FALSE(map.is_ok());
  EXPECT_EQ(map.status().code(), Code::kNotFound);
  EXPECT_NE(map.status().message().find(path), std::string::npos);
}

TEST(SafetensorsReader, CorruptFileOnDiskNamesThePath) {
  TempDir dir;
  std::string path = dir.path() + "/short.safetensors";
  ASSERT_TRUE(write_file_atomic(path, "abc").is_ok());
  Result<TensorMap> map = read_safetensors(path);
  ASSERT_FALSE(map.is_ok());
  EXPECT_EQ(map.status().code(), Code::kDataLoss);
  EXPECT_NE(map.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace lmaas

namespace lmaas {
namespace {

// index_safetensors: every whole-byte dtype, views into the caller's bytes, the same validation.
TEST(SafetensorsIndex, ViewsEveryWholeByteDtypeWithoutCopying) {
  const std::string file = make_file(
      R"({"__metadata__":{"k":"v"},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"BOOL","shape":[4],"data_offsets":[4,8]}})",
      std::string("\x00\x3c\x00\xc0\x01\x00\x01\x00", 8));
  Result<SafetensorsIndex> index = index_safetensors(file, "mixed");
  ASSERT_TRUE(index.is_ok()) << index.status().message();
  ASSERT_EQ(index.value().tensors.size(), 2u);
  const SafetensorsEntry* h = index.value().find("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->dtype, "F16");
  EXPECT_EQ(h->shape, std::vector<int64_t>{2});
  EXPECT_EQ(h->bytes.data(), file.data() + file.size() - 8);  // a view, not a copy
  EXPECT_EQ(h->bytes, std::string("\x00\x3c\x00\xc0", 4));     // 1.0, -2.0 in half precision
  EXPECT_EQ(index.value().find("b")->bytes.size(), 4u);
  EXPECT_EQ(index.value().metadata.at("k"), "v");
  EXPECT_EQ(index.value().find("absent"), nullptr);
}

TEST(SafetensorsIndex, RejectsWhatTheReaderRejectsAndSubByteTypes) {
  for (const CorruptCase& c : corrupt_cases()) {
    if (c.code == Code::kUnimplemented) continue;  // F16 and BOOL are fine here
    Result<SafetensorsIndex> index = index_safetensors(c.bytes, c.name);
    EXPECT_FALSE(index.is_ok()) << c.name;
  }
  Result<SafetensorsIndex> f4 = index_safetensors(one_tensor(w_entry(R"("F4")", "[16]", "[0,8]")), "f4");
  ASSERT_FALSE(f4.is_ok());
  EXPECT_EQ(f4.status().code(), Code::kUnimplemented);
  EXPECT_NE(f4.status().message().find("F4"), std::string::npos) << f4.status().message();
}

}  // namespace
}  // namespace lmaas
