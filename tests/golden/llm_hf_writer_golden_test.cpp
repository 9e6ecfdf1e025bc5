// write_llama_hf: models written as Hugging Face checkpoints and read back reproduce independent references.
// - stories260K from its llama2.c checkpoint (adjacent RoPE pairs, reordered to halves): llama2.c's logits and
//   greedy tokens.
// - hf-tiny-gqa (bfloat16, sharded, linear RoPE scaling, separate lm_head) written in small shards: the
//   float64 torch logits, and every weight byte-identical.
// - hf-tiny-llama3 and hf-tiny-yarn: their scaling settings come back, the torch logits too; Llama 3.1 scaling
//   also from a GGUF file that kept only the divisors.
// - a quantized model is written dequantized; what config.json cannot say is refused and nothing is written.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "base/file_util.h"
#include "formats/safetensors.h"
#include "golden/llm_test_util.h"
#include "models/llm_hf_checkpoint.h"
#include "models/llm_hf_writer.h"
#include "models/llm_loader.h"
#include "models/llm_writer.h"

namespace lmaas::models {
namespace {

namespace fs = std::filesystem;
namespace k = lmaas::kernels;
const std::string kFixtures = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/llm/";

// A scratch path per test and process (ctest runs the tests of a binary in parallel); removed at the end.
class Scratch {
 public:
  explicit Scratch(const std::string& suffix = "")
      : path_(fs::temp_directory_path() /
              ("lmaas_hf_writer_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
               std::to_string(::getpid()) + suffix)) {
    fs::remove_all(path_);
  }
  ~Scratch() { fs::remove_all(path_); }
  std::string str(const std::string& name = "") const { return name.empty() ? path_.string() : (path_ / name).string(); }

