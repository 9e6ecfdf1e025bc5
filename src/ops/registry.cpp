// Registry entries: shapes are odd on purpose (3, 5, 7 …) so that no kernel can rely on round sizes.
#include "ops/registry.h"

#include "ops/ops.h"

namespace lmaas::ops {

Tensor random_tensor(Rng& rng, const Shape& shape, const InputSpec& spec, double lo, double hi) {
  auto fill = [&](Tensor t) {
    auto* base = t.storage().get();
    int64_t n = static_cast<int64_t>(base->size_bytes() / dtype_size(spec.dtype));
    Tensor flat = Tensor::from_storage(t.storage(), {n}, spec.dtype);
    for (int64_t i = 0; i < n; ++i) {
      double v = rng.uniform(lo, hi);
      if (spec.dtype == DType::kF32) flat.data<float>()[i] = static_cast<float>(v);
      else flat.data<double>()[i] = v;
    }
    return t;
  };
  if (!spec.non_contiguous || shape.empty()) return fill(Tensor::empty(shape, spec.dtype));
  if (shape.size() == 1) {  // every other element of a buffer twice as long
    Tensor wide = fill(Tensor::empty({shape[0] * 2}, spec.dtype));
    return wide.slice(0, 0, shape[0] * 2, 2);
  }
  Shape swapped = shape;  // allocate with the last two dims swapped, then transpose back
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  return fill(Tensor::empty(swapped, spec.dtype)).transpose(-1, -2);
}

namespace {

Tensor ids_tensor(Rng& rng, const Shape& shape, int64_t vocab) {
  Tensor t = Tensor::empty(shape, DType::kI32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab)));
  return t;
}

// A right-padding mask [B, T] (1 = token) with the given lengths.
Tensor length_mask(const std::vector<int64_t>& lengths, int64_t steps, bool pad_is_one) {
  Tensor m = Tensor::zeros({static_cast<int64_t>(lengths.size()), steps}, DType::kU8);
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < steps; ++t) m.data<uint8_t>()[b * steps + t] = (t < lengths[b]) != pad_is_one;
  return m;
}

// Values away from a kink (relu at 0) so that finite differences are valid.
Tensor away_from_zero(Rng& rng, const Shape& shape, const InputSpec& spec) {
  const InputSpec dense{spec.dtype, false, spec.large};
  Tensor t = random_tensor(rng, shape, dense, 0.1, 1.0);
  Tensor flip = random_tensor(rng, shape, dense, -1.0, 1.0);
  Tensor sign = Tensor::empty(shape, spec.dtype);
  auto fv = flip.to_vector<double>();
  for (size_t i = 0; i < fv.size(); ++i) {
    if (spec.dtype == DType::kF32) sign.data<float>()[i] = fv[i] < 0 ? -1.0f : 1.0f;
    else sign.data<double>()[i] = fv[i] < 0 ? -1.0 : 1.0;
  }
  Tensor values = mul(t, sign);
  if (!spec.non_contiguous) return values;
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  Tensor strided = Tensor::empty(swapped, spec.dtype).transpose(-1, -2);
  strided.copy_from(values);
  return strided;
}

using Inputs = std::vector<Tensor>;

OpCase unary_case(const std::string& name, kernels::Unary op, double lo, double hi) {
  return {name,
          [lo, hi](Rng& rng, const InputSpec& s) { return Inputs{random_tensor(rng, {s.large ? 37 : 3, s.large ? 67 : 5}, s, lo, hi)}; },
          {true},
          [op](const Inputs& in) { return Inputs{unary(op, in[0])}; }};
}

template <typename F>
OpCase binary_case(const std::string& name, Shape a, Shape b, F f, double b_lo = -1.0, double b_hi = 1.0) {
  return {name,
          [a, b, b_lo, b_hi](Rng& rng, const InputSpec& s) {
            return Inputs{random_tensor(rng, a, s), random_tensor(rng, b, s, b_lo, b_hi)};
          },
          {true, true},
          [f](const Inputs& in) { return Inputs{f(in[0], in[1])}; }};
}

