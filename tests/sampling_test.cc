// The sampling decision and sample_rand (SPEC sections 5, 6): carried
// from upstream, read from the DSC, or made here from the rate.
#include <stdlib.h>

#include "test_util.h"

using namespace stp_test;

namespace {

using Sampling = ContextTest;

// "0." followed by exactly six digits.
bool SampleRandText(const std::string &v) {
  if (v.size() != 8 || v.compare(0, 2, "0.") != 0)
    return false;
  for (size_t i = 2; i < 8; i++)
    if (v[i] < '0' || v[i] > '9')
      return false;
  return true;
}

// ---- old SDKs and sample_rand -----------------------------------------------

struct OldSdkCase {
  const char *what;
  std::string trace;
  std::string baggage;  // no sentry-* members
  stp_sampled sampled;
};

TEST_F(Sampling, OldSdkGetsOnlyABackfilledSampleRand) {
  const OldSdkCase cases[] = {
      {"no baggage, sampled", kTS1, "", STP_SAMPLED_YES},
      {"no baggage, not sampled", kTS0, "", STP_SAMPLED_NO},
      {"third-party baggage only", kTS1, "vendor=1,other=2;p",
       STP_SAMPLED_YES},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    Headers h{{"sentry-trace", c.trace}};
    if (!c.baggage.empty())
      h.list.emplace_back("baggage", c.baggage);
    ASSERT_EQ(Continue(&ctx_, cfg_.get(), h), STP_OK);
    EXPECT_EQ(stp_context_span(&ctx_)->sampled, c.sampled);
    std::string out = BaggageOf(&ctx_);
    const std::string prefix = "sentry-sample_rand=";
    ASSERT_TRUE(StartsWith(out, prefix)) << out;
    std::string rand_text = out.substr(prefix.size());
    ASSERT_TRUE(SampleRandText(rand_text)) << out;
    double r = stp_context_sample_rand(&ctx_);
    EXPECT_GE(r, 0.0);
    EXPECT_LT(r, 1.0);
    EXPECT_NEAR(std::stod(rand_text), r, 1e-9);
    // Nothing from our options in a continued DSC.
    EXPECT_EQ(Dsc(&ctx_, "public_key"), "<absent>");
    EXPECT_EQ(Dsc(&ctx_, "release"), "<absent>");
    EXPECT_EQ(Dsc(&ctx_, "trace_id"), "<absent>");
  }
}

struct RandCase {
  const char *what;
  std::string trace;
  std::string baggage;
  double lo, hi;  // sample_rand must be in [lo, hi)
};

// An incoming sample_rand is read as the nearest double, as strtod reads
// it: short plain decimals and longer or exponent forms alike (up to 22
// places after the point, where the power of ten is exact).
TEST_F(Sampling, IncomingSampleRandIsReadExactly) {
  const char *texts[] = {"0.5",
                         "0.123456",
                         "0.1",
                         "0",
                         "0.",
                         ".5",
                         "0.000001",
                         "0.999999999999999",
                         "0.12345678901234567890123",
                         "00000000000000000000.25",
                         "0.0000000000000000001234",
                         "1e-1",
                         "25E-2",
                         "0.3e0",
                         "0.7",
                         "0.2999999999999999888977697537484345957636833190918"
                         "0078125"};
  for (const char *text : texts) {
    SCOPED_TRACE(text);
    ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                       {{"sentry-trace", kTS1},
                        {"baggage", "sentry-trace_id=" + kTrace +
                                        ",sentry-sample_rand=" + text}}),
              STP_OK);
    EXPECT_EQ(stp_context_sample_rand(&ctx_), strtod(text, nullptr));
    EXPECT_EQ(Dsc(&ctx_, "sample_rand"), text);
  }
}

