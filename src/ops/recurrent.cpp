// LSTM, GRU and simple RNN over whole sequences as single coarse ops with hand-written BPTT.
// Layout (ops/sequence_plan.h): inputs are re-laid time-major in processing order with the rows sorted
// so that each step's active rows come first. The input projection of all steps is one GEMM; each step
// adds h_prev·W_hhᵀ for its active rows with one GEMM and runs a fused cell on them. Backward mirrors it:
// one GEMM per step for dh_prev, then the weight gradients and dx as three large GEMMs over all steps.
#include "base/thread_pool.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/sequence_plan.h"

namespace lmaas::ops {
namespace {

// The validated dimensions of one recurrent call.
struct SeqDims {
  int64_t batch, steps, input, hidden, gates;
};

// Checks shared by the dense and token forms: recurrent weights, initial states and mask.
SeqDims check_common(const char* op, int64_t gates, int64_t batch, int64_t steps, const Tensor& like,
                     const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_hh, const Tensor& b_hh) {
  detail::check_floating(op, "w_hh", w_hh);
  detail::check_dim(op, "w_hh", w_hh, 2);
  detail::check_same_dtype(op, like, w_hh);
  SeqDims d{batch, steps, 0, w_hh.size(1), gates};
  detail::check_shape(op, "w_hh", w_hh, {gates * d.hidden, d.hidden});
  if (b_hh.defined()) detail::check_shape(op, "b_hh", b_hh, {gates * d.hidden});
  if (h0.defined()) detail::check_shape(op, "h0", h0, {d.batch, d.hidden});
  if (c0.defined()) detail::check_shape(op, "c0", c0, {d.batch, d.hidden});
  if (mask.defined()) {
    detail::check_shape(op, "mask", mask, {d.batch, d.steps});
    LMAAS_CHECK(mask.dtype() == DType::kU8, "{}: mask must be U8 (1 = token, 0 = padding), got {}", op,
                dtype_name(mask.dtype()));
  }
  return d;
}

SeqDims check_recurrent(const char* op, int64_t gates, const Tensor& x, const Tensor& mask, const Tensor& h0,
                        const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                        const Tensor& b_hh) {
  detail::check_floating(op, "x", x);
  detail::check_dim(op, "x", x, 3);
  detail::check_floating(op, "w_ih", w_ih);
  detail::check_dim(op, "w_ih", w_ih, 2);
  SeqDims d = check_common(op, gates, x.size(0), x.size(1), x, mask, h0, c0, w_hh, b_hh);
  d.input = x.size(2);
  detail::check_shape(op, "w_ih", w_ih, {gates * d.hidden, d.input});
  detail::check_same_dtype(op, x, w_ih);
  if (b_ih.defined()) detail::check_shape(op, "b_ih", b_ih, {gates * d.hidden});
  return d;
}

SeqDims check_token_input(const char* op, int64_t gates, const TokenInput& in, const Tensor& mask, const Tensor& h0,
                          const Tensor& c0, const Tensor& w_hh, const Tensor& b_hh) {
  LMAAS_CHECK(in.ids.defined() && in.ids.dtype() == DType::kI32, "{}: token ids must be I32", op);
  detail::check_dim(op, "ids", in.ids, 2);
  detail::check_floating(op, "table", in.table);
  detail::check_dim(op, "table", in.table, 2);
  SeqDims d = check_common(op, gates, in.ids.size(0), in.ids.size(1), in.table, mask, h0, c0, w_hh, b_hh);
  const int64_t vocab = in.table.size(0);
  detail::check_shape(op, "table", in.table, {vocab, gates * d.hidden});
  Tensor ids = in.ids.contiguous();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int32_t id = ids.data<int32_t>()[i];
    LMAAS_CHECK(id >= 0 && id < vocab, "{}: ids[{}, {}] = {} is outside the table's [0, {})", op, i / d.steps,
                i % d.steps, id, vocab);
  }
  LMAAS_CHECK(!autograd::should_record(in.table, h0, c0, w_hh, b_hh),
              "{}: the token-table form records no gradient; run it under NoGradGuard", op);
  return d;
}

// What every recurrent op prepares: checked dimensions, the plan and, for the dense form, the input in
// op layout (kept for the backward pass).
struct Prepared {
  SeqDims d;
  detail::SequencePlan plan;
  Tensor x_tm;  // packed [total_rows, I]; undefined for the token form
};

Prepared prepare(const SeqDims& d, const Tensor& x, const Tensor& mask, bool reverse) {
  Prepared p{d, detail::make_sequence_plan(d.batch, d.steps, mask, reverse), Tensor()};
  if (x.defined()) p.x_tm = detail::to_op_layout(x, p.plan);
  return p;
}

// [T+1, B, H] states with step 0 set from `given` [B, H] (caller order) or zeros.
Tensor state_buffer(const Prepared& p, const Tensor& given, DType dtype) {
  Tensor states = Tensor::empty({p.d.steps + 1, p.d.batch, p.d.hidden}, dtype);
  if (given.defined()) states.select(0, 0).copy_from(detail::rows_to_op_order(given.contiguous(), p.plan));
  else states.select(0, 0).zero();
  return states;
}

template <typename T>
std::vector<T> summed_bias(const std::vector<Tensor>& biases, int64_t cols) {
  std::vector<T> bias(static_cast<size_t>(cols), T(0));
  for (const Tensor& b : biases) {
    if (!b.defined()) continue;
    Tensor bc = b.contiguous();
    for (int64_t j = 0; j < cols; ++j) bias[j] += bc.data<T>()[j];
  }
  return bias;
}

// pre[rows, G·H] = x_tm[rows, I]·w_ihᵀ + Σ biases, over the packed rows only
template <typename T>
void input_projection(const SeqDims& d, const Tensor& x_tm, const Tensor& w_ih, const std::vector<Tensor>& biases,
                      T* pre) {
  const int64_t rows = x_tm.size(0), cols = d.gates * d.hidden;
  const std::vector<T> bias = summed_bias<T>(biases, cols);
  for (int64_t r = 0; r < rows; ++r) std::copy(bias.begin(), bias.end(), pre + r * cols);
  Tensor wc = w_ih.contiguous();
  k::gemm<T>(false, true, rows, cols, d.input, T(1), x_tm.data<T>(), d.input, wc.data<T>(), d.input, T(1), pre, cols);
}

// The token ids in op layout: [total_rows] I32.
Tensor packed_ids(const Prepared& p, const TokenInput& in) {
  return detail::to_op_layout(in.ids.contiguous().view({p.d.batch, p.d.steps, 1}), p.plan);
}

// The token form of input_projection: pre[r] = table[id of packed row r] + Σ biases.
template <typename T>
void token_projection(const Prepared& p, const TokenInput& in, const std::vector<Tensor>& biases, T* pre) {
  const int64_t cols = p.d.gates * p.d.hidden;
  const std::vector<T> bias = summed_bias<T>(biases, cols);
  const Tensor ids = packed_ids(p, in);
  const Tensor table = in.table.contiguous();
  const int32_t* id = ids.data<int32_t>();
  const T* rows = table.data<T>();
  parallel_for(p.plan.total_rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* src = rows + static_cast<int64_t>(id[r]) * cols;
      T* dst = pre + r * cols;
      for (int64_t j = 0; j < cols; ++j) dst[j] = src[j] + bias[j];
    }
  });
}

