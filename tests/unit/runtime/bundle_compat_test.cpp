// Model bundle format version 1: a bundle written by lmaas 0.1.0 (tests/golden/fixtures/bundle_v1) must
// keep loading and predicting the probabilities recorded when it was written; damaged copies of it must
// fail to load with a message that names what is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/classifier_session.h"

namespace lmaas::runtime {
namespace {

namespace fs = std::filesystem;
const std::string kFixtures = std::string(LMAAS_SOURCE_DIR) + "/tests/golden/fixtures/";

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A writable copy of the fixture, changed by `damage`.
std::string damaged_copy(const std::string& name, const std::function<void(const fs::path&)>& damage) {
  const fs::path dir = fs::temp_directory_path() / ("lmaas_bundle_" + name);
  fs::remove_all(dir);
  fs::copy(kFixtures + "bundle_v1", dir);
  for (const auto& e : fs::directory_iterator(dir)) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
  damage(dir);
  return dir.string();
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(dir / "config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  edit(j);
  std::ofstream(dir / "config.json") << j.dump();
}

TEST(BundleV1, LoadsAndPredictsWhatItPredictedWhenWritten) {
  auto session = ClassifierSession::load(kFixtures + "bundle_v1");
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  const auto texts = lines_of(kFixtures + "bundle_v1_texts.txt");
  const auto expected = lines_of(kFixtures + "bundle_v1_expected.jsonl");
  ASSERT_EQ(texts.size(), expected.size());
  const auto probs = session.value()->predict(texts);
  EXPECT_EQ(session.value()->labels(), (std::vector<std::string>{"neg", "pos"}));
  for (size_t i = 0; i < texts.size(); ++i) {
    const nlohmann::json want = nlohmann::json::parse(expected[i]);
    EXPECT_NEAR(probs[i][0], want["probabilities"]["neg"].get<double>(), 1e-6) << texts[i];
    EXPECT_NEAR(probs[i][1], want["probabilities"]["pos"].get<double>(), 1e-6) << texts[i];
  }
}

TEST(BundleV1, DamageIsNamed) {
  struct Case {
    std::string name;
    std::function<void(const fs::path&)> damage;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no_weights", [](const fs::path& d) { fs::remove(d / "model.safetensors"); }, "model.safetensors"},
      {"truncated_weights", [](const fs::path& d) { fs::resize_file(d / "model.safetensors", 100); }, "model.safetensors"},
      {"no_tokenizer", [](const fs::path& d) { fs::remove(d / "tokenizer.json"); }, "tokenizer.json"},
      {"newer_format", [](const fs::path& d) { edit_config(d, [](nlohmann::json& j) { j["format_version"] = 2; }); },
       "format_version 2 is newer"},
      {"wrong_vocab", [](const fs::path& d) { edit_config(d, [](nlohmann::json& j) { j["architecture"]["vocab_size"] = 29; }); },
       "vocab_size"},
      {"three_labels", [](const fs::path& d) { edit_config(d, [](nlohmann::json& j) { j["labels"].push_back("meh"); }); },
       "labels list 3"},
      {"no_arch", [](const fs::path& d) { edit_config(d, [](nlohmann::json& j) { j.erase("architecture"); }); },
       "\"architecture\""},
      {"bad_json", [](const fs::path& d) { std::ofstream(d / "config.json") << "{not json"; }, "not valid JSON"},
  };
  for (const Case& c : cases) {
    auto session = ClassifierSession::load(damaged_copy(c.name, c.damage));
    ASSERT_FALSE(session.is_ok()) << c.name;
    EXPECT_NE(session.status().message().find(c.message), std::string::npos)
        << c.name << ": " << session.status().message();
  }
}

}  // namespace
}  // namespace lmaas::runtime
