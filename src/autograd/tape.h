// The autograd tape: reverse-mode differentiation over coarse ops with hand-written backward functions.
// - Each thread has its own tape. An op whose inputs require grad (and grad mode is on) pushes one
//   closure; the tape's order is a topological order, so backward() just runs it in reverse.
// - Closures hold the tensors they need; backward() clears the tape, freeing them. clear_tape() drops
//   a forward pass that will not be differentiated.
// - No-grad mode (NoGradGuard) records nothing and allocates nothing: inference pays one thread-local read.
// - Gradients accumulate into AutogradMeta::grad (parameters keep them until the optimizer zeroes them).
#pragma once

#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace lmaas::autograd {

bool grad_enabled();

// Disables recording for its lifetime (nestable).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when an op with these inputs must record a backward closure.
template <typename... Ts>
bool should_record(const Ts&... inputs) {
  return grad_enabled() && (inputs.requires_grad() || ...);
}
bool should_record_any(const std::vector<Tensor>& inputs);

// Gives an op's output a fresh autograd identity (it then requires grad). Call before building the
// backward closure, so the closure captures the identity whose gradient it will read.
Tensor& track(Tensor& output);
// Pushes an op's backward closure on this thread's tape.
void push(std::function<void()> backward);

// Adds g into t's gradient when t requires grad (allocates the gradient on first use). With
// `g_is_fresh` the caller hands over a tensor nobody else holds, and the first gradient is not copied.
void accumulate_grad(const Tensor& t, const Tensor& g, bool g_is_fresh = false);
// Adds a row-sparse gradient: rows (I64 [n], may repeat: repeats are summed) of a [R, …] tensor get
// `values` [n, …]. A tensor keeps a sparse gradient while only sparse ones arrive; a dense one arriving
// (or already there) makes it dense. rows_distinct: the caller promises no repeats (and fresh values),
// so the first sparse gradient of a step is kept as given instead of being coalesced again.
void accumulate_sparse_grad(const Tensor& t, const Tensor& rows, const Tensor& values, bool rows_distinct = false);
// Drops both forms of the gradient.
void clear_grad(const Tensor& t);

// Runs the tape backwards from `outputs`, seeding each with its gradient (ones for a scalar when
// grads is empty), then clears the tape.
void backward(const Tensor& output);
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grads);

void clear_tape();
size_t tape_size();

}  // namespace lmaas::autograd