// Idle rows (n_active[s] … B-1) keep their state: next[rows] = prev[rows].
template <typename T>
void carry_idle_rows(const Prepared& p, int64_t s, const T* prev, T* next) {
  const int64_t na = p.plan.n_active[s], h = p.d.hidden;
  std::copy(prev + na * h, prev + p.d.batch * h, next + na * h);
}

// Outputs [B, T, H]: the new state where the row ran a token at that step, zero elsewhere.
template <typename T>
Tensor step_outputs(const Prepared& p, const Tensor& hs) {
  const int64_t h = p.d.hidden, bh = p.d.batch * h;
  Tensor out = Tensor::zeros({p.d.batch, p.d.steps, h}, hs.dtype());
  const T* src = hs.data<T>();
  T* dst = out.data<T>();
  for (int64_t s = 0; s < p.d.steps; ++s) {
    const int64_t t = p.plan.reverse ? p.d.steps - 1 - s : s;
    const uint8_t* m = p.plan.step_mask(s);
    for (int64_t i = 0; i < p.plan.n_active[s]; ++i) {
      if (m && !m[i]) continue;
      const T* row = src + (s + 1) * bh + i * h;
      std::copy(row, row + h, dst + (p.plan.order[i] * p.d.steps + t) * h);
    }
  }
  return out;
}

