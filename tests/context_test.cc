// Continuing and injecting (SPEC sections 5, 6), carriers, the environment
// (7), HTML meta tags (8) and the implicit per-thread API.
#include <stdlib.h>

#include <map>

#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

using namespace stp_test;

namespace {

// Continue from `headers` into *ctx; returns the status.
int Continue(stp_context *ctx, const stp_config *cfg, Headers headers) {
  stp_carrier c = headers.Carrier();
  int err = stp_context_continue(ctx, cfg, &c);
  EXPECT_EQ(err, stp_context_status(ctx));
  EXPECT_EQ(err == STP_OK, stp_context_continued(ctx));
  return err;
}

std::string Parent(const stp_context *ctx) {
  const stp_span *s = stp_context_span(ctx);
  return s->has_parent ? Hex(s->parent_span_id) : "<none>";
}

std::string TraceOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->trace_id);
}

std::string SpanOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->span_id);
}

// "key=value" members of the DSC part of a baggage value, sorted.
std::vector<std::string> SortedSentry(const std::string &baggage) {
  std::vector<std::string> out;
  for (const auto &m : Members(baggage))
    if (StartsWith(m, "sentry-"))
      out.push_back(m);
  std::sort(out.begin(), out.end());
  return out;
}

// "0." followed by exactly six digits.
bool SampleRandText(const std::string &v) {
  if (v.size() != 8 || v.compare(0, 2, "0.") != 0)
    return false;
  for (size_t i = 2; i < 8; i++)
    if (v[i] < '0' || v[i] > '9')
      return false;
  return true;
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = MakeConfig(DefaultOptions());
    ASSERT_TRUE(cfg_);
    stp_options o = DefaultOptions();
    o.propagate_third_party_baggage = true;
    third_party_cfg_ = MakeConfig(o);
    ASSERT_TRUE(third_party_cfg_);
  }
  ConfigPtr cfg_;
  ConfigPtr third_party_cfg_;  // also passes third-party baggage on
  stp_context ctx_;
};

// ---- continuing: the reference request --------------------------------------

TEST_F(ContextTest, ContinuesTheReferenceRequest) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  const stp_span *s = stp_context_span(&ctx_);
  EXPECT_EQ(TraceOf(&ctx_), kTrace);             // trace id kept
  EXPECT_EQ(Parent(&ctx_), kSpan);               // incoming span is parent
  EXPECT_NE(SpanOf(&ctx_), kSpan);               // a new span id
  EXPECT_FALSE(stp_span_id_is_zero(&s->span_id));
  EXPECT_EQ(s->sampled, STP_SAMPLED_YES);        // decision carried
  EXPECT_TRUE(stp_context_frozen(&ctx_));        // DSC frozen
  EXPECT_EQ(stp_context_sample_rand(&ctx_), 0.123456);

  // Outgoing: same trace, our span, the DSC exactly as received, with
  // sentry-trace_id first and no third-party member.
  EXPECT_EQ(SentryTraceOf(&ctx_), kTrace + "-" + SpanOf(&ctx_) + "-1");
  EXPECT_EQ(BaggageOf(&ctx_), kRefDsc);

  EXPECT_EQ(Dsc(&ctx_, "release"), "backend@1.2.3");
  EXPECT_EQ(Dsc(&ctx_, "sentry-transaction"), "GET /api/users");
  EXPECT_EQ(Dsc(&ctx_, "sample_rate"), "0.25");
  EXPECT_EQ(Dsc(&ctx_, "org_id"), "<absent>");
  EXPECT_EQ(Dsc(&ctx_, "vendor"), "<absent>");  // not a DSC key

  // The context keeps the third-party members too, in received order.
  ASSERT_EQ(stp_context_member_count(&ctx_), 10u);
  stp_baggage_member m;
  bool is_sentry = true;
  ASSERT_EQ(stp_context_member(&ctx_, &m, &is_sentry, 8), STP_OK);
  EXPECT_EQ(std::string(m.key, m.key_len), "vendor");
  EXPECT_EQ(std::string(m.value, m.value_len), "abc");
  EXPECT_EQ(std::string(m.props, m.props_len), "prop=1");
  EXPECT_FALSE(is_sentry);
  ASSERT_EQ(stp_context_member(&ctx_, &m, &is_sentry, 0), STP_OK);
  EXPECT_EQ(std::string(m.key, m.key_len), "sentry-trace_id");
  EXPECT_TRUE(is_sentry);
  EXPECT_EQ(stp_context_member(&ctx_, &m, &is_sentry, 10), STP_ERR_NOT_FOUND);
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 0u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 0u);
}

// Every shape of member the store holds gives back the slices the public
// iterator gives for the same input, and goes out as its text: plain ones
// (whose value and properties the store works out from their lengths),
// with properties, with an empty property list, and ones with whitespace
// or a tab inside, which the store keeps apart. A Sentry member keeps no
// properties (SentryMembersKeepNoProperties).
TEST_F(ContextTest, StoredMembersGiveTheSlicesTheIteratorGives) {
  const std::string bag = "sentry-release=1.0;p,a=1, b=2;p=1,c=3;,d=4; ,"
                          " i=9 ,e = 5,f=6 ; q,g=7;\tq=1,h=8;x;y=z,"
                          "sentry-trace_id=" + kTrace + ",j=;k";
  ASSERT_EQ(Continue(&ctx_, third_party_cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  stp_baggage_iter it;
  stp_baggage_iter_init(&it, bag.data(), bag.size());
  stp_baggage_member want, got;
  std::string third, dsc_lead, dsc_rest;
  size_t i = 0;
  while (stp_baggage_iter_next(&it, &want)) {
    SCOPED_TRACE(std::string(want.key, want.key_len));
    bool is_sentry = false;
    ASSERT_EQ(stp_context_member(&ctx_, &got, &is_sentry, i++), STP_OK);
    std::string key(want.key, want.key_len);
    std::string value(want.value, want.value_len);
    std::string props(want.props, want.props_len);
    if (StartsWith(key, "sentry-"))
      props.clear();
    EXPECT_EQ(std::string(got.key, got.key_len), key);
    EXPECT_EQ(std::string(got.value, got.value_len), value);
    EXPECT_EQ(std::string(got.props, got.props_len), props);
    EXPECT_EQ(is_sentry, StartsWith(key, "sentry-"));
    std::string text = key + "=" + value + (props.empty() ? "" : ";" + props);
    std::string &to = !is_sentry                 ? third
                      : key == "sentry-trace_id" ? dsc_lead
                                                 : dsc_rest;
    to += (to.empty() ? "" : ",") + text;
  }
  EXPECT_EQ(it.skipped, 0u);
  // The sample_rand drawn here comes last.
  ASSERT_EQ(i + 1, stp_context_member_count(&ctx_));
  dsc_rest += ",sentry-sample_rand=" + Dsc(&ctx_, "sample_rand");
  EXPECT_EQ(BaggageOf(&ctx_), third + "," + dsc_lead + "," + dsc_rest);
}

TEST_F(ContextTest, EachContinuationGetsANewSpanId) {
  std::string first;
  for (int i = 0; i < 50; i++) {
    ASSERT_EQ(Continue(&ctx_, cfg_.get(), {{"sentry-trace", kTS1}}), STP_OK);
    EXPECT_NE(SpanOf(&ctx_), kSpan);
    EXPECT_NE(SpanOf(&ctx_), first);
    first = SpanOf(&ctx_);
  }
}

TEST_F(ContextTest, UnknownSentryKeysSurviveTheRoundTrip) {
  std::string bag = "sentry-trace_id=" + kTrace +
                    ",sentry-replay_id=5f1e2d3c,sentry-new_thing=a%2Cb,"
                    "sentry-sample_rand=0.5,x=1";
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS0}, {"baggage", bag}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_),
            "sentry-trace_id=" + kTrace +
                ",sentry-replay_id=5f1e2d3c,sentry-new_thing=a%2Cb,"
                "sentry-sample_rand=0.5");
  EXPECT_EQ(Dsc(&ctx_, "new_thing"), "a,b");
  EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_NO);
}

