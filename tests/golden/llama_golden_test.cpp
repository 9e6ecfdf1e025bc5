// stories260K (a real llama2.c checkpoint, ../shared/data/models/stories260K) against its published
// reference (reference/greedy_and_logits.json: float64 logits of a from-scratch forward pass and llama2.c's
// greedy outputs): logits to 1e-4, greedy token ids exactly, fed all at once (prefill), one token at a
// time, and beside another sequence in the same batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "formats/llama2c_checkpoint.h"
#include "models/kv_cache.h"
#include "models/llama_weights.h"
#include "models/llm_loader.h"

namespace lmaas::models {
namespace {

const std::string kDir = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/models/stories260K/";

nlohmann::json reference() {
  std::ifstream in(kDir + "reference/greedy_and_logits.json");
  return nlohmann::json::parse(in);
}

struct Stories {
  MappedFile file;
  std::unique_ptr<LlamaModel> model;
};

// The model alone (no tokenizer): checkpoint → named weights → LlamaModel.
Stories load_model() {
  Stories s;
  s.file = MappedFile::open(kDir + "stories260K.bin").value();
  Llama2cCheckpoint ckpt = parse_llama2c_checkpoint(s.file.bytes(), "stories260K.bin").value();
  const LlamaConfig c = llama_config_from_llama2c(ckpt.header);
  auto find = [&](const std::string& name) -> const NamedWeight* {
    static thread_local NamedWeight w;
    for (const Llama2cTensor& t : ckpt.tensors) {
      if (t.name == name) {
        w = {kernels::WeightType::kF32, t.n_rows, t.n_cols, t.data};
        return &w;
      }
    }
    return nullptr;
  };
  s.model = std::make_unique<LlamaModel>(c, llama_weights_from_named(c, find).value());
  return s;
}

TEST(Stories260K, HeaderMatchesTheReferenceConfig) {
  const auto ref = reference()["config"];
  Stories s = load_model();
  const LlamaConfig& c = s.model->config();
  EXPECT_EQ(c.dim, ref["dim"]);
  EXPECT_EQ(c.hidden_dim, ref["hidden_dim"]);
  EXPECT_EQ(c.n_layers, ref["n_layers"]);
  EXPECT_EQ(c.n_heads, ref["n_heads"]);
  EXPECT_EQ(c.n_kv_heads, ref["n_kv_heads"]);
  EXPECT_EQ(c.n_vocab, ref["vocab_size"]);
  EXPECT_EQ(c.context_length, ref["seq_len"]);
  // The file's 264,128 floats less the two RoPE tables (2 × 512 × 4) that are not parameters.
  EXPECT_EQ(s.model->n_params(), 264128 - 2 * 512 * 4);
}

void expect_logits(const std::vector<float>& actual, const nlohmann::json& expected_row, const std::string& what) {
  ASSERT_EQ(actual.size(), expected_row.size()) << what;
  double max_err = 0.0;
  for (size_t i = 0; i < actual.size(); ++i) max_err = std::max(max_err, std::abs(actual[i] - expected_row[i].get<double>()));
  EXPECT_LT(max_err, 1e-4) << what;
}

TEST(Stories260K, PrefillLogitsMatchTheReference) {
  const auto ref = reference();
  const auto ids = ref["logits_prompt_token_ids"].get<std::vector<int32_t>>();
  Stories s = load_model();
  const int64_t n_vocab = s.model->config().n_vocab;
  KvCache cache(s.model->config().n_layers, s.model->config().n_kv_heads, s.model->config().head_dim, 1, 512);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.push_back({ids[i], static_cast<int32_t>(i), 0, true});
  std::vector<float> logits(ids.size() * static_cast<size_t>(n_vocab));
  s.model->forward(batch, cache, logits.data());
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<float> row(logits.begin() + static_cast<int64_t>(i) * n_vocab, logits.begin() + static_cast<int64_t>(i + 1) * n_vocab);
    expect_logits(row, ref["logits"][i], "prefill row " + std::to_string(i));
  }
}

TEST(Stories260K, StepByStepLogitsMatchTheReference) {
  const auto ref = reference();
  const auto ids = ref["logits_prompt_token_ids"].get<std::vector<int32_t>>();
  Stories s = load_model();
  KvCache cache(s.model->config().n_layers, s.model->config().n_kv_heads, s.model->config().head_dim, 2, 512);
  std::vector<float> row(static_cast<size_t>(s.model->config().n_vocab));
  for (size_t i = 0; i < ids.size(); ++i) {
    const BatchToken t{ids[i], static_cast<int32_t>(i), 1, true};
    s.model->forward({&t, 1}, cache, row.data());
    expect_logits(row, ref["logits"][i], "step " + std::to_string(i));
  }
  EXPECT_EQ(cache.length(1), static_cast<int64_t>(ids.size()));
  EXPECT_EQ(cache.length(0), 0);
}

// llama2.c's greedy loop: feed the prompt token by token (forcing it), then the argmax; stop at BOS.
std::vector<int32_t> greedy(LlamaModel& model, const std::vector<int32_t>& prompt, int steps, KvType kv_type = KvType::kF32) {
  KvCache cache(model.config().n_layers, model.config().n_kv_heads, model.config().head_dim, 1, model.config().context_length,
                kv_type);
  std::vector<float> logits(static_cast<size_t>(model.config().n_vocab));
  std::vector<int32_t> out;
  int32_t token = prompt[0];
  for (int pos = 0; pos < steps; ++pos) {
    const BatchToken t{token, pos, 0, true};
    model.forward({&t, 1}, cache, logits.data());
    int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (static_cast<size_t>(pos + 1) < prompt.size()) next = prompt[static_cast<size_t>(pos + 1)];
    if (next == 1) break;
    out.push_back(next);
    token = next;
  }
  return out;
}

// A float16 cache (the serving default) rounds each key and value once: the logits stay within 1e-2 of the
// reference (measured 7.6e-3 on logits of magnitude ~8) and the greedy tokens of every reference prompt are unchanged.
TEST(Stories260K, HalfPrecisionCacheKeepsLogitsCloseAndGreedyTokens) {
  const auto ref = reference();
  const auto ids = ref["logits_prompt_token_ids"].get<std::vector<int32_t>>();
  Stories s = load_model();
  const LlamaConfig& c = s.model->config();
  KvCache cache(c.n_layers, c.n_kv_heads, c.head_dim, 1, 512, KvType::kF16);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.push_back({ids[i], static_cast<int32_t>(i), 0, true});
  std::vector<float> logits(ids.size() * static_cast<size_t>(c.n_vocab));
  s.model->forward(batch, cache, logits.data());
  double max_err = 0.0;
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t v = 0; v < c.n_vocab; ++v)
      max_err = std::max(max_err, std::abs(logits[i * static_cast<size_t>(c.n_vocab) + static_cast<size_t>(v)] -
                                           ref["logits"][i][static_cast<size_t>(v)].get<double>()));
  EXPECT_LT(max_err, 1e-2);
  EXPECT_GT(max_err, 0.0);  // the cache really holds halves
  for (const auto& g : ref["cases"]) {
    EXPECT_EQ(greedy(*s.model, g["prompt_token_ids"].get<std::vector<int32_t>>(), g["steps"].get<int>(), KvType::kF16),
              g["token_ids_after_bos"].get<std::vector<int32_t>>())
        << g["prompt"].get<std::string>();
  }
}

