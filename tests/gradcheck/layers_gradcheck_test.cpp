// Every layer: autograd's gradients for all its parameters (and its float input, where it has one)
// against central finite differences, in double precision (modules built under ParameterDTypeGuard),
// with padded batches: right-padded, left-padded and masks with holes. The op-level checks
// (ops_gradcheck_test) cover each op alone; these cover the layers' composition of them.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "models/bow_classifier.h"
#include "models/cnn_classifier.h"
#include "models/nbsvm_classifier.h"
#include "models/text_classifier.h"
#include "nn/attention.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/positional.h"
#include "nn/recurrent.h"
#include "nn/transformer.h"
#include "ops/ops.h"

namespace lmaas::nn {
namespace {

constexpr int64_t kBatch = 3, kSteps = 4, kWidth = 4;

Tensor random_input(Rng& rng, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::kF64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = rng.uniform(-1, 1);
  t.set_requires_grad(true);  // now, so that the copies gradcheck receives share this autograd identity
  return t;
}

// Token masks [kBatch, kSteps] (1 = token): right padding, left padding, holes (one row all padding
// except its first token).
Tensor token_mask(char kind) {
  const char* rows[3][3] = {{"1111", "1100", "1000"}, {"1111", "0011", "0001"}, {"1011", "0110", "1000"}};
  const int which = kind == 'r' ? 0 : kind == 'l' ? 1 : 2;
  Tensor m = Tensor::empty({kBatch, kSteps}, DType::kU8);
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t t = 0; t < kSteps; ++t) m.data<uint8_t>()[b * kSteps + t] = rows[which][b][t] == '1';
  return m;
}

Tensor inverted(const Tensor& mask) {
  Tensor out = Tensor::empty(mask.shape(), DType::kU8);
  for (int64_t i = 0; i < mask.numel(); ++i) out.data<uint8_t>()[i] = !mask.data<uint8_t>()[i];
  return out;
}

// Checks d(outputs)/d(every parameter of `module`, then `extra` inputs).
void expect_gradients_match(const Module& module, const std::vector<Tensor>& extra,
                            const std::function<std::vector<Tensor>()>& run, const std::string& what) {
  std::vector<Tensor> inputs = module.parameters();
  for (const Tensor& t : extra) inputs.push_back(t);
  for (Tensor& t : inputs) {  // gradients of an earlier check must not add to this one
    ASSERT_TRUE(t.autograd_meta()) << what;
    t.autograd_meta()->grad = Tensor();
  }
  for (const Tensor& t : inputs) ASSERT_EQ(t.dtype(), DType::kF64) << what;
  auto result = autograd::gradcheck([&](const std::vector<Tensor>&) { return run(); }, inputs,
                                    std::vector<bool>(inputs.size(), true), {1e-6, 1e-7, 1e-5, 11});
  EXPECT_TRUE(result.ok) << what << ": " << result.message;
}

class LayerGradcheck : public ::testing::Test {
 protected:
  ParameterDTypeGuard f64_{DType::kF64};
  Rng rng_{77};
};

TEST_F(LayerGradcheck, RecurrentLayersThroughTimeWithPadding) {
  for (CellKind kind : {CellKind::kLstm, CellKind::kGru, CellKind::kRnnTanh, CellKind::kRnnRelu}) {
    for (char mask_kind : {'r', 'l', 'h'}) {
      RecurrentOptions o;
      o.input_size = 3, o.hidden_size = 2, o.num_layers = 2, o.bidirectional = true;
      Recurrent layer(kind, o, rng_);
      Tensor x = random_input(rng_, {kBatch, kSteps, 3}), mask = token_mask(mask_kind);
      Tensor h0 = random_input(rng_, {4, kBatch, 2}), c0 = random_input(rng_, {4, kBatch, 2});
      const bool lstm = kind == CellKind::kLstm;
      expect_gradients_match(layer, lstm ? std::vector<Tensor>{x, h0, c0} : std::vector<Tensor>{x, h0}, [&] {
        auto s = layer.forward(x, mask, h0, lstm ? c0 : Tensor());
        return lstm ? std::vector<Tensor>{s.output, s.h_n, s.c_n} : std::vector<Tensor>{s.output, s.h_n};
      }, "recurrent kind " + std::to_string(static_cast<int>(kind)) + " mask " + mask_kind);
    }
  }
}

TEST_F(LayerGradcheck, FinalStatesOnlyAndEmbeddingWithPaddingIndex) {
  Embedding embedding(6, 3, rng_, /*padding_idx=*/0);
  RecurrentOptions o;
  o.input_size = 3, o.hidden_size = 2, o.return_sequences = false, o.unit_forget_bias = true;
  LSTM lstm(o, rng_);
  Tensor ids = Tensor::from_vector<int32_t>({1, 2, 3, 0, 4, 5, 0, 0, 2, 0, 0, 0}, {kBatch, kSteps});
  Tensor mask = embedding.padding_mask(ids);
  std::vector<Tensor> lstm_params = lstm.parameters();
  expect_gradients_match(embedding, lstm_params, [&] { return std::vector<Tensor>{lstm.forward(embedding.forward(ids), mask).h_n}; },
                         "embedding + lstm final state");
}

TEST_F(LayerGradcheck, LinearWithEachActivationAndLayerNorm) {
  for (Activation a : {Activation::kNone, Activation::kSigmoid, Activation::kTanh, Activation::kGelu}) {
    Linear linear(kWidth, 3, rng_, true, a);
    Tensor x = random_input(rng_, {kBatch, kWidth});
    expect_gradients_match(linear, {x}, [&] { return std::vector<Tensor>{linear.forward(x)}; },
                           "linear activation " + std::to_string(static_cast<int>(a)));
  }
  LayerNorm norm(kWidth);
  for (Tensor& p : norm.parameters()) p.copy_from(random_input(rng_, p.shape()));
  Tensor x = random_input(rng_, {kBatch, kSteps, kWidth});
  expect_gradients_match(norm, {x}, [&] { return std::vector<Tensor>{norm.forward(x)}; }, "layer norm");
}

TEST_F(LayerGradcheck, MultiheadAttentionWithKeyPaddingAndCausalMasks) {
  MultiheadAttention attention(kWidth, 2, rng_);
  Tensor q = random_input(rng_, {kBatch, 3, kWidth}), kv = random_input(rng_, {kBatch, kSteps, kWidth});
  Tensor pad = inverted(token_mask('h'));
  expect_gradients_match(attention, {q, kv}, [&] { return std::vector<Tensor>{attention.forward(q, kv, kv, pad)}; },
                         "cross attention");
  Tensor x = random_input(rng_, {kBatch, kSteps, kWidth});
  Tensor right = inverted(token_mask('r'));
  expect_gradients_match(attention, {x}, [&] { return std::vector<Tensor>{attention.forward(x, x, x, right, true)}; },
                         "causal self attention");
}

TEST_F(LayerGradcheck, TransformerLayersPreAndPostNorm) {
  for (bool norm_first : {false, true}) {
    TransformerOptions o;
    o.d_model = kWidth, o.n_heads = 2, o.dim_feedforward = 6, o.dropout = 0.0, o.norm_first = norm_first;
    o.activation = norm_first ? Activation::kGelu : Activation::kRelu;
    const std::string tag = norm_first ? " pre-norm" : " post-norm";
    TransformerEncoderLayer encoder(o, rng_);
    Tensor x = random_input(rng_, {kBatch, kSteps, kWidth});
    Tensor pad = inverted(token_mask('r'));
    expect_gradients_match(encoder, {x}, [&] { return std::vector<Tensor>{encoder.forward(x, pad)}; }, "encoder" + tag);
    TokenPacking packing = make_token_packing(kBatch, kSteps, pad);
    Tensor packed = pack_tokens(x, packing).contiguous().clone().set_requires_grad(true);
    expect_gradients_match(encoder, {packed}, [&] { return std::vector<Tensor>{encoder.forward_packed(packed, packing)}; },
                           "packed encoder" + tag);
    TransformerDecoderLayer decoder(o, rng_);
    Tensor tgt = random_input(rng_, {kBatch, 3, kWidth}), memory = random_input(rng_, {kBatch, kSteps, kWidth});
    Tensor tgt_pad = inverted(token_mask('r').slice(1, 0, 3).contiguous());
    expect_gradients_match(decoder, {tgt, memory},
                           [&] { return std::vector<Tensor>{decoder.forward(tgt, memory, tgt_pad, pad, true)}; },
                           "decoder" + tag);
  }
}

TEST_F(LayerGradcheck, PositionsAndMaskedPooling) {
  LearnedPositionalEmbedding positions(kSteps, kWidth, rng_);
  SinusoidalPositionalEncoding sinusoid(kSteps, kWidth);
  Tensor x = random_input(rng_, {kBatch, kSteps, kWidth});
  for (Pooling pooling : {Pooling::kLast, Pooling::kMean, Pooling::kMax, Pooling::kFirst}) {
    for (char mask_kind : {'r', 'l'}) {
      Tensor mask = token_mask(mask_kind);
      expect_gradients_match(positions, {x}, [&] {
        return std::vector<Tensor>{pool(sinusoid.forward(positions.forward(x)), mask, pooling)};
      }, "positions + pooling " + std::to_string(static_cast<int>(pooling)) + " mask " + mask_kind);
    }
  }
}

TEST_F(LayerGradcheck, TextClassifiersEndToEnd) {
  using models::EncoderArch;
  for (EncoderArch arch : {EncoderArch::kRnn, EncoderArch::kLstm, EncoderArch::kGru, EncoderArch::kBiLstm,
                           EncoderArch::kTransformer}) {
    models::TextClassifierConfig c;
    c.arch = arch, c.vocab_size = 6, c.embedding_dim = c.hidden_size = kWidth, c.n_heads = 2, c.dim_feedforward = 6;
    c.max_len = kSteps, c.n_classes = 3;
    models::TextClassifier model(c);
    Tensor ids = Tensor::from_vector<int32_t>({1, 2, 3, 0, 4, 5, 0, 0, 2, 5, 1, 3}, {kBatch, kSteps});
    expect_gradients_match(model, {}, [&] { return std::vector<Tensor>{model.forward(ids)}; },
                           "text classifier " + models::encoder_arch_name(arch));
  }
}

TEST_F(LayerGradcheck, BowAndCnnClassifiers) {
  Tensor ids = Tensor::from_vector<int32_t>({1, 2, 3, 0, 4, 5, 0, 0, 2, 0, 0, 0}, {kBatch, kSteps});
  models::BowConfig b;
  b.vocab_size = 6, b.embedding_dim = 3, b.n_classes = 3;
  b.sparse_grad = false;  // gradcheck reads dense gradients; sparse_grad_test checks the sparse form equals them
  models::BowClassifier bow(b);
  expect_gradients_match(bow, {}, [&] { return std::vector<Tensor>{bow.forward(ids)}; }, "bow");
  models::CnnConfig c;
  c.vocab_size = 6, c.embedding_dim = 2, c.widths = {1, 2, 5}, c.filters = 2, c.n_classes = 3, c.dropout = 0.0;
  models::CnnClassifier cnn(c);
  expect_gradients_match(cnn, {}, [&] { return std::vector<Tensor>{cnn.forward(ids)}; }, "cnn");
  models::NbsvmConfig n;
  n.vocab_size = 6, n.n_classes = 3, n.sparse_grad = false;
  models::NbsvmClassifier nbsvm(n);
  nbsvm.fit_statistics([&](const auto& visit) {  // non-zero ratios, and weights away from their zero start
    const std::vector<std::vector<int32_t>> texts = {{1, 2, 3}, {4, 5}, {2, 5}, {1}};
    const std::vector<int32_t> labels = {0, 1, 2, 2};
    for (size_t i = 0; i < texts.size(); ++i) visit(texts[i], labels[i]);
  });
  for (Tensor& p : nbsvm.parameters()) init::uniform(p, rng_, -1, 1);
  expect_gradients_match(nbsvm, {}, [&] { return std::vector<Tensor>{nbsvm.forward(ids)}; }, "nbsvm");
  nlohmann::json ensemble_arch = {{"arch", "ensemble"},
                                  {"members", {{{"arch", "bow"}, {"embedding_dim", 3}, {"sparse_grad", false}},
                                               {{"arch", "cnn"}, {"widths", {1, 2}}, {"filters", 2}}}}};
  auto ensemble = models::make_classifier(models::complete_architecture(ensemble_arch, 6, 3, kSteps, 3).value());
  ASSERT_TRUE(ensemble.is_ok());
  models::Classifier& e = *ensemble.value();
  e.eval();  // the cnn member's dropout off
  expect_gradients_match(e, {}, [&] { return std::vector<Tensor>{e.forward(ids)}; }, "ensemble");
}

}  // namespace
}  // namespace lmaas::nn