// Properties are not part of the DSC: a Sentry member is kept and sent as
// key=value, so that the Sentry SDKs downstream, which read everything
// after the first '=' as the value, see the value stp saw (an org id 123
// sent on as "123;p" would make them start a new trace). Third-party
// members keep theirs. Both ways into the store: the value scanned in
// place, and members copied one by one once the store has no room for the
// whole value.
TEST_F(ContextTest, SentryMembersKeepNoProperties) {
  const std::string dsc_in = "sentry-trace_id=" + kTrace +
                             ";p,sentry-org_id=123;p=1 ; q,"
                             "sentry-release = 1.0 ;\tx,sentry-x=a;,"
                             "sentry-sample_rand=0.5;r=1";
  const std::string dsc_out = "sentry-trace_id=" + kTrace +
                              ",sentry-org_id=123,sentry-release=1.0,"
                              "sentry-x=a,sentry-sample_rand=0.5";
  const std::string third = "vendor=v;keep=1;k2";
  // 40 third-party members of 200 bytes first: the second header no
  // longer fits whole in the store and is copied member by member.
  std::string filler;
  for (int i = 0; i < 40; i++)
    filler += (filler.empty() ? "" : ",") + std::string("f=") +
              std::string(198, 'x');
  struct {
    const char *what;
    Headers headers;
    std::string want_third;
  } cases[] = {
      {"scanned in place",
       {{"sentry-trace", kTS1}, {"baggage", third + "," + dsc_in}},
       third},
      {"copied one by one",
       {{"sentry-trace", kTS1},
        {"baggage", filler},
        {"baggage", third + "," + dsc_in}},
       ""},
  };
  for (auto &c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_EQ(Continue(&ctx_, third_party_cfg_.get(), c.headers), STP_OK);
    EXPECT_EQ(Dsc(&ctx_, "org_id"), "123");
    EXPECT_EQ(Dsc(&ctx_, "release"), "1.0");
    for (size_t i = 0; i < stp_context_member_count(&ctx_); i++) {
      stp_baggage_member m;
      bool is_sentry = false;
      ASSERT_EQ(stp_context_member(&ctx_, &m, &is_sentry, i), STP_OK);
      if (is_sentry) {
        EXPECT_EQ(m.props_len, 0u) << std::string(m.key, m.key_len);
      }
    }
    std::string out = BaggageOf(&ctx_);
    std::vector<std::string> sentry;
    for (const auto &m : Members(out))
      if (StartsWith(m, "sentry-"))
        sentry.push_back(m);
    EXPECT_EQ(Join(sentry, ","), dsc_out) << out;
    if (!c.want_third.empty()) {
      EXPECT_TRUE(Contains(out, c.want_third)) << out;
    }
  }
}

TEST_F(ContextTest, DscIsPropagatedAsReceivedNotRebuilt) {
  // The incoming DSC names another release and no public key: our options
  // must not leak into it.
  std::string bag = "sentry-trace_id=" + kTrace +
                    ",sentry-release=other,sentry-sample_rand=0.9";
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS0}, {"baggage", bag}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_), bag);
  EXPECT_EQ(stp_context_set_transaction(&ctx_, "x", 1), STP_ERR_FROZEN);
  EXPECT_EQ(BaggageOf(&ctx_), bag);
}

TEST_F(ContextTest, TraceIdMovedFirstInOutput) {
  std::string bag = "sentry-sample_rand=0.5,sentry-environment=prod,"
                    "sentry-trace_id=" + kTrace;
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_TRUE(StartsWith(out, "sentry-trace_id=" + kTrace + ",")) << out;
  EXPECT_EQ(SortedSentry(out), SortedSentry(bag));
}

// ---- old SDKs and sample_rand -----------------------------------------------

struct OldSdkCase {
  const char *what;
  std::string trace;
  std::string baggage;  // no sentry-* members
  stp_sampled sampled;
};

