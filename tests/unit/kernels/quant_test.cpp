// Weight types and quantized matmul kernels:
// - binary16 / bfloat16 conversions against hand-computed bit patterns, an exhaustive binary16 decode
//   against ldexp, and numpy's float16 / torch's bfloat16 (fixture);
// - Q8_0 / Q4_0 quantize bytes and dequantized values against a numpy re-implementation of ggml's
//   reference quantizers (fixture: tests/tools/gen_quant_fixtures.py);
// - every fast path available on this CPU (forced one by one) against the references on odd shapes, with
//   tolerances derived from float accumulation and, for Q8_0 / Q4_0, from the activation rounding;
//   one and two threads give the same bytes;
// - batch invariance: each token's row of y is bit-identical alone and inside any batch.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/quant.h"
#include "kernels/ref/quant.h"

namespace lmaas::kernels {
namespace {

const std::string kFixture = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/quant/quant_fixtures.json";
constexpr WeightType kAllTypes[] = {WeightType::kF32, WeightType::kF16, WeightType::kBF16, WeightType::kQ8_0,
                                    WeightType::kQ4_0};

float f32_bits(uint32_t u) { return std::bit_cast<float>(u); }
uint32_t hex(const nlohmann::json& j) { return static_cast<uint32_t>(std::stoul(j.get<std::string>(), nullptr, 16)); }

nlohmann::json load_fixture() {
  std::ifstream in(kFixture);
  EXPECT_TRUE(in.good()) << "missing " << kFixture;
  return nlohmann::json::parse(in);
}

// Bits equal, or both NaN.
void expect_same_float(float got, float want, const std::string& what) {
  if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << what;
  else EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want)) << what << ": " << got << " vs " << want;
}

TEST(WeightTypes, LayoutFacts) {
  EXPECT_EQ(block_size(WeightType::kQ8_0), 32);
  EXPECT_EQ(block_bytes(WeightType::kQ8_0), 34);
  EXPECT_EQ(block_bytes(WeightType::kQ4_0), 18);
  EXPECT_EQ(block_bytes(WeightType::kBF16), 2);
  EXPECT_EQ(row_bytes(WeightType::kQ4_0, 4096), 128 * 18);
  EXPECT_EQ(row_bytes(WeightType::kF32, 7), 28);
  EXPECT_EQ(weight_type_name(WeightType::kQ8_0), "q8_0");
  for (WeightType t : kAllTypes) EXPECT_EQ(weight_type_from_gguf(gguf_type_id(t)), t);
  EXPECT_EQ(gguf_type_id(WeightType::kQ4_0), 2u);
  EXPECT_EQ(gguf_type_id(WeightType::kBF16), 30u);
  EXPECT_FALSE(weight_type_from_gguf(3).has_value());  // Q4_1: not supported
}

