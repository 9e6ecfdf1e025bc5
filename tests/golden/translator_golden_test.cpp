// The seq2seq translators against PyTorch 1.13 twins (tests/tools/gen_golden.py):
//   translator       pre-norm nn.TransformerEncoder/Decoder with final norms, √d-scaled embeddings plus
//                    sinusoids, output tied to the target embedding (case_translator);
//   lstm_translator  bidirectional nn.LSTM encoder over packed sequences, nn.LSTM decoder, scaled "general"
//                    attention, tanh combination, tied output (case_lstm_translator).
// For each: logits, label-smoothed loss and every gradient; incremental decoding (key/value cache or
// recurrent state) against the full forward; greedy search (with weights briefly trained on the batch)
// against PyTorch's greedy decoding that recomputes the whole prefix.
#include "autograd/tape.h"
#include "golden/golden_util.h"
#include "models/translator.h"
#include "ops/ops.h"
#include "runtime/beam_search.h"

namespace lmaas::golden {
namespace {

std::unique_ptr<models::Translator> load_model(const Fixture& f, const std::string& weights = "param.") {
  nlohmann::json arch = f.config();
  arch["dropout"] = 0.0;
  auto config = models::translator_config_from_json(arch);
  EXPECT_TRUE(config.is_ok()) << config.status().message();
  auto model = models::make_translator(config.value());
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  Status s = model.value()->load_state(f.with_prefix(weights));
  EXPECT_TRUE(s.is_ok()) << s.message();
  return std::move(model.value());
}

class GoldenTranslator : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTranslator, LogitsLossAndGradientsMatchPyTorch) {
  Fixture f(GetParam());
  auto model = load_model(f);
  const Tensor src = f.get("input.src"), tgt_in = f.get("input.tgt_in"), tgt_out = f.get("input.tgt_out");
  const Tensor mask = model->padding_mask(src);
  // Several layers deep in float32: a looser tolerance than single layers.
  expect_close(model->decode(tgt_in, model->encode(src, mask), mask), f.get("output.logits"), "logits", 1e-4, 1e-5);
  autograd::clear_tape();
  Tensor loss = model->loss(src, tgt_in, tgt_out, f.config()["label_smoothing"].get<double>());
  expect_close(loss, f.get("output.loss"), "loss", 1e-5, 1e-5);
  autograd::backward(loss);
  for (const auto& [name, param] : model->named_parameters())
    expect_close(param.grad(), f.get("grad.param." + name), "grad.param." + name, 1e-4, 1e-6);
}

TEST_P(GoldenTranslator, IncrementalDecodingEqualsTheFullForward) {
  Fixture f(GetParam());
  auto model = load_model(f);
  model->eval();
  autograd::NoGradGuard no_grad;
  const Tensor src = f.get("input.src"), tgt_in = f.get("input.tgt_in");
  const Tensor mask = model->padding_mask(src);
  const Tensor expected = ops::log_softmax(f.get("output.logits"), -1);
  models::DecoderState state = model->start_decoding(model->encode(src, mask), mask);
  // Every row of the first sentence; the second sentence's padded last step is left out (the full forward
  // masks it in the recurrent decoder, a single step cannot).
  for (int64_t t = 0; t < tgt_in.size(1); ++t) {
    Tensor step = model->decode_step(state, ops::contiguous(ops::select(tgt_in, 1, t)));
    for (int64_t b = 0; b < tgt_in.size(0); ++b) {
      if (tgt_in.data<int32_t>()[b * tgt_in.size(1) + t] == 0) continue;
      expect_close(ops::contiguous(ops::select(step, 0, b)), ops::contiguous(ops::select(ops::select(expected, 1, t), 0, b)),
                   "sentence " + std::to_string(b) + " step " + std::to_string(t), 1e-4, 1e-5);
    }
  }
}

TEST_P(GoldenTranslator, GreedySearchMatchesPyTorchGreedyDecoding) {
  Fixture f(GetParam());
  auto model = load_model(f, "trained.");
  model->eval();
  autograd::NoGradGuard no_grad;
  runtime::SearchOptions greedy;
  greedy.beam_size = 1, greedy.max_len_ratio = 0, greedy.max_len_extra = 13;  // ≤ 12 tokens + </s>
  const auto results = runtime::beam_search(*model, f.get("input.src"), greedy);
  const Tensor reference = f.get("output.greedy");
  const int32_t eos = f.config()["eos_id"].get<int32_t>();
  ASSERT_EQ(results.size(), 2u);
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<int32_t> expected;
    for (int64_t t = 0; t < reference.size(1); ++t) {
      const int32_t token = reference.data<int32_t>()[b * reference.size(1) + t];
      if (token == eos) break;
      expected.push_back(token);
    }
    ASSERT_EQ(results[b].size(), 1u);
    EXPECT_EQ(results[b][0].tokens, expected) << "sentence " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTranslator, ::testing::Values("translator", "lstm_translator"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace lmaas::golden