TEST_F(ContextTest, OldSdkGetsOnlyABackfilledSampleRand) {
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
TEST_F(ContextTest, IncomingSampleRandIsReadExactly) {
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

TEST_F(ContextTest, SampleRandReuseAndBackfillRanges) {
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

TEST_F(ContextTest, HeadInvariantAndDsc) {
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

TEST_F(ContextTest, TracingWithoutPerformance) {
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

TEST_F(ContextTest, ParentDecisionWinsOverLocalRate) {
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

TEST_F(ContextTest, DscSampledDecidesWhenTheFlagIsAbsent) {
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

TEST_F(ContextTest, SetTransactionBeforeFreeze) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  std::string name = "GET /api/users";
  ASSERT_EQ(stp_context_set_transaction(&ctx_, name.data(), name.size()),
            STP_OK);
  name = "POST /login";  // replaces the first one
  ASSERT_EQ(stp_context_set_transaction(&ctx_, name.data(), name.size()),
            STP_OK);
  EXPECT_EQ(Dsc(&ctx_, "transaction"), "POST /login");
  std::string out = BaggageOf(&ctx_);
  EXPECT_TRUE(Contains(out, "sentry-transaction=POST%20/login")) << out;
  EXPECT_FALSE(Contains(out, "api")) << out;
  EXPECT_EQ(stp_context_set_transaction(&ctx_, "x", 1), STP_ERR_FROZEN);

  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  stp_context_freeze(&ctx_);
  EXPECT_TRUE(stp_context_frozen(&ctx_));
  EXPECT_EQ(stp_context_set_transaction(&ctx_, "x", 1), STP_ERR_FROZEN);
}

// Between begin and finish the context may yet continue a DSC, which must
// go on as received: a name set then was stored first and made the
// incoming one a repeated key. A name that does not fit leaves the one set
// before.
TEST_F(ContextTest, SetTransactionRefusedWhileFeedingAndKeptWhenFull) {
  stp_context_begin(&ctx_, cfg_.get());
  EXPECT_EQ(ErrName(stp_context_set_transaction(&ctx_, "GET /local", 10)),
            ErrName(STP_ERR_STATE));
  const std::string bag = "sentry-trace_id=" + kTrace +
                          ",sentry-transaction=upstream,sentry-sample_rand=0.25";
  stp_context_feed(&ctx_, "sentry-trace", 12, kTS1.data(), kTS1.size());
  stp_context_feed(&ctx_, "baggage", 7, bag.data(), bag.size());
  ASSERT_EQ(stp_context_finish(&ctx_), STP_OK);
  EXPECT_EQ(Dsc(&ctx_, "transaction"), "upstream");
  EXPECT_EQ(BaggageOf(&ctx_), bag);

  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  ASSERT_EQ(stp_context_set_transaction(&ctx_, "GET /a", 6), STP_OK);
  const std::string huge(8150, 'n');
  EXPECT_EQ(stp_context_set_transaction(&ctx_, huge.data(), huge.size()),
            STP_ERR_LIMIT);
  EXPECT_EQ(Dsc(&ctx_, "transaction"), "GET /a");
  EXPECT_TRUE(Contains(BaggageOf(&ctx_), "sentry-transaction=GET%20/a"));
}

// A DSC key may be given without its prefix, however long it is.
TEST_F(ContextTest, LongDscKeyFoundWithoutItsPrefix) {
  const std::string key(130, 'k');
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace + ",sentry-" +
                                      key + "=v"}}),
            STP_OK);
  EXPECT_EQ(Dsc(&ctx_, "sentry-" + key), "v");
  EXPECT_EQ(Dsc(&ctx_, key), "v");
}

// Members appended to the store go one comma after the last, and a member
// removed takes one comma with it: the outgoing baggage of a context whose
// members are all Sentry's is then the store's bytes as they are, one
// copy. Appending: a head's members, a transaction set, sample_rand added
// on continuing. Removing: a transaction set again (at the end of the
// store), an invalid sample_rand replaced (in the middle).
TEST_F(ContextTest, StoredMembersStayOneCommaApart) {
  auto stored = [](const stp_context *c) {
    size_t len;
    const char *store = stp__context_store(c, &len);
    return std::string(store, len);
  };
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  ASSERT_EQ(stp_context_set_transaction(&ctx_, "GET /a", 6), STP_OK);
  ASSERT_EQ(stp_context_set_transaction(&ctx_, "POST /b", 7), STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_TRUE(EndsWith(out, ",sentry-transaction=POST%20/b")) << out;
  EXPECT_EQ(out, stored(&ctx_));

  const std::string bag = "sentry-trace_id=" + kTrace +
                          ",sentry-sample_rand=bogus,"
                          "sentry-transaction=GET%20%2Fx,sentry-public_key=k";
  ASSERT_EQ(
      Continue(&ctx_, cfg_.get(), {{"sentry-trace", kTS1}, {"baggage", bag}}),
      STP_OK);
  out = BaggageOf(&ctx_);
  EXPECT_TRUE(StartsWith(out, "sentry-trace_id=" + kTrace +
                                  ",sentry-transaction=GET%20%2Fx,"
                                  "sentry-public_key=k,sentry-sample_rand="))
      << out;
  EXPECT_EQ(out, stored(&ctx_));
}

TEST_F(ContextTest, ChildSpan) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(), {{"sentry-trace", kTS0}}), STP_OK);
  stp_span child;
  stp_context_child_span(&ctx_, &child);
  EXPECT_EQ(Hex(child.trace_id), kTrace);
  EXPECT_TRUE(child.has_parent);
  EXPECT_EQ(Hex(child.parent_span_id), SpanOf(&ctx_));
  EXPECT_NE(Hex(child.span_id), SpanOf(&ctx_));
  EXPECT_EQ(child.sampled, STP_SAMPLED_NO);
  EXPECT_EQ(SentryTraceOf(&ctx_, &child),
            kTrace + "-" + Hex(child.span_id) + "-0");
}

// ---- strict continuation: the org id table ----------------------------------

struct OrgCase {
  const char *what;
  const char *mine;      // configured org id (nullptr: none)
  const char *incoming;  // incoming sentry-org_id (nullptr: absent)
  bool strict;
  bool continues;
};

const OrgCase kOrgs[] = {
    {"both equal", "123", "123", false, true},
    {"both equal, strict", "123", "123", true, true},
    {"both differ", "123", "456", false, false},
    {"both differ, strict", "123", "456", true, false},
    {"only incoming", nullptr, "456", false, true},
    {"only incoming, strict", nullptr, "456", true, false},
    {"only mine", "123", nullptr, false, true},
    {"only mine, strict", "123", nullptr, true, false},
    {"neither", nullptr, nullptr, false, true},
    {"neither, strict", nullptr, nullptr, true, true},
    {"prefix is not equal", "12", "123", false, false},
    {"leading zero is not equal", "123", "0123", false, false},
};

TEST_F(ContextTest, OrgIdTable) {
  for (const auto &c : kOrgs) {
    SCOPED_TRACE(c.what);
    stp_options o = DefaultOptions();
    o.dsn = c.mine ? "https://key@o123.ingest.sentry.io/1"
                   : "https://key@sentry.example.com/1";
    if (c.mine)
      o.org_id = c.mine;
    o.strict_trace_continuation = c.strict;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    std::string bag = "sentry-trace_id=" + kTrace +
                      ",sentry-transaction=incoming,sentry-sample_rand=0.5";
    if (c.incoming)
      bag += std::string(",sentry-org_id=") + c.incoming;
    int err = Continue(&ctx_, cfg.get(),
                       {{"sentry-trace", kTS1}, {"baggage", bag}});
    if (c.continues) {
      EXPECT_EQ(ErrName(err), ErrName(STP_OK));
      EXPECT_EQ(TraceOf(&ctx_), kTrace);
      EXPECT_EQ(Parent(&ctx_), kSpan);
      EXPECT_EQ(Dsc(&ctx_, "transaction"), "incoming");
    } else {
      EXPECT_EQ(ErrName(err), ErrName(STP_ERR_ORG_MISMATCH));
      // A new head: new trace, no parent, incoming baggage dropped.
      EXPECT_NE(TraceOf(&ctx_), kTrace);
      EXPECT_EQ(Parent(&ctx_), "<none>");
      EXPECT_EQ(Dsc(&ctx_, "transaction"), "<absent>");
      EXPECT_EQ(Dsc(&ctx_, "trace_id"), TraceOf(&ctx_));
      EXPECT_FALSE(Contains(BaggageOf(&ctx_), kTrace));
      double r = stp_context_sample_rand(&ctx_);
      EXPECT_EQ(stp_context_span(&ctx_)->sampled,
                r < 0.25 ? STP_SAMPLED_YES : STP_SAMPLED_NO);
    }
  }
}

TEST_F(ContextTest, OrgIdFromDsnAndOverride) {
  // DSN says o123, the option says 456: 456 is ours.
  stp_options o = DefaultOptions();
  o.org_id = "456";
  o.strict_trace_continuation = true;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  std::string base = "sentry-trace_id=" + kTrace + ",sentry-org_id=";
  EXPECT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1}, {"baggage", base + "456"}}),
            STP_OK);
  EXPECT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1}, {"baggage", base + "123"}}),
            STP_ERR_ORG_MISMATCH);
  // A head's DSC carries the configured org id.
  ASSERT_EQ(stp_context_init(&ctx_, cfg.get()), STP_OK);
  EXPECT_EQ(Dsc(&ctx_, "org_id"), "456");
}

