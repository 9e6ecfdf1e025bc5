// Tests for serve/metrics: exact exposition text for a small hand-built registry, number formatting,
// bucket helpers, exact totals under concurrent updates, and name checks at registration.
#include "serve/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <latch>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace lmaas::serve {
namespace {

TEST(ServeMetrics, RendersExactExpositionText) {
  Registry registry;
  CounterFamily& requests =
      registry.counter("lmaas_requests_total", "Requests served.", {"model", "route", "code"});
  requests.with({"model-b", "classify", "200"}).inc(3);
  requests.with({"model-a", "classify", "500"}).inc();
  requests.with({"model-a", "classify", "200"}).inc(2);
  CounterFamily& tokens = registry.counter("lmaas_tokens_total", "Tokens.\nA \"second\" line with \\ in it");
  tokens.unlabelled().inc(0.5);
  tokens.unlabelled().inc(0.25);
  GaugeFamily& in_flight = registry.gauge("lmaas_in_flight", "Requests in flight.");
  in_flight.unlabelled().add(2.5);
  in_flight.unlabelled().dec();
  registry.callback_gauge("lmaas_uptime_seconds", "Uptime.", [] { return 12.5; });
  GaugeFamily& queue = registry.gauge("lmaas_queue_depth", "Queued requests.", {"model"});
  queue.with({"b"}).set(-2);
  queue.with_callback({"a"}, [] { return 7.0; });
  HistogramFamily& latency =
      registry.histogram("lmaas_request_seconds", "Latency.", {"model"}, {0.25, 0.5, 1, 2.5});
  Histogram& odd = latency.with({"a\"b\\c\nd"});
  latency.with({"plain"});
  for (double v : {0.25, 0.375, 1.0, 2.0, 10.0}) odd.observe(v);  // on, between, on, between, above

  const std::string expected =
      "# HELP lmaas_requests_total Requests served.\n"
      "# TYPE lmaas_requests_total counter\n"
      "lmaas_requests_total{model=\"model-a\",route=\"classify\",code=\"200\"} 2\n"
      "lmaas_requests_total{model=\"model-a\",route=\"classify\",code=\"500\"} 1\n"
      "lmaas_requests_total{model=\"model-b\",route=\"classify\",code=\"200\"} 3\n"
      "# HELP lmaas_tokens_total Tokens.\\nA \"second\" line with \\\\ in it\n"
      "# TYPE lmaas_tokens_total counter\n"
      "lmaas_tokens_total 0.75\n"
      "# HELP lmaas_in_flight Requests in flight.\n"
      "# TYPE lmaas_in_flight gauge\n"
      "lmaas_in_flight 1.5\n"
      "# HELP lmaas_uptime_seconds Uptime.\n"
      "# TYPE lmaas_uptime_seconds gauge\n"
      "lmaas_uptime_seconds 12.5\n"
      "# HELP lmaas_queue_depth Queued requests.\n"
      "# TYPE lmaas_queue_depth gauge\n"
      "lmaas_queue_depth{model=\"a\"} 7\n"
      "lmaas_queue_depth{model=\"b\"} -2\n"
      "# HELP lmaas_request_seconds Latency.\n"
      "# TYPE lmaas_request_seconds histogram\n"
      "lmaas_request_seconds_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"0.25\"} 1\n"
      "lmaas_request_seconds_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"0.5\"} 2\n"
      "lmaas_request_seconds_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"1\"} 3\n"
      "lmaas_request_seconds_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"2.5\"} 4\n"
      "lmaas_request_seconds_bucket{model=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 5\n"
      "lmaas_request_seconds_sum{model=\"a\\\"b\\\\c\\nd\"} 13.625\n"
      "lmaas_request_seconds_count{model=\"a\\\"b\\\\c\\nd\"} 5\n"
      "lmaas_request_seconds_bucket{model=\"plain\",le=\"0.25\"} 0\n"
      "lmaas_request_seconds_bucket{model=\"plain\",le=\"0.5\"} 0\n"
      "lmaas_request_seconds_bucket{model=\"plain\",le=\"1\"} 0\n"
      "lmaas_request_seconds_bucket{model=\"plain\",le=\"2.5\"} 0\n"
      "lmaas_request_seconds_bucket{model=\"plain\",le=\"+Inf\"} 0\n"
      "lmaas_request_seconds_sum{model=\"plain\"} 0\n"
      "lmaas_request_seconds_count{model=\"plain\"} 0\n";
  EXPECT_EQ(registry.render(), expected);
}

TEST(ServeMetrics, UnlabelledFamiliesRenderZeroBeforeFirstUpdate) {
  Registry registry;
  registry.counter("c_total", "");
  registry.histogram("h", "H.", {}, {1});
  registry.gauge("g", "G.", {"x"});  // labelled and never used: header only
  EXPECT_EQ(
      registry.render(),
      "# HELP c_total \n# TYPE c_total counter\nc_total 0\n"
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"
      "# HELP g G.\n# TYPE g gauge\n");
}

TEST(ServeMetrics, FormatsNumbersSoPrometheusParsesThem) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(-0.0), "0");
  EXPECT_EQ(format_metric_value(-3), "-3");
  EXPECT_EQ(format_metric_value(123456789012345), "123456789012345");
  EXPECT_EQ(format_metric_value(1e20), "1e+20");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(0.0005), "0.0005");
  EXPECT_EQ(format_metric_value(1e-7), "1e-07");
  EXPECT_EQ(format_metric_value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  for (double v : {0.1, 1.0 / 3, 2.5e-300, 6.02214076e23, -1234.5678}) {
    EXPECT_EQ(std::stod(format_metric_value(v)), v) << format_metric_value(v);
  }
}