TEST(Stories260K, GreedyTokensMatchLlama2c) {
  const auto ref = reference();
  Stories s = load_model();
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_token_ids"].get<std::vector<int32_t>>();
    const auto expected = c["token_ids_after_bos"].get<std::vector<int32_t>>();
    EXPECT_EQ(greedy(*s.model, prompt, c["steps"].get<int>()), expected) << "prompt \"" << c["prompt"].get<std::string>() << "\"";
  }
}

// Two sequences in one batch (continuous batching) give each the logits it gets alone.
TEST(Stories260K, SequencesInOneBatchDoNotInteract) {
  const auto ref = reference();
  const auto a = ref["cases"][1]["prompt_token_ids"].get<std::vector<int32_t>>();
  const auto b = ref["cases"][2]["prompt_token_ids"].get<std::vector<int32_t>>();
  Stories s = load_model();
  const int64_t n_vocab = s.model->config().n_vocab;
  auto alone = [&](const std::vector<int32_t>& ids) {
    KvCache cache(s.model->config().n_layers, s.model->config().n_kv_heads, s.model->config().head_dim, 1, 64);
    std::vector<BatchToken> batch;
    for (size_t i = 0; i < ids.size(); ++i) batch.push_back({ids[i], static_cast<int32_t>(i), 0, i + 1 == ids.size()});
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    s.model->forward(batch, cache, logits.data());
    return logits;
  };
  KvCache cache(s.model->config().n_layers, s.model->config().n_kv_heads, s.model->config().head_dim, 3, 64);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {  // interleaved, slots 2 and 0
    if (i < a.size()) batch.push_back({a[i], static_cast<int32_t>(i), 2, i + 1 == a.size()});
    if (i < b.size()) batch.push_back({b[i], static_cast<int32_t>(i), 0, i + 1 == b.size()});
  }
  std::vector<float> logits(2 * static_cast<size_t>(n_vocab));
  s.model->forward(batch, cache, logits.data());
  // Output rows follow batch order: find which sequence's last token came first.
  const bool a_first = std::find_if(batch.begin(), batch.end(), [](const BatchToken& t) { return t.want_logits; })->slot == 2;
  const auto row = [&](int r) { return std::vector<float>(logits.begin() + r * n_vocab, logits.begin() + (r + 1) * n_vocab); };
  const std::vector<float> got_a = row(a_first ? 0 : 1), got_b = row(a_first ? 1 : 0);
  const auto want_a = alone(a), want_b = alone(b);
  for (int64_t i = 0; i < n_vocab; ++i) {
    ASSERT_EQ(got_a[static_cast<size_t>(i)], want_a[static_cast<size_t>(i)]);
    ASSERT_EQ(got_b[static_cast<size_t>(i)], want_b[static_cast<size_t>(i)]);
  }
}

