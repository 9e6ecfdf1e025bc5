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

// SHA-256: the FIPS 180-2 examples, and a message that crosses block boundaries in uneven pieces.
#include "base/sha256.h"

namespace lmaas {
namespace {

std::string sha_hex(std::string_view s) {
  Sha256 h;
  h.update(s);
  return h.hex_digest();
}

TEST(Sha256, PublishedVectors) {
  EXPECT_EQ(sha_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 pieces;
  const std::string million(1000000, 'a');
  for (size_t i = 0; i < million.size(); i += 777) pieces.update(std::string_view(million).substr(i, 777));
  EXPECT_EQ(pieces.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace lmaas
