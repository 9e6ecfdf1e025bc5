#include "eval/classification_metrics.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include "base/check.h"

namespace lmaas::eval {
namespace {

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }
double f1_of(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// Mann–Whitney: Σ over positives of (#negatives below + ½ #negatives tied), over n_pos · n_neg.
std::optional<double> roc_auc(std::vector<std::pair<double, bool>> scored) {
  int64_t n_pos = 0;
  for (const auto& s : scored) n_pos += s.second;
  const int64_t n_neg = static_cast<int64_t>(scored.size()) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum = 0;  // ranks of the positives, ties sharing the average rank
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (scored[k].second) rank_sum += avg_rank;
    i = j;
  }
  const double u = rank_sum - static_cast<double>(n_pos) * static_cast<double>(n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

}  // namespace

ClassificationMetrics::ClassificationMetrics(int64_t n_classes)
    : n_classes_(n_classes),
      confusion_(static_cast<size_t>(n_classes), std::vector<int64_t>(static_cast<size_t>(n_classes), 0)) {
  LMAAS_CHECK(n_classes >= 1, "metrics: n_classes {} must be positive", n_classes);
}

void ClassificationMetrics::add(int64_t truth, int64_t predicted, std::optional<double> positive_score) {
  LMAAS_CHECK(truth >= 0 && truth < n_classes_ && predicted >= 0 && predicted < n_classes_,
              "metrics: class {} / {} outside [0, {})", truth, predicted, n_classes_);
  ++confusion_[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
  if (positive_score && n_classes_ == 2) scored_.emplace_back(*positive_score, truth == 1);
  else all_scored_ = false;
}

void ClassificationMetrics::add_probabilities(int64_t truth, const float* probs) {
  const int64_t predicted = std::max_element(probs, probs + n_classes_) - probs;
  add(truth, predicted, n_classes_ == 2 ? std::optional<double>(probs[1]) : std::nullopt);
}

ClassificationReport ClassificationMetrics::report() const {
  ClassificationReport r;
  r.confusion = confusion_;
  r.per_class.resize(static_cast<size_t>(n_classes_));
  const size_t k = static_cast<size_t>(n_classes_);
  std::vector<int64_t> predicted(k, 0);
  int64_t correct = 0;
  for (size_t t = 0; t < k; ++t)
    for (size_t p = 0; p < k; ++p) {
      r.n += confusion_[t][p];
      predicted[p] += confusion_[t][p];
      if (t == p) correct += confusion_[t][p];
      r.per_class[t].support += confusion_[t][p];
    }
  r.accuracy = ratio(static_cast<double>(correct), static_cast<double>(r.n));
  int64_t n_present = 0, tp_sum = 0, fp_sum = 0, fn_sum = 0;
  for (size_t c = 0; c < k; ++c) {
    ClassScores& s = r.per_class[c];
    const int64_t tp = confusion_[c][c], fp = predicted[c] - tp, fn = s.support - tp;
    tp_sum += tp, fp_sum += fp, fn_sum += fn;
    s.precision = ratio(static_cast<double>(tp), static_cast<double>(tp + fp));
    s.recall = ratio(static_cast<double>(tp), static_cast<double>(tp + fn));
    s.f1 = f1_of(s.precision, s.recall);
    if (s.support == 0 && predicted[c] == 0) continue;  // neither true nor predicted: not averaged
    ++n_present;
    r.macro_precision += s.precision, r.macro_recall += s.recall, r.macro_f1 += s.f1;
    const double w = static_cast<double>(s.support);
    r.weighted_precision += w * s.precision, r.weighted_recall += w * s.recall, r.weighted_f1 += w * s.f1;
  }
  r.macro_precision = ratio(r.macro_precision, static_cast<double>(n_present));
  r.macro_recall = ratio(r.macro_recall, static_cast<double>(n_present));
  r.macro_f1 = ratio(r.macro_f1, static_cast<double>(n_present));
  r.weighted_precision = ratio(r.weighted_precision, static_cast<double>(r.n));
  r.weighted_recall = ratio(r.weighted_recall, static_cast<double>(r.n));
  r.weighted_f1 = ratio(r.weighted_f1, static_cast<double>(r.n));
  r.micro_precision = ratio(static_cast<double>(tp_sum), static_cast<double>(tp_sum + fp_sum));
  r.micro_recall = ratio(static_cast<double>(tp_sum), static_cast<double>(tp_sum + fn_sum));
  r.micro_f1 = f1_of(r.micro_precision, r.micro_recall);
  if (n_classes_ == 2 && all_scored_ && !scored_.empty()) r.roc_auc = roc_auc(scored_);
  return r;
}

nlohmann::json report_to_json(const ClassificationReport& r, const std::vector<std::string>& labels) {
  LMAAS_CHECK(labels.size() == r.per_class.size(), "metrics: {} labels for {} classes", labels.size(),
              r.per_class.size());
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < labels.size(); ++c) {
    const ClassScores& s = r.per_class[c];
    per_class[labels[c]] = {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
  }
  return {{"n", r.n},
          {"accuracy", r.accuracy},
          {"macro_precision", r.macro_precision},
          {"macro_recall", r.macro_recall},
          {"macro_f1", r.macro_f1},
          {"micro_precision", r.micro_precision},
          {"micro_recall", r.micro_recall},
          {"micro_f1", r.micro_f1},
          {"weighted_precision", r.weighted_precision},
          {"weighted_recall", r.weighted_recall},
          {"weighted_f1", r.weighted_f1},
          {"roc_auc", r.roc_auc ? nlohmann::json(*r.roc_auc) : nlohmann::json(nullptr)},
          {"per_class", per_class},
          {"confusion", {{"labels", labels}, {"matrix", r.confusion}}}};
}

std::string report_to_table(const ClassificationReport& r, const std::vector<std::string>& labels) {
  size_t width = 12;
  for (const auto& l : labels) width = std::max(width, l.size());
  std::string out = fmt::format("{:>{}}  {:>9}  {:>9}  {:>9}  {:>8}\n", "", width, "precision", "recall", "f1", "support");
  for (size_t c = 0; c < labels.size(); ++c) {
    const ClassScores& s = r.per_class[c];
    out += fmt::format("{:>{}}  {:>9.4f}  {:>9.4f}  {:>9.4f}  {:>8}\n", labels[c], width, s.precision, s.recall, s.f1,
                       s.support);
  }
  out += "\n";
  out += fmt::format("{:>{}}  {:>9}  {:>9}  {:>9.4f}  {:>8}\n", "accuracy", width, "", "", r.accuracy, r.n);
  out += fmt::format("{:>{}}  {:>9.4f}  {:>9.4f}  {:>9.4f}  {:>8}\n", "macro avg", width, r.macro_precision,
                     r.macro_recall, r.macro_f1, r.n);
  out += fmt::format("{:>{}}  {:>9.4f}  {:>9.4f}  {:>9.4f}  {:>8}\n", "weighted avg", width, r.weighted_precision,
                     r.weighted_recall, r.weighted_f1, r.n);
  if (r.roc_auc) out += fmt::format("{:>{}}  {:>9.4f}\n", "roc_auc", width, *r.roc_auc);
  out += "\nconfusion (rows: true, columns: predicted)\n";
  for (size_t t = 0; t < labels.size(); ++t) {
    out += fmt::format("{:>{}} ", labels[t], width);
    for (int64_t v : r.confusion[t]) out += fmt::format(" {:>6}", v);
    out += "\n";
  }
  return out;
}

}  // namespace lmaas::eval
