// UTF-8 well-formedness: stp_utf8_char_len (Unicode's table 3-7 and its
// "maximal subpart" rule, which stp_baggage_decode also follows).
#include <algorithm>

#include "test_util.h"

using namespace stp_test;

namespace {

struct Utf8Case {
  const char *what;
  std::string input;
  size_t len; // what the call returns
  bool valid;
};

const Utf8Case kCases[] = {
    // Well-formed, one case per row of table 3-7 and its edges.
    {"ASCII letter", "a", 1, true},
    {"NUL is a character", std::string("\0x", 2), 1, true},
    {"DEL", "\x7f", 1, true},
    {"two bytes, lowest (U+0080)", "\xc2\x80", 2, true},
    {"two bytes, highest (U+07FF)", "\xdf\xbf", 2, true},
    {"E0 with A0 (U+0800)", "\xe0\xa0\x80", 3, true},
    {"E1..EC", "\xe2\x82\xac", 3, true},
    {"ED below the surrogates (U+D7FF)", "\xed\x9f\xbf", 3, true},
    {"EE..EF (U+FFFD)", "\xef\xbf\xbd", 3, true},
    {"F0 with 90 (U+10000)", "\xf0\x90\x80\x80", 4, true},
    {"F1..F3", "\xf3\xbf\xbf\xbf", 4, true},
    {"F4 up to U+10FFFF", "\xf4\x8f\xbf\xbf", 4, true},
    {"only the first character counts", "\xc3\xa9\xc3\xa9", 2, true},
    // Ill-formed: the length is that of the maximal invalid prefix.
    {"lone continuation byte", "\x80", 1, false},
    {"C0 is overlong", "\xc0\xaf", 1, false},
    {"C1 is overlong", "\xc1\xbf", 1, false},
    {"F5 is past U+10FFFF", "\xf5\x80\x80\x80", 1, false},
    {"FF", "\xff", 1, false},
    {"E0 with 80 is overlong", "\xe0\x80\x80", 1, false},
    {"F0 with 8F is overlong", "\xf0\x8f\xbf\xbf", 1, false},
    {"ED with A0 is a surrogate", "\xed\xa0\x80", 1, false},
    {"F4 with 90 is past U+10FFFF", "\xf4\x90\x80\x80", 1, false},
    {"two-byte lead then ASCII", "\xc3(", 1, false},
    {"three-byte cut after two", "\xe2\x82x", 2, false},
    {"four-byte cut after three", "\xf0\x9f\x98x", 3, false},
    {"three-byte at the end of the input", "\xe2\x82", 2, false},
    {"four-byte at the end of the input", "\xf0\x9f\x98", 3, false},
    {"lead at the end of the input", "\xc3", 1, false},
};

TEST(Utf8, CharLenFollowsTable3_7) {
  for (const Utf8Case &c : kCases) {
    bool valid = !c.valid;
    EXPECT_EQ(stp_utf8_char_len(&valid, c.input.data(), c.input.size()), c.len)
        << c.what;
    EXPECT_EQ(valid, c.valid) << c.what;
  }
}

TEST(Utf8, ReadsNothingPastLen) {
  // The length given cuts a well-formed sequence: what is past it is not
  // looked at.
  const char euro[] = "\xe2\x82\xac";
  bool valid = true;
  EXPECT_EQ(stp_utf8_char_len(&valid, euro, 2), 2u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(stp_utf8_char_len(&valid, euro, 3), 3u);
  EXPECT_TRUE(valid);
}

TEST(Utf8, EmptyAndNull) {
  bool valid = true;
  EXPECT_EQ(stp_utf8_char_len(&valid, "", 0), 0u);
  EXPECT_FALSE(valid);
  valid = true;
  EXPECT_EQ(stp_utf8_char_len(&valid, nullptr, 3), 0u);
  EXPECT_FALSE(valid);
  EXPECT_EQ(stp_utf8_char_len(nullptr, "a", 1), 1u);
}

// An independent definition, from code point arithmetic rather than from
// table 3-7: a prefix of a sequence of `need` bytes can still become a
// character when the code points its completions reach include one that
// needs exactly that many bytes, is no surrogate and is at most U+10FFFF.
bool Completable(const std::string &s, size_t k, size_t need) {
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  uint32_t lo = (unsigned char)s[0] & (0x7f >> need), hi = lo;
  for (size_t i = 1; i < need; i++) {
    uint32_t bits = i < k ? ((unsigned char)s[i] & 0x3f) : 0;
    lo = lo << 6 | bits;
    hi = hi << 6 | (i < k ? bits : 0x3f);
  }
  uint32_t a = std::max(lo, kMin[need]), b = std::min(hi, 0x10ffffu);
  return a <= b && !(a >= 0xd800 && b <= 0xdfff);
}

std::pair<size_t, bool> Reference(const std::string &s) {
  unsigned char c = (unsigned char)s[0];
  if (c < 0x80)
    return {1, true};
  size_t need = c >= 0xf0 && c <= 0xf7 ? 4 : c >= 0xe0 && c < 0xf0 ? 3
                : c >= 0xc0 && c < 0xe0                         ? 2
                                                                : 0;
  if (need == 0 || !Completable(s, 1, need))
    return {1, false};
  size_t k = 1;
  while (k < need && k < s.size() && ((unsigned char)s[k] & 0xc0) == 0x80 &&
         Completable(s, k + 1, need))
    k++;
  return {k, k == need};
}

TEST(Utf8, AgreesWithCodePointArithmetic) {
  // Every byte pair, and longer strings over the bytes where the rules
  // change.
  const unsigned char kEdges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                  0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
                                  0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
                                  0xf5, 0xff};
  std::vector<std::string> inputs;
  for (unsigned a = 0; a < 256; a++)
    for (unsigned b = 0; b < 256; b++)
      inputs.push_back({(char)a, (char)b});
  for (unsigned char a : kEdges)
    for (unsigned char b : kEdges)
      for (unsigned char c : kEdges) {
        inputs.push_back({(char)a, (char)b, (char)c});
        for (unsigned char d : kEdges)
          inputs.push_back({(char)a, (char)b, (char)c, (char)d});
      }
  size_t checked = 0;
  for (const std::string &in : inputs) {
    for (size_t n = 1; n <= in.size(); n++) {
      std::string s = in.substr(0, n);
      std::pair<size_t, bool> want = Reference(s);
      bool valid = !want.second;
      size_t got = stp_utf8_char_len(&valid, s.data(), s.size());
      if (got != want.first || valid != want.second) {
        ADD_FAILURE() << "bytes " << testing::PrintToString(s) << ": got "
                      << got << (valid ? " valid" : " invalid") << ", want "
                      << want.first << (want.second ? " valid" : " invalid");
        return;
      }
      checked++;
    }
  }
  EXPECT_GT(checked, 200000u);
}

} // namespace
