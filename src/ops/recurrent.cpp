// LSTM, GRU and simple RNN over whole sequences as single coarse ops with hand-written BPTT.
// Layout: inputs are re-laid time-major in processing order (s = 0…T-1 maps to t = s, or T-1-s when
// reversed), so each step's rows are contiguous. The input projection of all steps is one GEMM; each step
// adds h_prev·W_hhᵀ with one GEMM and runs a fused cell. Backward mirrors it: one GEMM per step for
// dh_prev, then the weight gradients and dx as three large GEMMs over all steps.
#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

// The validated dimensions of one recurrent call.
struct SeqDims {
  int64_t batch, steps, input, hidden, gates;
};

SeqDims check_recurrent(const char* op, int64_t gates, const Tensor& x, const Tensor& mask, const Tensor& h0,
                        const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                        const Tensor& b_hh) {
  detail::check_floating(op, "x", x);
  detail::check_dim(op, "x", x, 3);
  detail::check_floating(op, "w_ih", w_ih);
  detail::check_floating(op, "w_hh", w_hh);
  detail::check_dim(op, "w_ih", w_ih, 2);
  detail::check_dim(op, "w_hh", w_hh, 2);
  SeqDims d{x.size(0), x.size(1), x.size(2), w_hh.size(1), gates};
  detail::check_shape(op, "w_ih", w_ih, {gates * d.hidden, d.input});
  detail::check_shape(op, "w_hh", w_hh, {gates * d.hidden, d.hidden});
  for (const Tensor* t : {&w_ih, &w_hh}) detail::check_same_dtype(op, x, *t);
  if (b_ih.defined()) detail::check_shape(op, "b_ih", b_ih, {gates * d.hidden});
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

int64_t time_of(int64_t s, int64_t steps, bool reverse) { return reverse ? steps - 1 - s : s; }

// [B, T, ...] -> contiguous [T, B, ...] in processing order.
Tensor to_time_major(const Tensor& x, bool reverse) {
  Shape shape = x.shape();
  std::swap(shape[0], shape[1]);
  Tensor out = Tensor::empty(shape, x.dtype());
  const int64_t steps = x.size(1);
  if (!reverse) {
    out.copy_from(x.transpose(0, 1));
  } else {
    for (int64_t s = 0; s < steps; ++s) out.select(0, s).copy_from(x.select(1, time_of(s, steps, true)));
  }
  return out;
}

// contiguous [T, B, ...] in processing order -> [B, T, ...]
Tensor to_batch_major(const Tensor& tm, bool reverse) {
  Shape shape = tm.shape();
  std::swap(shape[0], shape[1]);
  Tensor out = Tensor::empty(shape, tm.dtype());
  const int64_t steps = tm.size(0);
  if (!reverse) {
    out.copy_from(tm.transpose(0, 1));
  } else {
    for (int64_t s = 0; s < steps; ++s) out.select(1, time_of(s, steps, true)).copy_from(tm.select(0, s));
  }
  return out;
}

Tensor initial_state(const Tensor& given, const SeqDims& d, DType dtype) {
  return given.defined() ? given.contiguous() : Tensor::zeros({d.batch, d.hidden}, dtype);
}

// pre[T·B, G·H] = x_tm[T·B, I]·w_ihᵀ + Σ biases
template <typename T>
void input_projection(const SeqDims& d, const Tensor& x_tm, const Tensor& w_ih, const std::vector<Tensor>& biases,
                      T* pre) {
  const int64_t rows = d.steps * d.batch, cols = d.gates * d.hidden;
  std::vector<T> bias(static_cast<size_t>(cols), T(0));
  for (const Tensor& b : biases) {
    if (!b.defined()) continue;
    Tensor bc = b.contiguous();
    for (int64_t j = 0; j < cols; ++j) bias[j] += bc.data<T>()[j];
  }
  for (int64_t r = 0; r < rows; ++r) std::copy(bias.begin(), bias.end(), pre + r * cols);
  Tensor wc = w_ih.contiguous();
  k::gemm<T>(false, true, rows, cols, d.input, T(1), x_tm.data<T>(), d.input, wc.data<T>(), d.input, T(1), pre, cols);
}

// out_tm[s, b] = h_s+1[b] where mask, else 0; returns [B, T, H].
template <typename T>
Tensor masked_outputs(const SeqDims& d, const Tensor& hs, const Tensor& mask_tm, bool reverse) {
  Tensor out_tm = hs.slice(0, 1, d.steps + 1).clone();
  if (mask_tm.defined()) {
    const uint8_t* m = mask_tm.data<uint8_t>();
    T* o = out_tm.data<T>();
    for (int64_t i = 0; i < d.steps * d.batch; ++i)
      if (!m[i]) std::fill(o + i * d.hidden, o + (i + 1) * d.hidden, T(0));
  }
  return to_batch_major(out_tm, reverse);
}

// dh_total[b] = dh[b] + (mask ? dout_tm[s, b] : 0)
template <typename T>
void add_output_grad(const SeqDims& d, const T* dout_tm_step, const uint8_t* mask_step, T* dh) {
  if (!dout_tm_step) return;
  for (int64_t b = 0; b < d.batch; ++b) {
    if (mask_step && !mask_step[b]) continue;
    for (int64_t j = 0; j < d.hidden; ++j) dh[b * d.hidden + j] += dout_tm_step[b * d.hidden + j];
  }
}

// Weight, bias and input gradients from the per-step gate gradients of a whole sequence.
// dgate_x feeds w_ih / b_ih / x; dgate_h feeds w_hh / b_hh (the same tensor for LSTM and RNN).
template <typename T>
void sequence_param_grads(const SeqDims& d, bool reverse, const Tensor& dgate_x, const Tensor& dgate_h,
                          const Tensor& x_tm, const Tensor& hs, const Tensor& x, const Tensor& w_ih,
                          const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  const int64_t rows = d.steps * d.batch, cols = d.gates * d.hidden;
  if (w_hh.requires_grad()) {
    Tensor dw = Tensor::empty(w_hh.shape(), w_hh.dtype());
    k::gemm<T>(true, false, cols, d.hidden, rows, T(1), dgate_h.data<T>(), cols, hs.data<T>(), d.hidden, T(0),
               dw.data<T>(), d.hidden);  // h_prev of step s is hs[s]
    autograd::accumulate_grad(w_hh, dw, true);
  }
  if (w_ih.requires_grad()) {
    Tensor dw = Tensor::empty(w_ih.shape(), w_ih.dtype());
    k::gemm<T>(true, false, cols, d.input, rows, T(1), dgate_x.data<T>(), cols, x_tm.data<T>(), d.input, T(0),
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
    Tensor dx_tm = Tensor::empty({d.steps, d.batch, d.input}, x.dtype());
    Tensor wc = w_ih.contiguous();
    k::gemm<T>(false, false, rows, d.input, cols, T(1), dgate_x.data<T>(), cols, wc.data<T>(), d.input, T(0),
               dx_tm.data<T>(), d.input);
    autograd::accumulate_grad(x, to_batch_major(dx_tm, reverse), true);
  }
}

Tensor grad_or_zeros(const Tensor& out, const Shape& shape, DType dtype) {
  Tensor g = out.grad();
  return g.defined() ? g.contiguous().clone() : Tensor::zeros(shape, dtype);
}

}  // namespace

RecurrentOutput lstm(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  const SeqDims d = check_recurrent("lstm", 4, x, mask, h0, c0, w_ih, w_hh, b_ih, b_hh);
  const int64_t bh = d.batch * d.hidden, g4 = 4 * d.hidden;
  Tensor x_tm = to_time_major(x, reverse);
  Tensor mask_tm = mask.defined() ? to_time_major(mask, reverse) : Tensor();
  Tensor acts = Tensor::empty({d.steps * d.batch, g4}, x.dtype());  // pre-activations, then activated gates
  Tensor hs = Tensor::empty({d.steps + 1, d.batch, d.hidden}, x.dtype());
  Tensor cs = Tensor::empty({d.steps + 1, d.batch, d.hidden}, x.dtype());
  hs.select(0, 0).copy_from(initial_state(h0, d, x.dtype()));
  cs.select(0, 0).copy_from(initial_state(c0, d, x.dtype()));
  RecurrentOutput result;
  LMAAS_DISPATCH_FLOATING(x.dtype(), "lstm", [&] {
    T* pre = acts.data<T>();
    input_projection<T>(d, x_tm, w_ih, {b_ih, b_hh}, pre);
    Tensor whh = w_hh.contiguous();
    T *ph = hs.data<T>(), *pc = cs.data<T>();
    const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
    for (int64_t s = 0; s < d.steps; ++s) {
      T* pre_s = pre + s * d.batch * g4;
      k::gemm<T>(false, true, d.batch, g4, d.hidden, T(1), ph + s * bh, d.hidden, whh.data<T>(), d.hidden, T(1), pre_s, g4);
      k::lstm_cell_forward<T>(pre_s, pc + s * bh, ph + s * bh, pm ? pm + s * d.batch : nullptr, pre_s, pc + (s + 1) * bh,
                              ph + (s + 1) * bh, d.batch, d.hidden);
    }
    result.output = masked_outputs<T>(d, hs, mask_tm, reverse);
  });
  result.h_n = hs.select(0, d.steps).clone();
  result.c_n = cs.select(0, d.steps).clone();
  if (autograd::should_record(x, h0, c0, w_ih, w_hh, b_ih, b_hh)) {
    autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::track(result.c_n);
    autograd::push([=, out = result.output, h_n = result.h_n, c_n = result.c_n] {
      if (!out.grad().defined() && !h_n.grad().defined() && !c_n.grad().defined()) return;
      LMAAS_DISPATCH_FLOATING(x.dtype(), "lstm backward", [&] {
        Tensor dh = grad_or_zeros(h_n, {d.batch, d.hidden}, x.dtype());
        Tensor dc = grad_or_zeros(c_n, {d.batch, d.hidden}, x.dtype());
        Tensor dout_tm = out.grad().defined() ? to_time_major(out.grad().contiguous(), reverse) : Tensor();
        Tensor dpre = Tensor::empty({d.steps * d.batch, g4}, x.dtype());
        Tensor dc_prev = Tensor::empty({d.batch, d.hidden}, x.dtype());
        Tensor whh = w_hh.contiguous();
        const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
        T *pdh = dh.data<T>(), *pdc = dc.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const uint8_t* ms = pm ? pm + s * d.batch : nullptr;
          add_output_grad<T>(d, dout_tm.defined() ? dout_tm.data<T>() + s * bh : nullptr, ms, pdh);
          T* dpre_s = dpre.data<T>() + s * d.batch * g4;
          // dh is read by the cell and then overwritten with the pass-through part for padded rows.
          k::lstm_cell_backward<T>(pdh, pdc, acts.data<T>() + s * d.batch * g4, cs.data<T>() + s * bh,
                                   cs.data<T>() + (s + 1) * bh, ms, dpre_s, dc_prev.data<T>(), pdh, d.batch, d.hidden);
          k::gemm<T>(false, false, d.batch, d.hidden, g4, T(1), dpre_s, g4, whh.data<T>(), d.hidden, T(1), pdh, d.hidden);
          std::copy(dc_prev.data<T>(), dc_prev.data<T>() + bh, pdc);
        }
        sequence_param_grads<T>(d, reverse, dpre, dpre, x_tm, hs, x, w_ih, w_hh, b_ih, b_hh);
        if (h0.defined()) autograd::accumulate_grad(h0, dh, true);
        if (c0.defined()) autograd::accumulate_grad(c0, dc, true);
      });
    });
  }
  return result;
}

