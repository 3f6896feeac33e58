// Output limits (64 members, 8192 bytes, whole members dropped, third-party
// before Sentry, never an empty header) and the input bound (SPEC 4).
#include <set>

#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

using namespace stp_test;

namespace {

// n members "k<i>=<value of `width` bytes>".
std::string ThirdParty(int n, size_t width, const char *prefix = "k") {
  std::string out;
  for (int i = 0; i < n; i++) {
    std::string key = prefix + std::to_string(i);
    std::string v(width, 'v');
    out += (i ? "," : "") + key + "=" + v;
  }
  return out;
}

// Checks every outgoing-baggage rule; `dsc` are the Sentry members that
// must all be there; `allowed` the third-party members that may be there.
void CheckOutput(const std::string &out, const std::vector<std::string> &dsc,
                 const std::vector<std::string> &allowed) {
  ASSERT_FALSE(out.empty());
  EXPECT_LE(out.size(), static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
  EXPECT_TRUE(WellFormedBaggage(out)) << out.substr(0, 200);
  std::vector<std::string> m = Members(out);
  EXPECT_LE(m.size(), static_cast<size_t>(STP_BAGGAGE_MAX_MEMBERS));
  std::set<std::string> ok(allowed.begin(), allowed.end());
  std::vector<std::string> sentry;
  for (const auto &x : m) {
    if (StartsWith(x, "sentry-"))
      sentry.push_back(x);
    else
      EXPECT_TRUE(ok.count(x)) << "not a whole input member: "
                               << x.substr(0, 80);
  }
  EXPECT_EQ(sentry, dsc);
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stp_options o = DefaultOptions();
    o.propagate_third_party_baggage = true;
    cfg_ = MakeConfig(o);
    ASSERT_TRUE(cfg_);
  }
  int Continue(const Headers &h) {
    Headers copy = h;
    stp_carrier c = copy.Carrier();
    return stp_context_continue(&ctx_, cfg_.get(), &c);
  }
  ConfigPtr cfg_;
  stp_context ctx_;
};

const std::vector<std::string> kDscMembers = {
    "sentry-trace_id=771a43a4192642f0b136d5159a501700",
    "sentry-public_key=49d0f7386ad645858ae85020e393bef3",
    "sentry-sample_rate=0.25",
    "sentry-sampled=true",
    "sentry-release=backend%401.2.3",
    "sentry-environment=prod",
    "sentry-transaction=GET%20%2Fapi%2Fusers",
    "sentry-sample_rand=0.123456"};

struct LimitCase {
  const char *what;
  std::string incoming_extra;  // appended after the DSC (incoming)
  std::string existing;        // the outgoing request's own baggage
  size_t min_members;          // at least this many members must survive
};

TEST_F(LimitsTest, OutputLimitTable) {
  const LimitCase cases[] = {
      {"65 incoming third-party members", ThirdParty(65, 1), "", 64},
      {"65 existing members", "", ThirdParty(65, 1, "e"), 64},
      {"64 members exactly fit with the DSC? no: 8 DSC + 56", ThirdParty(56, 1),
       "", 64},
      {"8193 bytes of incoming members", ThirdParty(8, 1010), "", 9},
      {"8193 bytes of existing members", "", ThirdParty(8, 1010, "e"), 9},
      {"one 9000-byte incoming member", "big=" + std::string(9000, 'x'), "",
       8},
      {"one 9000-byte existing member", "", "big=" + std::string(9000, 'x'),
       8},
      {"10 000 incoming members", ThirdParty(10000, 3), "", 64},
      {"10 000 existing members", "", ThirdParty(10000, 3, "e"), 64},
      {"both sides over", ThirdParty(100, 100), ThirdParty(100, 100, "e"), 9},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    std::string in = kRefDsc + (c.incoming_extra.empty() ? "" : ",") +
                     c.incoming_extra;
    ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", in}}), STP_OK);
    // What the context kept must itself respect its budget.
    EXPECT_LE(stp_context_member_count(&ctx_),
              static_cast<size_t>(STP_BAGGAGE_MAX_MEMBERS));
    std::string out = BaggageOf(&ctx_, c.existing);
    std::vector<std::string> allowed = Members(c.incoming_extra);
    for (const auto &e : Members(c.existing))
      allowed.push_back(e);
    CheckOutput(out, kDscMembers, allowed);
    EXPECT_GE(Members(out).size(), c.min_members) << out.size();
    // Inject agrees with stp_context_baggage.
    Headers h{{"baggage", c.existing}};
    stp_carrier car = h.Carrier();
    ASSERT_EQ(stp_context_inject(&ctx_, &car, nullptr), STP_OK);
    ASSERT_EQ(h.All("baggage").size(), 1u);
    CheckOutput(h.All("baggage")[0], kDscMembers, allowed);
  }
}

TEST_F(LimitsTest, ExactlyAtTheLimitNothingIsDropped) {
  // 8 DSC members + 56 third-party = 64 members.
  std::string extra = ThirdParty(56, 1);
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", kRefDsc + "," + extra}}),
            STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_EQ(out, extra + "," + kRefDsc);
  EXPECT_EQ(Members(out).size(), 64u);
}

TEST_F(LimitsTest, ExactlyEightThousandOneHundredNinetyTwoBytes) {
  // Pad one third-party member so the whole output is exactly 8192 bytes.
  size_t fixed = kRefDsc.size() + 1 + 4;  // ",", "pad="
  std::string pad = "pad=" + std::string(8192 - fixed, 'p');
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", kRefDsc + "," + pad}}),
            STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_EQ(out.size(), 8192u);
  EXPECT_EQ(out, pad + "," + kRefDsc);
  // One byte more: the pad member goes, whole.
  std::string pad2 = pad + "p";
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", kRefDsc + "," + pad2}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_), kRefDsc);
}

TEST_F(LimitsTest, ThirdPartyDroppedBeforeSentry) {
  // Third-party members first in the input, then many Sentry members.
  std::string bag = ThirdParty(40, 1);
  std::vector<std::string> dsc = {"sentry-trace_id=" + kTrace};
  for (int i = 0; i < 40; i++)
    dsc.push_back("sentry-x" + std::to_string(i) + "=" + std::to_string(i));
  bag += "," + Join(dsc, ",");
  ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", bag}}), STP_OK);
  std::string out = BaggageOf(&ctx_);
  std::vector<std::string> want_dsc = dsc;
  want_dsc.push_back("sentry-sample_rand=" + Dsc(&ctx_, "sample_rand"));
  CheckOutput(out, want_dsc, Members(ThirdParty(40, 1)));
  EXPECT_EQ(Members(out).size(), 64u);
}

// A Sentry member that makes room at the very end of the store. The first
// header fills the 64 members and ends with ", t=v,": the store ends with
// a comma, so the Sentry member of the second header (too long to be
// copied whole) needs none and would fit exactly once t=v is gone. But
// t=v goes with the comma after it, the store then ends with the space,
// and the member needs a comma after all: one more third-party member
// must go, and the store stays within its 8192 bytes.
TEST_F(LimitsTest, RoomMadeAtTheEndOfTheStoreCountsTheComma) {
  const size_t kSentryLen = 1000;
  const std::string sentry =
      "sentry-release=" + std::string(kSentryLen - 15, 'r');
  std::string first = "sentry-trace_id=" + kTrace +
                      ",sentry-sample_rand=0.5," + ThirdParty(61, 1) + ",";
  // Widen k0's value until the first header, less " t=v,", is 8192 bytes
  // less the Sentry member and one byte (the space).
  const size_t want = STP_BAGGAGE_MAX_BYTES - kSentryLen - 1;
  ASSERT_LT(first.size(), want);
  first.insert(first.find("k0=") + 3, std::string(want - first.size(), 'v'));
  first += " t=v,";
  ASSERT_GT(sentry.size(), STP_BAGGAGE_MAX_BYTES - first.size());
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", first},
                      {"baggage", sentry}}),
            STP_OK);
  size_t stored;
  stp__context_store(&ctx_, &stored);
  EXPECT_LE(stored, static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
  std::string out = BaggageOf(&ctx_);
  EXPECT_LE(out.size(), static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
  EXPECT_TRUE(WellFormedBaggage(out)) << out.substr(0, 200);
  EXPECT_TRUE(EndsWith(out, "," + sentry)) << out.substr(out.size() - 100);
  EXPECT_FALSE(Contains(out, "k60=v"));
  EXPECT_FALSE(Contains(out, "t=v"));
  EXPECT_EQ(Members(out).size(), 63u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 2u);
}

TEST_F(LimitsTest, HugeSentryMemberDoesNotBreakTheRest) {
  std::string bag = "sentry-trace_id=" + kTrace + ",sentry-huge=" +
                    std::string(9000, 'h') + ",sentry-sample_rand=0.5,k=v";
  ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", bag}}), STP_OK);
  std::string out = BaggageOf(&ctx_);
  EXPECT_EQ(out, "k=v,sentry-trace_id=" + kTrace + ",sentry-sample_rand=0.5");
  EXPECT_GE(stp_context_baggage_dropped(&ctx_), 1u);
}

// 100 000 members, incoming and in the outgoing request's own baggage:
// what is kept and written stays within the limits, the DSC first in line.
// (How long it takes is measured by bench/core_bench, not here.)
TEST_F(LimitsTest, ManyMembersStayWithinTheLimits) {
  std::string bag = kRefDsc + "," + ThirdParty(100000, 1);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", bag}}), STP_OK);
    EXPECT_LE(stp_context_member_count(&ctx_), size_t{STP_BAGGAGE_MAX_MEMBERS});
    EXPECT_GE(stp_context_baggage_dropped(&ctx_), 1u);
    std::string out = BaggageOf(&ctx_, bag);
    EXPECT_LE(out.size(), size_t{STP_BAGGAGE_MAX_BYTES});
    EXPECT_LE(Members(out).size(), size_t{STP_BAGGAGE_MAX_MEMBERS});
    EXPECT_NE(out.find("sentry-trace_id="), std::string::npos);
  }
}

