// sentry-trace (SPEC section 2) and W3C traceparent (SPEC section 3).
#include "test_util.h"

using namespace stp_test;

namespace {

// Any negative error: for inputs where SPEC only says "invalid" and more
// than one code of the header would describe the fault.
constexpr int kAnyError = 1;

const std::string T = kTrace;
const std::string S = kSpan;
const std::string TU = "771A43A4192642F0B136D5159A501700";
const std::string SU = "B1C2D3E4F5A6B7C8";
const std::string T0 = "00000000000000000000000000000000";
const std::string S0 = "0000000000000000";

// A case of either header.
struct TraceCase {
  const char *what;
  std::string input;
  int err;             // STP_OK, an exact code, or kAnyError
  std::string trace;   // expected ids when valid
  std::string span;
  stp_sampled sampled;
  int flags;           // trace_flags when valid
};

// sentry-trace's flags are 1 when sampled.
#define OK_CASE(what, in, tr, sp, smp) \
  {what, in, STP_OK, tr, sp, smp, (smp) == YES ? 1 : 0}
#define BAD(what, in, err) {what, in, err, "", "", STP_SAMPLED_DEFERRED, -1}

const stp_sampled YES = STP_SAMPLED_YES, NO = STP_SAMPLED_NO,
                  DEF = STP_SAMPLED_DEFERRED;

const TraceCase kSentryTrace[] = {
    // The three shapes.
    OK_CASE("T-S-1 sampled", T + "-" + S + "-1", T, S, YES),
    OK_CASE("T-S-0 not sampled", T + "-" + S + "-0", T, S, NO),
    OK_CASE("T-S deferred", T + "-" + S, T, S, DEF),
    OK_CASE("T-S- empty flag is deferred", T + "-" + S + "-", T, S, DEF),
    // Whitespace.
    OK_CASE("leading spaces", "   " + T + "-" + S + "-1", T, S, YES),
    OK_CASE("trailing spaces", T + "-" + S + "-1   ", T, S, YES),
    OK_CASE("tabs both sides", "\t" + T + "-" + S + "-0\t", T, S, NO),
    OK_CASE("mixed OWS, deferred", " \t " + T + "-" + S + " \t", T, S, DEF),
    OK_CASE("OWS around T-S-", "  " + T + "-" + S + "-  ", T, S, DEF),
    BAD("space inside the trace id", T.substr(0, 16) + " " + T.substr(17) +
                                         "-" + S + "-1",
        STP_ERR_TRACE_ID),
    BAD("space before the flag", T + "-" + S + "- 1", kAnyError),
    // Case.
    OK_CASE("uppercase normalised", TU + "-" + SU + "-1", T, S, YES),
    OK_CASE("uppercase trace only", TU + "-" + S + "-0", T, S, NO),
    // Comma folding: the first non-empty element that is valid.
    OK_CASE("folded, first valid wins",
            T + "-" + S + "-1," + kTrace2 + "-" + kSpan2 + "-0", T, S, YES),
    OK_CASE("folded, invalid first skipped",
            "garbage," + kTrace2 + "-" + kSpan2 + "-0", kTrace2, kSpan2, NO),
    OK_CASE("folded, empty first elements", " , ,," + T + "-" + S, T, S, DEF),
    OK_CASE("folded with OWS", T + "-" + S + "-1 , " + kTrace2 + "-" + kSpan2,
            T, S, YES),
    OK_CASE("folded, trailing comma", T + "-" + S + "-0,", T, S, NO),
    OK_CASE("folded, bad flag then valid",
            T + "-" + S + "-2," + kTrace2 + "-" + kSpan2 + "-1", kTrace2,
            kSpan2, YES),
    BAD("folded, none valid: error of the first", "xyz," + T + "-" + S + "-9",
        STP_ERR_MALFORMED),
    BAD("folded, none valid: first is a flag error",
        T + "-" + S + "-9,xyz", STP_ERR_SAMPLED_FLAG),
    // Empty.
    BAD("empty", "", STP_ERR_EMPTY),
    BAD("only spaces", "    ", STP_ERR_EMPTY),
    BAD("only tabs and commas", "\t, ,\t", STP_ERR_EMPTY),
    // All-zero ids.
    BAD("all-zero trace id", T0 + "-" + S + "-1", STP_ERR_ZERO_ID),
    BAD("all-zero span id", T + "-" + S0 + "-1", STP_ERR_ZERO_ID),
    BAD("both zero, deferred", T0 + "-" + S0, STP_ERR_ZERO_ID),
    // Missing parts.
    BAD("trace id only", T, STP_ERR_MALFORMED),
    BAD("trace id and dash", T + "-", STP_ERR_MALFORMED),
    BAD("missing trace id", "-" + S, STP_ERR_MALFORMED),
    BAD("missing trace id, with flag", "-" + S + "-1", STP_ERR_MALFORMED),
    BAD("flag only", "1", STP_ERR_MALFORMED),
    BAD("dash only", "-", STP_ERR_MALFORMED),
    BAD("two dashes", "--", STP_ERR_MALFORMED),
    BAD("missing span id", T + "--1", STP_ERR_MALFORMED),
    BAD("no dashes TS1", T + S + "1", STP_ERR_MALFORMED),
    BAD("no dashes TS", T + S, STP_ERR_MALFORMED),
    // Wrong lengths.
    BAD("trace id 31", T.substr(1) + "-" + S + "-1", STP_ERR_TRACE_ID),
    BAD("trace id 33", "a" + T + "-" + S + "-1", STP_ERR_TRACE_ID),
    BAD("span id 15", T + "-" + S.substr(1) + "-1", STP_ERR_SPAN_ID),
    BAD("span id 17", T + "-" + S + "a-1", STP_ERR_SPAN_ID),
    BAD("span id 32 (swapped)", S + "-" + T + "-1", STP_ERR_TRACE_ID),
    // Non-hex.
    BAD("non-hex in trace id", "g" + T.substr(1) + "-" + S, STP_ERR_TRACE_ID),
    BAD("non-hex in span id", T + "-" + S.substr(0, 15) + "x",
        STP_ERR_SPAN_ID),
    BAD("UTF-8 in span id", T + "-" + S.substr(0, 14) + "\xc3\xa9",
        STP_ERR_SPAN_ID),
    // Bad flag.
    BAD("flag 2", T + "-" + S + "-2", STP_ERR_SAMPLED_FLAG),
    BAD("flag x", T + "-" + S + "-x", STP_ERR_SAMPLED_FLAG),
    BAD("flag true", T + "-" + S + "-true", STP_ERR_SAMPLED_FLAG),
    BAD("flag 01", T + "-" + S + "-01", kAnyError),
    // Trailing bytes.
    BAD("trailing byte after flag", T + "-" + S + "-1x", kAnyError),
    BAD("flag 10", T + "-" + S + "-10", kAnyError),
    BAD("fourth part", T + "-" + S + "-1-1", kAnyError),
    BAD("traceparent shape", "00-" + T + "-" + S + "-01", kAnyError),
    // Control characters.
    BAD("embedded NUL after flag", T + "-" + S + "-1" + std::string(1, '\0'),
        STP_ERR_CONTROL_CHAR),
    BAD("embedded NUL in trace id",
        T.substr(0, 10) + std::string(1, '\0') + T.substr(11) + "-" + S,
        STP_ERR_CONTROL_CHAR),
    BAD("CR LF after flag", T + "-" + S + "-1\r\n", STP_ERR_CONTROL_CHAR),
    BAD("header injection", T + "-" + S + "-1\r\nX-Evil: 1",
        STP_ERR_CONTROL_CHAR),
    BAD("LF in span id", T + "-" + S.substr(0, 8) + "\n" + S.substr(9),
        STP_ERR_CONTROL_CHAR),
    BAD("lone CR before value", "\r" + T + "-" + S + "-1",
        STP_ERR_CONTROL_CHAR),
};

bool Matches(int got, int want) {
  return want == kAnyError ? got < 0 : got == want;
}

using ParseFn = int (*)(stp_trace_header *, const char *, size_t);

// Parses each case into a header filled with garbage first.
template <size_t N>
void CheckTable(ParseFn parse, const TraceCase (&cases)[N]) {
  for (const auto &c : cases) {
    SCOPED_TRACE(std::string(c.what) + ": \"" + c.input + "\"");
    stp_trace_header h;
    memset(&h, 0xab, sizeof h);
    int err = parse(&h, c.input.data(), c.input.size());
    EXPECT_TRUE(Matches(err, c.err))
        << "got " << ErrName(err) << ", want "
        << (c.err == kAnyError ? "an error" : ErrName(c.err));
    if (c.err == STP_OK && err == STP_OK) {
      EXPECT_EQ(Hex(h.trace_id), c.trace);
      EXPECT_EQ(Hex(h.span_id), c.span);
      EXPECT_EQ(h.sampled, c.sampled);
      EXPECT_EQ(h.trace_flags, c.flags);
    }
  }
}

TEST(SentryTrace, ParseTable) {
  CheckTable(stp_sentry_trace_parse, kSentryTrace);
}

TEST(SentryTrace, LengthIsHonouredNotTheTerminator) {
  // A valid value followed by garbage outside the given length.
  std::string buf = T + "-" + S + "-1" + "ZZZZ";
  stp_trace_header h;
  ASSERT_EQ(stp_sentry_trace_parse(&h, buf.data(), 51), STP_OK);
  EXPECT_EQ(h.sampled, YES);
  ASSERT_EQ(stp_sentry_trace_parse(&h, buf.data(), 49), STP_OK);
  EXPECT_EQ(h.sampled, DEF);
  EXPECT_EQ(stp_sentry_trace_parse(&h, buf.data(), 52), STP_ERR_MALFORMED);
}

TEST(SentryTrace, LongFoldedValues) {
  stp_trace_header h;
  // A valid first element followed by a lot of junk.
  std::string v = T + "-" + S + "-0," + std::string(5000, 'x');
  ASSERT_EQ(stp_sentry_trace_parse(&h, v.data(), v.size()), STP_OK);
  EXPECT_EQ(Hex(h.trace_id), T);
  EXPECT_EQ(h.sampled, NO);
  // One huge element is invalid, whatever it contains.
  std::string huge(100000, 'a');
  EXPECT_LT(stp_sentry_trace_parse(&h, huge.data(), huge.size()), 0);
  // Many empty elements and then a valid one, inside the scan bound.
  std::string commas = std::string(500, ',') + T + "-" + S + "-1";
  ASSERT_EQ(stp_sentry_trace_parse(&h, commas.data(), commas.size()), STP_OK);
  EXPECT_EQ(h.sampled, YES);
}

struct FormatCase {
  const char *what;
  stp_sampled sampled;
  std::string sentry_trace;
  std::string traceparent;
};

TEST(SentryTrace, FormatTable) {
  const FormatCase cases[] = {
      {"sampled", YES, T + "-" + S + "-1", "00-" + T + "-" + S + "-01"},
      {"not sampled", NO, T + "-" + S + "-0", "00-" + T + "-" + S + "-00"},
      {"deferred", DEF, T + "-" + S, "00-" + T + "-" + S + "-00"},
  };
  stp_trace_id tid;
  stp_span_id sid;
  // Parsed from uppercase: output must be lowercase.
  ASSERT_EQ(stp_trace_id_parse(&tid, TU.data(), TU.size()), STP_OK);
  ASSERT_EQ(stp_span_id_parse(&sid, SU.data(), SU.size()), STP_OK);
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    char buf[64];
    size_t n = 0;
    ASSERT_EQ(stp_sentry_trace_format(buf, sizeof buf, &n, &tid, &sid,
                                      c.sampled),
              STP_OK);
    EXPECT_EQ(std::string(buf), c.sentry_trace);
    EXPECT_EQ(n, c.sentry_trace.size());
    EXPECT_LE(n, static_cast<size_t>(STP_SENTRY_TRACE_MAX_LEN));
    ASSERT_EQ(stp_traceparent_format(buf, sizeof buf, &n, &tid, &sid,
                                     c.sampled),
              STP_OK);
    EXPECT_EQ(std::string(buf), c.traceparent);
    EXPECT_EQ(n, static_cast<size_t>(STP_TRACEPARENT_LEN));
  }
}

