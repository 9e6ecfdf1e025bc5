// Layers against PyTorch 1.13: forward outputs, and the gradients of L = Σ seed ⊙ output with respect to
// every parameter and float input (fixtures: tests/golden/fixtures, generator: tests/tools/gen_golden.py).
#include <map>

#include "autograd/tape.h"
#include "golden/golden_util.h"
#include "nn/embedding.h"
#include "nn/recurrent.h"
#include "nn/transformer.h"

namespace lmaas::golden {
namespace {

using Outputs = std::map<std::string, Tensor>;

// A float input from the fixture, made a gradient leaf.
Tensor leaf(const Fixture& f, const std::string& name) { return f.get("input." + name).clone().set_requires_grad(true); }

// Compares outputs, back-propagates the fixture's seeds and compares every gradient the fixture holds.
void check_against_fixture(const Fixture& f, const nn::Module& module, const Outputs& outputs,
                           const std::map<std::string, Tensor>& inputs) {
  std::vector<Tensor> roots, seeds;
  for (const auto& [name, out] : outputs) {
    expect_close(out, f.get("output." + name), f.name() + " output." + name);
    roots.push_back(out);
    seeds.push_back(f.get("seed." + name).reshape(out.shape()));
  }
  autograd::backward(roots, seeds);
  for (const auto& [name, param] : module.named_parameters())
    expect_close(param.grad(), f.get("grad.param." + name), f.name() + " grad.param." + name);
  for (const auto& [name, input] : inputs) {
    if (f.has("grad.input." + name)) expect_close(input.grad(), f.get("grad.input." + name), f.name() + " grad.input." + name);
  }
}

nn::RecurrentOptions rnn_options(int64_t input, int64_t hidden, int64_t layers, bool bidirectional) {
  nn::RecurrentOptions o;
  o.input_size = input, o.hidden_size = hidden, o.num_layers = layers, o.bidirectional = bidirectional;
  return o;
}

TEST(GoldenLayers, EmbeddingLstmWithPadding) {
  Fixture f("embedding_lstm");
  Rng rng(1);
  Container net;
  auto embedding = net.add("embedding", std::make_shared<nn::Embedding>(20, 6, rng, 0));
  auto lstm = net.add("lstm", std::make_shared<nn::LSTM>(rnn_options(6, 8, 1, false), rng));
  ASSERT_TRUE(net.load_state(f.with_prefix("param.")).is_ok());
  Tensor ids = f.get("input.ids");
  auto state = lstm->forward(embedding->forward(ids), f.get("input.mask"));
  check_against_fixture(f, net, {{"output", state.output}, {"h_n", state.h_n}, {"c_n", state.c_n}}, {});
}

TEST(GoldenLayers, TwoLayerGruWithPadding) {
  Fixture f("gru");
  Rng rng(1);
  Container net;
  auto gru = net.add("gru", std::make_shared<nn::GRU>(rnn_options(5, 7, 2, false), rng));
  ASSERT_TRUE(net.load_state(f.with_prefix("param.")).is_ok());
  Tensor x = leaf(f, "x");
  auto state = gru->forward(x, f.get("input.mask"));
  check_against_fixture(f, net, {{"output", state.output}, {"h_n", state.h_n}}, {{"x", x}});
}

TEST(GoldenLayers, SimpleRnnWithPadding) {
  Fixture f("simple_rnn");
  Rng rng(1);
  Container net;
  auto rnn = net.add("rnn", std::make_shared<nn::SimpleRNN>(rnn_options(5, 7, 1, false), rng));
  ASSERT_TRUE(net.load_state(f.with_prefix("param.")).is_ok());
  Tensor x = leaf(f, "x");
  auto state = rnn->forward(x, f.get("input.mask"));
  check_against_fixture(f, net, {{"output", state.output}, {"h_n", state.h_n}}, {{"x", x}});
}

TEST(GoldenLayers, TwoLayerBidirectionalLstmWithPadding) {
  Fixture f("bilstm");
  Rng rng(1);
  Container net;
  auto lstm = net.add("lstm", std::make_shared<nn::LSTM>(rnn_options(5, 6, 2, true), rng));
  ASSERT_TRUE(net.load_state(f.with_prefix("param.")).is_ok());
  Tensor x = leaf(f, "x");
  auto state = lstm->forward(x, f.get("input.mask"));
  check_against_fixture(f, net, {{"output", state.output}, {"h_n", state.h_n}, {"c_n", state.c_n}}, {{"x", x}});
}

TEST(GoldenLayers, MultiheadSelfAttentionCausalPadded) {
  Fixture f("mha");
  Rng rng(1);
  nn::MultiheadAttention mha(16, 4, rng);
  ASSERT_TRUE(mha.load_state(f.with_prefix("param.")).is_ok());
  Tensor x = leaf(f, "x");
  Tensor out = mha.forward(x, x, x, f.get("input.key_padding_mask"), true);
  check_against_fixture(f, mha, {{"output", out}}, {{"x", x}});
}

TEST(GoldenLayers, MultiheadCrossAttentionPadded) {
  Fixture f("mha_cross");
  Rng rng(1);
  nn::MultiheadAttention mha(16, 4, rng);
  ASSERT_TRUE(mha.load_state(f.with_prefix("param.")).is_ok());
  Tensor q = leaf(f, "q"), kv = leaf(f, "kv");
  Tensor out = mha.forward(q, kv, kv, f.get("input.key_padding_mask"), false);
  check_against_fixture(f, mha, {{"output", out}}, {{"q", q}, {"kv", kv}});
}

nn::TransformerOptions transformer_options(bool norm_first, nn::Activation activation) {
  nn::TransformerOptions o;
  o.d_model = 16, o.n_heads = 4, o.dim_feedforward = 32, o.dropout = 0.0;
  o.norm_first = norm_first, o.activation = activation;
  return o;
}

class GoldenEncoder : public ::testing::TestWithParam<std::tuple<std::string, bool, nn::Activation>> {};

TEST_P(GoldenEncoder, MatchesPyTorch) {
  auto [name, norm_first, activation] = GetParam();
  Fixture f(name);
  Rng rng(1);
  nn::TransformerEncoderLayer layer(transformer_options(norm_first, activation), rng);
  ASSERT_TRUE(layer.load_state(f.with_prefix("param.")).is_ok());
  Tensor x = leaf(f, "x");
  Tensor out = layer.forward(x, f.get("input.src_key_padding_mask"));
  check_against_fixture(f, layer, {{"output", out}}, {{"x", x}});
}

INSTANTIATE_TEST_SUITE_P(
    Layers, GoldenEncoder,
    ::testing::Values(std::make_tuple("transformer_encoder_post", false, nn::Activation::kRelu),
                      std::make_tuple("transformer_encoder_pre", true, nn::Activation::kRelu),
                      std::make_tuple("transformer_encoder_pre_gelu", true, nn::Activation::kGelu)),
    [](const auto& param_info) { return std::get<0>(param_info.param); });

class GoldenDecoder : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(GoldenDecoder, MatchesPyTorch) {
  auto [name, norm_first] = GetParam();
  Fixture f(name);
  Rng rng(1);
  nn::TransformerDecoderLayer layer(transformer_options(norm_first, nn::Activation::kRelu), rng);
  ASSERT_TRUE(layer.load_state(f.with_prefix("param.")).is_ok());
  Tensor tgt = leaf(f, "tgt"), memory = leaf(f, "memory");
  Tensor out = layer.forward(tgt, memory, Tensor(), f.get("input.memory_key_padding_mask"), true);
  check_against_fixture(f, layer, {{"output", out}}, {{"tgt", tgt}, {"memory", memory}});
}

INSTANTIATE_TEST_SUITE_P(Layers, GoldenDecoder,
                         ::testing::Values(std::make_tuple("transformer_decoder_post", false),
                                           std::make_tuple("transformer_decoder_pre", true)),
                         [](const auto& param_info) { return std::get<0>(param_info.param); });

}  // namespace
}  // namespace lmaas::golden