TEST_F(LimitsTest, InputBoundHonoursAtLeast8192BytesAnd64Members) {
  // 64 members in 8192 bytes of input: every one must be seen.
  std::string bag = kRefDsc;
  size_t per = (8192 - kRefDsc.size()) / 56;
  bag += "," + ThirdParty(56, per - 6);
  ASSERT_LE(bag.size(), 8192u);
  ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", bag}}), STP_OK);
  EXPECT_EQ(stp_context_member_count(&ctx_), 64u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 0u);
  // Split over many headers too.
  Headers h{{"sentry-trace", kTS1}, {"baggage", kRefDsc}};
  for (const auto &m : Members(ThirdParty(56, per - 6)))
    h.list.emplace_back("baggage", m);
  ASSERT_EQ(Continue(h), STP_OK);
  EXPECT_EQ(stp_context_member_count(&ctx_), 64u);
}

// The bound on list members examined counts the malformed ones too, those
// that end a value as well: a later header is read only while the bound
// leaves room for one more member.
TEST_F(LimitsTest, MalformedMembersCountTowardsTheMemberBound) {
  const size_t room = STP_BAGGAGE_SCAN_MAX_MEMBERS - 8;  // kRefDsc has 8
  for (size_t bad : {room - 1, room}) {
    std::string bag = kRefDsc;
    for (size_t i = 0; i < bad; i++)
      bag += ",=x";  // no key: malformed
    ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                        {"baggage", bag},
                        {"baggage", "late=1"}}),
              STP_OK);
    bool read = bad < room;
    EXPECT_EQ(stp_context_baggage_skipped(&ctx_), bad);
    EXPECT_EQ(stp_context_member_count(&ctx_), read ? 9u : 8u) << bad;
    EXPECT_EQ(stp_context_baggage_dropped(&ctx_), read ? 0u : 1u) << bad;
  }
}

