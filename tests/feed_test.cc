// Headers fed one at a time between stp_context_begin and
// stp_context_finish (SPEC section 1), and the header-name checks that
// feed relies on.
#include "test_util.h"

using namespace stp_test;

namespace {

using Feed = ContextTest;

TEST_F(Feed, TakesHeadersOneByOneBetweenBeginAndFinish) {
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

TEST_F(Feed, CandidatesAreTheTraceHeaderNamesInAnyCase) {
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

}  // namespace
