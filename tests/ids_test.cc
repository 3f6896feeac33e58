// Trace and span ids: parsing, formatting, zero checks, random ids.
#include <set>
#include <thread>

#include "test_util.h"

using namespace stp_test;

namespace {

struct IdCase {
  const char *what;
  std::string input;
  int err;
  const char *formatted;  // lowercase form after a successful parse
};

const IdCase kTraceIds[] = {
    {"lowercase", "771a43a4192642f0b136d5159a501700", STP_OK,
     "771a43a4192642f0b136d5159a501700"},
    {"uppercase normalised", "771A43A4192642F0B136D5159A501700", STP_OK,
     "771a43a4192642f0b136d5159a501700"},
    {"mixed case", "771a43A4192642f0B136d5159a501700", STP_OK,
     "771a43a4192642f0b136d5159a501700"},
    {"all ones", "ffffffffffffffffffffffffffffffff", STP_OK,
     "ffffffffffffffffffffffffffffffff"},
    {"lowest non-zero", "00000000000000000000000000000001", STP_OK,
     "00000000000000000000000000000001"},
    {"all zero", "00000000000000000000000000000000", STP_ERR_ZERO_ID,
     "00000000000000000000000000000000"},
    {"31 digits", "771a43a4192642f0b136d5159a50170", STP_ERR_TRACE_ID, ""},
    {"33 digits", "771a43a4192642f0b136d5159a5017001", STP_ERR_TRACE_ID, ""},
    {"empty", "", STP_ERR_TRACE_ID, ""},
    {"non-hex g", "771a43a4192642f0b136d5159a50170g", STP_ERR_TRACE_ID, ""},
    {"space inside", "771a43a4192642f0 136d5159a501700", STP_ERR_TRACE_ID,
     ""},
    {"leading space", " 771a43a4192642f0b136d5159a50170", STP_ERR_TRACE_ID,
     ""},
    {"embedded NUL", std::string("771a43a4192642f0\0b36d5159a501700", 32),
     STP_ERR_TRACE_ID, ""},
    {"0x prefix", "0x1a43a4192642f0b136d5159a501700", STP_ERR_TRACE_ID, ""},
    {"dash inside", "771a43a4-192642f0b136d5159a50170", STP_ERR_TRACE_ID, ""},
};

const IdCase kSpanIds[] = {
    {"lowercase", "b1c2d3e4f5a6b7c8", STP_OK, "b1c2d3e4f5a6b7c8"},
    {"uppercase normalised", "B1C2D3E4F5A6B7C8", STP_OK, "b1c2d3e4f5a6b7c8"},
    {"lowest non-zero", "0000000000000001", STP_OK, "0000000000000001"},
    {"all zero", "0000000000000000", STP_ERR_ZERO_ID, "0000000000000000"},
    {"15 digits", "b1c2d3e4f5a6b7c", STP_ERR_SPAN_ID, ""},
    {"17 digits", "b1c2d3e4f5a6b7c81", STP_ERR_SPAN_ID, ""},
    {"empty", "", STP_ERR_SPAN_ID, ""},
    {"non-hex z", "b1c2d3e4f5a6b7cz", STP_ERR_SPAN_ID, ""},
    {"high byte", "b1c2d3e4f5a6b7c\xc8", STP_ERR_SPAN_ID, ""},
    {"trace id length", "771a43a4192642f0b136d5159a501700", STP_ERR_SPAN_ID,
     ""},
};

TEST(Ids, TraceIdParseTable) {
  for (const auto &c : kTraceIds) {
    SCOPED_TRACE(c.what);
    stp_trace_id id;
    int err = stp_trace_id_parse(&id, c.input.data(), c.input.size());
    EXPECT_EQ(ErrName(err), ErrName(c.err));
    if (err == STP_OK || err == STP_ERR_ZERO_ID) {
      // ZERO_ID still fills the output.
      EXPECT_EQ(Hex(id), c.formatted);
      EXPECT_EQ(stp_trace_id_is_zero(&id), err == STP_ERR_ZERO_ID);
    }
  }
}

TEST(Ids, SpanIdParseTable) {
  for (const auto &c : kSpanIds) {
    SCOPED_TRACE(c.what);
    stp_span_id id;
    int err = stp_span_id_parse(&id, c.input.data(), c.input.size());
    EXPECT_EQ(ErrName(err), ErrName(c.err));
    if (err == STP_OK || err == STP_ERR_ZERO_ID) {
      EXPECT_EQ(Hex(id), c.formatted);
      EXPECT_EQ(stp_span_id_is_zero(&id), err == STP_ERR_ZERO_ID);
    }
  }
}

TEST(Ids, ParseStopsAtTheGivenLength) {
  // The length decides, not a terminator: a longer buffer is fine.
  std::string longer = kTrace + "ffff";
  stp_trace_id t;
  ASSERT_EQ(stp_trace_id_parse(&t, longer.data(), 32), STP_OK);
  EXPECT_EQ(Hex(t), kTrace);
  stp_span_id s;
  ASSERT_EQ(stp_span_id_parse(&s, longer.data(), 16), STP_OK);
  EXPECT_EQ(Hex(s), kTrace.substr(0, 16));
}

TEST(Ids, BytesAreBigEndianHex) {
  stp_trace_id t;
  ASSERT_EQ(stp_trace_id_parse(&t, kTrace.data(), kTrace.size()), STP_OK);
  EXPECT_EQ(t.bytes[0], 0x77);
  EXPECT_EQ(t.bytes[1], 0x1a);
  EXPECT_EQ(t.bytes[15], 0x00);
  EXPECT_EQ(t.bytes[14], 0x17);
  stp_span_id s;
  ASSERT_EQ(stp_span_id_parse(&s, kSpan.data(), kSpan.size()), STP_OK);
  EXPECT_EQ(s.bytes[0], 0xb1);
  EXPECT_EQ(s.bytes[7], 0xc8);
}

// Every byte value at every digit position, for both id lengths: a hex
// digit of either case is decoded to its value in its nibble, any other
// byte is refused. The reference decoder here is independent of the
// library's tables and of its 16-digits-at-a-time path.
TEST(Ids, EveryByteAtEveryDigitPosition) {
  auto value = [](int c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  const std::string base = "123456789abcdef0fedcba9876543210";
  for (size_t digits : {size_t{32}, size_t{16}}) {
    for (size_t pos = 0; pos < digits; pos++) {
      for (int b = 0; b < 256; b++) {
        std::string hex = base.substr(0, digits);
        hex[pos] = static_cast<char>(b);
        uint8_t got[16];
        int err = digits == 32
                      ? stp_trace_id_parse(
                            reinterpret_cast<stp_trace_id *>(got), hex.data(),
                            hex.size())
                      : stp_span_id_parse(reinterpret_cast<stp_span_id *>(got),
                                          hex.data(), hex.size());
        if (value(b) < 0) {
          ASSERT_NE(err, STP_OK) << "byte " << b << " at " << pos;
          continue;
        }
        ASSERT_EQ(err, STP_OK) << "byte " << b << " at " << pos;
        for (size_t i = 0; i < digits / 2; i++) {
          int want = value(hex[2 * i]) << 4 | value(hex[2 * i + 1]);
          ASSERT_EQ(got[i], want) << "byte " << b << " at " << pos;
        }
      }
    }
  }
}

// Every byte value at every position of both ids formats as its two
// lowercase digits, and nothing else changes.
TEST(Ids, FormatEveryByteAtEveryPosition) {
  for (size_t pos = 0; pos < 16; pos++) {
    for (int b = 0; b < 256; b++) {
      stp_trace_id t;
      stp_span_id s;
      for (size_t i = 0; i < 16; i++)
        t.bytes[i] = static_cast<uint8_t>(0x11 * (i % 16));
      memcpy(s.bytes, t.bytes, 8);
      t.bytes[pos] = static_cast<uint8_t>(b);
      if (pos < 8)
        s.bytes[pos] = static_cast<uint8_t>(b);
      char want[33], got[33], got_span[17];
      for (size_t i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", t.bytes[i]);
      stp_trace_id_format(&t, got);
      stp_span_id_format(&s, got_span);
      ASSERT_STREQ(got, want) << "byte " << b << " at " << pos;
      ASSERT_EQ(std::string(got_span), std::string(want, 16))
          << "byte " << b << " at " << pos;
    }
  }
}

TEST(Ids, FormatWritesLowercaseAndTerminates) {
  stp_trace_id t;
  for (int i = 0; i < 16; i++)
    t.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  char buf[STP_TRACE_ID_HEX_LEN + 2];
  memset(buf, 'X', sizeof buf);
  stp_trace_id_format(&t, buf);
  EXPECT_STREQ(buf, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(buf[STP_TRACE_ID_HEX_LEN + 1], 'X');

  stp_span_id s;
  for (int i = 0; i < 8; i++)
    s.bytes[i] = static_cast<uint8_t>(0xf0 | i);
  char sbuf[STP_SPAN_ID_HEX_LEN + 2];
  memset(sbuf, 'X', sizeof sbuf);
  stp_span_id_format(&s, sbuf);
  EXPECT_STREQ(sbuf, "f0f1f2f3f4f5f6f7");
  EXPECT_EQ(sbuf[STP_SPAN_ID_HEX_LEN + 1], 'X');
}

TEST(Ids, RandomIdsAreNonZeroAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 2000; i++) {
    stp_trace_id t;
    stp_span_id s;
    stp_trace_id_random(&t);
    stp_span_id_random(&s);
    ASSERT_FALSE(stp_trace_id_is_zero(&t));
    ASSERT_FALSE(stp_span_id_is_zero(&s));
    traces.insert(Hex(t));
    spans.insert(Hex(s));
  }
  EXPECT_EQ(traces.size(), 2000u);
  EXPECT_EQ(spans.size(), 2000u);
}

TEST(Ids, RandomU64UsesAllBits) {
  uint64_t any_or = 0, any_and = ~uint64_t{0};
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; i++) {
    uint64_t v = stp_random_u64();
    any_or |= v;
    any_and &= v;
    seen.insert(v);
  }
  EXPECT_EQ(any_or, ~uint64_t{0});
  EXPECT_EQ(any_and, uint64_t{0});
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, RandomIdsDifferBetweenThreads) {
  stp_trace_id main_id, other_id;
  stp_trace_id_random(&main_id);
  std::thread th([&] { stp_trace_id_random(&other_id); });
  th.join();
  EXPECT_NE(Hex(main_id), Hex(other_id));
}

}  // namespace