// dh[b] += dout[s, b] for the rows that produced an output at step s (dout_tm packed).
template <typename T>
void add_output_grad(const Prepared& p, int64_t s, const Tensor& dout_tm, T* dh) {
  if (!dout_tm.defined()) return;
  const int64_t h = p.d.hidden;
  const T* g = dout_tm.data<T>() + p.plan.offset[s] * h;
  const uint8_t* m = p.plan.step_mask(s);
  for (int64_t b = 0; b < p.plan.n_active[s]; ++b) {
    if (m && !m[b]) continue;
    for (int64_t j = 0; j < h; ++j) dh[b * h + j] += g[b * h + j];
  }
}

// h_prev of every packed row: [total_rows, H], step s's rows from hs[s].
template <typename T>
Tensor packed_previous_states(const Prepared& p, const Tensor& hs) {
  const int64_t h = p.d.hidden, bh = p.d.batch * h;
  Tensor out = Tensor::empty({p.plan.total_rows, h}, hs.dtype());
  for (int64_t s = 0; s < p.d.steps; ++s)
    std::copy(hs.data<T>() + s * bh, hs.data<T>() + s * bh + p.plan.n_active[s] * h, out.data<T>() + p.plan.offset[s] * h);
  return out;
}

// The incoming gradients of one backward pass, in op order.
struct Incoming {
  Tensor dout_tm;  // [T, B, H] or undefined
  Tensor dh, dc;   // [B, H]
};

Incoming incoming_grads(const Prepared& p, const Tensor& out, const Tensor& h_n, const Tensor& c_n, DType dtype) {
  auto state_grad = [&](const Tensor& t) {
    return t.defined() && t.grad().defined() ? detail::rows_to_op_order(t.grad().contiguous(), p.plan)
                                             : Tensor::zeros({p.d.batch, p.d.hidden}, dtype);
  };
  Incoming in{out.grad().defined() ? detail::to_op_layout(out.grad().contiguous(), p.plan) : Tensor(), state_grad(h_n),
              state_grad(c_n)};
  return in;
}

bool any_grad(std::initializer_list<const Tensor*> outs) {
  for (const Tensor* t : outs)
    if (t->defined() && t->grad().defined()) return true;
  return false;
}

// Weight, bias and input gradients from the per-step gate gradients of a whole sequence.
// dgate_x feeds w_ih / b_ih / x; dgate_h feeds w_hh / b_hh (the same tensor for LSTM and RNN).
template <typename T>
void sequence_param_grads(const Prepared& p, const Tensor& dgate_x, const Tensor& dgate_h, const Tensor& hs,
                          const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                          const Tensor& b_hh) {
  const SeqDims& d = p.d;
  const int64_t rows = p.plan.total_rows, cols = d.gates * d.hidden;
  if (w_hh.requires_grad()) {
    Tensor dw = Tensor::empty(w_hh.shape(), w_hh.dtype());
    Tensor h_prev = packed_previous_states<T>(p, hs);
    k::gemm<T>(true, false, cols, d.hidden, rows, T(1), dgate_h.data<T>(), cols, h_prev.data<T>(), d.hidden, T(0),
               dw.data<T>(), d.hidden);
    autograd::accumulate_grad(w_hh, dw, true);
  }
  if (w_ih.requires_grad()) {
    Tensor dw = Tensor::empty(w_ih.shape(), w_ih.dtype());
    k::gemm<T>(true, false, cols, d.input, rows, T(1), dgate_x.data<T>(), cols, p.x_tm.data<T>(), d.input, T(0),
               dw.data<T>(), d.input);
    autograd::accumulate_grad(w_ih, dw, true);
  }
  const Tensor* bias_grads[2][2] = {{&b_ih, &dgate_x}, {&b_hh, &dgate_h}};
  for (auto& [bias, grad] : bias_grads) {
    if (!bias->defined() || !bias->requires_grad()) continue;
    Tensor db = Tensor::empty(bias->shape(), bias->dtype());
    k::sum_rows<T>(grad->template data<T>(), db.data<T>(), rows, cols, false);
    autograd::accumulate_grad(*bias, db, true);
  }
  if (x.requires_grad()) {
    Tensor dx_tm = Tensor::empty({rows, d.input}, x.dtype());
    Tensor wc = w_ih.contiguous();
    k::gemm<T>(false, false, rows, d.input, cols, T(1), dgate_x.data<T>(), cols, wc.data<T>(), d.input, T(0),
               dx_tm.data<T>(), d.input);
    autograd::accumulate_grad(x, detail::from_op_layout(dx_tm, p.plan), true);
  }
}

