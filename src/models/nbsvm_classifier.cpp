#include "models/nbsvm_classifier.h"

#include <algorithm>
#include <array>
#include <utility>
#include <cmath>

#include "autograd/tape.h"
#include "base/check.h"
#include "ops/ops.h"

namespace lmaas::models {

namespace {

// Sorts positive ids ascending by least-significant-digit radix sort, a byte a pass and only as many
// passes as the largest id needs: a text's few hundred feature ids sort in linear time, where a
// comparison sort spent a third of a serving thread.
void sort_positive_ids(std::vector<int32_t>& ids) {
  if (ids.size() < 64) {
    std::sort(ids.begin(), ids.end());
    return;
  }
  thread_local std::vector<int32_t> scratch;
  scratch.resize(ids.size());
  const auto largest = static_cast<uint32_t>(*std::max_element(ids.begin(), ids.end()));
  std::array<uint32_t, 256> start;
  for (int shift = 0; shift < 32 && (largest >> shift) != 0; shift += 8) {
    start.fill(0);
    for (int32_t id : ids) ++start[(static_cast<uint32_t>(id) >> shift) & 0xff];
    uint32_t sum = 0;
    for (uint32_t& s : start) sum += std::exchange(s, sum);
    for (int32_t id : ids) scratch[start[(static_cast<uint32_t>(id) >> shift) & 0xff]++] = id;
    ids.swap(scratch);
  }
}

// Leaves in `ids` its distinct positive ids, ascending: a text's features as a set (padding, and
// anything below it, dropped). The vector may change its storage.
void keep_distinct_features(std::vector<int32_t>& ids) {
  ids.erase(std::remove_if(ids.begin(), ids.end(), [](int32_t id) { return id <= 0; }), ids.end());
  sort_positive_ids(ids);
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// Each row's distinct features, then padding.
Tensor distinct_ids(const Tensor& ids) {
  LMAAS_CHECK(ids.dim() == 2, "nbsvm: ids must be [B, T], got {}", shape_str(ids.shape()));
  Tensor in = ids.contiguous(), out = Tensor::zeros(ids.shape(), DType::kI32);
  const int64_t rows = ids.size(0), width = ids.size(1);
  std::vector<int32_t> row;
  for (int64_t b = 0; b < rows; ++b) {
    const int32_t* src = in.data<int32_t>() + b * width;
    row.assign(src, src + width);
    keep_distinct_features(row);
    std::copy(row.begin(), row.end(), out.data<int32_t>() + b * width);
  }
  return out;
}

}  // namespace

NbsvmClassifier::NbsvmClassifier(const NbsvmConfig& c) : config_(c) {
  LMAAS_CHECK(c.vocab_size > 0 && c.n_classes >= 2, "nbsvm: vocab_size {} and n_classes {} must be positive, >= 2",
              c.vocab_size, c.n_classes);
  weight_ = register_parameter("weight", Tensor::zeros({c.vocab_size, c.n_classes}));
  bias_ = register_parameter("bias", Tensor::zeros({c.n_classes}));
  ratio_ = register_buffer("nb_ratio", Tensor::zeros({c.vocab_size, c.n_classes}));
}

void NbsvmClassifier::fit_statistics(const ExampleSource& for_each_example) {
  const int64_t v = config_.vocab_size, k = config_.n_classes;
  std::vector<double> count(static_cast<size_t>(v * k), 0.0);  // texts of class c holding feature f
  std::vector<int32_t> features;
  for_each_example([&](std::span<const int32_t> ids, int32_t label) {
    LMAAS_CHECK(label >= 0 && label < k, "nbsvm: label {} outside {} classes", label, k);
    features.assign(ids.begin(), ids.end());
    keep_distinct_features(features);
    for (int32_t f : features)
      if (f < v) count[static_cast<size_t>(f * k + label)] += 1;
  });
  // Per feature f (padding excluded): texts of any class; per class c: the smoothed totals of p (class
  // c) and q (the rest) over all features, as (v - 1) alphas plus the raw counts.
  std::vector<double> all(static_cast<size_t>(v), 0.0), in_total(static_cast<size_t>(k), 0.0);
  double grand = 0;
  for (int64_t f = 1; f < v; ++f)
    for (int64_t c = 0; c < k; ++c) {
      const double n = count[static_cast<size_t>(f * k + c)];
      all[static_cast<size_t>(f)] += n, in_total[static_cast<size_t>(c)] += n, grand += n;
    }
  const double alphas = config_.alpha * static_cast<double>(v - 1);
  Tensor r = Tensor::zeros({v, k}, DType::kF64);
  double* out = r.data<double>();
  for (int64_t f = 1; f < v; ++f)
    for (int64_t c = 0; c < k; ++c) {
      const double in_class = count[static_cast<size_t>(f * k + c)], rest = all[static_cast<size_t>(f)] - in_class;
      const double p_total = alphas + in_total[static_cast<size_t>(c)], q_total = alphas + grand - in_total[static_cast<size_t>(c)];
      out[f * k + c] = std::log((config_.alpha + in_class) / p_total) - std::log((config_.alpha + rest) / q_total);
    }
  ratio_.copy_from(r);
}

bool NbsvmClassifier::freeze_for_inference() {
  autograd::NoGradGuard no_grad;
  scaled_weight_ = ops::mul(weight_, ratio_).contiguous();
  return true;
}

// The frozen forward: per row, the scaled rows of its distinct features summed in ascending feature
// order — the same products added in the same order as the general path, so the same floats, without
// gathering two tables over the padded [B, T] grid.
Tensor NbsvmClassifier::encode_frozen(const Tensor& ids) const {
  LMAAS_CHECK(ids.dim() == 2, "nbsvm: ids must be [B, T], got {}", shape_str(ids.shape()));
  Tensor in = ids.contiguous();
  const int64_t rows = ids.size(0), width = ids.size(1), k = config_.n_classes, v = config_.vocab_size;
  Tensor out = Tensor::zeros({rows, k});
  const float* table = scaled_weight_.data<float>();
  std::vector<int32_t> row;
  for (int64_t b = 0; b < rows; ++b) {
    const int32_t* src = in.data<int32_t>() + b * width;
    row.assign(src, src + width);
    float* sum = out.data<float>() + b * k;
    keep_distinct_features(row);
    for (int32_t f : row) {
      LMAAS_CHECK(f < v, "nbsvm: feature id {} outside the vocabulary of {}", f, v);
      const float* r = table + static_cast<int64_t>(f) * k;
      for (int64_t c = 0; c < k; ++c) sum[c] += r[c];
    }
  }
  return out;
}

Tensor NbsvmClassifier::encode(const Tensor& ids) {
  if (scaled_weight_.defined() && !is_training() && !autograd::grad_enabled()) return encode_frozen(ids);
  Tensor features = distinct_ids(ids);
  Tensor scaled = ops::mul(ops::embedding(features, weight_, 0, config_.sparse_grad), ops::embedding(features, ratio_));
  return ops::sum(scaled, 1);
}

Tensor NbsvmClassifier::forward(const Tensor& ids) { return ops::add(encode(ids), bias_); }

nlohmann::json NbsvmClassifier::config_json() const {
  return {{"arch", "nbsvm"},
          {"vocab_size", config_.vocab_size},
          {"n_classes", config_.n_classes},
          {"alpha", config_.alpha},
          {"sparse_grad", config_.sparse_grad}};
}

}  // namespace lmaas::models
