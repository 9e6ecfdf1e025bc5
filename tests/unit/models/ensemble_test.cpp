// EnsembleClassifier: probabilities are the mean of its members', the training loss the sum of theirs,
// and its architecture object is completed, rebuilt and rejected member by member.
#include <gtest/gtest.h>

#include <cmath>

#include "models/classifier.h"
#include "ops/ops.h"

namespace lmaas::models {
namespace {

nlohmann::json two_members() {
  return {{"arch", "ensemble"},
          {"members", {{{"arch", "bow"}, {"embedding_dim", 4}}, {{"arch", "cnn"}, {"widths", {1, 2}}, {"filters", 3}}}}};
}

std::unique_ptr<Classifier> build(const nlohmann::json& arch) {
  auto done = complete_architecture(arch, /*vocab_size=*/7, /*n_classes=*/3, /*max_len=*/8, /*seed=*/5);
  EXPECT_TRUE(done.is_ok()) << done.status().to_string();
  auto made = make_classifier(done.value());
  EXPECT_TRUE(made.is_ok()) << made.status().to_string();
  return std::move(made.value());
}

TEST(Ensemble, AveragesMemberProbabilitiesAndSumsLosses) {
  auto ensemble = build(two_members());
  ensemble->eval();
  auto done = complete_architecture(two_members(), 7, 3, 8, 5).value();
  auto first = make_classifier(done["members"][0]).value(), second = make_classifier(done["members"][1]).value();
  first->eval(), second->eval();
  Tensor ids = Tensor::from_vector<int32_t>({1, 2, 3, 0, 4, 5, 6, 1}, {2, 4});
  Tensor labels = Tensor::from_vector<int32_t>({2, 0}, {2});
  // Same seeds, so the separately built members equal the ensemble's own.
  auto p1 = ops::softmax(first->forward(ids), -1).to_vector<float>();
  auto p2 = ops::softmax(second->forward(ids), -1).to_vector<float>();
  auto logits = ensemble->forward(ids).to_vector<float>();
  for (size_t i = 0; i < logits.size(); ++i) EXPECT_NEAR(logits[i], std::log((p1[i] + p2[i]) / 2), 1e-5) << i;
  const double loss = ensemble->training_loss(ids, labels).item();
  const double expected =
      ops::cross_entropy(first->forward(ids), labels).item() + ops::cross_entropy(second->forward(ids), labels).item();
  EXPECT_NEAR(loss, expected, 1e-5);
  EXPECT_EQ(ensemble->encode(ids).shape(), (Shape{2, 4 + 2 * 3}));
}

TEST(Ensemble, MembersAreSeededApartAndRebuildFromTheirConfig) {
  auto done = complete_architecture({{"arch", "ensemble"}, {"members", {{{"arch", "bow"}}, {{"arch", "bow"}}}}}, 7, 3, 8, 5);
  ASSERT_TRUE(done.is_ok());
  EXPECT_EQ(done.value()["members"][0]["seed"], 5);
  EXPECT_EQ(done.value()["members"][1]["seed"], 6);
  EXPECT_EQ(done.value()["members"][1]["vocab_size"], 7);
  auto model = make_classifier(done.value()).value();
  auto again = make_classifier(model->config_json());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value()->named_state().size(), model->named_state().size());
  EXPECT_EQ(model->named_state().front().first, "members.0.embedding.weight");
}

TEST(Ensemble, BadArchitecturesNameTheMember) {
  auto empty = complete_architecture({{"arch", "ensemble"}, {"members", nlohmann::json::array()}}, 7, 3, 8, 5);
  EXPECT_NE(empty.status().message().find("non-empty"), std::string::npos);
  auto nested = complete_architecture(
      {{"arch", "ensemble"}, {"members", {{{"arch", "bow"}}, {{"arch", "ensemble"}, {"members", {{{"arch", "bow"}}}}}}}},
      7, 3, 8, 5);
  EXPECT_NE(nested.status().message().find("member 1 is an ensemble"), std::string::npos);
  auto unknown = complete_architecture({{"arch", "ensemble"}, {"members", {{{"arch", "svm"}}}}}, 7, 3, 8, 5);
  EXPECT_NE(unknown.status().message().find("ensemble member 0"), std::string::npos);
}

}  // namespace
}  // namespace lmaas::models
