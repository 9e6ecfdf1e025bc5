#include "golden/golden_util.h"

#include <cmath>

namespace lmaas::golden {

Fixture::Fixture(const std::string& name) : name_(name) {
  std::string path = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/" + name + ".safetensors";
  auto loaded = read_safetensors(path);
  if (!loaded.is_ok()) throw Error(loaded.status());
  map_ = std::move(loaded).value();
  auto it = map_.metadata.find("config");
  config_ = it == map_.metadata.end() ? nlohmann::json::object() : nlohmann::json::parse(it->second);
}

const Tensor& Fixture::get(const std::string& name) const {
  const Tensor* t = map_.find(name);
  if (!t) throw Error(Code::kNotFound, "fixture " + name_ + " has no tensor '" + name + "'");
  return *t;
}

nn::NamedTensors Fixture::with_prefix(const std::string& prefix) const {
  nn::NamedTensors out;
  for (const auto& [name, t] : map_.tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

void expect_close(const Tensor& actual, const Tensor& expected, const std::string& what, double rtol, double atol) {
  ASSERT_TRUE(actual.defined()) << what << " is undefined";
  ASSERT_EQ(actual.numel(), expected.numel()) << what << ": shape " << shape_str(actual.shape()) << " vs expected "
                                              << shape_str(expected.shape());
  auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double tol = atol + rtol * std::fabs(e[i]);
    if (!(std::fabs(a[i] - e[i]) <= tol) && reported++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << a[i] << " vs PyTorch " << e[i] << " (|diff| " << std::fabs(a[i] - e[i])
                    << " > " << tol << ")";
  }
}

}  // namespace lmaas::golden