RecurrentOutput gru(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih, const Tensor& b_hh, bool reverse) {
  const SeqDims d = check_recurrent("gru", 3, x, mask, h0, Tensor(), w_ih, w_hh, b_ih, b_hh);
  const int64_t bh = d.batch * d.hidden, g3 = 3 * d.hidden;
  Tensor x_tm = to_time_major(x, reverse);
  Tensor mask_tm = mask.defined() ? to_time_major(mask, reverse) : Tensor();
  Tensor gx = Tensor::empty({d.steps * d.batch, g3}, x.dtype());
  Tensor gh = Tensor::empty({d.steps * d.batch, g3}, x.dtype());
  Tensor acts = Tensor::empty({d.steps * d.batch, g3}, x.dtype());
  Tensor hs = Tensor::empty({d.steps + 1, d.batch, d.hidden}, x.dtype());
  hs.select(0, 0).copy_from(initial_state(h0, d, x.dtype()));
  RecurrentOutput result;
  LMAAS_DISPATCH_FLOATING(x.dtype(), "gru", [&] {
    input_projection<T>(d, x_tm, w_ih, {b_ih}, gx.data<T>());
    Tensor whh = w_hh.contiguous();
    Tensor bhh = b_hh.defined() ? b_hh.contiguous() : Tensor::zeros({g3}, x.dtype());
    T* ph = hs.data<T>();
    const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
    for (int64_t s = 0; s < d.steps; ++s) {
      T* gh_s = gh.data<T>() + s * d.batch * g3;
      for (int64_t b = 0; b < d.batch; ++b) std::copy(bhh.data<T>(), bhh.data<T>() + g3, gh_s + b * g3);
      k::gemm<T>(false, true, d.batch, g3, d.hidden, T(1), ph + s * bh, d.hidden, whh.data<T>(), d.hidden, T(1), gh_s, g3);
      k::gru_cell_forward<T>(gx.data<T>() + s * d.batch * g3, gh_s, ph + s * bh, pm ? pm + s * d.batch : nullptr,
                             acts.data<T>() + s * d.batch * g3, ph + (s + 1) * bh, d.batch, d.hidden);
    }
    result.output = masked_outputs<T>(d, hs, mask_tm, reverse);
  });
  result.h_n = hs.select(0, d.steps).clone();
  if (autograd::should_record(x, h0, w_ih, w_hh, b_ih, b_hh)) {
    autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::push([=, out = result.output, h_n = result.h_n] {
      if (!out.grad().defined() && !h_n.grad().defined()) return;
      LMAAS_DISPATCH_FLOATING(x.dtype(), "gru backward", [&] {
        Tensor dh = grad_or_zeros(h_n, {d.batch, d.hidden}, x.dtype());
        Tensor dout_tm = out.grad().defined() ? to_time_major(out.grad().contiguous(), reverse) : Tensor();
        Tensor dgx = Tensor::empty({d.steps * d.batch, g3}, x.dtype());
        Tensor dgh = Tensor::empty({d.steps * d.batch, g3}, x.dtype());
        Tensor dh_direct = Tensor::empty({d.batch, d.hidden}, x.dtype());
        Tensor whh = w_hh.contiguous();
        const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
        T* pdh = dh.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const uint8_t* ms = pm ? pm + s * d.batch : nullptr;
          add_output_grad<T>(d, dout_tm.defined() ? dout_tm.data<T>() + s * bh : nullptr, ms, pdh);
          const int64_t o3 = s * d.batch * g3;
          k::gru_cell_backward<T>(pdh, acts.data<T>() + o3, gh.data<T>() + o3, hs.data<T>() + s * bh, ms,
                                  dgx.data<T>() + o3, dgh.data<T>() + o3, dh_direct.data<T>(), d.batch, d.hidden);
          std::copy(dh_direct.data<T>(), dh_direct.data<T>() + bh, pdh);
          k::gemm<T>(false, false, d.batch, d.hidden, g3, T(1), dgh.data<T>() + o3, g3, whh.data<T>(), d.hidden, T(1), pdh,
                     d.hidden);
        }
        sequence_param_grads<T>(d, reverse, dgx, dgh, x_tm, hs, x, w_ih, w_hh, b_ih, b_hh);
        if (h0.defined()) autograd::accumulate_grad(h0, dh, true);
      });
    });
  }
  return result;
}