TEST(Fp16, HandComputedEncodings) {
  struct Case {
    float f;
    uint16_t h;
  };
  const Case cases[] = {
      {1.0f, 0x3c00},   {-2.0f, 0xc000},  {0.0f, 0x0000},  {-0.0f, 0x8000},
      {65504.0f, 0x7bff},                                         // largest finite
      {65519.996f, 0x7bff}, {65520.0f, 0x7c00},                  // halfway to 65536: ties to even = inf
      {0x1p-14f, 0x0400},   {0x1p-24f, 0x0001},                  // smallest normal, smallest subnormal
      {0x1p-25f, 0x0000},   {0x1.000002p-25f, 0x0001},           // halfway to zero: even; just above: up
      {0x1.8p-24f, 0x0002}, {0x1.4p-23f, 0x0002},                // 1.5 and 2.5 units: ties to even
      {0x3ff.8p-24f, 0x0400},                                    // largest subnormal + half: to the smallest normal
      {1.0f + 0x1p-11f, 0x3c00}, {1.0f + 0x3p-11f, 0x3c02},      // ties in normal range
      {0.1f, 0x2e66},       {1.0f / 3.0f, 0x3555},
      {INFINITY, 0x7c00},   {-INFINITY, 0xfc00},
  };
  for (const Case& c : cases) EXPECT_EQ(f32_to_fp16(c.f), c.h) << c.f;
  EXPECT_EQ(f32_to_fp16(NAN) & 0x7e00, 0x7e00);  // quiet NaN
  EXPECT_EQ(fp16_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_f32(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(fp16_to_f32(0xfbff), -65504.0f);
  EXPECT_EQ(fp16_to_f32(0xfc00), -INFINITY);
  EXPECT_TRUE(std::isnan(fp16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isnan(fp16_to_f32(0x7c01)));
}

TEST(Fp16, ExhaustiveDecodeAndRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    double want = exp == 0 ? std::ldexp(mant, -24) : exp == 31 ? (mant ? NAN : INFINITY) : std::ldexp(1024 + mant, exp - 25);
    if (sign) want = -want;
    const float got = fp16_to_f32(static_cast<uint16_t>(h));
    if (exp == 31 && mant) {
      EXPECT_TRUE(std::isnan(got)) << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(got), want) << h;
    ASSERT_EQ(f32_to_fp16(got), h) << h;
  }
}

TEST(Bf16, HandComputedEncodings) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_bits(0x3f808000)), 0x3f80);  // tie, even below
  EXPECT_EQ(f32_to_bf16(f32_bits(0x3f818000)), 0x3f82);  // tie, odd below: up
  EXPECT_EQ(f32_to_bf16(f32_bits(0x3f808001)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(f32_bits(0xbf80ffff)), 0xbf81);
  EXPECT_EQ(f32_to_bf16(f32_bits(0x7f7fffff)), 0x7f80);  // largest float rounds to inf
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xff80);
  EXPECT_EQ(f32_to_bf16(f32_bits(0x00008000)), 0x0000);  // subnormal tie to even
  EXPECT_EQ(f32_to_bf16(f32_bits(0x00018000)), 0x0002);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(f32_bits(0x7f800001)))));  // payload below bit 16 kept NaN
  EXPECT_EQ(bf16_to_f32(0x4049), 3.140625f);
}

TEST(Conversions, MatchNumpyAndTorch) {
  const nlohmann::json fx = load_fixture();
  ASSERT_GT(fx["f32_to_f16"].size(), 1000u);
  for (const auto& c : fx["f32_to_f16"]) EXPECT_EQ(f32_to_fp16(f32_bits(hex(c[0]))), hex(c[1])) << c;
  for (const auto& c : fx["f16_to_f32"])
    expect_same_float(fp16_to_f32(static_cast<uint16_t>(hex(c[0]))), f32_bits(hex(c[1])), c.dump());
  ASSERT_GT(fx["f32_to_bf16"].size(), 1000u);
  for (const auto& c : fx["f32_to_bf16"]) {  // torch writes NaN as 0xffff or 0x7fc0: any NaN will do
    const uint16_t got = f32_to_bf16(f32_bits(hex(c[0]))), want = static_cast<uint16_t>(hex(c[1]));
    if (std::isnan(bf16_to_f32(want))) EXPECT_TRUE(std::isnan(bf16_to_f32(got))) << c;
    else EXPECT_EQ(got, want) << c;
  }
}

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoul(s.substr(2 * i, 2), nullptr, 16));
  return out;
}

TEST(QuantBlocks, BytesAndValuesMatchGgmlRules) {
  const nlohmann::json fx = load_fixture();
  ASSERT_GE(fx["blocks"].size(), 10u);
  for (const auto& c : fx["blocks"]) {
    std::vector<float> x;
    for (const auto& v : c["x"]) x.push_back(f32_bits(hex(v)));
    const auto n = static_cast<int64_t>(x.size());
    for (WeightType type : {WeightType::kQ8_0, WeightType::kQ4_0}) {
      const std::string key(weight_type_name(type)), what = c["name"].get<std::string>() + " " + key;
      const std::vector<uint8_t> want = unhex(c[key].get<std::string>());
      std::vector<uint8_t> got(static_cast<size_t>(row_bytes(type, n)));
      ref::quantize_row(type, x.data(), got.data(), n);
      EXPECT_EQ(got, want) << what;
      std::vector<float> deq(x.size()), fast(x.size());
      ref::dequantize_row(type, want.data(), deq.data(), n);
      cpu::dequantize_row(type, want.data(), fast.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        expect_same_float(deq[i], f32_bits(hex(c[key + "_deq"][i])), what + " [" + std::to_string(i) + "]");
        expect_same_float(fast[i], deq[i], what + " fast [" + std::to_string(i) + "]");
      }
    }
  }
}

