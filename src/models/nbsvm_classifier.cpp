#include "models/nbsvm_classifier.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "ops/ops.h"

namespace lmaas::models {

namespace {

// Each row's distinct non-padding ids, then padding: a text's features as a set.
Tensor distinct_ids(const Tensor& ids) {
  LMAAS_CHECK(ids.dim() == 2, "nbsvm: ids must be [B, T], got {}", shape_str(ids.shape()));
  Tensor in = ids.contiguous(), out = Tensor::zeros(ids.shape(), DType::kI32);
  const int64_t rows = ids.size(0), width = ids.size(1);
  std::vector<int32_t> row;
  for (int64_t b = 0; b < rows; ++b) {
    const int32_t* src = in.data<int32_t>() + b * width;
    row.assign(src, src + width);
    std::sort(row.begin(), row.end());
    int32_t* dst = out.data<int32_t>() + b * width;
    int32_t previous = 0;
    for (int32_t id : row)
      if (id != previous) *dst++ = previous = id;
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
  for_each_example([&](const std::vector<int32_t>& ids, int32_t label) {
    LMAAS_CHECK(label >= 0 && label < k, "nbsvm: label {} outside {} classes", label, k);
    features.assign(ids.begin(), ids.end());
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    for (int32_t f : features)
      if (f > 0 && f < v) count[static_cast<size_t>(f * k + label)] += 1;
  });
  // Per class c: smoothed counts p (class c) and q (the rest) over every feature but padding.
  std::vector<double> p_total(static_cast<size_t>(k), 0.0), q_total(static_cast<size_t>(k), 0.0);
  for (int64_t f = 1; f < v; ++f) {
    double all = 0;
    for (int64_t c = 0; c < k; ++c) all += count[static_cast<size_t>(f * k + c)];
    for (int64_t c = 0; c < k; ++c) {
      const double in_class = count[static_cast<size_t>(f * k + c)];
      p_total[static_cast<size_t>(c)] += config_.alpha + in_class;
      q_total[static_cast<size_t>(c)] += config_.alpha + all - in_class;
    }
  }
  Tensor r = Tensor::zeros({v, k}, DType::kF64);
  double* out = r.data<double>();
  for (int64_t f = 1; f < v; ++f) {
    double all = 0;
    for (int64_t c = 0; c < k; ++c) all += count[static_cast<size_t>(f * k + c)];
    for (int64_t c = 0; c < k; ++c) {
      const double in_class = count[static_cast<size_t>(f * k + c)];
      out[f * k + c] = std::log((config_.alpha + in_class) / p_total[static_cast<size_t>(c)]) -
                       std::log((config_.alpha + all - in_class) / q_total[static_cast<size_t>(c)]);
    }
  }
  ratio_.copy_from(r);
}

Tensor NbsvmClassifier::encode(const Tensor& ids) {
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
