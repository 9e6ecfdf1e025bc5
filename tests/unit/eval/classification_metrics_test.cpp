// Classification metrics against scikit-learn (fixtures from tests/tools/gen_metrics_fixtures.py),
// including classes that are never predicted, never true, or never seen at all.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/classification_metrics.h"

namespace lmaas::eval {
namespace {

nlohmann::json load_cases() {
  std::ifstream in(std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/classification_metrics.json");
  return nlohmann::json::parse(in).at("cases");
}

TEST(ClassificationMetrics, MatchScikitLearn) {
  const nlohmann::json cases = load_cases();
  ASSERT_GE(cases.size(), 6u);
  for (const auto& c : cases) {
    const std::string name = c.at("name");
    ClassificationMetrics m(c.at("n_classes").get<int64_t>());
    const auto& y_true = c.at("y_true");
    for (size_t i = 0; i < y_true.size(); ++i) {
      std::optional<double> score;
      if (!c.at("scores").is_null()) score = c.at("scores")[i].get<double>();
      m.add(y_true[i].get<int64_t>(), c.at("y_pred")[i].get<int64_t>(), score);
    }
    const ClassificationReport r = m.report();
    EXPECT_NEAR(r.accuracy, c.at("accuracy").get<double>(), 1e-12) << name;
    for (const char* key : {"macro_precision", "macro_recall", "macro_f1", "micro_precision", "micro_recall",
                            "micro_f1", "weighted_precision", "weighted_recall", "weighted_f1"}) {
      const nlohmann::json ours = report_to_json(r, std::vector<std::string>(r.per_class.size(), "x"))[key];
      EXPECT_NEAR(ours.get<double>(), c.at(key).get<double>(), 1e-12) << name << " " << key;
    }
    for (size_t k = 0; k < r.per_class.size(); ++k) {
      const auto& want = c.at("per_class")[k];
      EXPECT_NEAR(r.per_class[k].precision, want[0].get<double>(), 1e-12) << name << " class " << k;
      EXPECT_NEAR(r.per_class[k].recall, want[1].get<double>(), 1e-12) << name << " class " << k;
      EXPECT_NEAR(r.per_class[k].f1, want[2].get<double>(), 1e-12) << name << " class " << k;
      EXPECT_EQ(r.per_class[k].support, want[3].get<int64_t>()) << name << " class " << k;
    }
    EXPECT_EQ(nlohmann::json(r.confusion), c.at("confusion")) << name;
    if (c.at("roc_auc").is_null()) {
      EXPECT_FALSE(r.roc_auc.has_value()) << name;
    } else {
      ASSERT_TRUE(r.roc_auc.has_value()) << name;
      EXPECT_NEAR(*r.roc_auc, c.at("roc_auc").get<double>(), 1e-12) << name;
    }
  }
}

TEST(ClassificationMetrics, JsonAndTableNameTheLabels) {
  ClassificationMetrics m(2);
  m.add(0, 0, 0.1);
  m.add(1, 0, 0.4);
  m.add(1, 1, 0.8);
  const ClassificationReport r = m.report();
  const nlohmann::json j = report_to_json(r, {"neg", "pos"});
  EXPECT_EQ(j["per_class"]["pos"]["support"], 2);
  EXPECT_EQ(j["confusion"]["matrix"], nlohmann::json({{1, 0}, {1, 1}}));
  EXPECT_DOUBLE_EQ(j["roc_auc"].get<double>(), 1.0);
  const std::string table = report_to_table(r, {"neg", "pos"});
  EXPECT_NE(table.find("macro avg"), std::string::npos);
  EXPECT_NE(table.find("pos"), std::string::npos);
  EXPECT_THROW(m.add(2, 0), std::exception);
  EXPECT_EQ(ClassificationMetrics(3).report().accuracy, 0.0);  // no examples: zeros, no NaN
}

}  // namespace
}  // namespace lmaas::eval