void accumulate_state_grad(const Prepared& p, const Tensor& initial, const Tensor& grad_op_order) {
  if (initial.defined()) autograd::accumulate_grad(initial, detail::rows_from_op_order(grad_op_order, p.plan), true);
}

// The forward pass shared by both input forms; `project(T* pre)` fills the input projections (biases
// included) of every packed row. Returns the buffers the backward pass reads.
struct LstmForward {
  Tensor acts, hs, cs;  // gate activations per packed row; states [T+1, B, H] in op order
  RecurrentOutput result;
};

// The token form's step inputs for the LSTM: the table, the ids in op layout and the summed b_hh; the
// step kernel copies each step's rows itself (no [rows, 4H] round trip through memory).
struct TokenSteps {
  Tensor table, ids, bias;  // bias undefined when there is none
};

template <typename Project>
LstmForward lstm_forward(const Prepared& p, DType dtype, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                         bool want_output, Project project, const TokenSteps* tokens = nullptr) {
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, g4 = 4 * d.hidden;
  LstmForward f{Tensor::empty({p.plan.total_rows, g4}, dtype), state_buffer(p, h0, dtype), state_buffer(p, c0, dtype), {}};
  Tensor whh_t = w_hh.transpose(0, 1).contiguous();  // [H, 4H]: the step's product reads rows in place
  LMAAS_DISPATCH_FLOATING(dtype, "lstm", [&] {
    project(f.acts.data<T>());
    T *ph = f.hs.data<T>(), *pc = f.cs.data<T>();
    for (int64_t s = 0; s < d.steps; ++s) {
      const int64_t na = p.plan.n_active[s];
      T* pre_s = f.acts.data<T>() + p.plan.offset[s] * g4;
      const T* table = tokens ? tokens->table.data<T>() : nullptr;
      const int32_t* ids = tokens ? tokens->ids.data<int32_t>() + p.plan.offset[s] : nullptr;
      const T* bias = tokens && tokens->bias.defined() ? tokens->bias.data<T>() : nullptr;
      k::lstm_step_forward<T>(ph + s * bh, whh_t.data<T>(), pc + s * bh, p.plan.step_mask(s), pre_s, pc + (s + 1) * bh,
                              ph + (s + 1) * bh, na, d.hidden, table, ids, bias);
      carry_idle_rows<T>(p, s, ph + s * bh, ph + (s + 1) * bh);
      carry_idle_rows<T>(p, s, pc + s * bh, pc + (s + 1) * bh);
    }
    if (want_output) f.result.output = step_outputs<T>(p, f.hs);
  });
  f.result.h_n = detail::rows_from_op_order(f.hs.select(0, d.steps), p.plan);
  f.result.c_n = detail::rows_from_op_order(f.cs.select(0, d.steps), p.plan);
  return f;
}

