#include "runtime/classifier_session.h"

#include <algorithm>
#include <numeric>

#include "autograd/tape.h"
#include "formats/model_bundle.h"
#include "ops/ops.h"
#include "train/batching.h"

namespace lmaas::runtime {

Result<std::unique_ptr<ClassifierSession>> ClassifierSession::load(const std::string& dir) {
  auto config = read_bundle_config(dir);
  if (!config.is_ok()) return config.status();
  if (config.value()["task"] != "classification")
    return Status(Code::kInvalidArgument, dir + " holds a " + config.value()["task"].get<std::string>() +
                                              " model, not a classifier");
  std::unique_ptr<ClassifierSession> s(new ClassifierSession());
  s->config_ = config.value();
  s->labels_ = s->config_["labels"].get<std::vector<std::string>>();
  auto encoder = text::TextEncoder::load(dir, s->config_["tokenizer"]);
  if (!encoder.is_ok()) return encoder.status();
  s->encoder_ = std::make_unique<text::TextEncoder>(std::move(encoder.value()));
  auto model = models::make_classifier(s->config_["architecture"]);
  if (!model.is_ok()) return Status(model.status().code(), dir + "/config.json: " + model.status().message());
  s->model_ = std::move(model.value());
  if (s->model_->n_classes() != static_cast<int64_t>(s->labels_.size()))
    return Status(Code::kInvalidArgument, dir + "/config.json: the architecture has " +
                                              std::to_string(s->model_->n_classes()) + " classes, labels list " +
                                              std::to_string(s->labels_.size()));
  if (s->encoder_->vocab_size() != models::architecture_vocab_size(s->config_["architecture"]))
    return Status(Code::kInvalidArgument, dir + ": the tokenizer's vocabulary (" +
                                              std::to_string(s->encoder_->vocab_size()) +
                                              ") does not match the architecture's vocab_size");
  Status w = load_bundle_weights(dir, *s->model_);
  if (!w.is_ok()) return w;
  s->model_->eval();
  s->model_->freeze_for_inference();
  return s;
}

std::vector<std::vector<float>> ClassifierSession::run_batched(std::span<const std::string_view> texts, int64_t batch_size,
                                                               const std::function<Tensor(const Tensor&)>& fn) const {
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(texts.size());
  for (const auto& t : texts) ids.push_back(encoder_->encode(t));
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<float>> out(texts.size());
  autograd::NoGradGuard no_grad;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::span<const int32_t>> rows;
    for (size_t i = start; i < end; ++i) rows.push_back(ids[order[i]]);
    Tensor result = fn(train::pad_batch(rows)).contiguous();
    const int64_t width = result.size(1);
    for (size_t i = start; i < end; ++i) {
      const float* row = result.data<float>() + static_cast<int64_t>(i - start) * width;
      out[order[i]].assign(row, row + width);
    }
  }
  return out;
}

std::vector<std::vector<float>> ClassifierSession::predict(std::span<const std::string_view> texts,
                                                           int64_t batch_size) const {
  return run_batched(texts, batch_size, [&](const Tensor& ids) { return ops::softmax(model_->forward(ids), -1); });
}

std::vector<std::vector<float>> ClassifierSession::embed(std::span<const std::string_view> texts, int64_t batch_size) const {
  return run_batched(texts, batch_size, [&](const Tensor& ids) { return model_->encode(ids); });
}

namespace {
std::vector<std::string_view> views_of(const std::vector<std::string>& texts) {
  return std::vector<std::string_view>(texts.begin(), texts.end());
}
}  // namespace

std::vector<std::vector<float>> ClassifierSession::predict(const std::vector<std::string>& texts,
                                                           int64_t batch_size) const {
  return predict(views_of(texts), batch_size);
}

std::vector<std::vector<float>> ClassifierSession::embed(const std::vector<std::string>& texts, int64_t batch_size) const {
  return embed(views_of(texts), batch_size);
}

}  // namespace lmaas::runtime