TEST_F(Sampling, SampleRandIsReusedOrDrawnToAgreeWithTheDecision) {
  const std::string tid = "sentry-trace_id=" + kTrace;
  const RandCase cases[] = {
      {"valid incoming value is reused", kTS1,
       tid + ",sentry-sample_rate=0.25,sentry-sample_rand=0.123456", 0.123456,
       0.1234561},
      {"reused even if it contradicts the flag", kTS0,
       tid + ",sentry-sample_rate=0.25,sentry-sample_rand=0.1", 0.1,
       0.1000001},
      {"sampled, rate 0.25: [0, 0.25)", kTS1,
       tid + ",sentry-sample_rate=0.25", 0.0, 0.25},
      {"not sampled, rate 0.25: [0.25, 1)", kTS0,
       tid + ",sentry-sample_rate=0.25", 0.25, 1.0},
      {"sampled, rate 0.001", kTS1, tid + ",sentry-sample_rate=0.001", 0.0,
       0.001},
      {"not sampled, rate 0.999", kTS0, tid + ",sentry-sample_rate=0.999",
       0.999, 1.0},
      {"deferred, rate known: [0, 1)", kTSD, tid + ",sentry-sample_rate=0.25",
       0.0, 1.0},
      {"sampled, no rate: [0, 1)", kTS1, tid, 0.0, 1.0},
      {"invalid incoming 1.5 replaced", kTS1,
       tid + ",sentry-sample_rate=0.5,sentry-sample_rand=1.5", 0.0, 0.5},
      {"invalid incoming 'abc' replaced", kTS0,
       tid + ",sentry-sample_rate=0.5,sentry-sample_rand=abc", 0.5, 1.0},
      {"incoming 1.0 is outside [0,1)", kTS0,
       tid + ",sentry-sample_rate=0.5,sentry-sample_rand=1.0", 0.5, 1.0},
      {"negative incoming replaced", kTS1,
       tid + ",sentry-sample_rate=0.5,sentry-sample_rand=-0.1", 0.0, 0.5},
      {"invalid rate ignored", kTS0, tid + ",sentry-sample_rate=2", 0.0, 1.0},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    for (int i = 0; i < 200; i++) {
      ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                         {{"sentry-trace", c.trace}, {"baggage", c.baggage}}),
                STP_OK);
      double r = stp_context_sample_rand(&ctx_);
      ASSERT_GE(r, c.lo);
      ASSERT_LT(r, c.hi);
      // The DSC carries exactly one valid sample_rand equal to it.
      std::string text = Dsc(&ctx_, "sample_rand");
      char *end = nullptr;
      ASSERT_NEAR(strtod(text.c_str(), &end), r, 1e-9) << text;
      std::string out = BaggageOf(&ctx_);
      size_t first = out.find("sentry-sample_rand=");
      ASSERT_NE(first, std::string::npos);
      ASSERT_EQ(out.find("sentry-sample_rand=", first + 1), std::string::npos)
          << out;
    }
  }
}

// ---- heads ------------------------------------------------------------------

struct HeadCase {
  const char *what;
  bool has_rate;
  double rate;
  const char *rate_text;
};