// ---- which header is used ---------------------------------------------------

struct SourceCase {
  const char *what;
  bool accept_traceparent;
  Headers headers;
  int status;
  std::string trace;  // "" = a new head
  std::string parent;
  stp_sampled sampled;  // for continued ones (config without rate)
};

TEST_F(ContextTest, HeaderSelectionTable) {
  const SourceCase cases[] = {
      {"sentry-trace only", true, {{"sentry-trace", kTS1}}, STP_OK, kTrace,
       kSpan, STP_SAMPLED_YES},
      {"header names are case-insensitive", true,
       {{"Sentry-Trace", kTS0}, {"BAGGAGE", "sentry-sample_rand=0.5"}},
       STP_OK, kTrace, kSpan, STP_SAMPLED_NO},
      {"traceparent only, 01", true, {{"traceparent", kTP01}}, STP_OK,
       kTrace2, kSpan2, STP_SAMPLED_YES},
      {"traceparent only, 00 is deferred", true, {{"traceparent", kTP00}},
       STP_OK, kTrace2, kSpan2, STP_SAMPLED_DEFERRED},
      {"traceparent name case-insensitive", true, {{"TraceParent", kTP01}},
       STP_OK, kTrace2, kSpan2, STP_SAMPLED_YES},
      {"both valid: sentry-trace wins", true,
       {{"traceparent", kTP01}, {"sentry-trace", kTS0}}, STP_OK, kTrace, kSpan,
       STP_SAMPLED_NO},
      {"invalid sentry-trace: traceparent used", true,
       {{"sentry-trace", kTrace + "-" + kSpan + "-2"}, {"traceparent", kTP01}},
       STP_OK, kTrace2, kSpan2, STP_SAMPLED_YES},
      {"traceparent ignored when not accepted", false,
       {{"traceparent", kTP01}}, STP_ERR_ABSENT, "", "", STP_SAMPLED_DEFERRED},
      {"not accepted, invalid sentry-trace", false,
       {{"sentry-trace", "bogus"}, {"traceparent", kTP01}}, STP_ERR_MALFORMED,
       "", "", STP_SAMPLED_DEFERRED},
      {"nothing at all", true, {}, STP_ERR_ABSENT, "", "",
       STP_SAMPLED_DEFERRED},
      {"unrelated headers only", true,
       {{"content-type", "text/plain"}, {"x-sentry-trace", kTS1}},
       STP_ERR_ABSENT, "", "", STP_SAMPLED_DEFERRED},
      {"baggage without any trace header", true,
       {{"baggage", kRefBaggage}}, STP_ERR_ABSENT, "", "",
       STP_SAMPLED_DEFERRED},
      {"invalid sentry-trace only: its error", true,
       {{"sentry-trace", kTrace + "-" + kSpan + "-2"}}, STP_ERR_SAMPLED_FLAG,
       "", "", STP_SAMPLED_DEFERRED},
      {"zero trace id: its error", true,
       {{"sentry-trace", std::string(32, '0') + "-" + kSpan + "-1"}},
       STP_ERR_ZERO_ID, "", "", STP_SAMPLED_DEFERRED},
      {"invalid traceparent only: its error", true,
       {{"traceparent", "ff-" + kTrace2 + "-" + kSpan2 + "-01"}},
       STP_ERR_VERSION, "", "", STP_SAMPLED_DEFERRED},
      {"header injection attempt", true,
       {{"sentry-trace", kTS1 + "\r\nX-Evil: 1"}}, STP_ERR_CONTROL_CHAR, "",
       "", STP_SAMPLED_DEFERRED},
      // Several values: the first valid sentry-trace.
      {"first valid of several sentry-trace", true,
       {{"sentry-trace", "garbage"},
        {"sentry-trace", kTS1},
        {"sentry-trace", kTrace2 + "-" + kSpan2 + "-0"}},
       STP_OK, kTrace, kSpan, STP_SAMPLED_YES},
      {"first of two valid sentry-trace", true,
       {{"sentry-trace", kTrace2 + "-" + kSpan2 + "-0"},
        {"sentry-trace", kTS1}},
       STP_OK, kTrace2, kSpan2, STP_SAMPLED_NO},
      {"folded value inside one header", true,
       {{"sentry-trace", ",bad," + kTS1}}, STP_OK, kTrace, kSpan,
       STP_SAMPLED_YES},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    stp_options o = DefaultOptions();
    o.has_sample_rate = false;  // so deferred stays deferred
    o.accept_traceparent = c.accept_traceparent;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    int err = Continue(&ctx_, cfg.get(), c.headers);
    EXPECT_EQ(ErrName(err), ErrName(c.status));
    if (c.trace.empty()) {
      EXPECT_FALSE(stp_context_continued(&ctx_));
      EXPECT_EQ(Parent(&ctx_), "<none>");
      EXPECT_NE(TraceOf(&ctx_), kTrace);
      EXPECT_NE(TraceOf(&ctx_), kTrace2);
      EXPECT_EQ(Dsc(&ctx_, "trace_id"), TraceOf(&ctx_));
      EXPECT_EQ(Dsc(&ctx_, "public_key"), kPublicKey);
      EXPECT_EQ(Dsc(&ctx_, "transaction"), "<absent>");
    } else {
      EXPECT_EQ(TraceOf(&ctx_), c.trace);
      EXPECT_EQ(Parent(&ctx_), c.parent);
      EXPECT_EQ(stp_context_span(&ctx_)->sampled, c.sampled);
    }
  }
}

TEST_F(ContextTest, AllBaggageValuesAreCombinedInOrder) {
  const ConfigPtr &cfg = third_party_cfg_;
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"baggage", "sentry-trace_id=" + kTrace + ",a=1"},
                      {"sentry-trace", kTS1},
                      {"Baggage", "sentry-sample_rand=0.5,bad member,b=2"},
                      {"baggage", ""},
                      {"baggage", "sentry-transaction=t,c=3;p"}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_),
            "a=1,b=2,c=3;p,sentry-trace_id=" + kTrace +
                ",sentry-sample_rand=0.5,sentry-transaction=t");
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 1u);
  EXPECT_EQ(stp_context_sample_rand(&ctx_), 0.5);
}

// Members go out as key=value[;properties] whatever whitespace they came
// with; one received exactly so goes out byte for byte, and a tab in
// properties goes out as a space.
TEST_F(ContextTest, OutgoingMembersAreWrittenWithoutTheirWhitespace) {
  const ConfigPtr &cfg = third_party_cfg_;
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace +
                                      " , sentry-release = a%40b ,"
                                      "\tsentry-environment=prod\t,"
                                      "sentry-sample_rand=0.25,"
                                      "a=1;p = q;r,b = 2 ; x\ty ,c=3;\tz"}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_),
            "a=1;p = q;r,b=2;x y,c=3;z,sentry-trace_id=" + kTrace +
                ",sentry-release=a%40b,sentry-environment=prod,"
                "sentry-sample_rand=0.25");
}