// A value longer than the byte bound is cut at it: the members that end
// with a comma inside the bound are read, and the member the bound cuts
// goes, counted as dropped (and as skipped too when it is malformed).
TEST_F(LimitsTest, ValueCutByTheByteBoundKeepsItsWholeMembers) {
  const size_t bound = STP_BAGGAGE_SCAN_MAX_BYTES;
  // Last comma on the last byte inside the bound (after whitespace: a
  // member longer than the store would be dropped for room).
  std::string exact = std::string(bound - 4, ' ') + "a=1,";
  ASSERT_EQ(exact.size(), bound);
  // Last comma early; the member after it runs past the bound.
  std::string early = "a=1,b=" + std::string(bound, 'v');
  // The same with a malformed member cut.
  std::string bad = "a=1,=" + std::string(bound, 'v');
  // No comma inside the bound.
  std::string none = "a=" + std::string(bound, 'v');
  struct Case {
    std::string value;
    size_t members, skipped;
  } cases[] = {{exact + "b=2", 1, 0}, {early, 1, 0}, {bad, 1, 1}, {none, 0, 0}};
  for (const Case &c : cases) {
    ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", c.value}}), STP_OK);
    // The sample_rand drawn here is stored after them.
    ASSERT_EQ(stp_context_member_count(&ctx_), c.members + 1);
    stp_baggage_member m;
    bool is_sentry;
    if (c.members) {
      ASSERT_EQ(stp_context_member(&ctx_, &m, &is_sentry, 0), STP_OK);
      EXPECT_EQ(std::string(m.key, m.key_len), "a");
    }
    EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 1u);
    EXPECT_EQ(stp_context_baggage_skipped(&ctx_), c.skipped);
  }
  // Cut where what is left of the bound would fit the store whole.
  std::string first = std::string(bound - 768 - 4, ' ') + "a=1,";
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", first},
                      {"baggage", "b=2,c=" + std::string(1000, 'v')}}),
            STP_OK);
  EXPECT_EQ(BaggageOf(&ctx_), "a=1,b=2,sentry-sample_rand=" +
                                  Dsc(&ctx_, "sample_rand"));
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 1u);
}