RecurrentOutput simple_rnn(const Tensor& x, const Tensor& mask, const Tensor& h0, const Tensor& w_ih,
                           const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, RnnActivation activation,
                           bool reverse) {
  const SeqDims d = check_recurrent("simple_rnn", 1, x, mask, h0, Tensor(), w_ih, w_hh, b_ih, b_hh);
  const int64_t bh = d.batch * d.hidden;
  const kernels::Unary act = activation == RnnActivation::kTanh ? kernels::Unary::kTanh : kernels::Unary::kRelu;
  Tensor x_tm = to_time_major(x, reverse);
  Tensor mask_tm = mask.defined() ? to_time_major(mask, reverse) : Tensor();
  Tensor pre = Tensor::empty({d.steps * d.batch, d.hidden}, x.dtype());
  Tensor hs = Tensor::empty({d.steps + 1, d.batch, d.hidden}, x.dtype());
  hs.select(0, 0).copy_from(initial_state(h0, d, x.dtype()));
  RecurrentOutput result;
  LMAAS_DISPATCH_FLOATING(x.dtype(), "simple_rnn", [&] {
    input_projection<T>(d, x_tm, w_ih, {b_ih, b_hh}, pre.data<T>());
    Tensor whh = w_hh.contiguous();
    T* ph = hs.data<T>();
    const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
    for (int64_t s = 0; s < d.steps; ++s) {
      T* pre_s = pre.data<T>() + s * bh;
      k::gemm<T>(false, true, d.batch, d.hidden, d.hidden, T(1), ph + s * bh, d.hidden, whh.data<T>(), d.hidden, T(1),
                 pre_s, d.hidden);
      k::unary_forward<T>(act, pre_s, ph + (s + 1) * bh, bh);
      for (int64_t b = 0; pm && b < d.batch; ++b)
        if (!pm[s * d.batch + b]) std::copy(ph + s * bh + b * d.hidden, ph + s * bh + (b + 1) * d.hidden, ph + (s + 1) * bh + b * d.hidden);
    }
    result.output = masked_outputs<T>(d, hs, mask_tm, reverse);
  });
  result.h_n = hs.select(0, d.steps).clone();
  if (autograd::should_record(x, h0, w_ih, w_hh, b_ih, b_hh)) {
    autograd::track(result.output);
    autograd::track(result.h_n);
    autograd::push([=, out = result.output, h_n = result.h_n] {
      if (!out.grad().defined() && !h_n.grad().defined()) return;
      LMAAS_DISPATCH_FLOATING(x.dtype(), "simple_rnn backward", [&] {
        Tensor dh = grad_or_zeros(h_n, {d.batch, d.hidden}, x.dtype());
        Tensor dout_tm = out.grad().defined() ? to_time_major(out.grad().contiguous(), reverse) : Tensor();
        Tensor dpre = Tensor::empty({d.steps * d.batch, d.hidden}, x.dtype());
        Tensor whh = w_hh.contiguous();
        const uint8_t* pm = mask_tm.defined() ? mask_tm.data<uint8_t>() : nullptr;
        T* pdh = dh.data<T>();
        for (int64_t s = d.steps - 1; s >= 0; --s) {
          const uint8_t* ms = pm ? pm + s * d.batch : nullptr;
          add_output_grad<T>(d, dout_tm.defined() ? dout_tm.data<T>() + s * bh : nullptr, ms, pdh);
          T* dpre_s = dpre.data<T>() + s * bh;
          k::unary_backward<T>(act, pre.data<T>() + s * bh, hs.data<T>() + (s + 1) * bh, pdh, dpre_s, bh);
          // Padded rows: no gradient to the pre-activation; dh flows to h_prev unchanged.
          for (int64_t b = 0; b < d.batch; ++b) {
            T* row = pdh + b * d.hidden;
            if (ms && !ms[b]) std::fill(dpre_s + b * d.hidden, dpre_s + (b + 1) * d.hidden, T(0));
            else std::fill(row, row + d.hidden, T(0));
          }
          k::gemm<T>(false, false, d.batch, d.hidden, d.hidden, T(1), dpre_s, d.hidden, whh.data<T>(), d.hidden, T(1), pdh,
                     d.hidden);
        }
        sequence_param_grads<T>(d, reverse, dpre, dpre, x_tm, hs, x, w_ih, w_hh, b_ih, b_hh);
        if (h0.defined()) autograd::accumulate_grad(h0, dh, true);
      });
    });
  }
  return result;
}

}  // namespace lmaas::ops
