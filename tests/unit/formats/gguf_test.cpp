// Tests of the GGUF reader and writer that read valid files: the llama.cpp vocabulary files (facts
// established with the independent parser tests/tools/gguf_facts.py), the seed corpus written by the
// independent Python writer tests/fuzz/gen_gguf_corpus.py, a hand-built file, writer -> reader round
// trips of every value type and many tensor types and alignments, the typed getters, writer misuse, and
// MappedFile. Corrupt files are in gguf_corrupt_test.cpp.
#include "formats/gguf.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "base/file_util.h"
#include "base/mapped_file.h"
#include "formats/gguf_writer.h"
#include "unit/formats/gguf_test_bytes.h"

namespace lmaas {
namespace {

namespace fs = std::filesystem;
using namespace gguf_test;  // NOLINT

const std::string kVocabDir = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/tokenizer-vectors/llama.cpp/";
const std::string kCorpusDir = std::string(LMAAS_SOURCE_DIR) + "/tests/fuzz/corpus/gguf/";

GgufFile open_ok(const std::string& path) {
  Result<GgufFile> file = GgufFile::open(path);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return std::move(file).value();
}

GgufFile parse_ok(std::string bytes) {
  Result<GgufFile> file = GgufFile::parse(std::move(bytes), "test.gguf");
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return std::move(file).value();
}

std::string serialize_ok(const GgufWriter& writer) {
  Result<std::string> bytes = writer.serialize();
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  return bytes.is_ok() ? bytes.value() : std::string();
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// ---- the llama.cpp vocabulary files ----

struct VocabFacts {
  const char* file;
  uint64_t n_kv;
  const char* architecture;
  const char* model;
  uint64_t n_tokens;
  const char* first_token;
  const char* last_token;
  int64_t bos_id;  // -1: no tokenizer.ggml.bos_token_id key
};

// From `/usr/bin/python3 tests/tools/gguf_facts.py ../shared/data/tokenizer-vectors/llama.cpp/*.gguf`: all
// are version 3 with no tensors, and bos ids are U32. Tokens are UTF-8 ("\xef\xbd\x9e" is U+FF5E).
constexpr VocabFacts kVocabFacts[] = {
    {"ggml-vocab-bert-bge.gguf", 20, "bert", "bert", 30522, "[PAD]", "\xef\xbd\x9e", -1},
    {"ggml-vocab-deepseek-coder.gguf", 25, "llama", "gpt2", 32256, "!", "[PAD32255]", 32013},
    {"ggml-vocab-deepseek-llm.gguf", 23, "llama", "gpt2", 102400, "!", "[PAD102399]", 100000},
    {"ggml-vocab-falcon.gguf", 18, "falcon", "gpt2", 65024, ">>TITLE<<", "\xc4\xa0victoria", 11},
    {"ggml-vocab-gpt-2.gguf", 16, "gpt2", "gpt2", 50257, "!", "<|endoftext|>", 50256},
    {"ggml-vocab-llama-spm.gguf", 22, "llama", "llama", 32000, "<unk>", "\xe7\xbb\x99", 1},
    {"ggml-vocab-mpt.gguf", 17, "mpt", "gpt2", 50432, "<|endoftext|>", "[PAD50431]", 0},
    {"ggml-vocab-phi-3.gguf", 26, "phi3", "llama", 32064, "<unk>", "[PAD32063]", 1},
    {"ggml-vocab-refact.gguf", 18, "refact", "gpt2", 49216, "<|endoftext|>", "[PAD49215]", 0},
    {"ggml-vocab-starcoder.gguf", 19, "starcoder2", "gpt2", 49152, "<|endoftext|>", "sdb", 0},
};

TEST(GgufVocabFiles, MatchFactsFromAnIndependentParser) {
  for (const VocabFacts& facts : kVocabFacts) {
    SCOPED_TRACE(facts.file);
    GgufFile file = open_ok(kVocabDir + facts.file);
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.metadata().size(), facts.n_kv);
    EXPECT_TRUE(file.tensors().empty());
    EXPECT_EQ(file.alignment(), 32u);
    EXPECT_EQ(file.get_string("general.architecture").value(), facts.architecture);
    EXPECT_EQ(file.get_string("tokenizer.ggml.model").value(), facts.model);
    EXPECT_EQ(file.get_array_size("tokenizer.ggml.tokens").value(), facts.n_tokens);
    std::vector<std::string_view> tokens = file.get_string_array("tokenizer.ggml.tokens").value();
    ASSERT_EQ(tokens.size(), facts.n_tokens);
    EXPECT_EQ(tokens.front(), facts.first_token);
    EXPECT_EQ(tokens.back(), facts.last_token);
    EXPECT_EQ(file.get_i32_array("tokenizer.ggml.token_type").value().size(), facts.n_tokens);
    if (facts.bos_id < 0) {
      EXPECT_EQ(file.find("tokenizer.ggml.bos_token_id"), nullptr);
      EXPECT_EQ(file.get_u32_or("tokenizer.ggml.bos_token_id", 7).value(), 7u);
    } else {
      EXPECT_EQ(file.get_u32("tokenizer.ggml.bos_token_id").value(), static_cast<uint32_t>(facts.bos_id));
    }
  }
}

// Writing a read file's metadata back in the same order must reproduce the file byte for byte (these
// files have no tensors, hence no padding): the writer's encoding agrees with the writer of llama.cpp.
TEST(GgufVocabFiles, RewritingTheMetadataReproducesTheBytes) {
  for (const char* name :
       {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-bert-bge.gguf"}) {
    SCOPED_TRACE(name);
    GgufFile file = open_ok(kVocabDir + name);
    GgufWriter writer;
    for (const GgufKeyValue& kv : file.metadata()) writer.add_value(kv.key, kv.value);
    std::string bytes = serialize_ok(writer);
    ASSERT_EQ(bytes.size(), file.bytes().size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(file.bytes().data())));
  }
}

TEST(GgufVocabFiles, LlamaScoresAndFlags) {
  GgufFile file = open_ok(kVocabDir + "ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(file.get_f32_array("tokenizer.ggml.scores").value().size(), 32000u);
  EXPECT_TRUE(file.get_bool("tokenizer.ggml.add_bos_token").value());
  EXPECT_FALSE(file.get_bool("tokenizer.ggml.add_eos_token").value());
  EXPECT_EQ(file.get_u32("tokenizer.ggml.eos_token_id").value(), 2u);
}

// ---- files from the independent Python writer ----

TEST(GgufPythonCorpus, EveryValueType) {
  GgufFile file = open_ok(kCorpusDir + "every_type_v3.gguf");
  EXPECT_EQ(file.version(), 3u);
  ASSERT_EQ(file.metadata().size(), 18u);
  EXPECT_EQ(file.metadata()[0].key, "general.architecture");
  EXPECT_EQ(file.get_u32("test.u8").value(), 200u);
  EXPECT_EQ(file.get_i64("test.i8").value(), -100);
  EXPECT_EQ(file.get_u32("test.u16").value(), 60000u);
  EXPECT_EQ(file.get_i32("test.i16").value(), -30000);
  EXPECT_EQ(file.get_u32("test.u32").value(), 4000000000u);
  EXPECT_EQ(file.get_i32("test.i32").value(), -2000000000);
  EXPECT_EQ(file.get_f32("test.f32").value(), 0.5f);
  EXPECT_TRUE(file.get_bool("test.bool").value());
  EXPECT_EQ(file.get_string("test.string").value(), "h\xc3\xa9llo w\xc3\xb6rld");
  EXPECT_EQ(file.get_u64("test.u64").value(), (uint64_t{1} << 63) + 5);
  EXPECT_EQ(file.get_i64("test.i64").value(), -(int64_t{1} << 62));
  EXPECT_EQ(file.get_f64("test.f64").value(), -1.25);
  EXPECT_EQ(file.get_f32("test.f64").value(), -1.25f);
  std::vector<std::string_view> tokens = file.get_string_array("test.tokens").value();
  EXPECT_EQ(tokens, (std::vector<std::string_view>{"<s>", "</s>",
                                                   "\xe2\x96\x81"
                                                   "a",
                                                   ""}));
  EXPECT_EQ(file.get_f32_array("test.scores").value(), (std::vector<float>{0.0f, -1.5f, 2.25f}));
  EXPECT_EQ(file.get_i32_array("test.types").value(), (std::vector<int32_t>{1, 3, 6}));
  const GgufValue* flags = file.find("test.flags");
  ASSERT_NE(flags, nullptr);
  EXPECT_EQ(flags->elem_type, GgufType::kBool);
  EXPECT_EQ(flags->raw, std::string_view("\x01\x00", 2));
  const GgufValue* nested = file.find("test.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->arrays.size(), 3u);
  EXPECT_EQ(nested->arrays[0].elem_type, GgufType::kU8);
  EXPECT_EQ(nested->arrays[0].raw, "\x01\x02");
  EXPECT_EQ(nested->arrays[1].strings, (std::vector<std::string_view>{"x"}));
  ASSERT_EQ(nested->arrays[2].arrays.size(), 1u);
  EXPECT_EQ(nested->arrays[2].arrays[0].elem_type, GgufType::kI64);
  EXPECT_EQ(nested->arrays[2].arrays[0].raw, le64(static_cast<uint64_t>(-7)));

  ASSERT_EQ(file.tensors().size(), 3u);
  const GgufTensor& embd = file.tensors()[0];
  EXPECT_EQ(embd.name, "token_embd.weight");
  EXPECT_EQ(embd.type, GgmlType::kF32);
  EXPECT_EQ(embd.dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(embd.n_elements, 6);
  EXPECT_EQ(embd.n_bytes, 24u);
  EXPECT_EQ(embd.offset, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(embd.data), 8), f32_bytes(1) + f32_bytes(2));
  const GgufTensor* q = file.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type_name, "Q8_0");
  EXPECT_EQ(q->n_bytes, 68u);      // 2 blocks of 34 bytes
  EXPECT_EQ(q->offset, 32u);       // 24 bytes padded to 32
  EXPECT_EQ(q->data[2 + 31], 31);  // after the f16 scale, the 32nd int8 of block 0
  const GgufTensor* norm = file.find_tensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, GgmlType::kI8);
  EXPECT_EQ(norm->offset, 128u);  // 32 + 68 padded to 128
  EXPECT_EQ(norm->data[4], 5);
  EXPECT_EQ(file.data_offset() % 32, 0u);
  EXPECT_EQ(file.data_offset() + 160, file.bytes().size());
}

TEST(GgufPythonCorpus, Alignment64Version2ScalarEmptyAndReordered) {
  GgufFile a = open_ok(kCorpusDir + "align64_v2.gguf");
  EXPECT_EQ(a.version(), 2u);
  EXPECT_EQ(a.alignment(), 64u);
  EXPECT_EQ(a.data_offset() % 64, 0u);
  ASSERT_EQ(a.tensors().size(), 2u);
  EXPECT_EQ(a.tensors()[1].offset, 64u);
  EXPECT_EQ(a.tensors()[1].type, GgmlType::kF16);

  GgufFile m = open_ok(kCorpusDir + "metadata_only.gguf");
  EXPECT_EQ(m.data_offset(), m.bytes().size());
  EXPECT_EQ(m.get_string_array("tokenizer.ggml.tokens").value().size(), 3u);

  GgufFile s = open_ok(kCorpusDir + "scalar_empty_reordered.gguf");
  ASSERT_EQ(s.tensors().size(), 3u);
  const GgufTensor* early = s.find_tensor("early");
  ASSERT_NE(early, nullptr);
  EXPECT_TRUE(early->dims.empty());
  EXPECT_EQ(early->n_elements, 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(early->data), 4), f32_bytes(9));
  EXPECT_EQ(s.find_tensor("late")->offset, 32u);
  EXPECT_EQ(s.find_tensor("empty")->n_elements, 0);
  EXPECT_EQ(s.find_tensor("empty")->n_bytes, 0u);
}

// A file built byte by byte here, with the expected offsets worked out by hand.
TEST(GgufHandBuilt, OffsetsAndValues) {
  std::string info = tensor_info("w", {2}, 0, 0);  // 8 + 1 + 4 + 8 + 4 + 8 = 33 bytes
  std::string bytes = file({kv_u32("a", 7)}, {info}, f32_bytes(1.5f) + f32_bytes(-2.0f));
  // header 24 + kv (8 + 1 + 4 + 4 = 17) + info 33 = 74, padded to 96.
  GgufFile f = parse_ok(bytes);
  EXPECT_EQ(f.data_offset(), 96u);
  EXPECT_EQ(f.get_u32("a").value(), 7u);
  EXPECT_EQ(f.tensors()[0].data, f.bytes().data() + 96);
}

// ---- writer -> reader ----

TEST(GgufRoundTrip, EveryValueTypeAndNestedArrays) {
  GgufWriter w;
  w.add_u8("u8", 255);
  w.add_i8("i8", -128);
  w.add_u16("u16", 65535);
  w.add_i16("i16", -32768);
  w.add_u32("u32", 0xFFFFFFFFu);
  w.add_i32("i32", std::numeric_limits<int32_t>::min());
  w.add_u64("u64", std::numeric_limits<uint64_t>::max());
  w.add_i64("i64", std::numeric_limits<int64_t>::min());
  w.add_f32("f32", -0.0f);
  w.add_f64("f64", 1e300);
  w.add_bool("bool", false);
  w.add_string("string", "\xe4\xbd\xa0\xe5\xa5\xbd");
  w.add_string("empty", "");
  std::vector<float> floats = {1.0f, std::numeric_limits<float>::infinity()};
  std::vector<int64_t> longs = {-1, 1};
  std::vector<uint16_t> shorts = {1, 2, 3};
  std::array<bool, 3> bools = {true, false, true};
  std::vector<std::string> strings = {"a", "", "long string"};
  w.add_array("floats", floats);
  w.add_array("longs", longs);
  w.add_array("shorts", shorts);
  w.add_array("bools", std::span<const bool>(bools));
  w.add_array("strings", strings);
  w.add_array("no_strings", std::span<const std::string>());
  std::vector<uint8_t> inner_bytes = {9, 8};
  GgufValue deep = GgufValue::array<uint8_t>(GgufType::kU8, inner_bytes);
  for (int level = 1; level < kGgufMaxArrayDepth; ++level) deep = GgufValue::array_of_arrays({deep, deep});
  w.add_value("nested", deep);
  GgufFile f = parse_ok(serialize_ok(w));
  ASSERT_EQ(f.metadata().size(), 20u);
  EXPECT_EQ(f.metadata()[0].key, "u8");
  EXPECT_EQ(f.metadata()[19].key, "nested");
  EXPECT_EQ(f.get_u32("u8").value(), 255u);
  EXPECT_EQ(f.get_i32("i8").value(), -128);
  EXPECT_EQ(f.get_u32("u16").value(), 65535u);
  EXPECT_EQ(f.get_i32("i16").value(), -32768);
  EXPECT_EQ(f.get_u32("u32").value(), 0xFFFFFFFFu);
  EXPECT_EQ(f.get_i32("i32").value(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f.get_u64("u64").value(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_i64("i64").value(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(std::signbit(f.get_f32("f32").value()));
  EXPECT_EQ(f.get_f64("f64").value(), 1e300);
  EXPECT_FALSE(f.get_bool("bool").value());
  EXPECT_EQ(f.get_string("string").value(), "\xe4\xbd\xa0\xe5\xa5\xbd");
  EXPECT_EQ(f.get_string("empty").value(), "");
  EXPECT_EQ(f.get_f32_array("floats").value(), floats);
  EXPECT_EQ(f.get_i32_array("longs").value(), (std::vector<int32_t>{-1, 1}));
  EXPECT_EQ(f.get_i32_array("shorts").value(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(f.find("bools")->raw, std::string_view("\x01\x00\x01", 3));
  EXPECT_EQ(f.get_string_array("strings").value(), (std::vector<std::string_view>{"a", "", "long string"}));
  EXPECT_EQ(f.get_array_size("no_strings").value(), 0u);
  const GgufValue* v = f.find("nested");
  for (int level = 1; level < kGgufMaxArrayDepth; ++level) {
    ASSERT_EQ(v->elem_type, GgufType::kArray);
    ASSERT_EQ(v->arrays.size(), 2u);
    v = &v->arrays[1];
  }
  EXPECT_EQ(v->raw, "\x09\x08");
}

// Tensors of every known type, under several alignments: offsets aligned, bytes intact, the file size a
// multiple of the alignment; then the same through write() and the memory-mapped reader.
TEST(GgufRoundTrip, TensorsOfEveryTypeAndAlignment) {
  std::string dir = ::testing::TempDir();
  for (uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
    SCOPED_TRACE(alignment);
    GgufWriter w(alignment);
    w.add_string("general.architecture", "test");
    std::vector<std::string> blobs;
    std::vector<std::vector<int64_t>> shapes;
    for (const GgmlTypeInfo& type : ggml_types()) {
      std::vector<int64_t> dims = {2 * static_cast<int64_t>(type.block_size), 3};
      std::string blob(size_t{6} * type.block_bytes, '\0');  // 2 x 3 blocks
      for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 + type.block_bytes);
      blobs.push_back(blob);
      shapes.push_back(dims);
    }
    size_t i = 0;
    for (const GgmlTypeInfo& type : ggml_types()) {
      w.add_tensor(std::string("t.") + std::string(type.name), type.type, shapes[i], as_bytes(blobs[i]));
      ++i;
    }
    std::string bytes = serialize_ok(w);
    EXPECT_EQ(bytes.size() % alignment, 0u);
    std::string path = dir + "/lmaas_gguf_roundtrip.gguf";
    ASSERT_TRUE(w.write(path).is_ok());
    EXPECT_EQ(read_file(path).value(), bytes);
    for (const GgufFile& f : {parse_ok(bytes), open_ok(path)}) {
      EXPECT_EQ(f.alignment(), alignment);
      EXPECT_EQ(f.find("general.alignment") != nullptr, alignment != 32);
      ASSERT_EQ(f.tensors().size(), ggml_types().size());
      for (size_t k = 0; k < f.tensors().size(); ++k) {
        const GgufTensor& t = f.tensors()[k];
        EXPECT_EQ(t.type, ggml_types()[k].type);
        EXPECT_EQ(t.dims, shapes[k]);
        EXPECT_EQ(t.offset % alignment, 0u);
        EXPECT_EQ((f.data_offset() + t.offset) % alignment, 0u);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data), t.n_bytes), blobs[k]);
      }
    }
    fs::remove(path);
  }
}

TEST(GgmlTypes, TableMatchesGgml) {
  // Hand-checked rows of ggml's type_traits (blck_size, sizeof of the block struct).
  EXPECT_EQ(find_ggml_type(2)->block_bytes, 18u);   // Q4_0: f16 d + 16 bytes of nibbles
  EXPECT_EQ(find_ggml_type(8)->block_bytes, 34u);   // Q8_0: f16 d + 32 int8
  EXPECT_EQ(find_ggml_type(12)->block_size, 256u);  // Q4_K
  EXPECT_EQ(find_ggml_type(12)->block_bytes, 144u);
  EXPECT_EQ(find_ggml_type(14)->block_bytes, 210u);  // Q6_K
  EXPECT_EQ(find_ggml_type(30)->name, "BF16");
  EXPECT_EQ(find_ggml_type(39)->block_bytes, 17u);  // MXFP4: e8m0 + 16 bytes
  EXPECT_EQ(ggml_types().size(), 35u);
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 1000u}) {
    EXPECT_EQ(find_ggml_type(removed), nullptr) << removed;
  }
  EXPECT_NE(describe_invalid_ggml_type(4).find("Q4_2"), std::string::npos);
}

// ---- getters ----

TEST(GgufGetters, ConversionsAndErrors) {
  GgufWriter w;
  w.add_i32("negative", -1);
  w.add_u64("big", uint64_t{1} << 40);
  w.add_string("name", "x");
  w.add_f64("huge", 1e300);
  w.add_f32("half", 0.5f);
  std::vector<int64_t> wide = {1, int64_t{1} << 40};
  w.add_array("wide", wide);
  GgufFile f = parse_ok(serialize_ok(w));
  EXPECT_EQ(f.get_i64("negative").value(), -1);
  EXPECT_EQ(f.get_u32("negative").status().code(), Code::kDataLoss);
  EXPECT_NE(f.get_u32("negative").status().message().find("I32 -1, out of the range of U32"),
            std::string::npos);
  EXPECT_EQ(f.get_u32("big").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_i64("big").value(), int64_t{1} << 40);
  EXPECT_EQ(f.get_u32("missing").status().code(), Code::kNotFound);
  EXPECT_NE(f.get_u32("missing").status().message().find("\"missing\" is missing"), std::string::npos);
  EXPECT_EQ(f.get_u32("name").status().code(), Code::kDataLoss);
  EXPECT_NE(f.get_u32("name").status().message().find("is STRING, expected an integer"), std::string::npos);
  EXPECT_EQ(f.get_string("big").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_f32("huge").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_f64("half").value(), 0.5);
  EXPECT_EQ(f.get_f32("negative").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_bool("negative").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_i32_array("wide").status().code(), Code::kDataLoss);
  EXPECT_NE(f.get_i32_array("wide").status().message().find("element 1 is I64 1099511627776"),
            std::string::npos);
  EXPECT_EQ(f.get_string_array("wide").status().code(), Code::kDataLoss);
  EXPECT_NE(f.get_string_array("wide").status().message().find("ARRAY of 2 I64"), std::string::npos);
  EXPECT_EQ(f.get_array_size("name").status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_u32_or("missing", 5).value(), 5u);
  EXPECT_EQ(f.get_u32_or("name", 5).status().code(), Code::kDataLoss);
  EXPECT_EQ(f.get_string_or("missing", "dflt").value(), "dflt");
  EXPECT_EQ(f.get_bool_or("missing", true).value(), true);
  EXPECT_EQ(f.get_f32_or("half", 2.0f).value(), 0.5f);
  EXPECT_EQ(f.get_i64_or("negative", 0).value(), -1);
  EXPECT_EQ(f.get_u64_or("big", 0).value(), uint64_t{1} << 40);
  EXPECT_EQ(f.find_tensor("none"), nullptr);
}

// ---- writer misuse ----

TEST(GgufWriterMisuse, RecordsTheFirstError) {
  struct Case {
    const char* name;
    std::function<void(GgufWriter&)> misuse;
    const char* message;
  };
  std::vector<float> four(4);
  std::vector<int64_t> dims_4 = {4}, dims_neg = {-1}, dims_5 = {1, 1, 1, 1, 1}, dims_33 = {33};
  const Case cases[] = {
      {"duplicate key",
       [](GgufWriter& w) {
         w.add_u32("k", 1);
         w.add_u32("k", 2);
       },
       "duplicate key \"k\""},
      {"invalid UTF-8 key", [](GgufWriter& w) { w.add_u32("\xff", 1); }, "not valid UTF-8"},
      {"alignment key", [](GgufWriter& w) { w.add_u32("general.alignment", 64); }, "set by the writer"},
      {"bool 2",
       [](GgufWriter& w) {
         GgufValue v = GgufValue::of(true);
         v.bits = 2;
         w.add_value("b", v);
       },
       "BOOL value is 2"},
      {"array count mismatch",
       [](GgufWriter& w) {
         GgufValue v = GgufValue::string_array({"a"});
         v.n_elements = 2;
         w.add_value("a", v);
       },
       "claims 2 elements but holds 1"},
      {"too deep",
       [](GgufWriter& w) {
         GgufValue v = GgufValue::string_array({});
         for (int i = 0; i < kGgufMaxArrayDepth; ++i) v = GgufValue::array_of_arrays({v});
         w.add_value("deep", v);
       },
       "deeper than 8"},
      {"wrong byte count", [&](GgufWriter& w) { w.add_tensor("t", GgmlType::kF32, dims_4, as_bytes("abc")); },
       "needs 16 bytes, but 3 were given"},
      {"negative dim", [&](GgufWriter& w) { w.add_tensor("t", GgmlType::kF32, dims_neg, {}); },
       "dimension 0 is -1"},
      {"5 dims", [&](GgufWriter& w) { w.add_tensor("t", GgmlType::kF32, dims_5, {}); }, "5 dimensions"},
      {"block size", [&](GgufWriter& w) { w.add_tensor("t", GgmlType::kQ4_0, dims_33, {}); },
       "multiple of the Q4_0"},
      {"unknown type", [&](GgufWriter& w) { w.add_tensor("t", static_cast<GgmlType>(4), dims_4, {}); },
       "unknown"},
      {"duplicate tensor",
       [&](GgufWriter& w) {
         auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(four.data()), 16);
         w.add_tensor("t", GgmlType::kF32, dims_4, bytes);
         w.add_tensor("t", GgmlType::kF32, dims_4, bytes);
       },
       "duplicate tensor name"},
      {"long tensor name",
       [&](GgufWriter& w) { w.add_tensor(std::string(65, 'x'), GgmlType::kF32, dims_4, {}); }, "at most 64"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GgufWriter w;
    c.misuse(w);
    w.add_u32("later", 1);  // ignored after the first error
    Result<std::string> bytes = w.serialize();
    ASSERT_FALSE(bytes.is_ok());
    EXPECT_EQ(bytes.status().code(), Code::kInvalidArgument);
    EXPECT_NE(bytes.status().message().find(c.message), std::string::npos) << bytes.status().message();
  }
  for (uint32_t bad : {0u, 3u, 1u << 20}) {
    GgufWriter w(bad);
    EXPECT_EQ(w.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_FALSE(w.write(::testing::TempDir() + "/never.gguf").is_ok());
  }
  EXPECT_FALSE(fs::exists(::testing::TempDir() + "/never.gguf"));
}

// ---- MappedFile ----

TEST(MappedFile, MapsMovesAndReportsErrors) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/lmaas_mapped.bin";
  ASSERT_TRUE(write_file_atomic(path, std::string_view("hello")).is_ok());
  MappedFile a = MappedFile::open(path).value();
  EXPECT_EQ(a.view(), "hello");
  MappedFile b = std::move(a);
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT: moved-from is empty by contract
  EXPECT_TRUE(a.bytes().empty());
  ASSERT_TRUE(write_file_atomic(path, std::string_view("")).is_ok());
  MappedFile empty = MappedFile::open(path).value();
  EXPECT_TRUE(empty.bytes().empty());
  Result<MappedFile> missing = MappedFile::open(dir + "/no_such_file");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_file"), std::string::npos);
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos);
  EXPECT_EQ(MappedFile::open(dir).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(GgufFile::open(dir + "/no_such_file").status().code(), Code::kNotFound);
  Result<GgufFile> empty_gguf = GgufFile::open(path);
  EXPECT_EQ(empty_gguf.status().code(), Code::kDataLoss);
  fs::remove(path);
}

}  // namespace
}  // namespace lmaas