TEST(QuantBlocks, FloatTypesRoundTrip) {
  const float x[] = {1.0f, -0.1f, 3.0e-7f, 65504.0f, 1e20f, -0.0f, 0.3333333f};
  for (WeightType type : {WeightType::kF32, WeightType::kF16, WeightType::kBF16}) {
    std::vector<uint8_t> w(static_cast<size_t>(row_bytes(type, 7)));
    ref::quantize_row(type, x, w.data(), 7);
    float y[7];
    ref::dequantize_row(type, w.data(), y, 7);
    for (int i = 0; i < 7; ++i) {
      const float want = type == WeightType::kF32   ? x[i]
                         : type == WeightType::kF16 ? fp16_to_f32(f32_to_fp16(x[i]))
                                                    : bf16_to_f32(f32_to_bf16(x[i]));
      expect_same_float(y[i], want, std::string(weight_type_name(type)));
    }
  }
}

// ---- matmul: fast paths vs references -----------------------------------------------------------------

struct MatmulCase {
  WeightType type;
  int64_t n_rows, n_cols, n_tokens;
  std::vector<uint8_t> w;
  std::vector<float> w_deq, x, y_exact, y_q8, tol_exact, tol_q8;
};

MatmulCase make_case(WeightType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens, uint32_t seed) {
  MatmulCase c{type, n_rows, n_cols, n_tokens, {}, {}, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w32(static_cast<size_t>(n_rows * n_cols));
  for (float& v : w32) v = normal(rng) * 0.05f;
  c.w.resize(static_cast<size_t>(n_rows * row_bytes(type, n_cols)));
  c.w_deq.resize(w32.size());
  for (int64_t r = 0; r < n_rows; ++r) {
    uint8_t* row = c.w.data() + r * row_bytes(type, n_cols);
    ref::quantize_row(type, w32.data() + r * n_cols, row, n_cols);
    ref::dequantize_row(type, row, c.w_deq.data() + r * n_cols, n_cols);
  }
  c.x.resize(static_cast<size_t>(n_tokens * n_cols));
  for (size_t i = 0; i < c.x.size(); ++i) c.x[i] = normal(rng) * (i % 97 == 0 ? 20.0f : 1.0f);  // some outliers
  const size_t n_out = static_cast<size_t>(n_tokens * n_rows);
  c.y_exact.resize(n_out);
  c.y_q8.resize(n_out);
  c.tol_exact.resize(n_out);
  c.tol_q8.resize(n_out);
  ref::matmul(type, c.w.data(), n_rows, n_cols, c.x.data(), n_tokens, c.y_exact.data(), n_rows);
  const bool quantized = type == WeightType::kQ8_0 || type == WeightType::kQ4_0;
  if (quantized) ref::matmul_q8_activations(type, c.w.data(), n_rows, n_cols, c.x.data(), n_tokens, c.y_q8.data(), n_rows);
  // Tolerances: float accumulation (relative to Σ|w·x|), plus, for the fused kernels, the activation
  // rounding bound Σ_b (d_x/2)·Σ_{c in b}|w| (with a little slack for d·q vs q/id).
  std::vector<int8_t> qx(static_cast<size_t>(n_cols));
  std::vector<float> dx(static_cast<size_t>(std::max<int64_t>(1, n_cols / 32)));
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (quantized) ref::quantize_activation_row(c.x.data() + t * n_cols, qx.data(), dx.data(), n_cols);
    for (int64_t r = 0; r < n_rows; ++r) {
      double abs_sum = 0.0, act_bound = 0.0;
      for (int64_t col = 0; col < n_cols; ++col) {
        const double aw = std::fabs(c.w_deq[r * n_cols + col]);
        abs_sum += aw * std::fabs(c.x[t * n_cols + col]);
        if (quantized) act_bound += aw * dx[col / 32] * (0.5 + 1e-4);
      }
      const double acc_tol = 2e-6 * std::sqrt(static_cast<double>(n_cols)) * abs_sum + 1e-30;
      c.tol_q8[t * n_rows + r] = static_cast<float>(acc_tol);
      c.tol_exact[t * n_rows + r] = static_cast<float>(acc_tol + act_bound);
    }
  }
  return c;
}