// Members of one header are written out in runs of one copy where they
// follow each other in the input; a skipped, repeated or reordered member
// in between ends a run, and what goes out is the same as member by member.
TEST_F(ContextTest, OutgoingRunsBreakWhereTheInputHasGaps) {
  const ConfigPtr &cfg = third_party_cfg_;
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-release=r1,sentry-trace_id=" +
                                      kTrace +
                                      ",sentry-environment=prod,bad key=1,"
                                      "sentry-sample_rand=0.5,a=1,"
                                      "sentry-release=again,b=2;p,c = 3,"
                                      "d=4"},
                      {"baggage", "e=5,sentry-transaction=t"}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_), "a=1,b=2;p,c=3,d=4,e=5,sentry-trace_id=" +
                                  kTrace +
                                  ",sentry-release=r1,sentry-environment=prod,"
                                  "sentry-sample_rand=0.5,sentry-transaction=t");
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 1u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 1u);
}

TEST_F(ContextTest, MalformedBaggageMembersAreSkippedAlone) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace +
                                      ",sentry-release=a b,sentry-x=\"q\","
                                      "sentry-environment=prod\r\n,"
                                      "sentry-sample_rand=0.5"}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_),
            "sentry-trace_id=" + kTrace + ",sentry-sample_rand=0.5");
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 3u);
}

TEST_F(ContextTest, CarrierFailure) {
  stp_carrier c = {[](void *, stp_header_fn, void *) { return -7; }, nullptr,
                   nullptr};
  int err = stp_context_continue(&ctx_, cfg_.get(), &c);
  EXPECT_EQ(ErrName(err), ErrName(STP_ERR_CARRIER));
  EXPECT_FALSE(stp_context_continued(&ctx_));
  EXPECT_FALSE(stp_trace_id_is_zero(&stp_context_span(&ctx_)->trace_id));
}

TEST_F(ContextTest, IncrementalFeed) {
  EXPECT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  // feed and finish outside begin/finish: the wrong time, not a bad
  // argument
  EXPECT_EQ(ErrName(stp_context_feed(&ctx_, "sentry-trace", 12, kTS1.data(),
                                     kTS1.size())),
            ErrName(STP_ERR_STATE));
  EXPECT_EQ(ErrName(stp_context_finish(&ctx_)), ErrName(STP_ERR_STATE));
  EXPECT_EQ(ErrName(stp_context_begin(&ctx_, nullptr)),
            ErrName(STP_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(ErrName(stp_context_begin(nullptr, cfg_.get())),
            ErrName(STP_ERR_INVALID_ARGUMENT));
  ASSERT_EQ(stp_context_begin(&ctx_, cfg_.get()), STP_OK);
  EXPECT_EQ(ErrName(stp_context_feed(&ctx_, nullptr, 3, "v", 1)),
            ErrName(STP_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(stp_context_feed(&ctx_, "host", 4, "example.com", 11), STP_OK);
  EXPECT_EQ(stp_context_feed(&ctx_, "SENTRY-TRACE", 12, kTS0.data(),
                             kTS0.size()),
            STP_OK);
  EXPECT_EQ(stp_context_feed(&ctx_, "baggage", 7, kRefBaggage.data(),
                             kRefBaggage.size()),
            STP_OK);
  EXPECT_EQ(stp_context_finish(&ctx_), STP_OK);
  EXPECT_EQ(stp_context_span(&ctx_)->sampled, STP_SAMPLED_NO);
  EXPECT_EQ(BaggageOf(&ctx_), kRefDsc);
  EXPECT_EQ(ErrName(stp_context_feed(&ctx_, "sentry-trace", 12, kTS1.data(),
                                     kTS1.size())),
            ErrName(STP_ERR_STATE));
  EXPECT_EQ(ErrName(stp_context_finish(&ctx_)), ErrName(STP_ERR_STATE));
}

struct NameEqualCase {
  const char *what, *a, *b;
  bool equal;
};

const NameEqualCase kNameEqual[] = {
    {"same lowercase", "baggage", "baggage", true},
    {"either side uppercase", "BAGGAGE", "baggage", true},
    {"both mixed case", "Sentry-Trace", "sENTRY-tRACE", true},
    {"different lengths", "baggage", "baggages", false},
    {"one letter differs", "baggage", "baggagf", false},
    {"'@' is not a case of '`'", "a@", "a`", false},
    {"'[' is not a case of '{'", "x[", "x{", false},
    {"bytes above 0x7f compared as they are", "\xc3\x89", "\xc3\xa9", false},
    {"empty names", "", "", true},
};

TEST(HeaderNames, EqualUpToAsciiCase) {
  for (const auto &c : kNameEqual) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(stp_header_name_equal(c.a, strlen(c.a), c.b, strlen(c.b)),
              c.equal);
    EXPECT_EQ(stp_header_name_equal(c.b, strlen(c.b), c.a, strlen(c.a)),
              c.equal);
  }
}

TEST_F(ContextTest, HeaderCandidatesByName) {
  // Every name feed takes is a candidate, in any case.
  for (const char *name : {"sentry-trace", "SENTRY-TRACE", "Sentry-Trace",
                           "traceparent", "TraceParent", "baggage", "BAGGAGE"})
    EXPECT_TRUE(stp_header_is_candidate(name, strlen(name))) << name;
  // Names of other lengths, and pseudo-headers, are not; a name of the
  // right length may be (feed then compares it).
  for (const char *name : {"", "host", ":method", ":scheme", ":authority",
                           ":path", "sentry-trace2", "traceparent-x", "bagga",
                           "user-agent", "accept-encoding"})
    EXPECT_FALSE(stp_header_is_candidate(name, strlen(name))) << name;
  EXPECT_FALSE(stp_header_is_candidate(nullptr, 0));
  EXPECT_TRUE(stp_header_is_candidate("content-type", 12));

  // A pseudo-header whose name has a trace header's length is ignored.
  stp_context_begin(&ctx_, cfg_.get());
  EXPECT_EQ(stp_context_feed(&ctx_, ":entry-trace", 12, kTS0.data(),
                             kTS0.size()),
            STP_OK);
  EXPECT_EQ(stp_context_finish(&ctx_), STP_ERR_ABSENT);
}

// ---- injecting --------------------------------------------------------------

TEST_F(ContextTest, InjectIntoAnEmptyCarrier) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  Headers out;
  stp_carrier c = out.Carrier();
  ASSERT_EQ(stp_context_inject(&ctx_, &c, nullptr), STP_OK);
  EXPECT_EQ(out.All("sentry-trace"),
            std::vector<std::string>{kTrace + "-" + SpanOf(&ctx_) + "-1"});
  EXPECT_EQ(out.All("baggage"), std::vector<std::string>{kRefDsc});
  EXPECT_TRUE(out.All("traceparent").empty());
  // Names are emitted lowercase.
  for (const auto &h : out.list)
    EXPECT_TRUE(h.first == "sentry-trace" || h.first == "baggage") << h.first;
}

TEST_F(ContextTest, InjectMergesExistingBaggageAndReplacesSentryTrace) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  Headers out{{"Sentry-Trace", kTrace2 + "-" + kSpan2 + "-0"},
              {"content-type", "application/json"},
              {"baggage", "mine=1,sentry-release=stale,sentry-trace_id=" +
                              kTrace2},
              {"Baggage", "theirs=2;p=q,bad member,sentry-sampled=false"}};
  stp_carrier c = out.Carrier();
  ASSERT_EQ(stp_context_inject(&ctx_, &c, nullptr), STP_OK);
  EXPECT_EQ(out.All("sentry-trace"),
            std::vector<std::string>{kTrace + "-" + SpanOf(&ctx_) + "-1"});
  ASSERT_EQ(out.All("baggage").size(), 1u);
  EXPECT_EQ(out.All("baggage")[0], "mine=1,theirs=2;p=q," + kRefDsc);
  EXPECT_EQ(out.All("content-type"),
            std::vector<std::string>{"application/json"});
  EXPECT_TRUE(stp_context_frozen(&ctx_));
}

TEST_F(ContextTest, InjectChildSpanAndTraceparent) {
  stp_options o = DefaultOptions();
  o.propagate_traceparent = true;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  const struct {
    const char *what;
    std::string in;
    const char *tp_flags;
    const char *st_flag;
  } cases[] = {
      {"sampled", kTS1, "-01", "-1"},
      {"not sampled", kTS0, "-00", "-0"},
  };
  for (const auto &k : cases) {
    SCOPED_TRACE(k.what);
    ASSERT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", k.in}}), STP_OK);
    stp_span child;
    stp_context_child_span(&ctx_, &child);
    Headers out{{"traceparent", "00-" + kTrace2 + "-" + kSpan2 + "-01"}};
    stp_carrier c = out.Carrier();
    ASSERT_EQ(stp_context_inject(&ctx_, &c, &child), STP_OK);
    std::string sid = Hex(child.span_id);
    EXPECT_EQ(out.All("sentry-trace"),
              std::vector<std::string>{kTrace + "-" + sid + k.st_flag});
    EXPECT_EQ(out.All("traceparent"),
              std::vector<std::string>{"00-" + kTrace + "-" + sid +
                                       k.tp_flags});
  }
  // Deferred: traceparent says 00, sentry-trace has no flag.
  stp_options o2 = o;
  o2.has_sample_rate = false;
  ConfigPtr cfg2 = MakeConfig(o2);
  ASSERT_TRUE(cfg2);
  ASSERT_EQ(Continue(&ctx_, cfg2.get(), {{"sentry-trace", kTSD}}), STP_OK);
  Headers out;
  stp_carrier c = out.Carrier();
  ASSERT_EQ(stp_context_inject(&ctx_, &c, nullptr), STP_OK);
  EXPECT_EQ(out.All("traceparent"),
            std::vector<std::string>{"00-" + kTrace + "-" + SpanOf(&ctx_) +
                                     "-00"});
  EXPECT_EQ(out.All("sentry-trace"),
            std::vector<std::string>{kTrace + "-" + SpanOf(&ctx_)});
}

TEST_F(ContextTest, InjectSetFailure) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  Headers out;
  out.fail_set = 1;
  stp_carrier c = out.Carrier();
  EXPECT_EQ(ErrName(stp_context_inject(&ctx_, &c, nullptr)),
            ErrName(STP_ERR_CARRIER));
  out.fail_set = STP_ERR_NOMEM;
  EXPECT_EQ(ErrName(stp_context_inject(&ctx_, &c, nullptr)),
            ErrName(STP_ERR_NOMEM));
  stp_carrier read_only = {Headers::Foreach, nullptr, &out};
  EXPECT_EQ(stp_context_inject(&ctx_, &read_only, nullptr),
            STP_ERR_INVALID_ARGUMENT);
}

