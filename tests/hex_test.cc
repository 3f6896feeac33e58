// The core's hex decoder: 16 digits at a time (SSE2) and one pair at a
// time (the rest, and builds without SIMD), by the lengths chosen here:
// fewer than 8 bytes go one pair at a time, 8 and more mostly 16 digits
// at a time.
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

namespace {

const char kLower[] = "0123456789abcdef";

// 2 * n digits from a fixed sequence, and the bytes they stand for.
std::string Digits(size_t n, std::vector<uint8_t> *bytes) {
  std::string s;
  bytes->clear();
  for (size_t i = 0; i < n; i++) {
    uint8_t b = static_cast<uint8_t>(i * 37 + 11);
    bytes->push_back(b);
    s += kLower[b >> 4];
    s += kLower[b & 15];
  }
  return s;
}

TEST(Hex, DecodesEitherCaseAndReportsUpperOnlyWhenAsked) {
  for (size_t n : {1, 3, 7, 8, 9, 12, 16, 20}) {
    std::vector<uint8_t> want;
    std::string s = Digits(n, &want);
    std::vector<uint8_t> got(n);
    for (bool upper : {false, true}) {
      EXPECT_EQ(stp__hex_decode(got.data(), s.data(), n, upper),
                STP__HEX_DIGIT)
          << n;
      EXPECT_EQ(got, want) << n;
    }
    EXPECT_TRUE(stp__hex_digits(got.data(), s.data(), n));
    // An upper-case letter at each place: the same bytes; the upper-case
    // bit only when asked for.
    for (size_t i = 0; i < s.size(); i++) {
      std::string t = s;
      if (t[i] < 'a')
        continue;
      t[i] = static_cast<char>(t[i] - 'a' + 'A');
      SCOPED_TRACE(t);
      EXPECT_EQ(stp__hex_decode(got.data(), t.data(), n, true),
                STP__HEX_DIGIT | STP__HEX_UPPER);
      EXPECT_EQ(got, want);
      EXPECT_EQ(stp__hex_decode(got.data(), t.data(), n, false),
                STP__HEX_DIGIT);
      EXPECT_EQ(got, want);
      EXPECT_TRUE(stp__hex_digits(got.data(), t.data(), n));
    }
    // A byte that is no hex digit at each place, in either mode.
    for (size_t i = 0; i < s.size(); i++)
      for (char bad : {'g', 'G', '-', ' ', '\0', '\x80', '\xff', '/', ':'}) {
        std::string t = s;
        t[i] = bad;
        SCOPED_TRACE(n);
        EXPECT_FALSE(stp__hex_decode(got.data(), t.data(), n, true) &
                     STP__HEX_DIGIT)
            << i << " " << static_cast<int>(bad);
        EXPECT_FALSE(stp__hex_digits(got.data(), t.data(), n))
            << i << " " << static_cast<int>(bad);
      }
  }
}

}  // namespace