TEST(Stories260K, BadPositionsAreRefused) {
  Stories s = load_model();
  KvCache cache(s.model->config().n_layers, s.model->config().n_kv_heads, s.model->config().head_dim, 1, 16);
  std::vector<float> logits(static_cast<size_t>(s.model->config().n_vocab));
  const BatchToken skip{1, 3, 0, true};
  EXPECT_THROW(s.model->forward({&skip, 1}, cache, logits.data()), Error);
  const BatchToken bad_token{512, 0, 0, true};
  EXPECT_THROW(s.model->forward({&bad_token, 1}, cache, logits.data()), Error);
  const BatchToken bad_slot{1, 0, 1, true};
  EXPECT_THROW(s.model->forward({&bad_slot, 1}, cache, logits.data()), Error);
}

TEST(Llama2cCheckpoint, TruncatedAndMismatchedFilesAreRefused) {
  MappedFile file = MappedFile::open(kDir + "stories260K.bin").value();
  const auto bytes = file.bytes();
  for (size_t n : {size_t{0}, size_t{27}, size_t{28}, size_t{1000}, bytes.size() - 4}) {
    auto r = parse_llama2c_checkpoint(bytes.subspan(0, n), "cut");
    ASSERT_FALSE(r.is_ok()) << n;
    EXPECT_EQ(r.status().code(), Code::kDataLoss) << n;
  }
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  copy.resize(copy.size() + 4);
  auto longer = parse_llama2c_checkpoint(copy, "long");
  ASSERT_FALSE(longer.is_ok());
  EXPECT_NE(longer.status().message().find("after the last tensor"), std::string::npos) << longer.status().message();
  copy.assign(bytes.begin(), bytes.end());
  const int32_t heads = 7;  // does not divide dim 64
  std::memcpy(copy.data() + 12, &heads, 4);
  auto bad = parse_llama2c_checkpoint(copy, "heads");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("n_heads 7"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace lmaas::models