std::vector<OpCase> elementwise_cases() {
  std::vector<OpCase> cases;
  cases.push_back(binary_case("add", {3, 5}, {3, 5}, add));
  cases.push_back(binary_case("add_broadcast_row", {3, 5}, {5}, add));
  cases.push_back(binary_case("add_broadcast_both", {3, 1, 4}, {2, 4}, add));
  cases.push_back(binary_case("sub_broadcast", {2, 3, 4}, {3, 1}, sub));
  cases.push_back(binary_case("mul", {4, 3}, {4, 3}, mul));
  cases.push_back(binary_case("mul_broadcast", {2, 3, 5}, {1, 5}, mul));
  cases.push_back(binary_case("div", {3, 4}, {3, 4}, div, 0.5, 2.0));
  cases.push_back({"add_scalar", [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {3, 4}, s)}; }, {true},
                   [](const Inputs& in) { return Inputs{add_scalar(in[0], 0.75)}; }});
  cases.push_back({"mul_scalar", [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {3, 4}, s)}; }, {true},
                   [](const Inputs& in) { return Inputs{mul_scalar(in[0], -1.5)}; }});
  cases.push_back(unary_case("sigmoid", kernels::Unary::kSigmoid, -4, 4));
  cases.push_back(unary_case("tanh", kernels::Unary::kTanh, -3, 3));
  cases.push_back({"relu", [](Rng& r, const InputSpec& s) { return Inputs{away_from_zero(r, {s.large ? 37 : 3, s.large ? 67 : 5}, s)}; },
                   {true}, [](const Inputs& in) { return Inputs{relu(in[0])}; }});
  cases.push_back(unary_case("gelu", kernels::Unary::kGelu, -3, 3));
  cases.push_back(unary_case("gelu_tanh", kernels::Unary::kGeluTanh, -3, 3));
  cases.push_back(unary_case("exp", kernels::Unary::kExp, -2, 2));
  cases.push_back(unary_case("log", kernels::Unary::kLog, 0.2, 3));
  return cases;
}

std::vector<OpCase> linalg_and_shape_cases() {
  std::vector<OpCase> cases;
  cases.push_back(binary_case("matmul", {2, 3, 5}, {5, 7}, matmul));
  cases.push_back(binary_case("matmul_batched", {3, 2, 5}, {3, 5, 4}, matmul));
  cases.push_back({"linear",
                   [](Rng& r, const InputSpec& s) {
                     int64_t in = s.large ? 67 : 5, out = s.large ? 45 : 3;
                     return Inputs{random_tensor(r, {2, 3, in}, s), random_tensor(r, {out, in}, s), random_tensor(r, {out}, s)};
                   },
                   {true, true, true}, [](const Inputs& in) { return Inputs{linear(in[0], in[1], in[2])}; }});
  auto x345 = [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {3, 4, 5}, s)}; };
  cases.push_back({"sum_dim", x345, {true}, [](const Inputs& in) { return Inputs{sum(in[0], 1)}; }});
  cases.push_back({"mean_dim_keepdim", x345, {true}, [](const Inputs& in) { return Inputs{mean(in[0], -1, true)}; }});
  cases.push_back({"max_dim", x345, {true}, [](const Inputs& in) { return Inputs{max(in[0], 1)}; }});
  cases.push_back({"sum_all", x345, {true}, [](const Inputs& in) { return Inputs{sum_all(in[0])}; }});
  cases.push_back({"mean_all", x345, {true}, [](const Inputs& in) { return Inputs{mean_all(in[0])}; }});
  cases.push_back({"reshape", x345, {true}, [](const Inputs& in) { return Inputs{mul(reshape(in[0], {5, 12}), reshape(in[0], {5, 12}))}; }});
  cases.push_back({"transpose", x345, {true}, [](const Inputs& in) { return Inputs{contiguous(transpose(in[0], 0, 2))}; }});
  cases.push_back({"permute", x345, {true}, [](const Inputs& in) { return Inputs{contiguous(permute(in[0], {1, 2, 0}))}; }});
  cases.push_back({"slice", x345, {true}, [](const Inputs& in) { return Inputs{slice(in[0], 2, 1, 4)}; }});
  cases.push_back({"select", x345, {true}, [](const Inputs& in) { return Inputs{select(in[0], 1, -1)}; }});
  cases.push_back({"gather_rows_repeated",
                   [](Rng& r, const InputSpec& s) {
                     return Inputs{random_tensor(r, {5, 3}, s), Tensor::from_vector<int32_t>({4, 0, 4, 2}, {4})};
                   },
                   {true, false}, [](const Inputs& in) { return Inputs{gather_rows(in[0], in[1])}; }});
  cases.push_back({"scatter_rows",
                   [](Rng& r, const InputSpec& s) {
                     return Inputs{random_tensor(r, {3, 4}, s), Tensor::from_vector<int32_t>({5, 1, 2}, {3})};
                   },
                   {true, false}, [](const Inputs& in) { return Inputs{scatter_rows(in[0], in[1], 6)}; }});
  cases.push_back({"cat",
                   [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {3, 2, 5}, s), random_tensor(r, {3, 4, 5}, s)}; },
                   {true, true}, [](const Inputs& in) { return Inputs{cat({in[0], in[1]}, 1)}; }});
  return cases;
}

