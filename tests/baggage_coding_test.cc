// W3C baggage values, percent-decoding and -encoding (SPEC section 4):
// tables of both, every byte value, and round trips.
#include <random>

#include "test_util.h"

using namespace stp_test;

namespace {

const std::string kFFFD = "\xef\xbf\xbd";

// ---- decoding ---------------------------------------------------------------

struct CodingCase {
  const char *what;
  std::string input;
  std::string output;
};

const CodingCase kDecode[] = {
    {"plain", "abc", "abc"},
    {"empty", "", ""},
    {"at sign", "backend%401.2.3", "backend@1.2.3"},
    {"space and slash", "GET%20%2Fapi%2Fusers", "GET /api/users"},
    {"lowercase hex", "%2f%2F", "//"},
    {"plus is a literal plus", "a+b", "a+b"},
    {"encoded plus", "a%2Bb", "a+b"},
    {"equals and semicolon", "%3D%3B%2C", "=;,"},
    {"invalid escape %G1 kept", "%G1", "%G1"},
    {"invalid escape %1G kept", "x%1Gy", "x%1Gy"},
    {"trailing % kept", "100%", "100%"},
    {"trailing %4 kept", "a%4", "a%4"},
    {"double percent", "%%41", "%A"},
    {"encoded percent not decoded twice", "%2541", "%41"},
    {"decodes to NUL", "a%00b", std::string("a\0b", 3)},
    {"decodes to CR LF", "%0D%0A", "\r\n"},
    {"UTF-8 two bytes", "caf%C3%A9", "caf\xc3\xa9"},
    {"UTF-8 three bytes", "%E2%82%AC", "\xe2\x82\xac"},
    {"UTF-8 four bytes", "%F0%9F%98%80", "\xf0\x9f\x98\x80"},
    {"UTF-8 mixed escaped and raw", "%C3\xa9", "\xc3\xa9"},
    {"raw valid UTF-8 passes", "\xc3\xa9", "\xc3\xa9"},
    {"lone continuation byte", "a%80b", "a" + kFFFD + "b"},
    {"byte ff", "%FF", kFFFD},
    {"truncated two-byte sequence at end", "%C3", kFFFD},
    {"truncated two-byte sequence", "%C3%28", kFFFD + "("},
    {"truncated three-byte sequence", "%E2%82", kFFFD},
    {"truncated three-byte then ASCII", "%E2%82x", kFFFD + "x"},
    {"truncated four-byte sequence", "%F0%9F%98", kFFFD},
    {"raw invalid byte", "x\xffy", "x" + kFFFD + "y"},
};

std::string Decode(const std::string &in) {
  std::vector<char> buf(3 * in.size() + 1);
  size_t n = 0;
  int err = stp_baggage_decode(buf.data(), buf.size(), &n, in.data(),
                               in.size());
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  return std::string(buf.data(), n);
}

std::string Encode(const std::string &in) {
  std::vector<char> buf(3 * in.size() + 1);
  size_t n = 0;
  int err = stp_baggage_encode(buf.data(), buf.size(), &n, in.data(),
                               in.size());
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  EXPECT_EQ(buf[n], '\0');
  return std::string(buf.data(), n);
}

bool ValidUtf8(const std::string &s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t need;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + need >= s.size())
      return false;
    for (size_t k = 1; k <= need; k++) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += need + 1;
  }
  return true;
}

TEST(BaggageDecode, DecodesEachTableCase) {
  for (const auto &c : kDecode) {
    SCOPED_TRACE(std::string(c.what) + ": \"" + c.input + "\"");
    EXPECT_EQ(Decode(c.input), c.output);
  }
}

TEST(BaggageDecode, InvalidSequencesBecomeReplacementCharacters) {
  // How many U+FFFD an ill-formed sequence gives is not pinned down; the
  // output must be valid UTF-8 with at least one U+FFFD and keep the ASCII.
  const char *inputs[] = {"%ED%A0%80",     // surrogate
                          "%C0%AF",        // overlong '/'
                          "%E0%80%AF",     // overlong three bytes
                          "%F4%90%80%80",  // above U+10FFFF
                          "%F5%80%80%80",  // invalid lead
                          "a%C3%C3b",      // lead followed by lead
                          "%80%80%80"};
  for (const char *in : inputs) {
    SCOPED_TRACE(in);
    std::string out = Decode(in);
    EXPECT_TRUE(ValidUtf8(out));
    EXPECT_TRUE(Contains(out, kFFFD));
    for (char c : std::string(in))
      if (c != '%' && !isxdigit(static_cast<unsigned char>(c))) {
        EXPECT_TRUE(Contains(out, std::string(1, c)));
      }
  }
}