TEST_F(ContextTest, ThirdPartyBaggagePropagation) {
  const struct {
    const char *what;
    bool propagate;
    std::string want;
  } cases[] = {
      {"default: dropped", false, kRefDsc},
      {"propagate_third_party_baggage", true,
       "vendor=abc;prop=1,other=x," + kRefDsc},
  };
  for (const auto &k : cases) {
    SCOPED_TRACE(k.what);
    stp_options o = DefaultOptions();
    o.propagate_third_party_baggage = k.propagate;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    ASSERT_EQ(Continue(&ctx_, cfg.get(),
                       {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
              STP_OK);
    EXPECT_EQ(BaggageOf(&ctx_), k.want);
    // With an existing value: its members first.
    EXPECT_EQ(BaggageOf(&ctx_, "mine=1,sentry-x=y"), "mine=1," + k.want);
  }
}

TEST_F(ContextTest, BaggageBufferTooSmall) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  std::vector<char> buf(kRefDsc.size());
  size_t n = 0;
  EXPECT_EQ(stp_context_baggage(&ctx_, buf.data(), buf.size(), &n, nullptr, 0),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, kRefDsc.size() + 1);
  n = 0;
  EXPECT_EQ(stp_context_baggage(&ctx_, nullptr, 0, &n, nullptr, 0),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, kRefDsc.size() + 1);
  char small[STP_SENTRY_TRACE_MAX_LEN];
  n = 0;
  EXPECT_EQ(stp_context_sentry_trace(&ctx_, small, sizeof small, &n, nullptr),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 52u);
}

TEST_F(ContextTest, NoControlCharactersReachOutput) {
  const ConfigPtr &cfg = third_party_cfg_;
  std::string evil = "a=1\r\nX-Evil: 1,b=2;p\nq,c=3,sentry-e=\x01,d=%0D%0A";
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1}, {"baggage", evil}}),
            STP_OK);
  std::string out = BaggageOf(&ctx_, "x=1\n,y=2");
  EXPECT_TRUE(WellFormedBaggage(out)) << out;
  EXPECT_EQ(SortedSentry(out).size(), 1u);  // only the backfilled rand
  std::vector<std::string> m = Members(out);
  m.erase(m.end() - 1);
  EXPECT_EQ(Join(m, ","), "y=2,c=3,d=%0D%0A");
}

// ---- propagation targets ----------------------------------------------------

TEST_F(ContextTest, TargetsDoNotAffectContinuing) {
  static const char *const kNone[1] = {nullptr};
  stp_options o = DefaultOptions();
  o.targets = kNone;
  o.targets_len = 0;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(Continue(&ctx_, cfg.get(), {{"sentry-trace", kTS1}}), STP_OK);
  std::string url = "https://example.com/";
  EXPECT_FALSE(ShouldPropagate(cfg.get(), url.data(), url.size()));
}

// ---- environment variables --------------------------------------------------

class EnvTest : public ContextTest {
 protected:
  void TearDown() override {
    unsetenv("SENTRY_TRACE");
    unsetenv("SENTRY_BAGGAGE");
    unsetenv("SENTRY_USE_ENVIRONMENT");
  }
};

