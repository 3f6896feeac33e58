// Continuing a trace from incoming headers (SPEC section 5): the trace
// and the parent kept, the members the context stores, which header is
// used, and the org id check of strict continuation.
#include "test_util.h"

using namespace stp_test;

namespace {

using Continuing = ContextTest;
using OrgId = ContextTest;

// ---- the reference request --------------------------------------------------

TEST_F(Continuing, KeepsTheTraceAndTheDscOfTheReferenceRequest) {
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
// properties (SamplingContext.SentryMembersKeepNoProperties, dsc_test.cc).
TEST_F(Continuing, StoredMembersGiveTheSlicesTheIteratorGives) {
  const std::string bag = "sentry-release=1.0;p,a=1, b=2;p=1,c=3;p,d=4; q ,"
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

TEST_F(Continuing, EachContinuationGetsANewSpanId) {
  std::string first;
  for (int i = 0; i < 50; i++) {
    ASSERT_EQ(Continue(&ctx_, cfg_.get(), {{"sentry-trace", kTS1}}), STP_OK);
    EXPECT_NE(SpanOf(&ctx_), kSpan);
    EXPECT_NE(SpanOf(&ctx_), first);
    first = SpanOf(&ctx_);
  }
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

TEST_F(Continuing, TakesTheFirstValidSentryTraceThenTraceparent) {
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

TEST_F(Continuing, AllBaggageValuesAreCombinedInOrder) {
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

TEST_F(Continuing, MalformedBaggageMembersAreSkippedAlone) {
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

TEST_F(Continuing, ACarrierErrorIsReportedAndAHeadStarted) {
  stp_carrier c = {[](void *, stp_header_fn, void *) { return -7; }, nullptr,
                   nullptr};
  int err = stp_context_continue(&ctx_, cfg_.get(), &c);
  EXPECT_EQ(ErrName(err), ErrName(STP_ERR_CARRIER));
  EXPECT_FALSE(stp_context_continued(&ctx_));
  EXPECT_FALSE(stp_trace_id_is_zero(&stp_context_span(&ctx_)->trace_id));
}

TEST_F(Continuing, TargetsDoNotAffectContinuing) {
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

// ---- strict continuation: the org id ----------------------------------------

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

TEST_F(OrgId, DecidesWhetherATraceIsContinued) {
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

TEST_F(OrgId, OptionOverridesTheDsnAndGoesInAHeadsDsc) {
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

}  // namespace