std::vector<OpCase> nn_cases() {
  std::vector<OpCase> cases;
  auto rows = [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {s.large ? 9 : 3, s.large ? 131 : 7}, s, -3, 3)}; };
  cases.push_back({"softmax", rows, {true}, [](const Inputs& in) { return Inputs{softmax(in[0])}; }});
  cases.push_back({"softmax_dim0", rows, {true}, [](const Inputs& in) { return Inputs{softmax(in[0], 0)}; }});
  cases.push_back({"log_softmax", rows, {true}, [](const Inputs& in) { return Inputs{log_softmax(in[0])}; }});
  cases.push_back({"layer_norm",
                   [](Rng& r, const InputSpec& s) {
                     int64_t c = s.large ? 131 : 7;
                     return Inputs{random_tensor(r, {2, 3, c}, s, -2, 2), random_tensor(r, {c}, s, 0.5, 1.5), random_tensor(r, {c}, s)};
                   },
                   {true, true, true}, [](const Inputs& in) { return Inputs{layer_norm(in[0], in[1], in[2], 1e-5)}; }});
  cases.push_back({"embedding",
                   [](Rng& r, const InputSpec& s) { return Inputs{ids_tensor(r, {3, 4}, 6), random_tensor(r, {6, 5}, s)}; },
                   {false, true}, [](const Inputs& in) { return Inputs{embedding(in[0], in[1], -1)}; }});
  cases.push_back({"embedding_bag_mean",  // id 0 is padding; some rows are padding only
                   [](Rng& r, const InputSpec& s) {
                     Tensor ids = ids_tensor(r, {4, 5}, 3);
                     for (int64_t t = 0; t < 5; ++t) ids.data<int32_t>()[t] = 0;
                     return Inputs{ids, random_tensor(r, {3, s.large ? 67 : 5}, s)};
                   },
                   {false, true}, [](const Inputs& in) { return Inputs{embedding_bag_mean(in[0], in[1], 0)}; }});
  cases.push_back({"cross_entropy",
                   [](Rng& r, const InputSpec& s) {
                     Tensor t = ids_tensor(r, {6}, 5);
                     t.data<int32_t>()[2] = -100;
                     return Inputs{random_tensor(r, {6, 5}, s, -2, 2), t};
                   },
                   {true, false}, [](const Inputs& in) { return Inputs{cross_entropy(in[0], in[1], -100, 0.1)}; }});
  cases.push_back({"bce_with_logits",
                   [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {7}, s, -3, 3), random_tensor(r, {7}, s, 0, 1)}; },
                   {true, false}, [](const Inputs& in) { return Inputs{binary_cross_entropy_with_logits(in[0], in[1])}; }});
  cases.push_back(binary_case("mse_loss", {3, 4}, {3, 4}, mse_loss));
  // A fresh, fixed-seed Rng per call gives the same mask every time, so the op is a function.
  cases.push_back({"dropout", [](Rng& r, const InputSpec& s) { return Inputs{random_tensor(r, {4, 9}, s)}; }, {true},
                   [](const Inputs& in) {
                     Rng mask_rng(5);
                     return Inputs{dropout(in[0], 0.3, true, mask_rng)};
                   }});
  return cases;
}