void check_isa(const MatmulCase& c, cpu::QuantIsa isa) {
  const int64_t ldy = c.n_rows + 3;
  std::vector<float> y(static_cast<size_t>(c.n_tokens * ldy), -12345.0f);
  cpu::matmul_isa(isa, c.type, c.w.data(), c.n_rows, c.n_cols, c.x.data(), c.n_tokens, y.data(), ldy);
  const bool fused = isa != cpu::QuantIsa::kRef && (c.type == WeightType::kQ8_0 || c.type == WeightType::kQ4_0);
  int n_bad = 0;
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[t * ldy + r];
      if (r >= c.n_rows) {
        ASSERT_EQ(got, -12345.0f) << "wrote past n_rows";
        continue;
      }
      const size_t i = static_cast<size_t>(t * c.n_rows + r);
      const bool ok = std::fabs(got - c.y_exact[i]) <= c.tol_exact[i] &&
                      (!fused || std::fabs(got - c.y_q8[i]) <= c.tol_q8[i]);
      if (!ok && ++n_bad <= 3) {
        ADD_FAILURE() << cpu::quant_isa_name(isa) << " " << weight_type_name(c.type) << " rows " << c.n_rows << " cols "
                      << c.n_cols << " tokens " << c.n_tokens << " at t=" << t << " r=" << r << ": got " << got
                      << ", exact " << c.y_exact[i] << " (tol " << c.tol_exact[i] << "), q8 emulation " << c.y_q8[i]
                      << " (tol " << c.tol_q8[i] << ")";
      }
    }
  }
}

std::vector<cpu::QuantIsa> available_isas() {
  std::vector<cpu::QuantIsa> out{cpu::QuantIsa::kRef};
  for (cpu::QuantIsa isa : {cpu::QuantIsa::kAvx2, cpu::QuantIsa::kAvx512, cpu::QuantIsa::kAmx}) {
    if (cpu::quant_isa_supported(isa)) out.push_back(isa);
    else std::printf("[ info ] %s not supported on this CPU: not tested\n", cpu::quant_isa_name(isa));
  }
  return out;
}

TEST(QuantMatmul, FastPathsMatchReferenceOnOddShapes) {
  const int64_t tokens[] = {1, 2, 3, 7, 33, 130};
  const int64_t cols[] = {32, 64, 160, 768, 4096};
  const int64_t rows[] = {1, 17, 37, 70, 33, 5};
  uint32_t seed = 1;
  for (WeightType type : kAllTypes) {
    for (size_t ci = 0; ci < std::size(cols); ++ci) {
      for (size_t ti = 0; ti < std::size(tokens); ++ti) {
        const int64_t n_rows = rows[(ci + ti) % std::size(rows)];
        const MatmulCase c = make_case(type, n_rows, cols[ci], tokens[ti], seed++);
        for (cpu::QuantIsa isa : available_isas()) check_isa(c, isa);
      }
    }
  }
}

TEST(QuantMatmul, FloatTypesAnyColumnCount) {
  uint32_t seed = 100;
  for (WeightType type : {WeightType::kF32, WeightType::kF16, WeightType::kBF16})
    for (int64_t n_cols : {1, 7, 45, 333})
      for (int64_t n_tokens : {1, 3, 9}) {
        const MatmulCase c = make_case(type, 19, n_cols, n_tokens, seed++);
        for (cpu::QuantIsa isa : available_isas()) check_isa(c, isa);
      }
}

TEST(QuantMatmul, LargeMatrixAllRowsCovered) {
  for (WeightType type : {WeightType::kQ4_0, WeightType::kQ8_0, WeightType::kF16}) {
    const MatmulCase c = make_case(type, 515, 256, 5, 7);
    for (cpu::QuantIsa isa : available_isas()) check_isa(c, isa);
  }
}