TEST_F(Sampling, AHeadIsSampledWhenSampleRandIsBelowTheRate) {
  const HeadCase cases[] = {
      {"rate 0.25", true, 0.25, "0.25"},
      {"rate 0", true, 0.0, "0"},
      {"rate 1", true, 1.0, "1"},
      {"rate 0.1", true, 0.1, "0.1"},
      {"rate 0.999", true, 0.999, "0.999"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    stp_options o = DefaultOptions();
    o.has_sample_rate = c.has_rate;
    o.sample_rate = c.rate;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    int yes = 0, no = 0;
    for (int i = 0; i < 400; i++) {
      ASSERT_EQ(stp_context_init(&ctx_, cfg.get()), STP_OK);
      EXPECT_EQ(stp_context_status(&ctx_), STP_OK);
      EXPECT_FALSE(stp_context_continued(&ctx_));
      EXPECT_FALSE(stp_context_frozen(&ctx_));
      const stp_span *s = stp_context_span(&ctx_);
      ASSERT_FALSE(s->has_parent);
      ASSERT_TRUE(stp_span_id_is_zero(&s->parent_span_id));
      ASSERT_FALSE(stp_trace_id_is_zero(&s->trace_id));
      double r = stp_context_sample_rand(&ctx_);
      ASSERT_GE(r, 0.0);
      ASSERT_LT(r, 1.0);
      // sampled == (sample_rand < sample_rate)
      ASSERT_EQ(s->sampled, r < c.rate ? STP_SAMPLED_YES : STP_SAMPLED_NO)
          << r;
      (s->sampled == STP_SAMPLED_YES ? yes : no)++;
      std::string out = BaggageOf(&ctx_);
      EXPECT_TRUE(stp_context_frozen(&ctx_));
      ASSERT_TRUE(StartsWith(out, "sentry-trace_id=" + TraceOf(&ctx_) + ","))
          << out;
      std::string rand_text = Dsc(&ctx_, "sample_rand");
      ASSERT_TRUE(SampleRandText(rand_text)) << rand_text;
      ASSERT_NEAR(std::stod(rand_text), r, 1e-9);
      std::vector<std::string> want = {
          "sentry-trace_id=" + TraceOf(&ctx_),
          "sentry-public_key=" + kPublicKey,
          "sentry-org_id=123",
          std::string("sentry-sample_rate=") + c.rate_text,
          "sentry-sample_rand=" + rand_text,
          std::string("sentry-sampled=") +
              (s->sampled == STP_SAMPLED_YES ? "true" : "false"),
          "sentry-release=my%20app%201.0",
          "sentry-environment=prod"};
      std::sort(want.begin(), want.end());
      ASSERT_EQ(SortedSentry(out), want) << out;
      ASSERT_EQ(Members(out).size(), want.size()) << out;
      ASSERT_EQ(SentryTraceOf(&ctx_),
                TraceOf(&ctx_) + "-" + SpanOf(&ctx_) +
                    (s->sampled == STP_SAMPLED_YES ? "-1" : "-0"));
    }
    if (c.rate == 0.0) {
      EXPECT_EQ(yes, 0);
    }
    if (c.rate == 1.0) {
      EXPECT_EQ(no, 0);
    }
    if (c.rate == 0.25) {
      EXPECT_GT(yes, 40);
      EXPECT_GT(no, 200);
    }
  }
}

TEST_F(Sampling, WithoutARateTheDecisionStaysOpen) {
  stp_options o = DefaultOptions();
  o.has_sample_rate = false;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  // A head: no decision, no flag, no sentry-sampled, no sentry-sample_rate.
  ASSERT_EQ(stp_context_init(&ctx_, cfg.get()), STP_OK);
  EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_DEFERRED);
  EXPECT_EQ(SentryTraceOf(&ctx_), TraceOf(&ctx_) + "-" + SpanOf(&ctx_));
  EXPECT_EQ(TraceparentOf(&ctx_),
            "00-" + TraceOf(&ctx_) + "-" + SpanOf(&ctx_) + "-00");
  std::string out = BaggageOf(&ctx_);
  EXPECT_FALSE(Contains(out, "sentry-sampled")) << out;
  EXPECT_FALSE(Contains(out, "sentry-sample_rate")) << out;
  EXPECT_TRUE(SampleRandText(Dsc(&ctx_, "sample_rand")));
  EXPECT_EQ(Dsc(&ctx_, "public_key"), kPublicKey);

  // Continuing a deferred trace stays deferred.
  ASSERT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", kTSD}}), STP_OK);
  EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_DEFERRED);
  EXPECT_EQ(SentryTraceOf(&ctx_), kTrace + "-" + SpanOf(&ctx_));
  EXPECT_FALSE(Contains(BaggageOf(&ctx_), "sentry-sampled"));

  // An upstream decision still wins.
  ASSERT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", kTS1}}), STP_OK);
  EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_YES);
  EXPECT_EQ(SentryTraceOf(&ctx_), kTrace + "-" + SpanOf(&ctx_) + "-1");
}

// ---- whose decision wins ----------------------------------------------------

TEST_F(Sampling, ParentDecisionWinsOverLocalRate) {
  for (double rate : {0.0, 1.0}) {
    SCOPED_TRACE(rate);
    stp_options o = DefaultOptions();
    o.sample_rate = rate;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    ASSERT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", kTS1}}), STP_OK);
    EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_YES);
    ASSERT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", kTS0}}), STP_OK);
    EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_NO);
  }
}

// A trace header without a flag leaves the decision open; a DSC that
// records it (sentry-sampled, exactly "true" or "false") then decides,
// and sample_rand, when drawn here, agrees with it. The flag, when there
// is one, wins over the DSC.
struct DscDecisionCase {
  const char *what;
  const char *header; /* "sentry-trace" or "traceparent" */
  std::string value;
  std::string baggage;
  bool has_rate;
  double rate; /* the local rate */
  stp_sampled want;
  double lo, hi; /* sample_rand */
};