enum class MaskKind { kRight, kLeft, kHoles };

// [3, T] masks: right-padded (lengths T, T-2, 1), left-padded (same lengths), or with holes (not one-sided,
// which takes the ops' general per-row mask path).
Tensor sequence_mask(MaskKind kind, int64_t steps) {
  if (kind == MaskKind::kRight) return length_mask({steps, steps - 2, 1}, steps, false);
  Tensor m = Tensor::zeros({3, steps}, DType::kU8);
  uint8_t* p = m.data<uint8_t>();
  for (int64_t t = 0; t < steps; ++t) {
    if (kind == MaskKind::kLeft) {
      p[t] = 1, p[steps + t] = t >= 2, p[2 * steps + t] = t == steps - 1;
    } else {
      p[t] = t != 1, p[steps + t] = t % 2 == 0, p[2 * steps + t] = 1;
    }
  }
  return m;
}

// Recurrent ops: inputs x, h0, (c0), w_ih, w_hh, b_ih, b_hh and a padding mask of the given kind.
OpCase recurrent_case(const std::string& name, int gates, bool with_c, bool reverse,
                      std::function<Inputs(const Inputs&, const Tensor&, bool)> run_op, MaskKind mask_kind = MaskKind::kRight) {
  auto make = [gates, with_c, mask_kind](Rng& r, const InputSpec& s) {
    int64_t batch = 3, steps = s.large ? 9 : 5, input = s.large ? 19 : 4, hidden = s.large ? 20 : 3;
    Inputs in{random_tensor(r, {batch, steps, input}, s), random_tensor(r, {batch, hidden}, s)};
    if (with_c) in.push_back(random_tensor(r, {batch, hidden}, s));
    in.push_back(random_tensor(r, {gates * hidden, input}, s));
    in.push_back(random_tensor(r, {gates * hidden, hidden}, s));
    in.push_back(random_tensor(r, {gates * hidden}, s));
    in.push_back(random_tensor(r, {gates * hidden}, s));
    in.push_back(sequence_mask(mask_kind, steps));
    return in;
  };
  std::vector<bool> diff(with_c ? 8 : 7, true);
  diff.back() = false;
  return {name, make, diff, [run_op, reverse](const Inputs& in) { return run_op(in, in.back(), reverse); }};
}

