// Streaming classification metrics with scikit-learn's definitions:
//   accuracy; per class precision = tp/(tp+fp), recall = tp/(tp+fn), F1 = 2PR/(P+R), each 0 when its
//   denominator is 0 (sklearn's zero_division=0, without the warning); support = true count.
//   macro: unweighted mean over the classes that occur in the truth or the predictions (sklearn's
//   default label set: a class the model knows but that never occurs is listed with zeros, not averaged);
//   weighted: mean weighted by support; micro: from the summed tp/fp/fn (= accuracy for single-label).
//   ROC-AUC (two classes, scores of the positive class = class 1): the probability that a random positive
//   outscores a random negative, ties counting one half (= sklearn roc_auc_score); undefined when the
//   truth holds one class only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmaas::eval {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct ClassificationReport {
  int64_t n = 0;
  double accuracy = 0;
  std::vector<ClassScores> per_class;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double micro_precision = 0, micro_recall = 0, micro_f1 = 0;
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  std::optional<double> roc_auc;                 // binary tasks with scores only
};

class ClassificationMetrics {
 public:
  explicit ClassificationMetrics(int64_t n_classes);
  // One example: true and predicted class; for binary tasks, optionally the score of class 1.
  void add(int64_t truth, int64_t predicted, std::optional<double> positive_score = std::nullopt);
  // One example from the model's class probabilities probs[n_classes]: the prediction is the most
  // probable class (the first on ties); for two classes probs[1] is the ROC score.
  void add_probabilities(int64_t truth, const float* probs);
  ClassificationReport report() const;
  int64_t n_classes() const { return n_classes_; }

 private:
  int64_t n_classes_;
  std::vector<std::vector<int64_t>> confusion_;
  std::vector<std::pair<double, bool>> scored_;  // (score of class 1, truth is class 1)
  bool all_scored_ = true;
};

// {"accuracy", "macro_f1", "micro_f1", "weighted_f1", "macro_precision", …, "per_class": {label: {…}},
//  "confusion": {"labels": [...], "matrix": [[...]]}, "roc_auc" (binary) , "n"}.
nlohmann::json report_to_json(const ClassificationReport& r, const std::vector<std::string>& labels);
// A fixed-width table for people.
std::string report_to_table(const ClassificationReport& r, const std::vector<std::string>& labels);

}  // namespace lmaas::eval