TEST_F(EnvTest, ContinuesFromEnvironment) {
  setenv("SENTRY_TRACE", kTS1.c_str(), 1);
  setenv("SENTRY_BAGGAGE", kRefBaggage.c_str(), 1);
  unsetenv("SENTRY_USE_ENVIRONMENT");
  ASSERT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_OK);
  EXPECT_EQ(TraceOf(&ctx_), kTrace);
  EXPECT_EQ(Parent(&ctx_), kSpan);
  EXPECT_EQ(BaggageOf(&ctx_), kRefDsc);
}

TEST_F(EnvTest, AbsentEnvironmentStartsAHead) {
  unsetenv("SENTRY_TRACE");
  unsetenv("SENTRY_BAGGAGE");
  EXPECT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_ERR_ABSENT);
  EXPECT_FALSE(stp_context_continued(&ctx_));
  EXPECT_FALSE(stp_trace_id_is_zero(&stp_context_span(&ctx_)->trace_id));
  setenv("SENTRY_TRACE", "junk", 1);
  EXPECT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_ERR_MALFORMED);
}

struct UseEnvCase {
  const char *value;  // nullptr: unset
  bool disabled;
};

TEST_F(EnvTest, UseEnvironmentTable) {
  const UseEnvCase cases[] = {
      {"false", true}, {"FALSE", true}, {"False", true}, {"no", true},
      {"NO", true},    {"off", true},   {"OfF", true},   {"n", true},
      {"N", true},     {"0", true},     {nullptr, false}, {"true", false},
      {"1", false},    {"yes", false},  {"on", false},   {"", false},
      {"nope", false}, {"00", false},   {"falsey", false}, {"f", false},
  };
  setenv("SENTRY_TRACE", kTS1.c_str(), 1);
  setenv("SENTRY_BAGGAGE", kRefBaggage.c_str(), 1);
  for (const auto &c : cases) {
    SCOPED_TRACE(c.value ? std::string("\"") + c.value + "\"" : "unset");
    if (c.value)
      setenv("SENTRY_USE_ENVIRONMENT", c.value, 1);
    else
      unsetenv("SENTRY_USE_ENVIRONMENT");
    int err = stp_context_continue_env(&ctx_, cfg_.get());
    if (c.disabled) {
      EXPECT_EQ(ErrName(err), ErrName(STP_ERR_DISABLED));
      EXPECT_FALSE(stp_context_continued(&ctx_));
      EXPECT_NE(TraceOf(&ctx_), kTrace);
      EXPECT_EQ(Dsc(&ctx_, "public_key"), kPublicKey);
    } else {
      EXPECT_EQ(ErrName(err), ErrName(STP_OK));
      EXPECT_EQ(TraceOf(&ctx_), kTrace);
    }
  }
}

TEST_F(EnvTest, WritesVariablesForAChild) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  char trace[STP_ENV_TRACE_MAX_LEN + 1], bag[STP_ENV_BAGGAGE_MAX_LEN + 1];
  size_t trace_len, bag_len;
  ASSERT_EQ(stp_context_env_sentry_trace(&ctx_, trace, sizeof trace, &trace_len,
                                         nullptr),
            STP_OK);
  ASSERT_EQ(stp_context_env_baggage(&ctx_, bag, sizeof bag, &bag_len), STP_OK);
  EXPECT_EQ(trace_len, strlen(trace));
  EXPECT_EQ(bag_len, strlen(bag));
  EXPECT_EQ(std::string(trace),
            "SENTRY_TRACE=" + kTrace + "-" + SpanOf(&ctx_) + "-1");
  EXPECT_EQ(std::string(bag), "SENTRY_BAGGAGE=" + kRefDsc);
  // A child process continues from them.
  ASSERT_EQ(putenv(trace), 0);
  ASSERT_EQ(putenv(bag), 0);
  stp_context child;
  ASSERT_EQ(stp_context_continue_env(&child, cfg_.get()), STP_OK);
  EXPECT_EQ(TraceOf(&child), kTrace);
  EXPECT_EQ(Parent(&child), SpanOf(&ctx_));
  EXPECT_EQ(BaggageOf(&child), kRefDsc);
  unsetenv("SENTRY_TRACE");
  unsetenv("SENTRY_BAGGAGE");
  // Too small a buffer, with and without room for the name: the size
  // needed comes back either way.
  for (size_t cap : {size_t{0}, size_t{5}, size_t{20}, trace_len}) {
    char tiny[STP_ENV_TRACE_MAX_LEN + 1];
    size_t need = 0;
    EXPECT_EQ(stp_context_env_sentry_trace(&ctx_, cap ? tiny : nullptr, cap,
                                           &need, nullptr),
              STP_ERR_BUFFER_TOO_SMALL)
        << cap;
    EXPECT_EQ(need, trace_len + 1) << cap;
    need = 0;
    EXPECT_EQ(stp_context_env_baggage(&ctx_, cap ? tiny : nullptr, cap, &need),
              STP_ERR_BUFFER_TOO_SMALL)
        << cap;
    EXPECT_EQ(need, bag_len + 1) << cap;
  }
}

// ---- HTML meta tags ---------------------------------------------------------

std::string Unescape(const std::string &s) {
  static const std::pair<const char *, char> kEntities[] = {
      {"&amp;", '&'},   {"&lt;", '<'},   {"&gt;", '>'},   {"&quot;", '"'},
      {"&#34;", '"'},   {"&#x22;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''},
      {"&apos;", '\''},
  };
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool done = false;
    for (const auto &e : kEntities) {
      size_t n = strlen(e.first);
      if (s.compare(i, n, e.first) == 0) {
        out += e.second;
        i += n;
        done = true;
        break;
      }
    }
    if (!done)
      out += s[i++];
  }
  return out;
}

std::string Meta(stp_context *ctx) {
  std::vector<char> buf(STP_META_MAX_LEN + 1);
  size_t n = 0;
  EXPECT_EQ(stp_context_meta(ctx, buf.data(), buf.size(), &n), STP_OK);
  return std::string(buf.data(), n);
}