struct GruForward {
  Tensor acts, gh, hs;  // per packed row: activated gates, h·W_hhᵀ + b_hh; states [T+1, B, H] in op order
  RecurrentOutput result;
};

template <typename Project>
GruForward gru_forward(const Prepared& p, DType dtype, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                       bool want_output, Project project) {
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, g3 = 3 * d.hidden;
  GruForward f{Tensor::empty({p.plan.total_rows, g3}, dtype), Tensor::empty({p.plan.total_rows, g3}, dtype),
               state_buffer(p, h0, dtype), {}};
  Tensor gx = Tensor::empty({p.plan.total_rows, g3}, dtype);
  Tensor whh_t = w_hh.transpose(0, 1).contiguous();  // [H, 3H]
  Tensor bhh = b_hh.defined() ? b_hh.contiguous().to(dtype) : Tensor::zeros({g3}, dtype);
  LMAAS_DISPATCH_FLOATING(dtype, "gru", [&] {
    project(gx.data<T>());
    T* ph = f.hs.data<T>();
    for (int64_t s = 0; s < d.steps; ++s) {
      const int64_t na = p.plan.n_active[s], o3 = p.plan.offset[s] * g3;
      k::gru_step_forward<T>(ph + s * bh, whh_t.data<T>(), bhh.data<T>(), gx.data<T>() + o3, p.plan.step_mask(s),
                             f.gh.data<T>() + o3, f.acts.data<T>() + o3, ph + (s + 1) * bh, na, d.hidden);
      carry_idle_rows<T>(p, s, ph + s * bh, ph + (s + 1) * bh);
    }
    if (want_output) f.result.output = step_outputs<T>(p, f.hs);
  });
  f.result.h_n = detail::rows_from_op_order(f.hs.select(0, d.steps), p.plan);
  return f;
}

kernels::Unary rnn_unary(RnnActivation activation) {
  return activation == RnnActivation::kTanh ? kernels::Unary::kTanh : kernels::Unary::kRelu;
}

struct RnnForward {
  Tensor pre, hs;  // per packed row: pre-activations; states [T+1, B, H] in op order
  RecurrentOutput result;
};

template <typename Project>
RnnForward rnn_forward(const Prepared& p, DType dtype, const Tensor& h0, const Tensor& w_hh, RnnActivation activation,
                       bool want_output, Project project) {
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, h = d.hidden;
  const kernels::Unary act = rnn_unary(activation);
  RnnForward f{Tensor::empty({p.plan.total_rows, h}, dtype), state_buffer(p, h0, dtype), {}};
  Tensor whh = w_hh.contiguous();
  LMAAS_DISPATCH_FLOATING(dtype, "simple_rnn", [&] {
    project(f.pre.data<T>());
    T* ph = f.hs.data<T>();
    for (int64_t s = 0; s < d.steps; ++s) {
      const int64_t na = p.plan.n_active[s];
      T *pre_s = f.pre.data<T>() + p.plan.offset[s] * h, *prev = ph + s * bh, *next = ph + (s + 1) * bh;
      k::gemm<T>(false, true, na, h, h, T(1), prev, h, whh.data<T>(), h, T(1), pre_s, h);
      k::unary_forward<T>(act, pre_s, next, na * h);
      const uint8_t* m = p.plan.step_mask(s);
      for (int64_t b = 0; m && b < d.batch; ++b)
        if (!m[b]) std::copy(prev + b * h, prev + (b + 1) * h, next + b * h);
      carry_idle_rows<T>(p, s, prev, next);
    }
    if (want_output) f.result.output = step_outputs<T>(p, f.hs);
  });
  f.result.h_n = detail::rows_from_op_order(f.hs.select(0, d.steps), p.plan);
  return f;
}

}  // namespace