TEST(SentryTrace, FormatBufferTooSmallReportsSize) {
  stp_trace_id tid;
  stp_span_id sid;
  ASSERT_EQ(stp_trace_id_parse(&tid, T.data(), T.size()), STP_OK);
  ASSERT_EQ(stp_span_id_parse(&sid, S.data(), S.size()), STP_OK);
  char buf[64];
  size_t n = 0;
  // 51 bytes need 52 with the terminator.
  EXPECT_EQ(stp_sentry_trace_format(buf, 51, &n, &tid, &sid, YES),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 52u);
  n = 0;
  EXPECT_EQ(stp_sentry_trace_format(buf, 52, &n, &tid, &sid, YES), STP_OK);
  EXPECT_EQ(n, 51u);
  n = 0;
  EXPECT_EQ(stp_sentry_trace_format(nullptr, 0, &n, &tid, &sid, DEF),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 50u);
  n = 0;
  EXPECT_EQ(stp_traceparent_format(buf, 55, &n, &tid, &sid, YES),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 56u);
  n = 0;
  EXPECT_EQ(stp_traceparent_format(nullptr, 0, &n, &tid, &sid, YES),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 56u);
}

TEST(SentryTrace, RoundTripsRandomIds) {
  for (int i = 0; i < 200; i++) {
    stp_trace_id tid;
    stp_span_id sid;
    stp_trace_id_random(&tid);
    stp_span_id_random(&sid);
    for (stp_sampled smp : {YES, NO, DEF}) {
      char buf[64];
      size_t n;
      ASSERT_EQ(stp_sentry_trace_format(buf, sizeof buf, &n, &tid, &sid, smp),
                STP_OK);
      stp_trace_header h;
      ASSERT_EQ(stp_sentry_trace_parse(&h, buf, n), STP_OK) << buf;
      EXPECT_EQ(memcmp(h.trace_id.bytes, tid.bytes, 16), 0);
      EXPECT_EQ(memcmp(h.span_id.bytes, sid.bytes, 8), 0);
      EXPECT_EQ(h.sampled, smp);
      ASSERT_EQ(stp_traceparent_format(buf, sizeof buf, &n, &tid, &sid, smp),
                STP_OK);
      ASSERT_EQ(stp_traceparent_parse(&h, buf, n), STP_OK) << buf;
      EXPECT_EQ(memcmp(h.trace_id.bytes, tid.bytes, 16), 0);
      EXPECT_EQ(h.sampled, smp == YES ? YES : DEF);
    }
  }
}

