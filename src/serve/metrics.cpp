// Prometheus metrics registry: name checks, child lookup and the text exposition format 0.0.4.
// Children live in std::map nodes, which never move, so references handed out stay valid; a child is
// found under the family's shared lock and created under its exclusive lock. Rendering reads the atomics
// without stopping writers, so one histogram's _sum may trail its buckets by a few in-flight
// observations, but _count always equals its +Inf bucket.
#include "serve/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "base/status.h"

namespace lmaas::serve {
namespace {

bool is_name_start(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_valid_name(const std::string& name, bool allow_colon) {
  if (name.empty() || !is_name_start(name[0], allow_colon)) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return is_name_start(c, allow_colon) || (c >= '0' && c <= '9'); });
}

void check_metric_name(const std::string& name) {
  if (!is_valid_name(name, /*allow_colon=*/true)) {
    throw Error(Code::kInvalidArgument, "metric name \"" + name +
                                            "\" is invalid: expected [a-zA-Z_:][a-zA-Z0-9_:]* "
                                            "(hint: use snake_case such as lmaas_requests_total)");
  }
}

void check_label_names(const std::string& metric, const LabelNames& label_names, bool is_histogram) {
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    const std::string where = "label name \"" + label + "\" of metric " + metric;
    if (!is_valid_name(label, /*allow_colon=*/false)) {
      throw Error(Code::kInvalidArgument, where + " is invalid: expected [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if (label.rfind("__", 0) == 0) {
      throw Error(Code::kInvalidArgument, where + " is invalid: names starting with \"__\" are reserved");
    }
    if (is_histogram && label == "le") {
      throw Error(Code::kInvalidArgument, where + " is reserved: histograms add \"le\" themselves");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw Error(Code::kInvalidArgument, where + " is declared twice");
    }
  }
}

void check_upper_bounds(const std::string& metric, const std::vector<double>& upper_bounds) {
  if (upper_bounds.empty()) {
    throw Error(Code::kInvalidArgument, "histogram " + metric +
                                            " has no bucket bounds: expected at least one finite bound "
                                            "(hint: latency_buckets_seconds())");
  }
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i]))) {
      throw Error(Code::kInvalidArgument, "histogram " + metric + " bucket bound #" + std::to_string(i) +
                                              " (" + format_metric_value(upper_bounds[i]) +
                                              ") is invalid: expected finite, strictly increasing bounds "
                                              "(+Inf is added automatically)");
    }
  }
}