TEST(ServeMetrics, BucketHelpers) {
  EXPECT_EQ(latency_buckets_seconds(), (std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10}));
  EXPECT_EQ(batch_size_buckets(), (std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128, 256}));
  EXPECT_EQ(exponential_buckets(0.5, 4, 3), (std::vector<double>{0.5, 2, 8}));
  EXPECT_THROW(exponential_buckets(0, 2, 3), Error);
  EXPECT_THROW(exponential_buckets(1, 1, 3), Error);
  EXPECT_THROW(exponential_buckets(1, 2, 0), Error);
}

TEST(ServeMetrics, ChildrenAreStableAndUpdatesIgnoreBadIncrements) {
  Registry registry;
  CounterFamily& family = registry.counter("requests_total", "R.", {"model"});
  Counter* first = &family.with({"m0"});
  for (int i = 1; i < 1000; ++i) family.with({"m" + std::to_string(i)}).inc();
  EXPECT_EQ(&family.with({"m0"}), first);
  first->inc(-5);
  first->inc(-0.5);
  first->inc(std::nan(""));
  EXPECT_EQ(first->value(), 0);
  first->inc(int64_t{1} << 60);
  EXPECT_EQ(first->format_value(), "1152921504606846976");  // exact beyond double precision

  Histogram& histogram = registry.histogram("h_seconds", "H.", {}, {1, 2}).unlabelled();
  histogram.observe(std::nan(""));
  EXPECT_EQ(histogram.bucket_counts(), (std::vector<uint64_t>{0, 0, 1}));

  GaugeFamily& gauges = registry.gauge("g", "G.", {"k"});
  gauges.with_callback({"x"}, []() -> double { throw std::runtime_error("boom"); });
  EXPECT_TRUE(std::isnan(gauges.with({"x"}).value()));
  EXPECT_NE(registry.render().find("g{k=\"x\"} NaN\n"), std::string::npos);
}