// All 64 members stored go out, each once and in order, with
// sentry-trace_id taken from the last place (member 63) to the front. A
// member received with whitespace inside the third-party run, and a gap
// left by a skipped member, break the runs copied in one piece.
TEST_F(LimitsTest, SixtyFourMembersGoOutWholeTraceIdFromTheLastPlace) {
  std::string third = ThirdParty(30, 2);
  std::string bag = third + ",w = 1,bad key=2," + ThirdParty(29, 3, "j") + "," +
                    "sentry-release=r,sentry-environment=e," +
                    "sentry-sample_rand=0.5,sentry-trace_id=" + kTrace;
  ASSERT_EQ(Continue({{"sentry-trace", kTS1}, {"baggage", bag}}), STP_OK);
  ASSERT_EQ(stp_context_member_count(&ctx_), 64u);
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 1u);
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_), 0u);
  EXPECT_EQ(BaggageOf(&ctx_), third + ",w=1," + ThirdParty(29, 3, "j") +
                                  ",sentry-trace_id=" + kTrace +
                                  ",sentry-release=r,sentry-environment=e,"
                                  "sentry-sample_rand=0.5");
}

// Two headers that fill the store exactly: their members lie in it with
// no comma between the headers, so the output needs one byte more than
// the store holds, and a third-party member must give way.
TEST_F(LimitsTest, HeadersFillingTheStoreStillGoOutWithinTheLimit) {
  std::string first = kRefDsc + ",y=";
  first += std::string(4096 - first.size(), 'v');
  std::string second = "x=" + std::string(4094, 'v');
  ASSERT_EQ(first.size() + second.size(), size_t{STP_BAGGAGE_MAX_BYTES});
  ASSERT_EQ(Continue({{"sentry-trace", kTS1},
                      {"baggage", first},
                      {"baggage", second}}),
            STP_OK);
  ASSERT_EQ(stp_context_baggage_dropped(&ctx_), 0u);
  std::string out = BaggageOf(&ctx_);
  CheckOutput(out, kDscMembers, {first.substr(kRefDsc.size() + 1), second});
  EXPECT_EQ(Members(out).size(), kDscMembers.size() + 1);
}

TEST_F(LimitsTest, NeverAnEmptyBaggageHeader) {
  // A head always has a DSC; after inject there is exactly one non-empty
  // baggage header, even when the request brought an empty one.
  for (const char *existing : {"", " ", ",,", "bad member", "sentry-a=1"}) {
    SCOPED_TRACE(existing);
    ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
    Headers h{{"baggage", existing}};
    stp_carrier c = h.Carrier();
    ASSERT_EQ(stp_context_inject(&ctx_, &c, nullptr), STP_OK);
    std::vector<std::string> b = h.All("baggage");
    ASSERT_EQ(b.size(), 1u);
    EXPECT_TRUE(WellFormedBaggage(b[0])) << b[0];
    EXPECT_TRUE(StartsWith(b[0], "sentry-trace_id=")) << b[0];
  }
}

}  // namespace