// Escapes `\` and newline always, `"` only when `quote` (label values; help text leaves it alone).
void append_escaped(std::string& out, const std::string& text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// The child for `values`, found under a shared lock or created (from `args`) under an exclusive one.
template <typename Child, typename... Args>
Child& find_or_add(std::shared_mutex& mutex, std::map<LabelValues, Child>& children,
                   const LabelValues& values, Args&&... args) {
  {
    std::shared_lock lock(mutex);
    auto it = children.find(values);
    if (it != children.end()) return it->second;
  }
  std::unique_lock lock(mutex);
  return children.try_emplace(values, std::forward<Args>(args)...).first->second;
}

}  // namespace

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> batch_size_buckets() { return exponential_buckets(1, 2, 9); }

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1 || !std::isfinite(start) || !std::isfinite(factor)) {
    throw Error(Code::kInvalidArgument, "exponential_buckets(" + format_metric_value(start) + ", " +
                                            format_metric_value(factor) + ", " + std::to_string(count) +
                                            "): expected start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general);
  return std::string(buffer, result.ptr);
}

// ---- children --------------------------------------------------------------------------------------

double Counter::value() const {
  return static_cast<double>(int_part_.load(std::memory_order_relaxed)) +
         float_part_.load(std::memory_order_relaxed);
}

std::string Counter::format_value() const {
  const int64_t int_part = int_part_.load(std::memory_order_relaxed);
  const double float_part = float_part_.load(std::memory_order_relaxed);
  if (float_part == 0) return std::to_string(int_part);
  return format_metric_value(static_cast<double>(int_part) + float_part);
}

double Gauge::value() const {
  if (!callback_) return value_.load(std::memory_order_relaxed);
  try {
    return callback_();
  } catch (...) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

Histogram::Histogram(const std::vector<double>* upper_bounds)
    : upper_bounds_(upper_bounds), counts_(new std::atomic<uint64_t>[upper_bounds->size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  const std::vector<double>& bounds = *upper_bounds_;
  // First bound >= v; NaN compares false everywhere and so lands in +Inf, as in the Go client.
  const auto it =
      std::partition_point(bounds.begin(), bounds.end(), [v](double bound) { return !(v <= bound); });
  counts_[static_cast<size_t>(it - bounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> counts(upper_bounds_->size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = counts_[i].load(std::memory_order_relaxed);
  return counts;
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (uint64_t n : bucket_counts()) total += n;
  return total;
}

// ---- families --------------------------------------------------------------------------------------

Family::Family(std::string name, std::string help, LabelNames label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void Family::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, /*quote=*/false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name();
  out += '\n';
  std::shared_lock lock(mutex_);
  render_samples(out);
}

void Family::check_label_values(const LabelValues& values) const {
  if (values.size() == label_names_.size()) return;
  std::string expected;
  for (const std::string& label : label_names_) expected += (expected.empty() ? "" : ", ") + label;
  throw Error(Code::kInvalidArgument, "metric " + name_ + " got " + std::to_string(values.size()) +
                                          " label values: expected " + std::to_string(label_names_.size()) +
                                          " (" + expected + ")");
}

void Family::append_sample(std::string& out, const std::string& sample_name, const LabelValues& values,
                           const std::string& value, const char* extra_name,
                           const std::string& extra_value) const {
  out += sample_name;
  if (!values.empty() || extra_name != nullptr) {
    out += '{';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names_[i];
      out += "=\"";
      append_escaped(out, values[i], /*quote=*/true);
      out += '"';
    }
    if (extra_name != nullptr) {
      if (!values.empty()) out += ',';
      out += extra_name;
      out += "=\"";
      append_escaped(out, extra_value, /*quote=*/true);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

CounterFamily::CounterFamily(std::string name, std::string help, LabelNames label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {}

Counter& CounterFamily::with(const LabelValues& values) {
  check_label_values(values);
  return find_or_add(mutex_, children_, values);
}

void CounterFamily::render_samples(std::string& out) const {
  for (const auto& [values, child] : children_) append_sample(out, name(), values, child.format_value());
}

GaugeFamily::GaugeFamily(std::string name, std::string help, LabelNames label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {}

Gauge& GaugeFamily::with(const LabelValues& values) {
  check_label_values(values);
  return find_or_add(mutex_, children_, values);
}

Gauge& GaugeFamily::with_callback(const LabelValues& values, std::function<double()> callback) {
  check_label_values(values);
  if (!callback) throw Error(Code::kInvalidArgument, "metric " + name() + ": the gauge callback is empty");
  std::unique_lock lock(mutex_);
  auto [it, inserted] = children_.try_emplace(values, std::move(callback));
  if (!inserted) {
    throw Error(Code::kAlreadyExists,
                "metric " + name() +
                    " already has a child with these label values; a callback gauge must "
                    "be added before any with() for the same values");
  }
  return it->second;
}

void GaugeFamily::render_samples(std::string& out) const {
  for (const auto& [values, child] : children_) {
    append_sample(out, name(), values, format_metric_value(child.value()));
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help, LabelNames label_names,
                                 std::vector<double> upper_bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {}

Histogram& HistogramFamily::with(const LabelValues& values) {
  check_label_values(values);
  return find_or_add(mutex_, children_, values, &upper_bounds_);
}

void HistogramFamily::render_samples(std::string& out) const {
  const std::string bucket_name = name() + "_bucket";
  const std::string sum_name = name() + "_sum";
  const std::string count_name = name() + "_count";
  std::vector<std::string> le_values;
  for (double bound : upper_bounds_) le_values.push_back(format_metric_value(bound));
  le_values.push_back("+Inf");
  for (const auto& [values, child] : children_) {
    const double sum = child.sum();
    const std::vector<uint64_t> counts = child.bucket_counts();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      append_sample(out, bucket_name, values, std::to_string(cumulative), "le", le_values[i]);
    }
    append_sample(out, sum_name, values, format_metric_value(sum));
    append_sample(out, count_name, values, std::to_string(cumulative));
  }
}

// ---- registry --------------------------------------------------------------------------------------

void Registry::check_new_family(const std::string& name, const LabelNames& label_names, bool is_histogram) {
  check_metric_name(name);
  check_label_names(name, label_names, is_histogram);
  std::vector<std::string> taken = {name};
  if (is_histogram) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) taken.push_back(name + suffix);
  }
  for (const std::string& sample_name : taken) {
    if (sample_names_.count(sample_name) != 0) {
      throw Error(Code::kAlreadyExists,
                  "metric " + name + " clashes with an already registered metric named " + sample_name +
                      " (hint: register each family once and keep the "
                      "reference)");
    }
  }
  sample_names_.insert(taken.begin(), taken.end());
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 const LabelNames& label_names) {
  std::lock_guard lock(mutex_);
  check_new_family(name, label_names, /*is_histogram=*/false);
  auto& family = static_cast<CounterFamily&>(
      *families_.emplace_back(std::make_unique<CounterFamily>(name, help, label_names)));
  if (label_names.empty()) family.with({});
  return family;
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             const LabelNames& label_names) {
  std::lock_guard lock(mutex_);
  check_new_family(name, label_names, /*is_histogram=*/false);
  auto& family = static_cast<GaugeFamily&>(
      *families_.emplace_back(std::make_unique<GaugeFamily>(name, help, label_names)));
  if (label_names.empty()) family.with({});
  return family;
}

GaugeFamily& Registry::callback_gauge(const std::string& name, const std::string& help,
                                      std::function<double()> callback) {
  if (!callback) throw Error(Code::kInvalidArgument, "metric " + name + ": the gauge callback is empty");
  std::lock_guard lock(mutex_);
  check_new_family(name, {}, /*is_histogram=*/false);
  auto& family = static_cast<GaugeFamily&>(
      *families_.emplace_back(std::make_unique<GaugeFamily>(name, help, LabelNames{})));
  family.with_callback({}, std::move(callback));
  return family;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     const LabelNames& label_names, std::vector<double> upper_bounds) {
  check_upper_bounds(name, upper_bounds);
  std::lock_guard lock(mutex_);
  check_new_family(name, label_names, /*is_histogram=*/true);
  auto& family = static_cast<HistogramFamily&>(*families_.emplace_back(
      std::make_unique<HistogramFamily>(name, help, label_names, std::move(upper_bounds))));
  if (label_names.empty()) family.with({});
  return family;
}

std::string Registry::render() const {
  // Families are never removed, so a snapshot of the pointers may be rendered without the registry lock
  // (a gauge callback may then even register new families).
  std::vector<const Family*> families;
  {
    std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& family : families_) families.push_back(family.get());
  }
  std::string out;
  for (const Family* family : families) family->render(out);
  return out;
}

}  // namespace lmaas::serve
