// LMAAS_CHECK: argument checks on engine calls. On failure throws lmaas::Error(kInvalidArgument) with a
// fmt-formatted message. Not for parsing untrusted input (that returns Status) and never compiled out.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/status.h"

#define LMAAS_CHECK(cond, ...)                                                          \
  do {                                                                                  \
    if (!(cond)) [[unlikely]]                                                           \
      throw ::lmaas::Error(::lmaas::Code::kInvalidArgument, fmt::format(__VA_ARGS__));  \
  } while (0)

// For invariants the library itself must keep; failing one is a bug in lmaas, not in the caller.
#define LMAAS_INTERNAL_CHECK(cond)                                                              \
  do {                                                                                          \
    if (!(cond)) [[unlikely]]                                                                   \
      throw ::lmaas::Error(::lmaas::Code::kInternal,                                            \
                           fmt::format("internal check failed: {} at {}:{}", #cond, __FILE__, __LINE__)); \
  } while (0)