RecurrentOutput lstm(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse, bool want_output) {
  const Prepared p = prepare(check_recurrent("lstm", 4, x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh), x, mask, reverse);
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, g4 = 4 * d.hidden;
  LstmForward f = lstm_forward(p, x.dtype(), h0, c0, w_hh, want_output,
                               [&](auto* pre) { input_projection(d, p.x_tm, w_ih, {b_ih, b_hh}, pre); });
  RecurrentOutput result = f.result;
  const Tensor acts = f.acts, hs = f.hs, cs = f.cs, whh = w_hh.contiguous();
  if (autograd::should_record(x, h0, c0, w_ih, w_hh, b_ih, b_hh)) {
    if (want_output) autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::track(result.c_n);
    autograd::push([=, out = result.output, h_n = result.h_n, c_n = result.c_n] {
      if (!any_grad({&out, &h_n, &c_n})) return;
      Incoming in = incoming_grads(p, out, h_n, c_n, x.dtype());
      Tensor dpre = Tensor::empty({p.plan.total_rows, g4}, x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "lstm backward", [&] {
        T *pdh = in.dh.data<T>(), *pdc = in.dc.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const int64_t na = p.plan.n_active[s];
          add_output_grad<T>(p, s, in.dout_tm, pdh);
          T* dpre_s = dpre.data<T>() + p.plan.offset[s] * g4;
          // In place: dh becomes the pass-through part, dc becomes dc_prev (idle rows keep theirs).
          k::lstm_cell_backward<T>(pdh, pdc, acts.data<T>() + p.plan.offset[s] * g4, cs.data<T>() + s * bh,
                                   cs.data<T>() + (s + 1) * bh, p.plan.step_mask(s), dpre_s, pdc, pdh, na, d.hidden);
          k::gemm<T>(false, false, na, d.hidden, g4, T(1), dpre_s, g4, whh.data<T>(), d.hidden, T(1), pdh, d.hidden);
        }
        sequence_param_grads<T>(p, dpre, dpre, hs, x, w_ih, w_hh, b_ih, b_hh);
      });
      accumulate_state_grad(p, h0, in.dh);
      accumulate_state_grad(p, c0, in.dc);
    });
  }
  return result;
}

RecurrentOutput gru(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih, const Tensor& b_hh, bool reverse, bool want_output) {
  const Prepared p = prepare(check_recurrent("gru", 3, x, mask, h0, Tensor(), w_ih, w_hh, b_ih, b_hh), x, mask, reverse);
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, g3 = 3 * d.hidden;
  GruForward f = gru_forward(p, x.dtype(), h0, w_hh, b_hh, want_output,
                             [&](auto* pre) { input_projection(d, p.x_tm, w_ih, {b_ih}, pre); });
  RecurrentOutput result = f.result;
  const Tensor acts = f.acts, gh = f.gh, hs = f.hs, whh = w_hh.contiguous();
  if (autograd::should_record(x, h0, w_ih, w_hh, b_ih, b_hh)) {
    if (want_output) autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::push([=, out = result.output, h_n = result.h_n] {
      if (!any_grad({&out, &h_n})) return;
      Incoming in = incoming_grads(p, out, h_n, Tensor(), x.dtype());
      Tensor dgx = Tensor::empty({p.plan.total_rows, g3}, x.dtype());
      Tensor dgh = Tensor::empty({p.plan.total_rows, g3}, x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "gru backward", [&] {
        T* pdh = in.dh.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const int64_t na = p.plan.n_active[s], o3 = p.plan.offset[s] * g3;
          add_output_grad<T>(p, s, in.dout_tm, pdh);
          // In place: dh becomes its direct part z⊙dh; the rest arrives through dgh·W_hh below.
          k::gru_cell_backward<T>(pdh, acts.data<T>() + o3, gh.data<T>() + o3, hs.data<T>() + s * bh,
                                  p.plan.step_mask(s), dgx.data<T>() + o3, dgh.data<T>() + o3, pdh, na, d.hidden);
          k::gemm<T>(false, false, na, d.hidden, g3, T(1), dgh.data<T>() + o3, g3, whh.data<T>(), d.hidden, T(1), pdh,
                     d.hidden);
        }
        sequence_param_grads<T>(p, dgx, dgh, hs, x, w_ih, w_hh, b_ih, b_hh);
      });
      accumulate_state_grad(p, h0, in.dh);
    });
  }
  return result;
}