TEST_F(ContextTest, MetaTagsEscapeContent) {
  const ConfigPtr &cfg = third_party_cfg_;
  // Props may hold < > " and '; values may hold & and '.
  std::string bag = "sentry-trace_id=" + kTrace +
                    ",sentry-transaction=%22><script>alert('x')&amp,"
                    "sentry-sample_rand=0.5,v=1;p=\"<b>\"'&";
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  std::string baggage = BaggageOf(&ctx_);
  std::string meta = Meta(&ctx_);
  const std::string head = "<meta name=\"sentry-trace\" content=\"";
  const std::string mid = "\"><meta name=\"baggage\" content=\"";
  const std::string tail = "\">";
  ASSERT_TRUE(StartsWith(meta, head)) << meta;
  size_t m1 = meta.find(mid);
  ASSERT_NE(m1, std::string::npos) << meta;
  ASSERT_EQ(meta.compare(meta.size() - tail.size(), tail.size(), tail), 0)
      << meta;
  std::string trace_content = meta.substr(head.size(), m1 - head.size());
  std::string content = meta.substr(
      m1 + mid.size(), meta.size() - tail.size() - m1 - mid.size());
  for (const std::string *part : {&trace_content, &content})
    EXPECT_EQ(part->find_first_of("\"<>'"), std::string::npos) << *part;
  EXPECT_EQ(trace_content, kTrace + "-" + SpanOf(&ctx_) + "-1");
  EXPECT_EQ(Unescape(content), baggage);
  // Every & in the content starts an entity.
  for (size_t i = content.find('&'); i != std::string::npos;
       i = content.find('&', i + 1))
    EXPECT_TRUE(content.compare(i, 5, "&amp;") == 0 ||
                content.compare(i, 4, "&lt;") == 0 ||
                content.compare(i, 4, "&gt;") == 0 ||
                content.compare(i, 6, "&quot;") == 0 ||
                content.compare(i, 2, "&#") == 0 ||
                content.compare(i, 6, "&apos;") == 0)
        << content.substr(i);
  EXPECT_FALSE(Contains(meta, "<script>"));
  EXPECT_TRUE(stp_context_frozen(&ctx_));
}

TEST_F(ContextTest, MetaTagsOfAHeadWithAHostileTransactionName) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  std::string name = "\"><script>alert(1)</script>&'";
  ASSERT_EQ(stp_context_set_transaction(&ctx_, name.data(), name.size()),
            STP_OK);
  std::string meta = Meta(&ctx_);
  EXPECT_TRUE(StartsWith(meta, "<meta name=\"sentry-trace\" content=\"" +
                                   TraceOf(&ctx_) + "-" + SpanOf(&ctx_)))
      << meta;
  EXPECT_FALSE(Contains(meta, "<script>")) << meta;
  EXPECT_FALSE(Contains(meta, "'")) << meta;
  EXPECT_TRUE(Contains(meta, "&gt;&lt;script&gt;")) << meta;
  EXPECT_EQ(Dsc(&ctx_, "transaction"), name);
  EXPECT_EQ(stp_context_set_transaction(&ctx_, "x", 1), STP_ERR_FROZEN);
  size_t n = 0;
  EXPECT_EQ(stp_context_meta(&ctx_, nullptr, 0, &n), STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, meta.size() + 1);
}

// ---- the implicit API -------------------------------------------------------

TEST_F(ContextTest, ImplicitApi) {
  ASSERT_EQ(stp_current(), nullptr);
  char buf[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n;
  EXPECT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_ERR_NO_CONTEXT);
  EXPECT_EQ(stp_get_baggage(buf, sizeof buf, &n), STP_ERR_NO_CONTEXT);

  Headers h{{"sentry-trace", kTS1}, {"baggage", kRefBaggage}};
  stp_carrier c = h.Carrier();
  stp_token tok;
  ASSERT_EQ(stp_continue_trace(&ctx_, &tok, cfg_.get(), &c), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  ASSERT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n), kTrace + "-" + SpanOf(&ctx_) + "-1");
  ASSERT_EQ(stp_get_baggage(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n), kRefDsc);

  // Nested: an invalid request still attaches a (new head) context.
  stp_context inner;
  Headers bad{{"sentry-trace", "nope"}};
  stp_carrier cb = bad.Carrier();
  stp_token tok2;
  EXPECT_EQ(stp_continue_trace(&inner, &tok2, cfg_.get(), &cb),
            STP_ERR_MALFORMED);
  EXPECT_EQ(stp_current(), &inner);
  ASSERT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n).substr(0, 32), TraceOf(&inner));
  EXPECT_EQ(stp_detach(tok2), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);

  // A NULL argument attaches nothing, and its token detaches to what is
  // current: a caller that always detaches changes nothing.
  stp_token none = {&inner, &inner};
  EXPECT_EQ(stp_continue_trace(&inner, &none, nullptr, &cb),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_current(), &ctx_);
  EXPECT_EQ(stp_detach(none), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  EXPECT_EQ(stp_continue_trace(nullptr, nullptr, cfg_.get(), &cb),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_current(), &ctx_);

  EXPECT_EQ(stp_detach(tok), STP_OK);
  EXPECT_EQ(stp_current(), nullptr);

  // Out of order: reported, and restored anyway.
  stp_token a = stp_attach(&ctx_);
  stp_token b = stp_attach(&inner);
  EXPECT_EQ(stp_detach(a), STP_ERR_DETACH_ORDER);
  EXPECT_EQ(stp_current(), nullptr);
  (void)b;
  // Token may be NULL.
  ASSERT_EQ(stp_continue_trace(&ctx_, nullptr, cfg_.get(), &c), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  stp_token t = stp_attach(nullptr);
  EXPECT_EQ(stp_current(), nullptr);
  EXPECT_EQ(stp_detach(t), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  stp_token clear = {nullptr, &ctx_};
  EXPECT_EQ(stp_detach(clear), STP_OK);
  EXPECT_EQ(stp_current(), nullptr);
}

TEST_F(ContextTest, CopyIsIndependentAndComplete) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace +
                                      ",sentry-release=a%40b,other=1;p"}}),
            STP_OK);
  // Garbage in the destination must not survive the copy.
  auto dst = std::make_unique<stp_context>();
  memset(dst.get(), 0x5a, sizeof *dst);
  stp_context_copy(dst.get(), &ctx_);
  EXPECT_EQ(TraceOf(dst.get()), kTrace);
  EXPECT_EQ(SpanOf(dst.get()), SpanOf(&ctx_));
  EXPECT_EQ(Parent(dst.get()), kSpan);
  EXPECT_TRUE(stp_context_continued(dst.get()));
  EXPECT_EQ(stp_context_member_count(dst.get()),
            stp_context_member_count(&ctx_));
  EXPECT_EQ(Dsc(dst.get(), "release"), "a@b");
  EXPECT_EQ(BaggageOf(dst.get()), BaggageOf(&ctx_));
  EXPECT_EQ(SentryTraceOf(dst.get()), SentryTraceOf(&ctx_));
  // Independent: changing the copy leaves the original as it was.
  ASSERT_EQ(stp_context_set_transaction(dst.get(), "x", 1),
            STP_ERR_FROZEN);  // frozen by BaggageOf, like the original
  stp_context_init(dst.get(), cfg_.get());
  EXPECT_EQ(TraceOf(&ctx_), kTrace);
  EXPECT_EQ(Dsc(&ctx_, "release"), "a@b");
}

TEST_F(ContextTest, HeapContext) {
  stp_context *heap = nullptr;
  ASSERT_EQ(stp_context_new(&heap, cfg_.get(), nullptr), STP_OK);
  ASSERT_NE(heap, nullptr);
  EXPECT_FALSE(stp_context_continued(heap));
  EXPECT_EQ(Dsc(heap, "public_key"), kPublicKey);
  stp_context_del(heap);
  EXPECT_EQ(stp_context_new(nullptr, cfg_.get(), nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_init(&ctx_, nullptr), STP_ERR_INVALID_ARGUMENT);
}

}  // namespace
