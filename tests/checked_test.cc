// The hand-written propagation of h2_bench_server --mode checked
// (bench/checked.h) against stp, header for header: with the default
// options, both continue the same inputs, and send on the same trace id,
// flag and baggage (a drawn sentry-sample_rand compared by its range, not
// its digits). A yardstick that checked less than stp would make the
// benchmark's comparison meaningless.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "stp/stp.h"

extern "C" {
#include "bench/checked.h"
}

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kT = "771a43a4192642f0b136d5159a501700";
const std::string kS = "b1c2d3e4f5a6b7c8";
const std::string kTS = kT + "-" + kS;

struct Outgoing {
  bool continued;
  std::string trace_id, flag, baggage;
  double rand; // the sentry-sample_rand sent, or -1
};

// The outgoing baggage with the value of sentry-sample_rand cut out
// (*rand gets it).
std::string WithoutRand(const std::string &bag, double *rand) {
  const std::string key = "sentry-sample_rand=";
  size_t at = bag.find(key);
  *rand = -1;
  if (at == std::string::npos)
    return bag;
  size_t v = at + key.size(), end = bag.find(',', v);
  if (end == std::string::npos)
    end = bag.size();
  *rand = std::strtod(bag.substr(v, end - v).c_str(), nullptr);
  return bag.substr(0, v) + "*" + bag.substr(end);
}

Outgoing FromSentryTrace(bool continued, const std::string &st,
                         const std::string &bag) {
  Outgoing o;
  o.continued = continued;
  o.trace_id = st.substr(0, 32);
  o.flag = st.size() > 49 ? st.substr(49) : "";
  o.baggage = WithoutRand(bag, &o.rand);
  size_t at = o.baggage.find(o.trace_id);
  if (!continued && at != std::string::npos)
    o.baggage.replace(at, o.trace_id.size(), "(new)");
  return o;
}

Outgoing ByStp(const Headers &headers) {
  stp_options opts;
  stp_options_init(&opts);
  stp_config *cfg = nullptr;
  EXPECT_EQ(stp_config_new(&cfg, &opts, nullptr), STP_OK);
  stp_context *ctx = nullptr;
  EXPECT_EQ(stp_context_new(&ctx, cfg, nullptr), STP_OK);
  EXPECT_EQ(stp_context_begin(ctx, cfg), STP_OK);
  for (const auto &h : headers)
    stp_context_feed(ctx, h.first.data(), h.first.size(), h.second.data(),
                     h.second.size());
  stp_context_finish(ctx);
  stp_span child;
  stp_context_child_span(ctx, &child);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t st_len = 0, bag_len = 0;
  EXPECT_EQ(stp_context_sentry_trace(ctx, st, sizeof st, &st_len, &child),
            STP_OK);
  EXPECT_EQ(stp_context_baggage(ctx, bag, sizeof bag, &bag_len, nullptr, 0),
            STP_OK);
  Outgoing o = FromSentryTrace(stp_context_continued(ctx),
                               std::string(st, st_len),
                               std::string(bag, bag_len));
  stp_context_del(ctx);
  stp_config_del(cfg);
  return o;
}

Outgoing ByHand(const Headers &headers) {
  static bool ready = (checked_init(), true);
  (void)ready;
  static checked c; // 8.5 KB
  uint64_t rng = 0x9e3779b97f4a7c15u;
  checked_begin(&c);
  for (const auto &h : headers)
    checked_header(&c, reinterpret_cast<const uint8_t *>(h.first.data()),
                   h.first.size(),
                   reinterpret_cast<const uint8_t *>(h.second.data()),
                   h.second.size());
  bool continued = c.have_trace;
  checked_finish(&c, &rng);
  return FromSentryTrace(continued, c.sentry_trace,
                         std::string(c.dsc, c.dsc_len));
}

void ExpectSame(const Headers &headers, double lo = 0, double hi = 1) {
  std::string what;
  for (const auto &h : headers)
    what += h.first + ": " + h.second + "\n";
  SCOPED_TRACE(what);
  Outgoing s = ByStp(headers), k = ByHand(headers);
  EXPECT_EQ(s.continued, k.continued);
  if (s.continued) {
    EXPECT_EQ(s.trace_id, k.trace_id);
  }
  EXPECT_EQ(s.flag, k.flag);
  EXPECT_EQ(s.baggage, k.baggage);
  EXPECT_EQ(s.rand < 0, k.rand < 0);
  if (k.rand >= 0) {
    EXPECT_GE(k.rand, lo);
    EXPECT_LT(k.rand, hi);
  }
}

const std::string kRefBaggage =
    "sentry-trace_id=" + kT +
    ",sentry-public_key=49d0f7386ad645858ae85020e393bef3,"
    "sentry-sample_rate=0.25,sentry-sampled=true,"
    "sentry-release=backend%401.2.3,sentry-environment=production,"
    "sentry-transaction=GET%20%2Fapi%2Fusers,sentry-sample_rand=0.123456,"
    "vendor-a=a;prop1=1;prop2,vendor-b=beta%20two;p=x";

