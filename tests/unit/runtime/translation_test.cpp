// Translation pieces below the CLI: token-count batching, the inverse-sqrt schedule, and beam search
// checked against teacher-forced scoring of its own hypotheses (a forward pass without the cache), batch
// invariance and n-best order; plus a tiny model trained end to end on a synthetic task.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "autograd/tape.h"
#include "base/rng.h"
#include "ops/ops.h"
#include "optim/schedule.h"
#include "models/translator.h"
#include "runtime/beam_search.h"
#include "runtime/translator_session.h"
#include "train/token_batches.h"
#include "train/translation_trainer.h"

namespace lmaas {
namespace {

TEST(TokenBatches, EveryExampleOnceAndWithinTheTokenBudget) {
  Rng rng(3);
  std::vector<train::PairLength> lengths;
  for (int i = 0; i < 500; ++i)
    lengths.push_back({static_cast<int32_t>(1 + rng.below(40)), static_cast<int32_t>(1 + rng.below(40))});
  lengths.push_back({300, 2});  // longer than the budget: a batch of its own
  const auto batches = train::make_token_batches(lengths, 256, 7, 1, true);
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& b : batches) {
    int32_t longest = 0;
    for (int32_t i : b) ++seen[i], longest = std::max({longest, lengths[i].source, lengths[i].target});
    if (b.size() > 1) {
      EXPECT_LE(static_cast<int64_t>(longest) * static_cast<int64_t>(b.size()), 256);
    }
  }
  for (int count : seen) EXPECT_EQ(count, 1);
  EXPECT_EQ(batches, train::make_token_batches(lengths, 256, 7, 1, true));  // deterministic
  EXPECT_NE(batches, train::make_token_batches(lengths, 256, 7, 2, true));  // another epoch, another order
}

TEST(Schedule, InverseSqrtWarmsUpThenDecays) {
  optim::Schedule s{optim::ScheduleKind::kInverseSqrt, 100, 0, 0.0};
  EXPECT_DOUBLE_EQ(s.factor(50), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(100), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(400), 0.5);  // √(100/400)
  EXPECT_EQ(optim::parse_schedule_kind("inverse_sqrt").value(), optim::ScheduleKind::kInverseSqrt);
}

std::unique_ptr<models::Translator> tiny_model(const std::string& arch) {
  models::TranslatorConfig c;
  c.arch = arch, c.src_vocab_size = 9, c.tgt_vocab_size = 7, c.d_model = 16, c.n_heads = 2, c.dim_feedforward = 24;
  c.hidden_size = 16, c.encoder_layers = 2, c.decoder_layers = 2, c.dropout = 0.0, c.max_len = 24, c.seed = 11;
  auto model = models::make_translator(c);
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  model.value()->eval();
  return std::move(model.value());
}

// log P(tokens + </s> | src) by one teacher-forced forward pass (no cache).
double teacher_forced_log_prob(models::Translator& model, const Tensor& src_row,
                               const std::vector<int32_t>& tokens) {
  const auto& c = model.config();
  std::vector<int32_t> in{c.bos_id};
  in.insert(in.end(), tokens.begin(), tokens.end());
  Tensor tgt = Tensor::from_vector(in, {1, static_cast<int64_t>(in.size())});
  Tensor mask = model.padding_mask(src_row);
  Tensor logp = ops::log_softmax(model.decode(tgt, model.encode(src_row, mask), mask), -1).contiguous();
  double sum = 0;
  for (size_t t = 0; t < in.size(); ++t) {
    const int32_t next = t < tokens.size() ? tokens[t] : c.eos_id;
    sum += logp.data<float>()[static_cast<int64_t>(t) * c.tgt_vocab_size + next];
  }
  return sum;
}

class BeamSearch : public ::testing::TestWithParam<std::string> {};

TEST_P(BeamSearch, ScoresAreTheModelsLogProbabilitiesAndBatchingChangesNothing) {
  auto owned = tiny_model(GetParam());
  models::Translator& model = *owned;
  autograd::NoGradGuard no_grad;
  const Tensor src = Tensor::from_vector(std::vector<int32_t>{4, 5, 6, 7, 3, 8, 4, 3, 0, 0, 5, 3, 0, 0, 0}, {3, 5});
  runtime::SearchOptions o;
  o.beam_size = 4, o.n_best = 4, o.length_penalty = 0.6, o.max_len_ratio = 1.0, o.max_len_extra = 6;
  const auto together = runtime::beam_search(model, src, o);
  ASSERT_EQ(together.size(), 3u);
  for (int64_t b = 0; b < 3; ++b) {
    const Tensor row = ops::contiguous(ops::slice(src, 0, b, b + 1));
    const auto alone = runtime::beam_search(model, row, o);
    ASSERT_EQ(alone[0].size(), together[b].size());
    std::set<std::vector<int32_t>> distinct;
    for (size_t k = 0; k < together[b].size(); ++k) {
      const runtime::Hypothesis& h = together[b][k];
      EXPECT_EQ(h.tokens, alone[0][k].tokens);
      EXPECT_NEAR(h.log_prob, alone[0][k].log_prob, 1e-4);
      EXPECT_NEAR(h.log_prob, teacher_forced_log_prob(model, row, h.tokens), 1e-3);
      EXPECT_NEAR(h.score, h.log_prob / std::pow(static_cast<double>(h.tokens.size() + 1), 0.6), 1e-9);
      if (k > 0) {
        EXPECT_GE(together[b][k - 1].score, h.score);
      }
      distinct.insert(h.tokens);
    }
    EXPECT_EQ(distinct.size(), together[b].size());
  }
}

TEST_P(BeamSearch, AWiderBeamNeverScoresWorseThanGreedyHere) {
  auto owned = tiny_model(GetParam());
  models::Translator& model = *owned;
  autograd::NoGradGuard no_grad;
  const Tensor src = Tensor::from_vector(std::vector<int32_t>{4, 5, 6, 7, 3, 8, 4, 3, 0, 0}, {2, 5});
  runtime::SearchOptions greedy, wide;
  greedy.beam_size = 1, wide.beam_size = 8;
  greedy.length_penalty = wide.length_penalty = 0.0;  // plain log-probability
  const auto g = runtime::beam_search(model, src, greedy), w = runtime::beam_search(model, src, wide);
  for (size_t b = 0; b < 2; ++b) EXPECT_GE(w[b][0].score, g[b][0].score - 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Architectures, BeamSearch, ::testing::Values("transformer", "lstm"),
                         [](const auto& param_info) { return param_info.param; });

// A synthetic task any working seq2seq learns in seconds: reverse a sequence of letters.
TEST(TranslationTraining, LearnsToReverseSequences) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lmaas_translate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Rng rng(5);
  auto make = [&](const fs::path& path, int n) {
    std::ofstream out(path);
    for (int i = 0; i < n; ++i) {
      std::string src, tgt;
      const int len = 3 + static_cast<int>(rng.below(4));
      std::vector<char> letters;
      for (int k = 0; k < len; ++k) letters.push_back(static_cast<char>('a' + rng.below(8)));
      for (int k = 0; k < len; ++k) src += std::string(k ? " " : "") + letters[k];
      for (int k = len - 1; k >= 0; --k) tgt += std::string(k != len - 1 ? " " : "") + letters[k];
      out << src << '\t' << tgt << '\n';
    }
  };
  make(dir / "train.tsv", 1500);
  make(dir / "dev.tsv", 40);
  train::TranslationTrainOptions o;
  o.train.paths = {(dir / "train.tsv").string()};
  o.valid.paths = {(dir / "dev.tsv").string()};
  o.tokenizer.source_vocab_size = o.tokenizer.target_vocab_size = 16;
  o.architecture = {{"d_model", 32}, {"n_heads", 2}, {"dim_feedforward", 64}, {"encoder_layers", 1},
                    {"decoder_layers", 1}, {"dropout", 0.0}, {"max_len", 32}};
  o.epochs = 20, o.batch_tokens = 512, o.lr = 3e-3, o.warmup_steps = 50, o.average_last = 2;
  o.out_dir = (dir / "model").string();
  train::Progress progress(train::LogFormat::kJson, std::fopen("/dev/null", "w"));
  auto result = train::train_translator(o, progress);
  ASSERT_TRUE(result.is_ok()) << result.status().message();
  auto session = runtime::TranslatorSession::load(o.out_dir);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  std::vector<std::string_view> sources{"a b c d", "h g f", "c a e b d"};
  const auto out = session.value()->translate(sources, runtime::TranslateOptions{});
  EXPECT_EQ(out[0][0].text, "d c b a");
  EXPECT_EQ(out[1][0].text, "f g h");
  EXPECT_EQ(out[2][0].text, "d b e a c");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lmaas
