// Hugging Face LLaMA checkpoints end to end against independent references (fixtures written by
// tests/tools/gen_hf_llama_fixtures.py):
// - hf-stories260K: the llama2.c model exported in HF's layout (rotate-half q/k rows, float32, tokenizer.json);
//   load_llm reproduces the llama2.c reference logits and greedy tokens, and so does its GGUF conversion
//   (which reorders the q/k rows back to adjacent pairs).
// - hf-tiny-gqa: bfloat16 shards with an index, grouped-query attention, a separate lm_head and linear RoPE
//   scaling, against a float64 torch forward pass.
// - hf-tiny-llama3: Llama 3.1's RoPE scaling (float16, one file), directly and through GGUF.
// - malformed or unsupported checkpoints give errors naming the file and the field or tensor.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "golden/llm_test_util.h"
#include "scratch_dir.h"
#include "formats/gguf.h"
#include "models/kv_cache.h"
#include "models/llm_hf_checkpoint.h"
#include "models/llm_loader.h"
#include "models/llm_writer.h"

namespace lmaas::models {
namespace {

namespace fs = std::filesystem;
namespace k = lmaas::kernels;
const std::string kFixtures = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/llm/";

TEST(LlmHf, Stories260KCheckpointReproducesTheReference) {
  const std::string dir = kFixtures + "hf-stories260K";
  ASSERT_TRUE(is_hf_checkpoint(dir));
  auto llm = load_llm(dir);
  ASSERT_TRUE(llm.is_ok()) << llm.status().message();
  EXPECT_EQ(llm.value().format, "hf");
  EXPECT_EQ(llm.value().name, "hf-stories260K");
  EXPECT_EQ(llm.value().model->config().rope_style, k::ref::RopeStyle::kHalves);
  EXPECT_EQ(llm.value().model->n_params(), 264128 - 2 * 512 * 4);
  expect_stories260k_reference(llm.value(), "hf");
  auto tokenizer = load_llm_tokenizer(dir);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.status().message();
  EXPECT_EQ(tokenizer.value()->n_vocab(), 512);
}

TEST(LlmHf, GgufConversionReordersQueryAndKeyRows) {
  const LoadedLlm hf = load_llm(kFixtures + "hf-stories260K").value();
  const std::string path = (fs::temp_directory_path() / ("lmaas_llm_hf_test_" + std::to_string(::getpid()) + ".gguf")).string();
  ASSERT_TRUE(write_llama_gguf(path, *hf.model, hf.tokenizer->vocab(), {k::WeightType::kF32, "stories", ""}).is_ok());
  auto gguf = load_llm(path);
  fs::remove(path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().message();
  EXPECT_EQ(gguf.value().model->config().rope_style, k::ref::RopeStyle::kAdjacentPairs);
  expect_stories260k_reference(gguf.value(), "hf → gguf");
}

TEST(LlmHf, ShardedBfloat16GqaCheckpointMatchesTorch) {
  const std::string dir = kFixtures + "hf-tiny-gqa";
  auto llm = load_llm(dir);
  ASSERT_TRUE(llm.is_ok()) << llm.status().message();
  const LlamaModel& m = *llm.value().model;
  EXPECT_EQ(m.config().n_kv_heads, 2);
  EXPECT_FLOAT_EQ(m.config().rope_freq_scale, 0.5f);
  EXPECT_FLOAT_EQ(m.config().rope_theta, 50000.0f);
  EXPECT_EQ(m.weights().layers[1].w_down.type, k::WeightType::kBF16);
  EXPECT_NE(m.weights().output.data, m.weights().token_embedding.data);
  const auto ref = read_json(dir + "/reference.json");
  // bfloat16 weights times float32 activations: float32 rounding only.
  EXPECT_LT(max_error(prefill_logits(*llm.value().model, ref["token_ids"].get<std::vector<int32_t>>()), ref["logits"]),
            2e-4);
}

// Llama 3.1's RoPE scaling: per-pair frequency divisors from config.json, carried into GGUF as
// rope_freqs.weight (as llama.cpp's converter writes them), both against the torch forward pass.
TEST(LlmHf, Llama3RopeScalingMatchesTorchAndSurvivesGguf) {
  const std::string dir = kFixtures + "hf-tiny-llama3";
  auto llm = load_llm(dir);
  ASSERT_TRUE(llm.is_ok()) << llm.status().message();
  const LlamaConfig& c = llm.value().model->config();
  // head_dim 16, theta 5e5: wavelengths 6.3, 32.4, 167, … against the bands 64/4 = 16 and 64/1 = 64.
  ASSERT_EQ(c.rope_freq_factors.size(), 8u);
  EXPECT_FLOAT_EQ(c.rope_freq_factors[0], 1.0f);
  const double smooth = (64.0 / (2 * M_PI * std::pow(500000.0, 2.0 / 16)) - 1.0) / 3.0;
  EXPECT_NEAR(c.rope_freq_factors[1], 1.0 / ((1 - smooth) / 8 + smooth), 1e-5);
  for (size_t i = 2; i < 8; ++i) EXPECT_FLOAT_EQ(c.rope_freq_factors[i], 8.0f) << i;
  EXPECT_EQ(llm.value().model->weights().layers[0].wq.type, k::WeightType::kF16);
  const auto ref = read_json(dir + "/reference.json");
  const auto ids = ref["token_ids"].get<std::vector<int32_t>>();
  EXPECT_LT(max_error(prefill_logits(*llm.value().model, ids), ref["logits"]), 2e-4);

  const std::string path = (fs::temp_directory_path() / ("lmaas_llm_hf_llama3_" + std::to_string(::getpid()) + ".gguf")).string();
  ASSERT_TRUE(write_llama_gguf(path, *llm.value().model, llm.value().tokenizer->vocab(), {k::WeightType::kF32, "llama3", ""}).is_ok());
  auto gguf = load_llm(path);
  fs::remove(path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().message();
  EXPECT_EQ(gguf.value().model->config().rope_freq_factors, c.rope_freq_factors);
  EXPECT_LT(max_error(prefill_logits(*gguf.value().model, ids), ref["logits"]), 2e-4);
}

TEST(LlmHf, YarnRopeScalingMatchesTorchAndSurvivesGguf) {
  const std::string dir = kFixtures + "hf-tiny-yarn";
  auto llm = load_llm(dir);
  ASSERT_TRUE(llm.is_ok()) << llm.status().message();
  const LlamaConfig& c = llm.value().model->config();
  // head_dim 16, theta 1e4, original context 256: correction pairs floor(0.21) = 0 and ceil(3.2) = 4, so pair
  // i < 4 keeps 1 − i/4 of its frequency's extrapolation and pairs from 4 on are slowed down by 4.
  ASSERT_EQ(c.rope_freq_factors.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const double ramp = std::min(1.0, static_cast<double>(i) / 4.0);
    EXPECT_NEAR(c.rope_freq_factors[i], 1.0 / (ramp / 4.0 + (1.0 - ramp)), 1e-6) << i;
  }
  EXPECT_NEAR(c.rope_mscale, 1.0 + 0.1 * std::log(4.0), 1e-6);
  const auto ref = read_json(dir + "/reference.json");
  const auto ids = ref["token_ids"].get<std::vector<int32_t>>();
  EXPECT_LT(max_error(prefill_logits(*llm.value().model, ids), ref["logits"]), 2e-4);

  // GGUF carries llama.cpp's keys (rope.scaling.type yarn, factor, original_context_length), not the divisors.
  const std::string path = (fs::temp_directory_path() / ("lmaas_llm_hf_yarn_" + std::to_string(::getpid()) + ".gguf")).string();
  ASSERT_TRUE(write_llama_gguf(path, *llm.value().model, llm.value().tokenizer->vocab(), {k::WeightType::kF32, "yarn", ""}).is_ok());
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  EXPECT_EQ(file.value().get_string_or("llama.rope.scaling.type", "").value(), "yarn");
  EXPECT_EQ(file.value().get_i64_or("llama.rope.scaling.original_context_length", 0).value(), 256);
  EXPECT_EQ(file.value().find_tensor("rope_freqs.weight"), nullptr);
  auto gguf = load_llm(path);
  fs::remove(path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().message();
  EXPECT_EQ(gguf.value().model->config().rope_freq_factors, c.rope_freq_factors);
  EXPECT_FLOAT_EQ(gguf.value().model->config().rope_mscale, c.rope_mscale);
  EXPECT_LT(max_error(prefill_logits(*gguf.value().model, ids), ref["logits"]), 2e-4);
}

// A copy of a fixture whose config.json gets `patch` merged in (null values remove keys), or with a file
// removed or replaced.
class BrokenCheckpoint {
 public:
  explicit BrokenCheckpoint(const std::string& fixture) : dir_(testing_util::test_scratch_dir("lmaas_llm_hf_broken")) {
    fs::copy(kFixtures + fixture, dir_);
  }
  ~BrokenCheckpoint() { fs::remove_all(dir_); }
  BrokenCheckpoint& patch_config(const nlohmann::json& patch) {
    nlohmann::json config = read_json(path("config.json"));
    config.merge_patch(patch);
    write("config.json", config.dump());
    return *this;
  }
  BrokenCheckpoint& write(const std::string& name, const std::string& text) {
    EXPECT_TRUE(write_file_atomic(path(name), text).is_ok());
    return *this;
  }
  BrokenCheckpoint& remove(const std::string& name) {
    fs::remove(path(name));
    return *this;
  }
  std::string path(const std::string& name = "") const { return (dir_ / name).string(); }
  // The load error; fails the test when the load succeeds.
  Status error() const {
    auto r = load_llm(dir_.string());
    EXPECT_FALSE(r.is_ok());
    return r.is_ok() ? Status::ok() : r.status();
  }

 private:
  fs::path dir_;
};

void expect_error(const Status& s, Code code, const std::vector<std::string>& parts) {
  EXPECT_EQ(s.code(), code) << s.message();
  for (const std::string& part : parts) EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

TEST(LlmHf, UnsupportedConfigurationsAreNamed) {
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"model_type", "qwen2"}}).error(), Code::kUnimplemented,
               {"config.json", "\"qwen2\""});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"attention_bias", true}}).error(), Code::kUnimplemented,
               {"attention_bias"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"hidden_act", "gelu"}}).error(), Code::kUnimplemented,
               {"hidden_act", "gelu"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"rope_scaling", {{"rope_type", "longrope"}, {"factor", 4}}}}).error(),
               Code::kUnimplemented, {"rope_scaling", "longrope"});
  expect_error(BrokenCheckpoint("hf-tiny-llama3").patch_config({{"rope_scaling", {{"low_freq_factor", nullptr}}}}).error(),
               Code::kDataLoss, {"config.json", "rope_scaling.low_freq_factor", "missing"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"hidden_size", -3}}).error(), Code::kDataLoss,
               {"config.json", "hidden_size", "-3"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"num_key_value_heads", 3}}).error(), Code::kDataLoss,
               {"config.json"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").patch_config({{"intermediate_size", 100}}).error(), Code::kInvalidArgument,
               {"ffn_gate"});
}