// ---- traceparent ------------------------------------------------------------

#define TP_OK(what, in, tr, sp, smp, fl) {what, in, STP_OK, tr, sp, smp, fl}
#define TP_BAD(what, in, err) {what, in, err, "", "", DEF, -1}

const std::string V00 = "00-" + T + "-" + S + "-";

const TraceCase kTraceparent[] = {
    TP_OK("version 00 sampled", V00 + "01", T, S, YES, 0x01),
    TP_OK("flags 00 is deferred, not 'no'", V00 + "00", T, S, DEF, 0x00),
    TP_OK("flags 03: bit 0 set", V00 + "03", T, S, YES, 0x03),
    TP_OK("flags 02: bit 0 clear", V00 + "02", T, S, DEF, 0x02),
    TP_OK("flags ff: bit 0 set", V00 + "ff", T, S, YES, 0xff),
    TP_OK("flags fe: bit 0 clear", V00 + "fe", T, S, DEF, 0xfe),
    TP_OK("flags 81", V00 + "81", T, S, YES, 0x81),
    TP_OK("surrounding OWS", " \t" + V00 + "01\t ", T, S, YES, 0x01),
    TP_OK("higher version, exactly 55", "01-" + T + "-" + S + "-01", T, S,
          YES, 0x01),
    TP_OK("higher version, longer with '-' at 55",
          "01-" + T + "-" + S + "-01-what-ever", T, S, YES, 0x01),
    TP_OK("version fe, longer with '-' at 55",
          "fe-" + T + "-" + S + "-00-x", T, S, DEF, 0x00),
    TP_OK("second W3C sample", "00-" + kTrace2 + "-" + kSpan2 + "-01",
          kTrace2, kSpan2, YES, 0x01),
    TP_BAD("version ff", "ff-" + T + "-" + S + "-01", STP_ERR_VERSION),
    TP_BAD("version ff, longer", "ff-" + T + "-" + S + "-01-x",
           STP_ERR_VERSION),
    TP_BAD("version not hex", "0g-" + T + "-" + S + "-01", STP_ERR_VERSION),
    TP_BAD("version 00, 56 bytes", V00 + "01-", kAnyError),
    TP_BAD("version 00, trailing data", V00 + "01-abc", kAnyError),
    TP_BAD("version 00, 54 bytes", V00 + "0", kAnyError),
    TP_BAD("higher version, no '-' at 55", "01-" + T + "-" + S + "-01x",
           kAnyError),
    TP_BAD("higher version, 54 bytes", "01-" + T + "-" + S + "-0", kAnyError),
    TP_BAD("zero trace id", "00-" + T0 + "-" + S + "-01", STP_ERR_ZERO_ID),
    TP_BAD("zero parent id", "00-" + T + "-" + S0 + "-01", STP_ERR_ZERO_ID),
    TP_BAD("uppercase trace id", "00-" + TU + "-" + S + "-01",
           STP_ERR_UPPERCASE),
    TP_BAD("uppercase parent id", "00-" + T + "-" + SU + "-01",
           STP_ERR_UPPERCASE),
    TP_BAD("uppercase flags", V00 + "0A", STP_ERR_UPPERCASE),
    TP_BAD("uppercase version", "0A-" + T + "-" + S + "-01", kAnyError),
    TP_BAD("non-hex trace id", "00-" + T.substr(0, 31) + "x-" + S + "-01",
           STP_ERR_TRACE_ID),
    TP_BAD("non-hex parent id", "00-" + T + "-" + S.substr(0, 15) + "x-01",
           STP_ERR_SPAN_ID),
    TP_BAD("non-hex flags", V00 + "0x", STP_ERR_FLAGS),
    TP_BAD("wrong separator", "00_" + T + "-" + S + "-01", kAnyError),
    TP_BAD("ids swapped", "00-" + S + "-" + T + "-01", kAnyError),
    TP_BAD("sentry-trace shape", T + "-" + S + "-1", kAnyError),
    TP_BAD("empty", "", STP_ERR_EMPTY),
    TP_BAD("only spaces", "   ", STP_ERR_EMPTY),
    TP_BAD("version only", "00", kAnyError),
    TP_BAD("CR LF appended", V00 + "01\r\n", STP_ERR_CONTROL_CHAR),
    TP_BAD("NUL inside", "00-" + T.substr(0, 5) + std::string(1, '\0') +
                             T.substr(6) + "-" + S + "-01",
           STP_ERR_CONTROL_CHAR),
};

