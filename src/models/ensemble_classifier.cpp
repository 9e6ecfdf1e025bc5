#include "models/ensemble_classifier.h"

#include "base/check.h"
#include "ops/ops.h"

namespace lmaas::models {

EnsembleClassifier::EnsembleClassifier(std::vector<std::unique_ptr<Classifier>> members) {
  LMAAS_CHECK(!members.empty(), "ensemble: no members");
  auto list = register_module("members", std::make_shared<nn::ModuleList>());
  const int64_t n_classes = members.front()->n_classes();
  for (size_t i = 0; i < members.size(); ++i) {
    LMAAS_CHECK(members[i]->n_classes() == n_classes, "ensemble: member {} has {} classes, not {}", i,
                members[i]->n_classes(), n_classes);
    members_.push_back(list->add(std::to_string(i), std::shared_ptr<Classifier>(std::move(members[i]))));
  }
}

Tensor EnsembleClassifier::forward(const Tensor& ids) {
  Tensor sum;
  for (auto& m : members_) {
    Tensor p = ops::softmax(m->forward(ids), -1);
    sum = sum.defined() ? ops::add(sum, p) : p;
  }
  return ops::log(ops::mul_scalar(sum, 1.0 / static_cast<double>(members_.size())));
}

Tensor EnsembleClassifier::encode(const Tensor& ids) {
  std::vector<Tensor> parts;
  for (auto& m : members_) parts.push_back(m->encode(ids));
  return ops::cat(parts, 1);
}

Tensor EnsembleClassifier::training_loss(const Tensor& ids, const Tensor& labels) {
  Tensor total;
  for (auto& m : members_) {
    Tensor loss = m->training_loss(ids, labels);
    total = total.defined() ? ops::add(total, loss) : loss;
  }
  return total;
}

nlohmann::json EnsembleClassifier::config_json() const {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : members_) members.push_back(m->config_json());
  return {{"arch", "ensemble"}, {"members", members}};
}

bool EnsembleClassifier::freeze_for_inference() {
  bool any = false;
  for (auto& m : members_) any = m->freeze_for_inference() || any;
  return any;
}

std::vector<Tensor> EnsembleClassifier::token_embeddings() const {
  std::vector<Tensor> out;
  for (const auto& m : members_)
    for (Tensor& t : m->token_embeddings()) out.push_back(t);
  return out;
}

void EnsembleClassifier::fit_statistics(const ExampleSource& for_each_example) {
  for (auto& m : members_) m->fit_statistics(for_each_example);
}

}  // namespace lmaas::models