TEST(QuantMatmul, ThreadCountDoesNotChangeBytes) {
  const int saved = num_threads();
  for (WeightType type : kAllTypes) {
    for (int64_t n_tokens : {1, 2, 40}) {
      const MatmulCase c = make_case(type, 301, 512, n_tokens, 11);
      for (cpu::QuantIsa isa : available_isas()) {
        std::vector<float> y1(static_cast<size_t>(n_tokens * c.n_rows)), y2(y1.size());
        set_num_threads(1);
        cpu::matmul_isa(isa, type, c.w.data(), c.n_rows, c.n_cols, c.x.data(), n_tokens, y1.data(), c.n_rows);
        set_num_threads(2);
        cpu::matmul_isa(isa, type, c.w.data(), c.n_rows, c.n_cols, c.x.data(), n_tokens, y2.data(), c.n_rows);
        EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)), 0)
            << cpu::quant_isa_name(isa) << " " << weight_type_name(type) << " tokens " << n_tokens;
      }
    }
  }
  set_num_threads(saved);
}

// Batch invariance: row t of y is a function of (W, x[t, :]) alone for a given instruction set, whatever
// the other tokens of the call, their number (token groups of every size, partial row groups) or the thread count.
TEST(QuantMatmul, EveryRowIsBitIdenticalToThatTokenAlone) {
  const int saved = num_threads();
  const int64_t n_rows = 75;  // not a multiple of any row group, tile or block: partial ones everywhere
  const int64_t token_counts[] = {1, 2, 3, 4, 5, 8, 12, 16, 25, 33, 130};
  const int64_t max_tokens = 130;
  uint32_t seed = 500;
  for (WeightType type : kAllTypes) {
    const bool quantized = type == WeightType::kQ8_0 || type == WeightType::kQ4_0;
    std::vector<int64_t> cols = {32, 96, 768, 2048, 4096};
    if (!quantized) cols.insert(cols.end(), {1, 7, 45, 333, 1001});
    for (int64_t n_cols : cols) {
      const MatmulCase c = make_case(type, n_rows, n_cols, max_tokens, seed++);
      for (cpu::QuantIsa isa : available_isas()) {
        if (isa == cpu::QuantIsa::kRef) continue;
        const std::string what = std::string(cpu::quant_isa_name(isa)) + " " + std::string(weight_type_name(type)) + " cols " +
                                 std::to_string(n_cols);
        set_num_threads(1);
        std::vector<float> alone(static_cast<size_t>(max_tokens * n_rows));
        for (int64_t t = 0; t < max_tokens; ++t)
          cpu::matmul_isa(isa, type, c.w.data(), n_rows, n_cols, c.x.data() + t * n_cols, 1, alone.data() + t * n_rows,
                          n_rows);
        const auto packed = cpu::pack_quant_matrix(type, c.w.data(), n_rows, n_cols);
        ASSERT_EQ(packed != nullptr, quantized) << what;
        for (int n_threads : {1, 2}) {
          set_num_threads(n_threads);
          for (int64_t n_tokens : token_counts) {
            // The last n_tokens tokens, so each count puts tokens at other positions of the batch.
            const int64_t t0 = max_tokens - n_tokens;
            std::vector<float> y(static_cast<size_t>(n_tokens * n_rows));
            cpu::matmul_isa(isa, type, c.w.data(), n_rows, n_cols, c.x.data() + t0 * n_cols, n_tokens, y.data(), n_rows);
            std::vector<float> y_packed(y.size());
            if (packed) cpu::matmul_packed_isa(isa, *packed, c.x.data() + t0 * n_cols, n_tokens, y_packed.data(), n_rows);
            for (int64_t t = 0; t < n_tokens; ++t) {
              const int diff = std::memcmp(y.data() + t * n_rows, alone.data() + (t0 + t) * n_rows,
                                           static_cast<size_t>(n_rows) * sizeof(float));
              ASSERT_EQ(diff, 0) << what << ": token " << t0 + t << " in a call of " << n_tokens << " tokens on "
                                 << n_threads << " threads differs from that token alone";
              if (!packed) continue;
              ASSERT_EQ(std::memcmp(y_packed.data() + t * n_rows, alone.data() + (t0 + t) * n_rows,
                                    static_cast<size_t>(n_rows) * sizeof(float)),
                        0)
                  << what << ": packed weights, token " << t0 + t << " in a call of " << n_tokens << " tokens on "
                  << n_threads << " threads differs from that token alone";
            }
          }
        }
      }
    }
  }
  set_num_threads(saved);
}

