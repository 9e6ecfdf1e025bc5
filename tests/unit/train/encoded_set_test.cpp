// EncodedSet: the spilled form (ids in an unlinked, memory-mapped temporary file) reads back exactly
// what the in-memory form holds, including empty texts, and leaves no file behind; batching sees the
// same lengths either way.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/rng.h"
#include "train/batching.h"
#include "train/encoded_set.h"

namespace lmaas::train {
namespace {

struct Texts {
  std::vector<std::vector<int32_t>> ids;
  std::vector<int32_t> labels;
};

Texts random_texts(size_t n) {
  Rng rng(11);
  Texts t;
  for (size_t i = 0; i < n; ++i) {
    std::vector<int32_t> ids(rng.below(40));  // some empty
    for (auto& id : ids) id = static_cast<int32_t>(rng.below(1000));
    t.ids.push_back(std::move(ids));
    t.labels.push_back(static_cast<int32_t>(rng.below(3)));
  }
  return t;
}

EncodedSet filled(const Texts& t, int64_t budget, const std::string& dir) {
  EncodedSet set(budget, dir);
  for (size_t i = 0; i < t.ids.size(); ++i) EXPECT_TRUE(set.append(t.ids[i], t.labels[i]).is_ok());
  EXPECT_TRUE(set.finish().is_ok());
  return set;
}

TEST(EncodedSet, SpilledIdsReadBackLikeInMemoryOnesAndLeaveNoFile) {
  const std::string dir = (std::filesystem::temp_directory_path() / "lmaas_encoded_set_test").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const Texts texts = random_texts(3000);  // about 230 KB of ids
  const EncodedSet memory = filled(texts, int64_t{1} << 30, dir);
  EncodedSet spilled = filled(texts, 1024, dir);  // spills after a kilobyte
  EXPECT_FALSE(memory.spilled());
  EXPECT_TRUE(spilled.spilled());
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the spill file is unlinked once open";
  ASSERT_EQ(spilled.size(), texts.ids.size());
  for (size_t i = 0; i < texts.ids.size(); ++i) {
    const auto a = spilled.ids(i), b = memory.ids(i);
    ASSERT_EQ(std::vector<int32_t>(a.begin(), a.end()), texts.ids[i]) << i;
    ASSERT_EQ(std::vector<int32_t>(b.begin(), b.end()), texts.ids[i]) << i;
    ASSERT_EQ(spilled.label(i), texts.labels[i]);
  }
  EXPECT_EQ(make_batches(spilled, 32, 5, 2, true), make_batches(memory, 32, 5, 2, true));
  const EncodedSet moved = std::move(spilled);  // the mapping moves with the set
  EXPECT_EQ(moved.ids(7).size(), texts.ids[7].size());
  std::filesystem::remove_all(dir);
}

TEST(EncodedSet, AnUnwritableSpillDirectoryIsAClearError) {
  EncodedSet set(4, "/nonexistent/lmaas-spill");
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  const Status s = set.append(ids, 0);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("/nonexistent/lmaas-spill"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("budget"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lmaas::train
