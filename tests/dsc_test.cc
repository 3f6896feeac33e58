// The dynamic sampling context (SPEC sections 4, 5): a continued one goes
// on as received, and a head's own takes a transaction name until it
// first goes out.
#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

using namespace stp_test;

namespace {

using SamplingContext = ContextTest;
using Transaction = ContextTest;

// ---- as received ------------------------------------------------------------

TEST_F(SamplingContext, IsPropagatedAsReceivedNotRebuilt) {
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

TEST_F(SamplingContext, UnknownSentryKeysSurviveTheRoundTrip) {
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
TEST_F(SamplingContext, SentryMembersKeepNoProperties) {
  const std::string dsc_in = "sentry-trace_id=" + kTrace +
                             ";p,sentry-org_id=123;p=1 ; q,"
                             "sentry-release = 1.0 ;\tx,sentry-x=a; y,"
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

TEST_F(SamplingContext, TraceIdGoesOutFirst) {
  std::string bag = "sentry-sample_rand=0.5,sentry-environment=prod,"
                    "sentry-trace_id=" + kTrace;
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_TRUE(StartsWith(out, "sentry-trace_id=" + kTrace + ",")) << out;
  EXPECT_EQ(SortedSentry(out), SortedSentry(bag));
}

// A DSC key may be given without its prefix, however long it is.
TEST_F(SamplingContext, LongKeyFoundWithoutItsPrefix) {
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
TEST_F(SamplingContext, StoredMembersStayOneCommaApart) {
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

// ---- the transaction name ---------------------------------------------------

TEST_F(Transaction, IsSetUntilTheDscFreezes) {
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
TEST_F(Transaction, RefusedWhileFeedingAndKeptWhenFull) {
  stp_context_begin(&ctx_, cfg_.get());
  EXPECT_EQ(ErrName(stp_context_set_transaction(&ctx_, "GET /local", 10)),
            ErrName(STP_ERR_STATE));
  const std::string bag = "sentry-trace_id=" + kTrace +
                          ",sentry-transaction=upstream,"
                          "sentry-sample_rand=0.25";
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

}  // namespace