TEST_F(Sampling, DscSampledDecidesWhenTheFlagIsAbsent) {
  const std::string tid = "sentry-trace_id=" + kTrace;
  const std::string tid2 = "sentry-trace_id=" + kTrace2;
  const DscDecisionCase cases[] = {
      {"sampled=true over a local rate of 0", "sentry-trace", kTSD,
       tid + ",sentry-sampled=true", true, 0.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"sampled=false over a local rate of 1", "sentry-trace", kTSD,
       tid + ",sentry-sampled=false", true, 1.0, STP_SAMPLED_NO, 0.0, 1.0},
      {"sampled=true, no local rate", "sentry-trace", kTSD,
       tid + ",sentry-sampled=true", false, 0.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"sampled=true, rate 0.25: sample_rand in [0, 0.25)", "sentry-trace",
       kTSD, tid + ",sentry-sample_rate=0.25,sentry-sampled=true", true, 0.0,
       STP_SAMPLED_YES, 0.0, 0.25},
      {"sampled=false, rate 0.25: sample_rand in [0.25, 1)", "sentry-trace",
       kTSD, tid + ",sentry-sample_rate=0.25,sentry-sampled=false", true, 1.0,
       STP_SAMPLED_NO, 0.25, 1.0},
      {"traceparent flags 00 with sampled=true", "traceparent", kTP00,
       tid2 + ",sentry-sampled=true", true, 0.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"the flag wins: -0 over sampled=true", "sentry-trace", kTS0,
       tid + ",sentry-sampled=true", true, 1.0, STP_SAMPLED_NO, 0.0, 1.0},
      {"the flag wins: -1 over sampled=false", "sentry-trace", kTS1,
       tid + ",sentry-sampled=false", true, 0.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"%74rue decodes to true", "sentry-trace", kTSD,
       tid + ",sentry-sampled=%74rue", true, 0.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"f%61lse decodes to false", "sentry-trace", kTSD,
       tid + ",sentry-sampled=f%61lse", true, 1.0, STP_SAMPLED_NO, 0.0, 1.0},
      {"a long value that starts with true", "sentry-trace", kTSD,
       tid + ",sentry-sampled=true" + std::string(40, 'x'), true, 0.0,
       STP_SAMPLED_NO, 0.0, 1.0},
      {"TRUE is not true: the local rate 0 decides", "sentry-trace", kTSD,
       tid + ",sentry-sampled=TRUE", true, 0.0, STP_SAMPLED_NO, 0.0, 1.0},
      {"1 is not true: the local rate 1 decides", "sentry-trace", kTSD,
       tid + ",sentry-sampled=1", true, 1.0, STP_SAMPLED_YES, 0.0, 1.0},
      {"empty: stays open without a local rate", "sentry-trace", kTSD,
       tid + ",sentry-sampled=", false, 0.0, STP_SAMPLED_DEFERRED, 0.0, 1.0},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    stp_options o = DefaultOptions();
    o.has_sample_rate = c.has_rate;
    o.sample_rate = c.rate;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    for (int i = 0; i < 50; i++) {
      ASSERT_EQ(Continue(&ctx_, cfg.get(),
                         {{c.header, c.value}, {"baggage", c.baggage}}),
                STP_OK);
      ASSERT_EQ(stp_context_span(&ctx_)->sampled, c.want);
      double r = stp_context_sample_rand(&ctx_);
      ASSERT_GE(r, c.lo);
      ASSERT_LT(r, c.hi);
      std::string trace = SentryTraceOf(&ctx_);
      std::string flag = c.want == STP_SAMPLED_YES  ? "-1"
                         : c.want == STP_SAMPLED_NO ? "-0"
                                                    : "";
      ASSERT_EQ(trace, TraceOf(&ctx_) + "-" + SpanOf(&ctx_) + flag);
      // The DSC goes on as received.
      ASSERT_TRUE(Contains(BaggageOf(&ctx_), c.baggage.substr(49)))
          << BaggageOf(&ctx_);
    }
  }
}

}  // namespace
