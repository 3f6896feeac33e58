// W3C baggage, the member iterator (SPEC section 4): members split at
// commas, keys and values trimmed, malformed members skipped on their own.
#include "test_util.h"

using namespace stp_test;

namespace {

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
    {"property with quotes is malformed (W3C)", "a=1;p=\"x y\"", "", 1},
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

TEST(BaggageIter, SplitsEachTableCaseIntoItsMembers) {
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

}  // namespace
