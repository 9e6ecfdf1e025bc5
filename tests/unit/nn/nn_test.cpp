// Layer behaviour that goldens do not pin: parameter names (an API), initialisers, positional encodings,
// pooling, padding invariance of every recurrent kind, and module state files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "autograd/tape.h"
#include "formats/module_state.h"
#include "models/classifier.h"
#include "models/text_classifier.h"
#include "nn/init.h"
#include "nn/pooling.h"
#include "nn/positional.h"
#include "nn/recurrent.h"
#include "nn/transformer.h"
#include "ops/ops.h"

namespace lmaas::nn {
namespace {

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (auto& [name, t] : m.named_parameters()) names.push_back(name);
  return names;
}

TEST(NnNames, TransformerEncoderLayerUsesPyTorchStyleNames) {
  Rng rng(1);
  TransformerOptions o;
  o.d_model = 8, o.n_heads = 2, o.dim_feedforward = 16;
  TransformerEncoderLayer layer(o, rng);
  EXPECT_EQ(names_of(layer),
            (std::vector<std::string>{"self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
                                      "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
                                      "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight",
                                      "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
                                      "norm2.weight", "norm2.bias"}));
}

TEST(NnNames, BidirectionalLstmUsesPyTorchNames) {
  Rng rng(1);
  RecurrentOptions o;
  o.input_size = 3, o.hidden_size = 4, o.num_layers = 2, o.bidirectional = true;
  LSTM lstm(o, rng);
  auto names = names_of(lstm);
  ASSERT_EQ(names.size(), 16u);
  EXPECT_EQ(names[4], "weight_ih_l0_reverse");
  EXPECT_EQ(names[15], "bias_hh_l1_reverse");
  EXPECT_EQ(lstm.named_parameters()[8].second.shape(), (Shape{16, 8}));  // layer 1 reads both directions
}

TEST(NnInit, GlorotBoundsAndOrthogonalColumns) {
  Rng rng(3);
  Tensor w = Tensor::empty({64, 32});
  init::glorot_uniform(w, rng, 32, 64);
  double limit = std::sqrt(6.0 / 96.0), max_abs = 0;
  for (float v : w.to_vector<float>()) max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.9 * limit);
  Tensor q = Tensor::empty({12, 5});
  init::orthogonal(q, rng);
  auto v = q.to_vector<double>();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) {
      double dot = 0;
      for (int r = 0; r < 12; ++r) dot += v[r * 5 + i] * v[r * 5 + j];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-6);
    }
}