std::vector<OpCase> recurrent_cases() {
  std::vector<OpCase> cases;
  auto lstm_run = [](const Inputs& in, const Tensor& mask, bool reverse) {
    auto r = lstm(in[0], mask, in[1], in[2], in[3], in[4], in[5], in[6], reverse);
    return Inputs{r.output, r.h_n, r.c_n};
  };
  auto gru_run = [](const Inputs& in, const Tensor& mask, bool reverse) {
    auto r = gru(in[0], mask, in[1], in[2], in[3], in[4], in[5], reverse);
    return Inputs{r.output, r.h_n};
  };
  auto rnn_run = [](RnnActivation act) {
    return [act](const Inputs& in, const Tensor& mask, bool reverse) {
      auto r = simple_rnn(in[0], mask, in[1], in[2], in[3], in[4], in[5], act, reverse);
      return Inputs{r.output, r.h_n};
    };
  };
  cases.push_back(recurrent_case("lstm", 4, true, false, lstm_run));
  cases.push_back(recurrent_case("lstm_reverse", 4, true, true, lstm_run));
  cases.push_back(recurrent_case("gru", 3, false, false, gru_run));
  cases.push_back(recurrent_case("gru_reverse", 3, false, true, gru_run));
  cases.push_back(recurrent_case("simple_rnn_tanh", 1, false, false, rnn_run(RnnActivation::kTanh)));
  cases.push_back(recurrent_case("simple_rnn_relu_reverse", 1, false, true, rnn_run(RnnActivation::kRelu)));
  cases.push_back(recurrent_case("lstm_left_padded_reverse", 4, true, true, lstm_run, MaskKind::kLeft));
  cases.push_back(recurrent_case("lstm_final_states_only", 4, true, false, [](const Inputs& in, const Tensor& mask, bool reverse) {
    auto r = lstm(in[0], mask, in[1], in[2], in[3], in[4], in[5], in[6], reverse, false);
    return Inputs{r.h_n, r.c_n};
  }));
  cases.push_back(recurrent_case("lstm_mask_holes", 4, true, false, lstm_run, MaskKind::kHoles));
  cases.push_back(recurrent_case("gru_mask_holes_reverse", 3, false, true, gru_run, MaskKind::kHoles));
  cases.push_back(recurrent_case("simple_rnn_mask_holes", 1, false, false, rnn_run(RnnActivation::kTanh), MaskKind::kHoles));
  return cases;
}

std::vector<OpCase> attention_cases() {
  std::vector<OpCase> cases;
  auto make = [](int64_t q_len, int64_t k_len) {
    return [q_len, k_len](Rng& r, const InputSpec& s) {
      int64_t e = s.large ? 32 : 6, tq = s.large ? q_len * 3 : q_len, tk = s.large ? k_len * 3 : k_len;
      Tensor pad = length_mask({tk, tk - 2}, tk, true);
      return Inputs{random_tensor(r, {2, tq, e}, s), random_tensor(r, {2, tk, e}, s), random_tensor(r, {2, tk, e}, s), pad};
    };
  };
  cases.push_back({"attention_self_causal_padded", make(5, 5), {true, true, true, false},
                   [](const Inputs& in) { return Inputs{scaled_dot_product_attention(in[0], in[1], in[2], 2, in[3], true)}; }});
  cases.push_back({"attention_cross_padded", make(3, 5), {true, true, true, false},
                   [](const Inputs& in) { return Inputs{scaled_dot_product_attention(in[0], in[1], in[2], 2, in[3], false)}; }});
  // Row 0: masked keys in the middle and at the end; row 1: every key masked (zero output, no NaN).
  cases.push_back({"attention_holes_and_fully_masked_row",
                   [make](Rng& r, const InputSpec& s) {
                     Inputs in = make(4, 6)(r, s);
                     const int64_t tk = in[3].size(1);
                     for (int64_t j = 0; j < tk; ++j) {
                       in[3].data<uint8_t>()[j] = j % 3 == 1 || j == tk - 1;
                       in[3].data<uint8_t>()[tk + j] = 1;
                     }
                     return in;
                   },
                   {true, true, true, false},
                   [](const Inputs& in) { return Inputs{scaled_dot_product_attention(in[0], in[1], in[2], 2, in[3], false)}; }});
  return cases;
}

}  // namespace

const std::vector<OpCase>& op_registry() {
  static const std::vector<OpCase> registry = [] {
    std::vector<OpCase> all;
    for (auto* group : {elementwise_cases, linalg_and_shape_cases, nn_cases, recurrent_cases, attention_cases}) {
      auto cases = group();
      all.insert(all.end(), cases.begin(), cases.end());
    }
    return all;
  }();
  return registry;
}

}  // namespace lmaas::ops
