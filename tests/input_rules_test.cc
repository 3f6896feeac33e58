// Input rules found by hostile and differential testing: the bound on
// members examined holds inside one value; properties follow the W3C
// grammar; options a head's DSC cannot hold are refused; org ids from the
// DSN follow the org_id option's rule.
#include "test_util.h"

using namespace stp_test;

namespace {

const std::string kTS1 = kTrace + "-" + kSpan + "-1";

class InputRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stp_options o = DefaultOptions();
    o.propagate_third_party_baggage = true;
    cfg_ = MakeConfig(o);
    ASSERT_TRUE(cfg_);
  }
  int Continue(const std::string &baggage) {
    Headers h{{"sentry-trace", kTS1}, {"baggage", baggage}};
    stp_carrier c = h.Carrier();
    return stp_context_continue(&ctx_, cfg_.get(), &c);
  }
  bool Has(const std::string &key) {
    stp_baggage_member m;
    bool sentry;
    for (size_t i = 0; stp_context_member(&ctx_, &m, &sentry, i) == STP_OK; i++)
      if (std::string(m.key, m.key_len) == key)
        return true;
    return false;
  }
  ConfigPtr cfg_;
  stp_context ctx_;
};

// ---- the bound on members examined -----------------------------------------

// Malformed members count against STP_BAGGAGE_SCAN_MAX_MEMBERS inside one
// value too: a valid member after the bound is not taken. Short malformed
// members (the value fits the store: scanned in place) and long ones (it
// does not: members copied one by one).
TEST_F(InputRulesTest, MalformedMembersInOneValueCountTowardsTheBound) {
  const size_t room = STP_BAGGAGE_SCAN_MAX_MEMBERS - 1;  // "a=1" first
  for (const std::string &bad :
       {std::string(",=x"), ",=" + std::string(30, 'x')}) {
    for (size_t n : {room - 1, room}) {
      std::string bag = "a=1";
      for (size_t i = 0; i < n; i++)
        bag += bad;
      bag += ",late=1";
      ASSERT_EQ(Continue(bag), STP_OK);
      SCOPED_TRACE(testing::Message() << bad.size() << " bytes, " << n);
      EXPECT_EQ(stp_context_baggage_skipped(&ctx_), n);
      EXPECT_EQ(Has("late"), n < room);
    }
  }
}

// ---- properties ----------------------------------------------------------------

struct PropsCase {
  const char *what;
  const char *member;
  bool valid;
};

// W3C baggage: property = key OWS [ "=" OWS value ], key a token, value
// baggage-octets; properties separated by OWS ";" OWS.
const PropsCase kProps[] = {
    {"key alone", "k=v;p", true},
    {"key and value", "k=v;p=1", true},
    {"several", "k=v;a;b=2;c", true},
    {"OWS around ';' and '='", "k=v ; p = 1 ;\tq", true},
    {"value with '=' and '/'", "k=v;p=a=b/c", true},
    {"raw space inside a value", "k=v;p=a b", false},
    {"raw space inside a key", "k=v;p q", false},
    {"double quote", "k=v;p=\"q\"", false},
    {"backslash", "k=v;p=a\\b", false},
    {"empty property", "k=v;;p", false},
    {"trailing ';'", "k=v;p;", false},
    {"only ';'", "k=v;", false},
    {"empty key", "k=v;=1", false},
    {"key not a token", "k=v;p@=1", false},
};

TEST(Properties, FollowTheW3cGrammar) {
  for (const auto &c : kProps) {
    SCOPED_TRACE(c.what);
    std::string in = std::string(c.member) + ",next=1";
    stp_baggage_iter it;
    stp_baggage_member m;
    stp_baggage_iter_init(&it, in.data(), in.size());
    ASSERT_TRUE(stp_baggage_iter_next(&it, &m));
    EXPECT_EQ(std::string(m.key, m.key_len), c.valid ? "k" : "next");
    EXPECT_EQ(it.skipped, c.valid ? 0u : 1u);
  }
}

// A member with invalid properties is not passed on, even with
// third-party propagation on: the outgoing baggage stays valid W3C.
TEST_F(InputRulesTest, InvalidPropertiesAreNotSentOn) {
  ASSERT_EQ(Continue("vendor=abc;p \"q\\r, other=1;a b c, good=1;x=2"),
            STP_OK);
  EXPECT_FALSE(Has("vendor"));
  EXPECT_FALSE(Has("other"));
  EXPECT_TRUE(Has("good"));
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 2u);
  std::string out = BaggageOf(&ctx_);
  EXPECT_NE(out.find("good=1;x=2"), std::string::npos) << out;
  EXPECT_EQ(out.find("vendor"), std::string::npos) << out;
  EXPECT_TRUE(WellFormedBaggage(out)) << out;
}

// ---- options a head's DSC must hold --------------------------------------

// A release, environment or both so long that a head's DSC cannot hold
// them (with its other members) are refused by stp_config_new, rather than
// left out of every head's DSC without a word.
TEST(LongOptions, RefusedWhenAHeadsDscCannotHoldThem) {
  struct Case {
    const char *what;
    size_t release, environment;
    int err;
  } cases[] = {
      {"release that fits", 7000, 0, STP_OK},
      {"release too long", 8070, 0, STP_ERR_LIMIT},
      {"environment too long", 0, 8100, STP_ERR_LIMIT},
      {"each fits, not both", 4100, 4100, STP_ERR_LIMIT},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    std::string rel(c.release, 'r'), env(c.environment, 'e');
    stp_options o = DefaultOptions();
    o.release = c.release ? rel.c_str() : nullptr;
    o.environment = c.environment ? env.c_str() : nullptr;
    stp_config *cfg = nullptr;
    EXPECT_EQ(ErrName(stp_config_new(&cfg, &o, nullptr)), ErrName(c.err));
    if (!cfg)
      continue;
    // What is accepted is in every head's DSC, nothing dropped.
    stp_context ctx;
    ASSERT_EQ(stp_context_init(&ctx, cfg), STP_OK);
    EXPECT_EQ(Dsc(&ctx, "release"), rel);
    EXPECT_EQ(stp_context_baggage_dropped(&ctx), 0u);
    stp_config_del(cfg);
  }
}

// ---- org ids -------------------------------------------------------------------

// One rule for an org id, from the option or the DSN's host: 1 to 20
// decimal digits.
TEST(OrgIds, TheDsnFollowsTheOptionsRule) {
  struct Case {
    const char *what;
    std::string dsn;
    const char *org_option;
    int err;
  } cases[] = {
      {"20 digits in the host", "https://k@o" + std::string(20, '9') +
                                    ".ingest.sentry.io/1", nullptr, STP_OK},
      {"21 digits in the host", "https://k@o" + std::string(21, '9') +
                                    ".ingest.sentry.io/1", nullptr,
       STP_ERR_ORG_ID},
      {"21 digits, but the option overrides", "https://k@o" +
       std::string(21, '9') + ".ingest.sentry.io/1", "7", STP_OK},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    stp_options o;
    stp_options_init(&o);
    o.dsn = c.dsn.c_str();
    o.org_id = c.org_option;
    stp_config *cfg = nullptr;
    EXPECT_EQ(ErrName(stp_config_new(&cfg, &o, nullptr)), ErrName(c.err));
    stp_config_del(cfg);
  }
  std::string opt(21, '9');
  stp_options o;
  stp_options_init(&o);
  o.org_id = opt.c_str();
  stp_config *cfg = nullptr;
  EXPECT_EQ(stp_config_new(&cfg, &o, nullptr), STP_ERR_ORG_ID);
}

}  // namespace