TEST(BaggageDecode, PrintableAsciiNeedsAtMostLenPlusOne) {
  std::string in = "abc%2F%G1%4";
  std::vector<char> buf(in.size() + 1);
  size_t n;
  ASSERT_EQ(stp_baggage_decode(buf.data(), buf.size(), &n, in.data(),
                               in.size()),
            STP_OK);
  EXPECT_EQ(std::string(buf.data(), n), "abc/%G1%4");
}

TEST(BaggageDecode, BufferTooSmallReportsSize) {
  std::string in = "GET%20%2Fapi";  // "GET /api": 8 bytes, needs 9
  char buf[16];
  size_t n = 0;
  EXPECT_EQ(stp_baggage_decode(buf, 8, &n, in.data(), in.size()),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 9u);
  n = 0;
  EXPECT_EQ(stp_baggage_decode(nullptr, 0, &n, in.data(), in.size()),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 9u);
  ASSERT_EQ(stp_baggage_decode(buf, 9, &n, in.data(), in.size()), STP_OK);
  EXPECT_STREQ(buf, "GET /api");
  EXPECT_EQ(n, 8u);
}

// ---- encoding ---------------------------------------------------------------

const CodingCase kEncode[] = {
    {"plain", "abc", "abc"},
    {"empty", "", ""},
    {"at sign stays (baggage-octet)", "backend@1.2.3", "backend@1.2.3"},
    {"space", "GET /api/users", "GET%20/api/users"},
    {"comma and semicolon", "a,b;c", "a%2Cb%3Bc"},
    {"percent itself", "100%", "100%25"},
    {"percent before hex", "%41", "%2541"},
    {"double quote and backslash", "\"\\", "%22%5C"},
    {"plus and equals stay", "a+b=c", "a+b=c"},
    {"CR LF NUL", std::string("\r\n\0", 3), "%0D%0A%00"},
    {"tab", "\t", "%09"},
    {"DEL", "\x7f", "%7F"},
    {"UTF-8 uppercase hex", "caf\xc3\xa9", "caf%C3%A9"},
    {"HTML: < and > are baggage-octets", "\"><script>", "%22><script>"},
};

TEST(BaggageEncode, EncodesEachTableCase) {
  for (const auto &c : kEncode) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(Encode(c.input), c.output);
  }
}

