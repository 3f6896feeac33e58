// The baggage scanner's 16-bytes-at-a-time path (SSSE3) against its
// one-byte-at-a-time path, each over the input as given and over a padded
// copy (as a context scans, with its shortcut for "key=value" members):
// the same members, the same slices, the same count of skipped ones, for
// many inputs made of the bytes that matter.
#include <random>

#include "test_util.h"
#include "tests/scan_agree.h"

namespace {

std::string Describe(const std::string &in) {
  std::string out;
  for (unsigned char c : in) {
    char buf[8];
    snprintf(buf, sizeof buf, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
    out += buf;
  }
  return out;
}

bool HaveBothPaths() {
  size_t n;
  return stp_test_scans_agree("a=1", 3, &n) != -1;
}

// Inputs shaped like baggage (members of keys, values and properties of
// 0 to 40 bytes, whitespace, separators), where any byte may be replaced
// by one of the bytes at the edges of the classes.
TEST(Scan, BothPathsAgreeOnRandomInputs) {
  if (!HaveBothPaths())
    GTEST_SKIP() << "this CPU or build has one scanner path only";
  const std::string edges =
      std::string(
          "=,; \t\"\\()/:<>?@[]{}%!#~|`^_-.09azAZ\x7f\x80\xff\x01\r\n") +
      std::string(1, '\0');
  std::mt19937 rng(20261129);
  auto run = [&](size_t max, const char *from) {
    std::string out;
    size_t n = rng() % (max + 1);
    for (size_t k = 0; k < n; k++)
      out += from[rng() % strlen(from)];
    return out;
  };
  auto ows = [&] { return rng() % 8 ? std::string() : run(2, " \t"); };
  size_t total = 0;
  for (int i = 0; i < 100000; i++) {
    std::string in;
    for (int m = 0, members = 1 + rng() % 5; m < members; m++) {
      in += ows() + run(20, "abcdefghijklmnopqrstuvwxyz-_0123456789") + ows();
      in += "=" + ows() + run(40, "abcdefghij0123456789%/:=+") + ows();
      if (rng() % 4 == 0)
        in += ";" + run(20, "abc=; \t");
      if (m + 1 < members)
        in += ",";
    }
    for (int k = 0, n = rng() % 3; k < n && !in.empty(); k++)
      in[rng() % in.size()] = edges[rng() % edges.size()];
    size_t members = 0;
    ASSERT_EQ(stp_test_scans_agree(in.data(), in.size(), &members), 1)
        << "\"" << Describe(in) << "\"";
    total += members;
  }
  EXPECT_GT(total, size_t{100000}); // the inputs did have members
}

TEST(Scan, BothPathsAgreeOnEveryByteAtEveryPosition) {
  if (!HaveBothPaths())
    GTEST_SKIP() << "this CPU or build has one scanner path only";
  const std::string base =
      "sentry-public_key=49d0f7386ad645858ae85020e393bef3;p=q r,k2=v";
  for (size_t pos = 0; pos < base.size(); pos++) {
    for (int b = 0; b < 256; b++) {
      std::string in = base;
      in[pos] = static_cast<char>(b);
      size_t members;
      ASSERT_EQ(stp_test_scans_agree(in.data(), in.size(), &members), 1)
          << "byte " << b << " at " << pos;
    }
  }
}

} // namespace