TEST(ServeMetrics, ConcurrentUpdatesGiveExactTotals) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  Registry registry;
  CounterFamily& counters = registry.counter("ops_total", "Ops.", {"thread"});
  Counter& shared_int = registry.counter("shared_int_total", "S.").unlabelled();
  Counter& shared_float = registry.counter("shared_float_total", "S.").unlabelled();
  Gauge& gauge = registry.gauge("level", "L.").unlabelled();
  Histogram& histogram = registry.histogram("sizes", "S.", {}, {0, 1, 2, 3}).unlabelled();
  std::latch start(kThreads + 1);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();  // all threads update at once
        Counter& own = counters.with({std::to_string(t)});
        for (int i = 0; i < kPerThread; ++i) {
          shared_int.inc();
          shared_float.inc(1.0);
          own.inc(2);
          gauge.add(i % 2 == 0 ? 3 : -3);
          histogram.observe(i % 5);  // 0..4: one value per bucket, 4 lands in +Inf
          if (i % 10000 == 0) counters.with({"extra-" + std::to_string(i)});  // new children while updating
        }
      });
    }
    std::jthread renderer([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 20; ++i) EXPECT_FALSE(registry.render().empty());
    });
  }
  EXPECT_EQ(shared_int.format_value(), "800000");
  EXPECT_EQ(shared_float.value(), 800000.0);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(counters.with({std::to_string(t)}).value(), 2.0 * kPerThread);
  EXPECT_EQ(gauge.value(), 0.0);
  EXPECT_EQ(histogram.count(), uint64_t{kThreads} * kPerThread);
  const uint64_t per_bucket = uint64_t{kThreads} * kPerThread / 5;
  EXPECT_EQ(histogram.bucket_counts(), (std::vector<uint64_t>(5, per_bucket)));
  EXPECT_EQ(histogram.sum(), static_cast<double>(per_bucket * (0 + 1 + 2 + 3 + 4)));
  EXPECT_NE(registry.render().find("sizes_sum 1600000\nsizes_count 800000\n"), std::string::npos);
}

void expect_invalid(const std::function<void()>& register_family, Code code = Code::kInvalidArgument) {
  try {
    register_family();
    ADD_FAILURE() << "expected lmaas::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), code) << error.what();
  }
}

TEST(ServeMetrics, InvalidNamesThrowAtRegistration) {
  Registry registry;
  for (const char* name : {"", "1abc", "a-b", "a b", "a.b", "é"}) {
    expect_invalid([&] { registry.counter(name, "bad"); });
  }
  for (const char* label : {"", "a:b", "__reserved", "9x", "a-b"}) {
    expect_invalid([&] { registry.gauge("g_bad_label", "bad", {label}); });
  }
  expect_invalid([&] { registry.counter("dup_labels", "bad", {"a", "a"}); });
  expect_invalid([&] { registry.histogram("h", "bad", {"le"}, {1}); });
  expect_invalid([&] { registry.histogram("h", "bad", {}, {}); });
  expect_invalid([&] { registry.histogram("h", "bad", {}, {2, 1}); });
  expect_invalid([&] { registry.histogram("h", "bad", {}, {1, 1}); });
  expect_invalid([&] { registry.histogram("h", "bad", {}, {1, std::numeric_limits<double>::infinity()}); });
  expect_invalid([&] { registry.histogram("h", "bad", {}, {std::nan("")}); });
  expect_invalid([&] { registry.callback_gauge("cb", "bad", nullptr); });

  // Valid names with the edge characters.
  registry.counter("a:b_c0", "ok", {"_x", "y9"});
  registry.counter("h_count", "ok");
  expect_invalid([&] { registry.counter("a:b_c0", "again"); }, Code::kAlreadyExists);
  expect_invalid([&] { registry.histogram("h", "clashes with h_count", {}, {1}); }, Code::kAlreadyExists);
  GaugeFamily& gauge = registry.gauge("g", "ok", {"k"});
  gauge.with({"v"});
  expect_invalid([&] { gauge.with_callback({"v"}, [] { return 1.0; }); }, Code::kAlreadyExists);
  expect_invalid([&] { gauge.with({"v", "extra"}); });
  expect_invalid([&] { gauge.with({}); });
  EXPECT_EQ(registry.render(),
            "# HELP a:b_c0 ok\n# TYPE a:b_c0 counter\n"
            "# HELP h_count ok\n# TYPE h_count counter\nh_count 0\n"
            "# HELP g ok\n# TYPE g gauge\ng{k=\"v\"} 0\n");
}

}  // namespace
}  // namespace lmaas::serve