TEST(Traceparent, ParseTable) {
  CheckTable(stp_traceparent_parse, kTraceparent);
}

TEST(Traceparent, LengthIsHonoured) {
  std::string buf = V00 + "01" + "-tail";
  stp_trace_header h;
  EXPECT_EQ(stp_traceparent_parse(&h, buf.data(), 55), STP_OK);
  EXPECT_LT(stp_traceparent_parse(&h, buf.data(), 54), 0);
  EXPECT_LT(stp_traceparent_parse(&h, buf.data(), buf.size()), 0);
}

// W3C wants lowercase ids: one uppercase letter anywhere in either id is
// STP_ERR_UPPERCASE, the same lowercase letter is accepted.
TEST(Traceparent, UppercaseAtEveryIdPosition) {
  const std::string ok = V00 + "01";
  for (size_t pos = 3; pos < 52; pos++) {
    if (pos == 35)
      continue; // the '-' between the ids
    for (char c : {'a', 'f', 'A', 'F'}) {
      std::string in = ok;
      in[pos] = c;
      stp_trace_header h;
      int err = stp_traceparent_parse(&h, in.data(), in.size());
      EXPECT_EQ(err, c >= 'a' ? STP_OK : STP_ERR_UPPERCASE)
          << c << " at " << pos << ": " << ErrName(err);
    }
  }
}

// Last in the file: under UBSan a failure here aborts the binary.
TEST(TraceHeaderNullArguments, SentryTrace) {
  stp_trace_header h;
  EXPECT_EQ(stp_sentry_trace_parse(nullptr, "a", 1), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_sentry_trace_parse(&h, nullptr, 5), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_sentry_trace_parse(&h, nullptr, 0), STP_ERR_EMPTY);
}

}  // namespace

namespace {

TEST(TraceHeaderNullArguments, Traceparent) {
  stp_trace_header h;
  EXPECT_EQ(stp_traceparent_parse(nullptr, "a", 1), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_traceparent_parse(&h, nullptr, 5), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_traceparent_parse(&h, nullptr, 0), STP_ERR_EMPTY);
}

}  // namespace
