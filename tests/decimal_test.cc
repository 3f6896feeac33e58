// The core's decimal reader (sample_rand, sample_rate): the eight-byte
// form "0.dddddd" read as one word, against strtod and against the reader
// of every other form.
#include <cstdlib>
#include <string>

#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

namespace {

// The grammar stp__parse_decimal takes: digits [. digits] or . digits,
// then an optional e [+-] digits; nothing else.
bool IsDecimal(const std::string &s) {
  size_t i = 0, n = s.size(), digits = 0;
  while (i < n && isdigit((unsigned char)s[i]))
    i++, digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && isdigit((unsigned char)s[i]); i++)
      digits++;
  if (digits == 0)
    return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    size_t e = i;
    while (i < n && isdigit((unsigned char)s[i]))
      i++;
    if (i == e)
      return false;
  }
  return i == n;
}

// Every six-decimal value, as stp and the Python SDK write sample_rand.
TEST(Decimal, EverySixDecimalValueIsTheNearestDouble) {
  for (int k = 0; k < 1000000; k++) {
    char text[16];
    snprintf(text, sizeof text, "0.%06d", k);
    double v = -1;
    ASSERT_EQ(stp__parse_decimal(&v, text, 8), STP_OK) << text;
    ASSERT_EQ(v, strtod(text, nullptr)) << text;
  }
}

// Every byte at every place of an eight-byte decimal: the answer is that
// of the grammar and strtod, whichever way the reader took.
TEST(Decimal, EveryByteAtEveryPlaceOfEightBytes) {
  const std::string forms[] = {"0.123456", "0.999999", "0.000000", "1.250000",
                               "12345678", "0.5e-001", ".1234567"};
  for (const std::string &form : forms)
    for (size_t at = 0; at < form.size(); at++)
      for (int c = 0; c < 256; c++) {
        std::string text = form;
        text[at] = static_cast<char>(c);
        double v = -1;
        int rc = stp__parse_decimal(&v, text.data(), text.size());
        std::string shown = text;
        shown[at] = '?';
        SCOPED_TRACE(shown + " with byte " + std::to_string(c));
        if (!IsDecimal(text)) {
          EXPECT_EQ(rc, STP_ERR_MALFORMED);
          continue;
        }
        ASSERT_EQ(rc, STP_OK);
        // With an exponent, a power of ten past 1e22 is a product, and the
        // last bit may differ (a known limit); without one, exact.
        if (text.find_first_of("eE") == std::string::npos)
          EXPECT_EQ(v, strtod(text.c_str(), nullptr));
        else
          EXPECT_DOUBLE_EQ(v, strtod(text.c_str(), nullptr));
      }
}

// The word is read only for exactly eight bytes: a shorter or longer
// value that starts the same way is read as what it is.
TEST(Decimal, OtherLengthsAreNotReadAsSixDecimals) {
  const char text[] = "0.1234567";
  double v = -1;
  ASSERT_EQ(stp__parse_decimal(&v, text, 9), STP_OK);
  EXPECT_EQ(v, 0.1234567);
  ASSERT_EQ(stp__parse_decimal(&v, text, 7), STP_OK);
  EXPECT_EQ(v, 0.12345);
  ASSERT_EQ(stp__parse_decimal(&v, text, 2), STP_OK);
  EXPECT_EQ(v, 0.0);
}

} // namespace