TEST(LlmHf, MissingAndMalformedFilesAreNamed) {
  expect_error(BrokenCheckpoint("hf-tiny-gqa").remove("model-00002-of-00002.safetensors").error(), Code::kNotFound,
               {"model-00002-of-00002.safetensors"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").write("model.safetensors.index.json", R"({"weight_map": 3})").error(),
               Code::kDataLoss, {"model.safetensors.index.json", "weight_map"});
  expect_error(BrokenCheckpoint("hf-tiny-gqa").write("model-00001-of-00002.safetensors", "short").error(),
               Code::kDataLoss, {"model-00001-of-00002.safetensors"});
  expect_error(BrokenCheckpoint("hf-stories260K").patch_config({{"tie_word_embeddings", false}}).error(), Code::kDataLoss,
               {"lm_head.weight", "tie_word_embeddings"});
  BrokenCheckpoint no_tokenizer("hf-stories260K");
  no_tokenizer.remove("tokenizer.json");
  const Status s = no_tokenizer.error();
  EXPECT_NE(s.message().find("tokenizer.json"), std::string::npos) << s.message();
}

TEST(LlmHf, TensorsOutsideTheArchitectureAreNamed) {
  // A bias in the index's shard: rename a tensor in the second shard's header (same length keeps offsets).
  BrokenCheckpoint broken("hf-tiny-gqa");
  const std::string shard = broken.path("model-00002-of-00002.safetensors");
  std::string bytes = read_file(shard).value();
  const size_t at = bytes.find("mlp.up_proj.weight");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 18, "mlp.up_proj.bias__");
  broken.write("model-00002-of-00002.safetensors", bytes);
  expect_error(broken.error(), Code::kUnimplemented, {"model-00002-of-00002.safetensors", "mlp.up_proj.bias__"});
}

TEST(LlmHf, YarnSettingsGgufCannotHoldAreRefused) {
  BrokenCheckpoint broken("hf-tiny-yarn");
  broken.patch_config({{"rope_scaling", {{"beta_fast", 16}}}});
  auto llm = load_llm(broken.path());
  ASSERT_TRUE(llm.is_ok()) << llm.status().message();
  const std::string out = broken.path("out.gguf");
  const Status written = write_llama_gguf(out, *llm.value().model, llm.value().tokenizer->vocab(), {k::WeightType::kF32, "yarn", ""});
  EXPECT_EQ(written.code(), Code::kUnimplemented);
  EXPECT_NE(written.message().find("beta_fast 16"), std::string::npos) << written.message();
  EXPECT_FALSE(fs::exists(out));
  broken.patch_config({{"rope_scaling", {{"truncate", false}}}});
  expect_error(broken.error(), Code::kUnimplemented, {"config.json", "truncate"});
}

}  // namespace
}  // namespace lmaas::models
