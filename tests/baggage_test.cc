// W3C baggage: member iterator, percent-decoding and -encoding (SPEC 4).
#include <random>

#include "test_util.h"

using namespace stp_test;

namespace {

const std::string kFFFD = "\xef\xbf\xbd";

// ---- the iterator -----------------------------------------------------------

struct IterCase {
  const char *what;
  std::string input;
  std::string members;  // "key=value;props" joined with " | "
  int skipped;          // -1: not checked
};

const IterCase kIter[] = {
    {"one member", "a=1", "a=1", 0},
    {"two members", "a=1,b=2", "a=1 | b=2", 0},
    {"OWS everywhere is not part of key or value", " a = 1 ,\tb\t=\t2\t",
     "a=1 | b=2", 0},
    {"split at the first '='", "a=b=c", "a=b=c", 0},
    {"value of only '='", "k===", "k===", 0},
    {"value with base64 padding", "tok=YWJj==", "tok=YWJj==", 0},
    {"empty value", "a=", "a=", 0},
    {"empty value then member", "a= ,b=2", "a= | b=2", 0},
    {"property", "vendor=abc;prop=1", "vendor=abc;prop=1", 0},
    {"properties byte for byte", "a=1;p=1;q", "a=1;p=1;q", 0},
    {"OWS inside properties kept", "a=1;p = 1 ; q", "a=1;p = 1 ; q", 0},
    {"OWS before ';' is not in the value", "a=1 ;p", "a=1;p", 0},
    {"trailing OWS of properties dropped", "a=1;p \t,b=2", "a=1;p | b=2", 0},
    {"property with quotes", "a=1;p=\"x y\"", "a=1;p=\"x y\"", 0},
    {"keys are not decoded", "k%41=1", "k%41=1", 0},
    {"values are not decoded by the iterator", "r=backend%401.2.3",
     "r=backend%401.2.3", 0},
    {"plus kept", "a=1+2", "a=1+2", 0},
    {"invalid escape kept raw", "a=%G1", "a=%G1", 0},
    {"token characters in key", "!#$%&'*+-.^_`|~09azAZ=v",
     "!#$%&'*+-.^_`|~09azAZ=v", 0},
    {"reference baggage", kRefBaggage,
     "sentry-trace_id=771a43a4192642f0b136d5159a501700 | "
     "sentry-public_key=49d0f7386ad645858ae85020e393bef3 | "
     "sentry-sample_rate=0.25 | sentry-sampled=true | "
     "sentry-release=backend%401.2.3 | sentry-environment=prod | "
     "sentry-transaction=GET%20%2Fapi%2Fusers | sentry-sample_rand=0.123456 | "
     "vendor=abc;prop=1 | other=x",
     0},
    {"empty list elements are not members", "a=1,,b=2", "a=1 | b=2", -1},
    {"empty input", "", "", 0},
    {"only commas and OWS", " , ,\t,", "", -1},
    // Malformed members are skipped on their own.
    {"no '='", "a", "", 1},
    {"no '=', others kept", "x=1,novalue,y=2", "x=1 | y=2", 1},
    {"empty key", "=1,b=2", "b=2", 1},
    {"space inside key", "a b=1,c=3", "c=3", 1},
    {"space inside value", "a=1 2,c=3", "c=3", 1},
    {"quote in value", "a=\"x\",c=3", "c=3", 1},
    {"backslash in value", "a=x\\y,c=3", "c=3", 1},
    {"non-token key", "k(=1,c=3", "c=3", 1},
    {"key with '/'", "a/b=1,c=3", "c=3", 1},
    {"CR LF in value", "a=1\r\n,b=2", "b=2", 1},
    {"CR LF header injection", "a=1\r\nX-Evil: 1,b=2", "b=2", 1},
    {"NUL in value", std::string("a=1\0x,b=2", 9), "b=2", 1},
    {"control byte in property", "a=1;p\x01,b=2", "b=2", 1},
    {"DEL in property", "a=1;p\x7f,b=2", "b=2", 1},
    {"non-ASCII value", "a=\xc3\xa9,b=2", "b=2", 1},
    {"non-ASCII key", "\xc3\xa9=1,b=2", "b=2", 1},
    {"several bad, good ones kept in order", "bad,a=1,=x,b=2,c d=3,e=5",
     "a=1 | b=2 | e=5", 3},
    {"bad last member", "a=1,b", "a=1", 1},
};

TEST(BaggageIter, Table) {
  for (const auto &c : kIter) {
    SCOPED_TRACE(std::string(c.what) + ": \"" + c.input + "\"");
    size_t skipped = 0;
    EXPECT_EQ(Join(Members(c.input, &skipped), " | "), c.members);
    if (c.skipped >= 0) {
      EXPECT_EQ(skipped, static_cast<size_t>(c.skipped));
    }
  }
}

// Every byte value at every position of a long value (the value scan goes
// four bytes at a time, then one): a value made only of
// baggage-octets is taken whole, and no value ever holds another byte.
TEST(BaggageIter, EveryByteAtEveryPositionOfAValue) {
  auto is_octet = [](int c) {
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
           c != '\\';
  };
  const size_t kLen = 41;
  for (int b = 0; b < 256; b++) {
    for (size_t k = 0; k < kLen; k++) {
      std::string value(kLen, 'v');
      value[k] = static_cast<char>(b);
      std::string input = "key=" + value;
      stp_baggage_iter it;
      stp_baggage_member m;
      stp_baggage_iter_init(&it, input.data(), input.size());
      int members = 0;
      while (stp_baggage_iter_next(&it, &m)) {
        members++;
        if (is_octet(b)) {
          ASSERT_EQ(m.value_len, kLen) << "byte " << b << " at " << k;
        } else {
          ASSERT_EQ(memchr(m.value, b, m.value_len), nullptr)
              << "byte " << b << " at " << k;
        }
      }
      if (is_octet(b)) {
        ASSERT_EQ(members, 1) << "byte " << b << " at " << k;
      }
    }
  }
}

TEST(BaggageIter, SlicesPointIntoTheInput) {
  std::string in = " k = v ;p=1 ";
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, in.data(), in.size());
  ASSERT_EQ(stp_baggage_iter_next(&it, &m), 1);
  EXPECT_EQ(m.key, in.data() + 1);
  EXPECT_EQ(m.key_len, 1u);
  EXPECT_EQ(m.value, in.data() + 5);
  EXPECT_EQ(m.value_len, 1u);
  EXPECT_EQ(std::string(m.props, m.props_len), "p=1");
  EXPECT_EQ(stp_baggage_iter_next(&it, &m), 0);
  EXPECT_EQ(stp_baggage_iter_next(&it, &m), 0);  // stays at the end
}

TEST(BaggageIter, LengthIsHonoured) {
  std::string in = "a=1,b=2";
  EXPECT_EQ(Join(Members(in.substr(0, 6)), " | "), "a=1 | b=");
  EXPECT_EQ(Join(Members(in.substr(0, 5)), " | "), "a=1");
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, in.data(), 3);
  ASSERT_EQ(stp_baggage_iter_next(&it, &m), 1);
  EXPECT_EQ(std::string(m.value, m.value_len), "1");
  EXPECT_EQ(stp_baggage_iter_next(&it, &m), 0);
}

TEST(BaggageIter, ManyMembersAreLinear) {
  std::string in;
  for (int i = 0; i < 10000; i++)
    in += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  size_t skipped = 0;
  auto m = Members(in, &skipped);
  ASSERT_EQ(m.size(), 10000u);
  EXPECT_EQ(m[9999], "k9999=v");
  EXPECT_EQ(skipped, 0u);
}

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

TEST(BaggageDecode, Table) {
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

TEST(BaggageEncode, Table) {
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

}  // namespace

namespace {

// NULL with a zero length is an empty input, not an error.
TEST(BaggageNullInput, EmptyIsFine) {
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
