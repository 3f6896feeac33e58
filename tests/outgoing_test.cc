// Outgoing values (SPEC section 6): the baggage written from the stored
// members, child spans, and injection into a carrier.
#include "test_util.h"

using namespace stp_test;

namespace {

using Outgoing = ContextTest;
using Inject = ContextTest;

// ---- outgoing baggage -------------------------------------------------------

// Members go out as key=value[;properties] whatever whitespace they came
// with; one received exactly so goes out byte for byte, and a tab in
// properties goes out as a space.
TEST_F(Outgoing, MembersAreWrittenWithoutTheirWhitespace) {
  const ConfigPtr &cfg = third_party_cfg_;
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace +
                                      " , sentry-release = a%40b ,"
                                      "\tsentry-environment=prod\t,"
                                      "sentry-sample_rand=0.25,"
                                      "a=1;p = q;r,b = 2 ; x\t=\ty ,c=3;\tz"}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_),
            "a=1;p = q;r,b=2;x = y,c=3;z,sentry-trace_id=" + kTrace +
                ",sentry-release=a%40b,sentry-environment=prod,"
                "sentry-sample_rand=0.25");
}

// Members of one header are written out in runs of one copy where they
// follow each other in the input; a skipped, repeated or reordered member
// in between ends a run, and what goes out is the same as member by member.
TEST_F(Outgoing, RunsBreakWhereTheInputHasGaps) {
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
  EXPECT_EQ(BaggageOf(&ctx_),
            "a=1,b=2;p,c=3,d=4,e=5,sentry-trace_id=" + kTrace +
                ",sentry-release=r1,sentry-environment=prod,"
                "sentry-sample_rand=0.5,sentry-transaction=t");
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 1u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 1u);
}

TEST_F(Outgoing, ThirdPartyMembersGoOnlyWhenEnabled) {
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

TEST_F(Outgoing, TooSmallABufferReportsTheSizeNeeded) {
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

TEST_F(Outgoing, NoControlCharactersReachTheOutput) {
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

TEST_F(Outgoing, AChildSpanGoesOutUnderTheContextsSpan) {
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

// ---- injecting --------------------------------------------------------------

TEST_F(Inject, IntoAnEmptyCarrierWithLowercaseNames) {
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

TEST_F(Inject, MergesExistingBaggageAndReplacesSentryTrace) {
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

TEST_F(Inject, ChildSpanAndTraceparentWithTheirFlags) {
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

TEST_F(Inject, ReportsACarrierThatCannotSet) {
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

}  // namespace