// Matrices sharing their input (a layer's q/k/v): each product equals its own matmul_packed, bit for bit,
// with both weight types in one call, for few and many tokens.
TEST(QuantMatmul, SharedInputProductsEqualSeparateOnes) {
  const int saved = num_threads();
  set_num_threads(2);
  const int64_t n_cols = 256;
  const MatmulCase a = make_case(WeightType::kQ4_0, 75, n_cols, 16, 31);
  const MatmulCase b = make_case(WeightType::kQ8_0, 40, n_cols, 16, 32);
  const MatmulCase c = make_case(WeightType::kQ4_0, 3, n_cols, 16, 33);
  for (cpu::QuantIsa isa : available_isas()) {
    if (isa == cpu::QuantIsa::kRef) continue;
    std::vector<std::shared_ptr<const cpu::PackedQuantMatrix>> packed;
    for (const MatmulCase* m : {&a, &b, &c}) packed.push_back(cpu::pack_quant_matrix(m->type, m->w.data(), m->n_rows, n_cols));
    for (int64_t n_tokens : {1, 3, 16}) {
      std::vector<std::vector<float>> shared, separate;
      std::vector<cpu::PackedProduct> products;
      for (const auto& p : packed) {
        shared.emplace_back(static_cast<size_t>(n_tokens * p->n_rows), -1.0f);
        separate.emplace_back(static_cast<size_t>(n_tokens * p->n_rows), -2.0f);
      }
      for (size_t i = 0; i < packed.size(); ++i) products.push_back({packed[i].get(), shared[i].data(), packed[i]->n_rows});
      cpu::matmul_packed_shared_isa(isa, products, a.x.data(), n_tokens);
      for (size_t i = 0; i < packed.size(); ++i) {
        cpu::matmul_packed_isa(isa, *packed[i], a.x.data(), n_tokens, separate[i].data(), packed[i]->n_rows);
        EXPECT_EQ(shared[i], separate[i]) << cpu::quant_isa_name(isa) << " matrix " << i << ", " << n_tokens << " tokens";
      }
    }
  }
  set_num_threads(saved);
}

// Packing keeps the size (rows padded to whole groups) and only Q8_0 / Q4_0 are packed.
TEST(QuantMatmul, PackedMatricesHoldTheSameBytes) {
  for (WeightType type : kAllTypes) {
    const MatmulCase c = make_case(type, 37, 96, 1, 9);
    const auto packed = cpu::pack_quant_matrix(type, c.w.data(), 37, 96);
    if (type != WeightType::kQ8_0 && type != WeightType::kQ4_0) {
      EXPECT_EQ(packed, nullptr) << weight_type_name(type);
      continue;
    }
    if (cpu::best_quant_isa() == cpu::QuantIsa::kRef) continue;
    ASSERT_NE(packed, nullptr);
    // 37 rows padded to 3 groups of 16.
    EXPECT_EQ(packed->bytes.size(), static_cast<size_t>(48 * row_bytes(type, 96))) << weight_type_name(type);
  }
}

TEST(QuantMatmul, BestIsaIsUsedByMatmulAndEmptyShapesAreNoOps) {
  const MatmulCase c = make_case(WeightType::kQ8_0, 9, 64, 2, 5);
  std::vector<float> a(18), b(18);
  cpu::matmul(WeightType::kQ8_0, c.w.data(), 9, 64, c.x.data(), 2, a.data(), 9);
  cpu::matmul_isa(cpu::best_quant_isa(), WeightType::kQ8_0, c.w.data(), 9, 64, c.x.data(), 2, b.data(), 9);
  EXPECT_EQ(a, b);
  float untouched = 7.0f;
  cpu::matmul(WeightType::kQ8_0, c.w.data(), 0, 64, c.x.data(), 2, &untouched, 1);
  cpu::matmul(WeightType::kQ8_0, c.w.data(), 9, 64, c.x.data(), 0, &untouched, 9);
  EXPECT_EQ(untouched, 7.0f);
}

}  // namespace
}  // namespace lmaas::kernels