 private:
  fs::path path_;
};

HfWriteOptions weights_as(k::WeightType type) {
  HfWriteOptions options;
  options.type = type;
  return options;
}

LoadedLlm load(const std::string& path) {
  auto llm = load_llm(path);
  EXPECT_TRUE(llm.is_ok()) << llm.status().to_string();
  return std::move(llm).value();
}

// Writes `llm` as a checkpoint at `dir` and loads it back.
LoadedLlm through_hf(const LoadedLlm& llm, const std::string& dir, const HfWriteOptions& options) {
  const Status written = write_llama_hf(dir, *llm.model, llm.tokenizer->vocab(), options);
  EXPECT_TRUE(written.is_ok()) << written.to_string();
  EXPECT_TRUE(is_hf_checkpoint(dir));
  LoadedLlm back = load(dir);
  EXPECT_EQ(back.format, "hf");
  EXPECT_EQ(back.model->config().rope_style, k::ref::RopeStyle::kHalves);
  return back;
}

TEST(LlmHfWriter, Llama2cStories260KReproducesTheReference) {
  const LoadedLlm original = load(kStories260KDir + "stories260K.bin");
  ASSERT_EQ(original.model->config().rope_style, k::ref::RopeStyle::kAdjacentPairs);
  Scratch dir;
  const LoadedLlm back = through_hf(original, dir.str(), {k::WeightType::kF32, "{{ messages }}"});
  expect_stories260k_reference(back, "llama2.c → hf");
  EXPECT_EQ(back.chat_template, "{{ messages }}");
  const nlohmann::json config = read_json(dir.str("config.json"));
  EXPECT_EQ(config["model_type"], "llama");
  EXPECT_EQ(config["torch_dtype"], "float32");
  EXPECT_EQ(config["rms_norm_eps"], 1e-5);
  EXPECT_EQ(config["rope_scaling"], nullptr);
  EXPECT_EQ(config["bos_token_id"], 1);
  EXPECT_EQ(config["eos_token_id"], 2);
  const bool tied = original.model->weights().output.data == original.model->weights().token_embedding.data;
  EXPECT_EQ(config["tie_word_embeddings"], tied);
  const auto index = index_safetensors(read_file(dir.str("model.safetensors")).value(), "model.safetensors");
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  EXPECT_EQ(index.value().metadata.at("format"), "pt");  // transformers refuses files without it
  EXPECT_EQ(index.value().find("lm_head.weight") != nullptr, !tied);
  EXPECT_EQ(back.model->n_params(), original.model->n_params());
}

TEST(LlmHfWriter, ShardedBfloat16CheckpointComesBackByteForByte) {
  const std::string fixture = kFixtures + "hf-tiny-gqa";
  const LoadedLlm original = load(fixture);
  Scratch dir;
  const LoadedLlm back = through_hf(original, dir.str(), {k::WeightType::kBF16, "", 20'000});
  const nlohmann::json index = read_json(dir.str("model.safetensors.index.json"));
  std::map<std::string, int> tensors_in;
  for (const auto& [tensor, file] : index["weight_map"].items()) ++tensors_in[file.get<std::string>()];
  EXPECT_GT(tensors_in.size(), 2u);
  for (const auto& [shard, n] : tensors_in) {  // within the limit (plus its header), or one tensor larger than it
    if (n > 1) {
      EXPECT_LE(fs::file_size(dir.str(shard)), 20'000u + 2048u) << shard;
    }
  }
  const nlohmann::json config = read_json(dir.str("config.json"));
  EXPECT_EQ(config["rope_scaling"]["rope_type"], "linear");
  EXPECT_EQ(config["rope_scaling"]["factor"], 2.0);
  EXPECT_EQ(config["num_key_value_heads"], 2);
  EXPECT_EQ(config["tie_word_embeddings"], false);

  const LlamaWeights& a = original.model->weights();
  const LlamaWeights& b = back.model->weights();
  auto same = [](const WeightMatrix& x, const WeightMatrix& y) {
    return x.type == y.type && x.n_rows == y.n_rows && x.n_cols == y.n_cols &&
           std::memcmp(x.data, y.data, static_cast<size_t>(k::row_bytes(x.type, x.n_cols) * x.n_rows)) == 0;
  };
  EXPECT_TRUE(same(a.token_embedding, b.token_embedding));
  EXPECT_TRUE(same(a.output, b.output));
  for (size_t i = 0; i < a.layers.size(); ++i) {
    for (auto m : {&LlamaLayerWeights::wq, &LlamaLayerWeights::wk, &LlamaLayerWeights::wv, &LlamaLayerWeights::wo,
                   &LlamaLayerWeights::w_gate, &LlamaLayerWeights::w_up, &LlamaLayerWeights::w_down}) {
      EXPECT_TRUE(same(a.layers[i].*m, b.layers[i].*m)) << "layer " << i;
    }
  }
  const auto ref = read_json(fixture + "/reference.json");
  EXPECT_LT(max_error(prefill_logits(*back.model, ref["token_ids"].get<std::vector<int32_t>>()), ref["logits"]), 2e-4);
}

TEST(LlmHfWriter, YarnSettingsComeBack) {
  const std::string fixture = kFixtures + "hf-tiny-yarn";
  const LoadedLlm original = load(fixture);
  Scratch dir;
  const LoadedLlm back = through_hf(original, dir.str(), weights_as(k::WeightType::kF16));
  const nlohmann::json scaling = read_json(dir.str("config.json"))["rope_scaling"];
  EXPECT_EQ(scaling["rope_type"], "yarn");
  EXPECT_EQ(scaling["factor"], 4.0);
  EXPECT_EQ(scaling["original_max_position_embeddings"], 256.0);
  EXPECT_EQ(back.model->config().rope_freq_factors, original.model->config().rope_freq_factors);
  EXPECT_FLOAT_EQ(back.model->config().rope_mscale, original.model->config().rope_mscale);
  const auto ref = read_json(fixture + "/reference.json");
  EXPECT_LT(max_error(prefill_logits(*back.model, ref["token_ids"].get<std::vector<int32_t>>()), ref["logits"]), 2e-4);
}

// Llama 3.1 scaling: kept as read from config.json, and recovered from a GGUF file that holds only the divisors.
TEST(LlmHfWriter, Llama3ScalingComesBackAlsoFromGgufDivisors) {
  const std::string fixture = kFixtures + "hf-tiny-llama3";
  const LoadedLlm original = load(fixture);
  const auto ref = read_json(fixture + "/reference.json");
  const auto ids = ref["token_ids"].get<std::vector<int32_t>>();
  Scratch direct;
  const LoadedLlm back = through_hf(original, direct.str(), weights_as(k::WeightType::kF16));
  const nlohmann::json scaling = read_json(direct.str("config.json"))["rope_scaling"];
  EXPECT_EQ(scaling, read_json(fixture + "/config.json")["rope_scaling"]);
  EXPECT_LT(max_error(prefill_logits(*back.model, ids), ref["logits"]), 2e-4);

  Scratch gguf(".gguf");
  ASSERT_TRUE(write_llama_gguf(gguf.str(), *original.model, original.tokenizer->vocab(), {k::WeightType::kF32, "", ""}).is_ok());
  const LoadedLlm from_gguf = load(gguf.str());
  ASSERT_EQ(from_gguf.model->config().rope_llama3.factor, 1.0);  // GGUF keeps only rope_freqs.weight
  Scratch dir;
  const LoadedLlm fitted = through_hf(from_gguf, dir.str(), weights_as(k::WeightType::kF32));
  EXPECT_EQ(read_json(dir.str("config.json"))["rope_scaling"]["rope_type"], "llama3");
  const auto& want = original.model->config().rope_freq_factors;
  const auto& got = fitted.model->config().rope_freq_factors;
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * want[i]) << i;
  EXPECT_LT(max_error(prefill_logits(*fitted.model, ids), ref["logits"]), 2e-4);
}

// Q8_0 weights are written as float32: the same logits as the model dequantized into a float32 GGUF file.
TEST(LlmHfWriter, QuantizedModelIsWrittenDequantized) {
  const LoadedLlm original = load(kStories260KDir + "stories260K.bin");
  Scratch q8(".gguf"), f32(".gguf"), dir;
  ASSERT_TRUE(write_llama_gguf(q8.str(), *original.model, original.tokenizer->vocab(), {k::WeightType::kQ8_0, "", ""}).is_ok());
  const LoadedLlm quantized = load(q8.str());
  ASSERT_EQ(quantized.model->weights().layers[0].wq.type, k::WeightType::kQ8_0);
  const Status refused = write_llama_hf(dir.str(), *quantized.model, quantized.tokenizer->vocab(), weights_as(k::WeightType::kQ8_0));
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("f32, f16 or bf16 weights, not q8_0"), std::string::npos) << refused.message();
  EXPECT_FALSE(fs::exists(dir.str()));

  ASSERT_TRUE(write_llama_gguf(f32.str(), *quantized.model, quantized.tokenizer->vocab(), {k::WeightType::kF32, "", ""}).is_ok());
  const LoadedLlm dequantized = load(f32.str());
  const LoadedLlm back = through_hf(quantized, dir.str(), weights_as(k::WeightType::kF32));
  const std::vector<int32_t> ids = {1, 403, 407, 261, 378, 265, 29, 11};
  const std::vector<float> want = prefill_logits(*dequantized.model, ids);
  const std::vector<float> got = prefill_logits(*back.model, ids);
  double err = 0;
  for (size_t i = 0; i < want.size(); ++i) err = std::max(err, static_cast<double>(std::abs(got[i] - want[i])));
  EXPECT_LT(err, 1e-5);
}

TEST(LlmHfWriter, RopeSettingsConfigJsonCannotSayAreRefused) {
  const LoadedLlm llama3 = load(kFixtures + "hf-tiny-llama3");
  LlamaConfig c = llama3.model->config();
  c.rope_llama3 = {};
  std::swap(c.rope_freq_factors[0], c.rope_freq_factors[5]);  // slowed before kept: not Llama 3.1's shape
  const LlamaModel shuffled(c, llama3.model->weights());
  Scratch dir;
  Status s = write_llama_hf(dir.str(), shuffled, llama3.tokenizer->vocab(), weights_as(k::WeightType::kF32));
  EXPECT_EQ(s.code(), Code::kUnimplemented);
  EXPECT_NE(s.message().find("rope_freqs.weight"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir.str()));

  c = llama3.model->config();
  c.rope_freq_scale = 0.5f;
  const LlamaModel both(c, llama3.model->weights());
  s = write_llama_hf(dir.str(), both, llama3.tokenizer->vocab(), weights_as(k::WeightType::kF32));
  EXPECT_EQ(s.code(), Code::kUnimplemented);
  EXPECT_NE(s.message().find("linear RoPE scaling together with"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir.str()));
}

}  // namespace
}  // namespace lmaas::models