TEST(Checked, TheReferenceRequest) {
  ExpectSame({{"sentry-trace", kTS + "-1"}, {"baggage", kRefBaggage}});
  ExpectSame({{"sentry-trace", kTS + "-1"}});
  ExpectSame({{"baggage", kRefBaggage}});
  ExpectSame({});
}

TEST(Checked, TraceHeaders) {
  for (const std::string &v : std::vector<std::string>{
           kTS, kTS + "-", kTS + "-0", " \t" + kTS + "-1 ", kTS + "-2",
        kTS + "-1x", "00-" + kT + "-" + kS + "-01", kT + kS + "1",
        std::string(32, '0') + "-" + kS + "-1",
        kT + "-" + std::string(16, '0') + "-1",
        "771A43A4192642F0B136D5159A501700-B1C2D3E4F5A6B7C8-1",
        "bad, " + kTS + "-0", kTS + "-1," + kT + "-0000000000000001-0",
        kT.substr(0, 31) + "g-" + kS + "-1", kTS + "\n"})
    ExpectSame({{"sentry-trace", v}, {"baggage", kRefBaggage}});
  ExpectSame({{"sentry-trace", "nope"}, {"sentry-trace", kTS + "-0"}});
  // At most 16 values are examined, however many come.
  for (int bad : {15, 16, 17}) {
    Headers h(bad, {"sentry-trace", "nope"});
    h.push_back({"sentry-trace", kTS + "-1"});
    ExpectSame(h);
  }
}

TEST(Checked, BaggageMembers) {
  const std::string t = kTS + "-1";
  for (const std::string &b : std::vector<std::string>{
           "sentry-org_id=77;p", "sentry-org_id = 77 ; p = 1 ,x=1",
        "vendor=abc;p \"q,sentry-release=1", "k=v;;p,sentry-release=1",
        "k=v;,sentry-release=1", "sentry-release=a b,sentry-environment=e",
        "sentry%2Drelease=1,sentry-environment=e", "sentry-org_id-x=88",
        "sentry-release=%G1%,sentry-environment=%FF",
        "sentry-org_id=88,sentry-org_id=77", ",,sentry-release=1,,",
        " \t,sentry-release=1", "=1,sentry-release=2", "sentry-release",
        "sentry-release=1,sentry-release", "sentry-release==1",
        "sentry-release=\x01,sentry-environment=\x7f",
        "sentry-release=\xc3\xa9,sentry-environment=x", "sentry-x=\"\\\"",
           "sentry-release=1;;p,sentry-environment=e",
           "sentry-release=1;,sentry-environment=e",
           "sentry-release=1;p \"q,sentry-environment=e",
           "sentry-release=1;p=a b,sentry-environment=e",
           "sentry-release=1 ;\tp = x ; q,sentry-environment=e",
           "sentry-release=1;=x,sentry-environment=e"})
    ExpectSame({{"sentry-trace", t}, {"baggage", b}});
  ExpectSame({{"sentry-trace", t},
              {"baggage", "sentry-release=1"},
              {"baggage", "sentry-release=2,sentry-environment=e"}});
}

TEST(Checked, TheBounds) {
  const std::string t = kTS + "-1";
  std::string many;
  for (int i = 0; i < 70; i++)
    many += "sentry-k" + std::to_string(i) + "=v,";
  ExpectSame({{"sentry-trace", t}, {"baggage", many}});
  std::string bad_then_good;
  for (int i = 0; i < 520; i++)
    bad_then_good += "k=\",";
  ExpectSame({{"sentry-trace", t},
              {"baggage", bad_then_good + "sentry-release=1"}});
  const std::string big = "sentry-a=" + std::string(8000, 'x') +
                          ",sentry-b=" + std::string(300, 'y') +
                          ",sentry-c=1";
  ExpectSame({{"sentry-trace", t}, {"baggage", big}});
  ExpectSame({{"sentry-trace", t},
              {"baggage", "sentry-a=" + std::string(8150, 'x')},
              {"baggage", "sentry-b=1,sentry-c=2"}});
}

TEST(Checked, TheDecisionAndSampleRand) {
  for (const char *flag : {"", "-"})
    for (const char *sampled : {"true", "false", "yes", "True"})
      ExpectSame({{"sentry-trace", kTS + flag},
                  {"baggage", std::string("sentry-sampled=") + sampled +
                                  ",sentry-sample_rand=0.5"}});
  for (const char *rand : {"0.5", "0.123456", "1", "1.0", "+0.5", "0.5x",
                           "5e-1", "0.", ".5", "0.5e", "1e-7", ""})
    ExpectSame({{"sentry-trace", kTS + "-1"},
                {"baggage", std::string("sentry-sample_rand=") + rand +
                                ",sentry-release=1"}});
  // Drawn in the range the decision and the rate give.
  ExpectSame({{"sentry-trace", kTS + "-1"},
              {"baggage", "sentry-sample_rate=0.25"}},
             0, 0.25);
  ExpectSame({{"sentry-trace", kTS + "-0"},
              {"baggage", "sentry-sample_rate=0.25"}},
             0.25, 1);
  ExpectSame({{"sentry-trace", kTS},
              {"baggage", "sentry-sample_rate=0.25,sentry-sampled=false"}},
             0.25, 1);
}

} // namespace
