#include <gtest/gtest.h>

#include "base/check.h"
#include "base/status.h"

namespace lmaas {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status(Code::kInvalidArgument, "value " + std::to_string(v) + " is not positive");
  return v;
}

Status twice(int v, int* out) {
  LMAAS_ASSIGN_OR_RETURN(int x, parse_positive(v));
  *out = 2 * x;
  return Status::ok();
}

TEST(Status, ResultCarriesValueOrStatus) {
  EXPECT_EQ(parse_positive(3).value(), 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().to_string(), "InvalidArgument: value -1 is not positive");
  EXPECT_THROW(bad.value(), Error);
}

TEST(Status, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(twice(4, &out).is_ok());
  EXPECT_EQ(out, 8);
  EXPECT_EQ(twice(0, &out).code(), Code::kInvalidArgument);
}

TEST(Status, CheckThrowsFormattedError) {
  try {
    LMAAS_CHECK(1 == 2, "shape {} is wrong", 7);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_STREQ(e.what(), "shape 7 is wrong");
  }
}

}  // namespace
}  // namespace lmaas