RecurrentOutput simple_rnn(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih,
                           const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, RnnActivation activation,
                           bool reverse, bool want_output) {
  const Prepared p =
      prepare(check_recurrent("simple_rnn", 1, x, mask, h0, Tensor(), w_ih, w_hh, b_ih, b_hh), x, mask, reverse);
  const SeqDims& d = p.d;
  const int64_t bh = d.batch * d.hidden, h = d.hidden;
  const kernels::Unary act = rnn_unary(activation);
  RnnForward f = rnn_forward(p, x.dtype(), h0, w_hh, activation, want_output,
                             [&](auto* pre) { input_projection(d, p.x_tm, w_ih, {b_ih, b_hh}, pre); });
  RecurrentOutput result = f.result;
  const Tensor pre = f.pre, hs = f.hs, whh = w_hh.contiguous();
  if (autograd::should_record(x, h0, w_ih, w_hh, b_ih, b_hh)) {
    if (want_output) autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::push([=, out = result.output, h_n = result.h_n] {
      if (!any_grad({&out, &h_n})) return;
      Incoming in = incoming_grads(p, out, h_n, Tensor(), x.dtype());
      Tensor dpre = Tensor::empty({p.plan.total_rows, h}, x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "simple_rnn backward", [&] {
        T* pdh = in.dh.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const int64_t na = p.plan.n_active[s];
          add_output_grad<T>(p, s, in.dout_tm, pdh);
          T* dpre_s = dpre.data<T>() + p.plan.offset[s] * h;
          k::unary_backward<T>(act, pre.data<T>() + p.plan.offset[s] * h, hs.data<T>() + (s + 1) * bh, pdh, dpre_s, na * h);
          // Rows that ran: dh is fully consumed by dpre. Masked rows: no gradient to dpre; dh flows on.
          const uint8_t* m = p.plan.step_mask(s);
          for (int64_t b = 0; b < na; ++b) {
            if (m && !m[b]) std::fill(dpre_s + b * h, dpre_s + (b + 1) * h, T(0));
            else std::fill(pdh + b * h, pdh + (b + 1) * h, T(0));
          }
          k::gemm<T>(false, false, na, h, h, T(1), dpre_s, h, whh.data<T>(), h, T(1), pdh, h);
        }
        sequence_param_grads<T>(p, dpre, dpre, hs, x, w_ih, w_hh, b_ih, b_hh);
      });
      accumulate_state_grad(p, h0, in.dh);
    });
  }
  return result;
}

RecurrentOutput lstm(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                     const Tensor& b_hh, bool reverse, bool want_output) {
  const Prepared p = prepare(check_token_input("lstm", 4, in, mask, h0, c0, w_hh, b_hh), Tensor(), mask, reverse);
  const DType dtype = in.table.dtype();
  const TokenSteps steps{in.table.contiguous(), packed_ids(p, in), b_hh.defined() ? b_hh.to(dtype).contiguous() : Tensor()};
  return lstm_forward(p, dtype, h0, c0, w_hh, want_output, [](auto*) {}, &steps).result;
}

RecurrentOutput gru(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                    bool reverse, bool want_output) {
  const Prepared p = prepare(check_token_input("gru", 3, in, mask, h0, Tensor(), w_hh, b_hh), Tensor(), mask, reverse);
  return gru_forward(p, in.table.dtype(), h0, w_hh, b_hh, want_output,
                     [&](auto* pre) { token_projection(p, in, {}, pre); })
      .result;
}

RecurrentOutput simple_rnn(const TokenInput& in, const Tensor& mask, const Tensor& h0, const Tensor& w_hh,
                           const Tensor& b_hh, RnnActivation activation, bool reverse, bool want_output) {
  const Prepared p =
      prepare(check_token_input("simple_rnn", 1, in, mask, h0, Tensor(), w_hh, b_hh), Tensor(), mask, reverse);
  return rnn_forward(p, in.table.dtype(), h0, w_hh, activation, want_output,
                     [&](auto* pre) { token_projection(p, in, {b_hh}, pre); })
      .result;
}

}  // namespace lmaas::ops