TEST(NnInit, UnitForgetBiasSetsForgetGateOnly) {
  Rng rng(1);
  RecurrentOptions o;
  o.input_size = 2, o.hidden_size = 3, o.unit_forget_bias = true;
  LSTM lstm(o, rng);
  auto b = lstm.named_parameters()[2].second.to_vector<float>();  // bias_ih_l0: gates i, f, g, o
  EXPECT_EQ(b, (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(NnPositional, SinusoidalValuesByHand) {
  SinusoidalPositionalEncoding pe(10, 4);
  auto t = pe.table().to_vector<double>();
  // position 3: sin(3), cos(3), sin(3/100), cos(3/100)
  EXPECT_NEAR(t[12], std::sin(3.0), 1e-6);
  EXPECT_NEAR(t[13], std::cos(3.0), 1e-6);
  EXPECT_NEAR(t[14], std::sin(0.03), 1e-6);
  EXPECT_NEAR(t[15], std::cos(0.03), 1e-6);
  EXPECT_THROW(pe.forward(Tensor::zeros({1, 11, 4})), Error);
}

TEST(NnPooling, MaskedPoolsByHand) {
  // x[1, 3, 2] = [[1, 2], [3, 4], [5, 6]], last position is padding.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {1, 3, 2});
  Tensor mask = Tensor::from_vector<uint8_t>({1, 1, 0}, {1, 3});
  EXPECT_EQ(pool(x, mask, Pooling::kMean).to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(pool(x, mask, Pooling::kMax).to_vector<float>(), (std::vector<float>{3, 4}));
  EXPECT_EQ(pool(x, mask, Pooling::kLast).to_vector<float>(), (std::vector<float>{3, 4}));
  EXPECT_EQ(pool(x, mask, Pooling::kFirst).to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(pool(x, Tensor(), Pooling::kLast).to_vector<float>(), (std::vector<float>{5, 6}));
}

// For every recurrent kind, bidirectional: padding a batch (with garbage in the pads) changes nothing.
class PaddingInvariance : public ::testing::TestWithParam<CellKind> {};

TEST_P(PaddingInvariance, PadsNeverChangeTheResult) {
  Rng rng(11);
  RecurrentOptions o;
  o.input_size = 3, o.hidden_size = 8, o.num_layers = 2, o.bidirectional = true;
  Recurrent layer(GetParam(), o, rng);
  autograd::NoGradGuard no_grad;
  Tensor x_short = Tensor::empty({1, 4, 3});
  init::uniform(x_short, rng, -1, 1);
  Tensor x_long = Tensor::full({1, 9, 3}, 5.0);
  x_long.slice(1, 0, 4).copy_from(x_short);
  Tensor mask = Tensor::from_vector<uint8_t>({1, 1, 1, 1, 0, 0, 0, 0, 0}, {1, 9});
  auto a = layer.forward(x_short), b = layer.forward(x_long, mask);
  auto av = a.h_n.to_vector<float>(), bv = b.h_n.to_vector<float>();
  for (size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-6) << "h_n " << i;
  auto ao = a.output.to_vector<float>(), bo = b.output.slice(1, 0, 4).to_vector<float>();
  for (size_t i = 0; i < ao.size(); ++i) EXPECT_NEAR(ao[i], bo[i], 1e-6) << "output " << i;
  for (float v : b.output.slice(1, 4, 9).to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Kinds, PaddingInvariance,
                         ::testing::Values(CellKind::kRnnTanh, CellKind::kRnnRelu, CellKind::kLstm, CellKind::kGru));

TEST(NnTransformer, PackedTokensMatchThePaddedLayer) {
  Rng rng(9);
  TransformerOptions o;
  o.d_model = 16, o.n_heads = 4, o.dim_feedforward = 24, o.dropout = 0.0;
  for (bool norm_first : {false, true}) {
    o.norm_first = norm_first;
    TransformerEncoderLayer layer(o, rng);
    Tensor x = Tensor::empty({3, 5, 16});
    init::uniform(x, rng, -1, 1);
    Tensor pad = Tensor::from_vector<uint8_t>({0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1}, {3, 5});
    Tensor token_mask = Tensor::from_vector<uint8_t>({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0}, {3, 5});
    // Loss over real tokens only; both paths must agree on it and on every parameter gradient.
    auto run = [&](bool packed) {
      layer.zero_grad();
      Tensor out;
      if (packed) {
        TokenPacking packing = make_token_packing(3, 5, pad);
        out = unpack_tokens(layer.forward_packed(pack_tokens(x, packing), packing), packing);
      } else {
        out = layer.forward(x, pad);
      }
      Tensor pooled = pool(out, token_mask, Pooling::kMean);
      autograd::backward(ops::sum_all(ops::mul(pooled, pooled)));
      std::vector<std::vector<float>> grads{pooled.to_vector<float>()};
      for (auto& [name, p] : layer.named_parameters()) grads.push_back(p.grad().to_vector<float>());
      return grads;
    };
    auto padded = run(false), packed = run(true);
    ASSERT_EQ(padded.size(), packed.size());
    for (size_t i = 0; i < padded.size(); ++i)
      for (size_t j = 0; j < padded[i].size(); ++j) EXPECT_NEAR(padded[i][j], packed[i][j], 1e-5) << i << "," << j;
  }
}

TEST(TextClassifierFreeze, TablesGiveTheSameLogitsAndTrainingBypassesThem) {
  using models::EncoderArch;
  for (EncoderArch arch : {EncoderArch::kRnn, EncoderArch::kLstm, EncoderArch::kGru, EncoderArch::kBiLstm}) {
    models::TextClassifierConfig c;
    c.arch = arch, c.vocab_size = 30, c.embedding_dim = 8, c.hidden_size = 6, c.num_layers = 2, c.n_classes = 3;
    models::TextClassifier model(c);
    model.eval();
    // Right-padded, left-padded and full rows in one batch (the mixed-mask path of the ops).
    Tensor ids = Tensor::from_vector<int32_t>({3, 4, 5, 0, 0, 7, 8, 9, 1, 2, 29, 11}, {3, 4});
    std::vector<float> dense;
    {
      autograd::NoGradGuard no_grad;
      dense = model.forward(ids).to_vector<float>();
      ASSERT_TRUE(model.freeze_for_inference());
      auto frozen = model.forward(ids).to_vector<float>();
      ASSERT_EQ(dense.size(), frozen.size());
      for (size_t i = 0; i < dense.size(); ++i) EXPECT_NEAR(dense[i], frozen[i], 1e-5) << encoder_arch_name(arch) << i;
    }
    // With grad enabled the dense path runs, so the embedding still gets its gradient.
    autograd::backward(ops::sum_all(model.forward(ids)));
    const auto params = model.named_parameters();
    ASSERT_EQ(params.front().first, "embedding.weight");
    EXPECT_TRUE(params.front().second.grad().defined()) << encoder_arch_name(arch);
  }
  models::TextClassifierConfig t;
  t.arch = models::EncoderArch::kTransformer, t.vocab_size = 30, t.embedding_dim = t.hidden_size = 8, t.n_heads = 2;
  models::TextClassifier transformer(t);
  EXPECT_FALSE(transformer.freeze_for_inference());
}

TEST(Classifiers, ExtraPaddingNeverChangesTheLogitsAndConfigRebuildsTheModel) {
  const std::vector<nlohmann::json> archs = {
      {{"arch", "bow"}, {"vocab_size", 20}, {"embedding_dim", 4}, {"n_classes", 3}, {"dropout", 0.0},
       {"sparse_grad", true}, {"seed", 3}},
      {{"arch", "cnn"}, {"vocab_size", 20}, {"embedding_dim", 4}, {"widths", {2, 3}}, {"filters", 5},
       {"n_classes", 3}, {"dropout", 0.5}, {"seed", 3}},
      {{"arch", "bilstm"}, {"vocab_size", 20}, {"embedding_dim", 4}, {"hidden_size", 5}, {"num_layers", 1},
       {"n_heads", 1}, {"dim_feedforward", 8}, {"max_len", 16}, {"n_classes", 3}, {"padding_idx", 0},
       {"dropout", 0.0}, {"seed", 3}}};
  for (const auto& a : archs) {
    auto made = models::make_classifier(a);
    ASSERT_TRUE(made.is_ok()) << made.status().message();
    models::Classifier& model = *made.value();
    model.eval();
    EXPECT_EQ(model.config_json(), a);
    autograd::NoGradGuard no_grad;
    Tensor short_ids = Tensor::from_vector<int32_t>({5, 6, 7, 0, 9, 0, 0, 0}, {2, 4});
    Tensor long_ids = Tensor::zeros({2, 9}, DType::kI32);
    long_ids.slice(1, 0, 4).copy_from(short_ids);
    auto a_out = model.forward(short_ids).to_vector<float>(), b_out = model.forward(long_ids).to_vector<float>();
    for (size_t i = 0; i < a_out.size(); ++i) EXPECT_NEAR(a_out[i], b_out[i], 1e-5) << a["arch"] << " " << i;
    Tensor empty = Tensor::zeros({1, 3}, DType::kI32);  // a text with no known token still classifies
    for (float v : model.forward(empty).to_vector<float>()) EXPECT_TRUE(std::isfinite(v)) << a["arch"];
  }
  nlohmann::json bad = archs[0];
  bad.erase("embedding_dim");
  auto err = models::make_classifier(bad);
  ASSERT_FALSE(err.is_ok());
  EXPECT_NE(err.status().message().find("embedding_dim"), std::string::npos) << err.status().message();
}

TEST(NnState, SaveLoadRoundTripGivesIdenticalOutputs) {
  models::TextClassifierConfig c;
  c.arch = models::EncoderArch::kTransformer, c.vocab_size = 50, c.embedding_dim = 16, c.hidden_size = 16;
  c.num_layers = 2, c.n_heads = 2, c.dim_feedforward = 32, c.max_len = 10, c.n_classes = 3;
  c.seed = 1;
  models::TextClassifier a(c);
  c.seed = 2;
  models::TextClassifier b(c);
  a.eval(), b.eval();
  std::string path = (std::filesystem::temp_directory_path() / "lmaas_state_test.safetensors").string();
  ASSERT_TRUE(save_module_state(a, path, {{"arch", "transformer"}}).is_ok());
  ASSERT_TRUE(load_module_state(b, path).is_ok());
  Tensor ids = Tensor::from_vector<int32_t>({3, 4, 5, 0, 7, 8, 9, 10}, {2, 4});
  autograd::NoGradGuard no_grad;
  EXPECT_EQ(a.forward(ids).to_vector<float>(), b.forward(ids).to_vector<float>());
  // A model of another shape refuses the file, naming the parameter.
  c.hidden_size = c.embedding_dim = 8;
  models::TextClassifier other(c);
  Status s = load_module_state(other, path);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("embedding.weight"), std::string::npos) << s.message();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace lmaas::nn