// W3C: baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool IsBaggageOctet(int c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
         (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

TEST(BaggageEncode, EveryByteValue) {
  static const char hex[] = "0123456789ABCDEF";
  for (int c = 0; c < 256; c++) {
    SCOPED_TRACE(c);
    std::string in(1, static_cast<char>(c));
    std::string want = IsBaggageOctet(c) && c != '%'
                           ? in
                           : std::string{'%', hex[c >> 4], hex[c & 15]};
    EXPECT_EQ(Encode(in), want);
  }
}

TEST(BaggageEncode, BufferTooSmallReportsSize) {
  std::string in = "a b";  // "a%20b": 5 bytes, needs 6
  char buf[8];
  size_t n = 0;
  EXPECT_EQ(stp_baggage_encode(buf, 5, &n, in.data(), in.size()),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 6u);
  n = 0;
  EXPECT_EQ(stp_baggage_encode(nullptr, 0, &n, in.data(), in.size()),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 6u);
}

// ---- round trips ------------------------------------------------------------

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

void ExpectRoundTrip(const std::string &in) {
  std::string enc = Encode(in);
  for (unsigned char c : enc)
    ASSERT_TRUE(IsBaggageOctet(c)) << "raw byte " << int(c) << " in " << enc;
  EXPECT_EQ(Decode(enc), in);
}

TEST(PercentCoding, RoundTripAllAsciiBytes) {
  std::string all;
  for (int c = 0; c < 128; c++)
    all += static_cast<char>(c);
  ExpectRoundTrip(all);
  for (int c = 0; c < 128; c++) {
    SCOPED_TRACE(c);
    ExpectRoundTrip(std::string(1, static_cast<char>(c)));
    ExpectRoundTrip("x" + std::string(1, static_cast<char>(c)) + "%");
  }
}

TEST(PercentCoding, RoundTripValidUtf8) {
  // Every byte value 0x80-0xbf as a continuation byte and every lead byte
  // that valid UTF-8 can hold.
  std::string s;
  for (uint32_t cp = 0x80; cp < 0x800; cp++)
    s += Utf8(cp);
  for (uint32_t cp : {0x800u, 0xfffdu, 0xd7ffu, 0xe000u, 0xffffu, 0x10000u,
                      0x1f600u, 0x10ffffu})
    s += Utf8(cp);
  for (uint32_t lead = 0xe1; lead <= 0xef; lead++)
    s += Utf8(((lead & 0x0f) << 12) | 0x123);
  for (uint32_t cp : {0x40000u, 0x80000u, 0xc0000u, 0x100000u})
    s += Utf8(cp);
  ExpectRoundTrip(s);
  ExpectRoundTrip("sentry-transaction: GET /api/users?q=caf\xc3\xa9&x=1,2;3");
}

TEST(PercentCoding, RoundTripRandomValidUtf8) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; i++) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; k++) {
      uint32_t cp;
      switch (rng() % 4) {
      case 0:
        cp = rng() % 0x80;
        break;
      case 1:
        cp = 0x80 + rng() % (0x800 - 0x80);
        break;
      case 2:
        do
          cp = 0x800 + rng() % (0x10000 - 0x800);
        while (cp >= 0xd800 && cp <= 0xdfff);
        break;
      default:
        cp = 0x10000 + rng() % (0x110000 - 0x10000);
      }
      s += Utf8(cp);
    }
    SCOPED_TRACE(i);
    ExpectRoundTrip(s);
  }
}

TEST(PercentCoding, EverySingleByteValue) {
  // ASCII bytes come back as they were; a lone byte >= 0x80 is not valid
  // UTF-8, so after decoding it is U+FFFD (SPEC section 4).
  for (int c = 0; c < 256; c++) {
    SCOPED_TRACE(c);
    std::string in(1, static_cast<char>(c));
    EXPECT_EQ(Decode(Encode(in)), c < 0x80 ? in : kFFFD);
  }
}

TEST(PercentCoding, ArbitraryBytesStabiliseAfterOneDecode) {
  // For arbitrary bytes, decode(encode(x)) is valid UTF-8 and a fixed point
  // of encode-then-decode.
  std::mt19937 rng(777);
  for (int i = 0; i < 2000; i++) {
    std::string s;
    int n = static_cast<int>(rng() % 64);
    for (int k = 0; k < n; k++)
      s += static_cast<char>(rng() & 0xff);
    SCOPED_TRACE(i);
    std::string once = Decode(Encode(s));
    EXPECT_TRUE(ValidUtf8(once));
    EXPECT_EQ(Decode(Encode(once)), once);
    // Decoding raw arbitrary bytes stays within 3 * len.
    EXPECT_TRUE(ValidUtf8(Decode(s)));
  }
}

// ---- no input ---------------------------------------------------------------

// NULL with a zero length is an empty input, not an error.
TEST(BaggageNullInput, WithZeroLengthIsAnEmptyValue) {
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, nullptr, 0);
  EXPECT_EQ(stp_baggage_iter_next(&it, &m), 0);
  EXPECT_EQ(it.skipped, 0u);
  char buf[4];
  size_t n = 99;
  EXPECT_EQ(stp_baggage_decode(buf, sizeof buf, &n, nullptr, 0), STP_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(buf[0], '\0');
  n = 99;
  EXPECT_EQ(stp_baggage_encode(buf, sizeof buf, &n, nullptr, 0), STP_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(stp_baggage_decode(buf, sizeof buf, &n, nullptr, 3),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_baggage_encode(buf, sizeof buf, &n, nullptr, 3),
            STP_ERR_INVALID_ARGUMENT);
}

}  // namespace
