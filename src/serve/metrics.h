// Prometheus metrics for the server: a Registry of counter, gauge and histogram families, rendered in the
// text exposition format 0.0.4 for GET /metrics.
// - A family has a name, a help text and label names fixed at registration; each distinct tuple of label
//   values is one child (Counter, Gauge or Histogram). A family without labels has exactly one child,
//   created at registration, so it is exported as 0 before its first update.
// - The Registry owns every family and child; references returned by it stay valid, at the same address,
//   until the Registry is destroyed. Nothing is ever removed.
// - Threads: registration and with() may be called from any thread (they take a lock); updates on a child
//   (inc/add/set/observe) may be called from any thread and are lock-free atomics, so the hot path looks
//   up its child once and caches the reference. render() may run concurrently with both.
// - Names are checked at registration against [a-zA-Z_:][a-zA-Z0-9_:]* (label names: no ':' and no
//   leading "__"); a bad name, a duplicate family or a wrong number of label values is a programming
//   error and throws lmaas::Error. Updates never throw: a negative or NaN counter increment is ignored.
// - Output order is deterministic: families in registration order, children sorted by label values.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace lmaas::serve {

using LabelNames = std::vector<std::string>;
using LabelValues = std::vector<std::string>;

// Upper bounds in seconds for request latencies: 0.0005 .. 10.
std::vector<double> latency_buckets_seconds();
// Upper bounds for batch sizes: 1, 2, 4, ..., 256.
std::vector<double> batch_size_buckets();
// `count` bounds start, start*factor, ...; start > 0, factor > 1, count >= 1 (else throws lmaas::Error).
std::vector<double> exponential_buckets(double start, double factor, int count);

// Formats a sample value as the exposition format wants it: integral values (|v| < 1e15) without
// exponent or point, "+Inf", "-Inf", "NaN", other values as the shortest string that reads back exactly.
std::string format_metric_value(double value);

// A monotonic counter. Integer increments are exact (int64); fractional ones are summed in a double.
class alignas(64) Counter {
 public:
  void inc() { int_part_.fetch_add(1, std::memory_order_relaxed); }
  // n < 0 is ignored.
  void inc(std::integral auto n) {
    if (n > 0) int_part_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  }
  // v < 0 or NaN is ignored.
  void inc(std::floating_point auto v) {
    if (static_cast<double>(v) > 0) float_part_.fetch_add(static_cast<double>(v), std::memory_order_relaxed);
  }
  double value() const;
  // Exposition text of the current value (exact when only integer increments were made).
  std::string format_value() const;

 private:
  std::atomic<int64_t> int_part_{0};
  std::atomic<double> float_part_{0.0};
};

// A value that goes up and down, or, for a callback child, the value of a function read at render time.
// set/add/inc/dec on a callback child are ignored.
class alignas(64) Gauge {
 public:
  Gauge() = default;
  explicit Gauge(std::function<double()> callback) : callback_(std::move(callback)) {}

  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void sub(double v) { value_.fetch_sub(v, std::memory_order_relaxed); }
  void inc() { add(1.0); }
  void dec() { sub(1.0); }
  // The stored value, or the callback's result (NaN if it throws).
  double value() const;

 private:
  std::atomic<double> value_{0.0};
  const std::function<double()> callback_;
};

// Observations counted into fixed buckets (upper bounds inclusive, like Prometheus' `le`), with their sum.
// A value above every bound, or NaN, lands in the implicit +Inf bucket.
class alignas(64) Histogram {
 public:
  // `upper_bounds` must outlive this histogram (its family owns them).
  explicit Histogram(const std::vector<double>* upper_bounds);

  void observe(double v);
  // Per-bucket (not cumulative) counts; the last entry is the +Inf bucket.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // upper_bounds_->size() + 1 entries
  std::atomic<double> sum_{0.0};
};

// What every family shares: its name, help and label names, and how to render it.
class Family {
 public:
  Family(std::string name, std::string help, LabelNames label_names);
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const LabelNames& label_names() const { return label_names_; }
  // Appends "# HELP", "# TYPE" and every sample line of this family to `out`; takes mutex_ (shared).
  void render(std::string& out) const;

 protected:
  virtual const char* type_name() const = 0;
  // Called with mutex_ held (shared).
  virtual void render_samples(std::string& out) const = 0;
  // Throws lmaas::Error (kInvalidArgument) unless `values` has one entry per label name.
  void check_label_values(const LabelValues& values) const;
  // `name{l1="v1",...,extra_name="extra_value"} value\n`; no extra label when extra_name is null.
  void append_sample(std::string& out, const std::string& sample_name, const LabelValues& values,
                     const std::string& value, const char* extra_name = nullptr,
                     const std::string& extra_value = {}) const;

  mutable std::shared_mutex mutex_;  // guards the children maps of derived classes

 private:
  std::string name_;
  std::string help_;
  LabelNames label_names_;
};

class CounterFamily final : public Family {
 public:
  CounterFamily(std::string name, std::string help, LabelNames label_names);
  // The child for these label values (one per label name), created on first use.
  Counter& with(const LabelValues& values);
  // The only child of a family declared without labels.
  Counter& unlabelled() { return with({}); }

 private:
  const char* type_name() const override { return "counter"; }
  void render_samples(std::string& out) const override;

  std::map<LabelValues, Counter> children_;
};

class GaugeFamily final : public Family {
 public:
  GaugeFamily(std::string name, std::string help, LabelNames label_names);
  Gauge& with(const LabelValues& values);
  Gauge& unlabelled() { return with({}); }
  // Adds a child whose value is `callback()` at render time. The callback runs on the rendering thread
  // with this family locked: it must be thread-safe, cheap, must not call into this Registry, and must
  // stay callable for the Registry's life. Throws lmaas::Error (kAlreadyExists) if the child exists.
  Gauge& with_callback(const LabelValues& values, std::function<double()> callback);

 private:
  const char* type_name() const override { return "gauge"; }
  void render_samples(std::string& out) const override;

  std::map<LabelValues, Gauge> children_;
};

class HistogramFamily final : public Family {
 public:
  HistogramFamily(std::string name, std::string help, LabelNames label_names,
                  std::vector<double> upper_bounds);
  Histogram& with(const LabelValues& values);
  Histogram& unlabelled() { return with({}); }
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const char* type_name() const override { return "histogram"; }
  void render_samples(std::string& out) const override;

  const std::vector<double> upper_bounds_;
  std::map<LabelValues, Histogram> children_;
};

// Owns every family. Not copyable or movable: children are referenced by address.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(const std::string& name, const std::string& help,
                         const LabelNames& label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help, const LabelNames& label_names = {});
  // An unlabelled gauge whose value is `callback()` at render time (see GaugeFamily::with_callback).
  GaugeFamily& callback_gauge(const std::string& name, const std::string& help,
                              std::function<double()> callback);
  // `upper_bounds`: finite, strictly increasing, at least one; "+Inf" is implicit. Label "le" is reserved.
  HistogramFamily& histogram(const std::string& name, const std::string& help, const LabelNames& label_names,
                             std::vector<double> upper_bounds);

  // The whole exposition text (Content-Type: text/plain; version=0.0.4; charset=utf-8).
  std::string render() const;

 private:
  // Checks the names and reserves the family's sample names; throws lmaas::Error on a clash.
  void check_new_family(const std::string& name, const LabelNames& label_names, bool is_histogram);

  mutable std::mutex mutex_;  // guards families_ and sample_names_
  std::vector<std::unique_ptr<Family>> families_;
  std::set<std::string> sample_names_;  // every family name and sample name taken so far
};

}  // namespace lmaas::serve
