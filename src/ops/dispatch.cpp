#include "ops/dispatch.h"

namespace lmaas::ops {
namespace {
thread_local Backend t_backend = Backend::kCpu;
}

Backend backend() { return t_backend; }
void set_backend(Backend b) { t_backend = b; }
bool use_fast_kernels() { return t_backend == Backend::kCpu && kernels::cpu::cpu_supports_avx2(); }

}  // namespace lmaas::ops
