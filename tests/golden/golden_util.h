// Helpers for the PyTorch golden tests: load a fixture (tests/golden/fixtures/*.safetensors, written by
// tests/tools/gen_golden.py) and compare tensors at the fixtures' tolerance (1e-5 relative).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "formats/safetensors.h"
#include "nn/module.h"

namespace lmaas::golden {

class Fixture {
 public:
  explicit Fixture(const std::string& name);
  const Tensor& get(const std::string& name) const;
  bool has(const std::string& name) const { return map_.find(name) != nullptr; }
  // Tensors whose names start with `prefix`, with the prefix removed (e.g. "param." → parameter state).
  nn::NamedTensors with_prefix(const std::string& prefix) const;
  const nlohmann::json& config() const { return config_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  TensorMap map_;
  nlohmann::json config_;
};

// |actual - expected| <= atol + rtol·|expected| elementwise.
void expect_close(const Tensor& actual, const Tensor& expected, const std::string& what, double rtol = 1e-5,
                  double atol = 1e-6);

// Gives a test access to Module's registration (tests build small containers of layers).
class Container : public nn::Module {
 public:
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> child) {
    return register_module(name, std::move(child));
  }
};

}  // namespace lmaas::golden
