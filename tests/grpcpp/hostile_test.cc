// Hostile request metadata never fails a call and never crashes the
// server: the handler finds a continued trace when something valid came,
// a new one (and why) when not, and what it would send on stays bounded.
// The same metadata through a client with the interceptor goes out as one
// valid trace.
#include <gtest/gtest.h>

#include <ostream>
#include <tuple>

#include "harness.h"

namespace grpcpp_test {
namespace {

using stp_test::kTrace;

const std::string kGood = kTrace + "-b9d6f6a3cf7b7a4a-1";
constexpr int kMaxMetadata = 1 << 20;

using stp_test::Binary;
using stp_test::Repeat;

Metadata ManyBaggage(int n, bool with_trace) {
  Metadata md;
  if (with_trace)
    md.push_back({"sentry-trace", kGood});
  for (int i = 0; i < n; i++)
    md.push_back({"baggage", "k" + std::to_string(i) + "=v"});
  md.push_back({"baggage", "sentry-release=late"});
  return md;
}

struct HostileCase {
  const char *name;
  Metadata metadata;
  std::string trace; // the trace the server continues; "" for a new head
  int status;        // what the server's context says
};

void PrintTo(const HostileCase &c, std::ostream *os) {
  *os << c.name;
}

const HostileCase kCases[] = {
    {"OversizedBaggage",
     {{"sentry-trace", kGood},
      {"baggage", Repeat("vendor=xxxxxxxxxxxxxxxx,", 4000)}},
     kTrace,
     STP_OK},
    {"OneHugeBaggageValue",
     {{"sentry-trace", kGood}, {"baggage", "k=" + Repeat("v", 200000)}},
     kTrace,
     STP_OK},
    {"ThousandBaggageEntries", ManyBaggage(1000, true), kTrace, STP_OK},
    {"ThousandBaggageEntriesNoTrace", ManyBaggage(1000, false), "",
     STP_ERR_ABSENT},
    {"BinaryJunkInBinKeys",
     {{"baggage-bin", Binary(5000)},
      {"sentry-trace-bin", Binary(64)},
      {"traceparent-bin", Binary(55)}},
     "",
     STP_ERR_ABSENT},
    {"SentryTraceOnlyInABinKey",
     {{"sentry-trace-bin", kGood}},
     "",
     STP_ERR_ABSENT},
    {"PrintableJunk",
     {{"sentry-trace", "%%%,,,;;==\"\\{}"},
      {"baggage", ",,,;;;===,=,=;=,%ZZ,\"\"=\"\""}},
     "",
     STP_ERR_MALFORMED},
    {"UppercaseIdsAreNormalised",
     {{"sentry-trace", "771A43A4192642F0B136D5159A501700-B9D6F6A3CF7B7A4A-1"}},
     kTrace,
     STP_OK},
    {"UppercaseTraceparentIsIgnored",
     {{"traceparent",
       "00-771A43A4192642F0B136D5159A501700-B9D6F6A3CF7B7A4A-01"}},
     "",
     STP_ERR_UPPERCASE},
    {"FirstValidOfManySentryTraces",
     {{"sentry-trace", "junk"},
      {"sentry-trace", "0-0-0"},
      {"sentry-trace", kGood},
      {"sentry-trace", Repeat("f", 5000)}},
     kTrace,
     STP_OK},
    {"ThousandSentryTraces", Metadata(1000, {"sentry-trace", "x-y-z"}), "",
     STP_ERR_TRACE_ID},
    {"ZeroIds",
     {{"sentry-trace",
       std::string(32, '0') + "-" + std::string(16, '0') + "-1"}},
     "",
     STP_ERR_ZERO_ID},
    {"VeryLongSentryTrace",
     {{"sentry-trace", kGood + Repeat("0", 100000)}},
     "",
     STP_ERR_TOO_LONG},
    {"ReservedParentKeyFromOutside",
     {{"sentry-trace", kGood},
      {STP_GRPCPP_PARENT_KEY, "0000000000000000.0000000000000000"}},
     kTrace,
     STP_OK},
};

class HostileTest
    : public ::testing::TestWithParam<std::tuple<Api, HostileCase>> {};

TEST_P(HostileTest, CallCompletesAndTheServerDecides) {
  auto [api, tc] = GetParam();
  Config cfg([](stp_options *o) { o->propagate_third_party_baggage = true; });
  TestServer server(api, {cfg.cfg, kMaxMetadata});
  for (bool intercepted : {false, true}) {
    SCOPED_TRACE(intercepted ? "intercepted client" : "plain client");
    server.records.Clear();
    TestClient client(server.address(), intercepted ? cfg.cfg : nullptr,
                      kMaxMetadata);
    CallOptions o;
    o.metadata = tc.metadata;
    CallResult r = client.Call(o);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_EQ(r.replies.size(), 1u);
    const Trace &t = r.replies[0].trace();
    ASSERT_TRUE(t.found());
    if (intercepted) {
      // The client's own trace, as one valid entry of each.
      std::vector<Record> cr = client.records.WaitFor(1);
      ASSERT_EQ(cr.size(), 1u);
      EXPECT_EQ(t.trace_id(), cr[0].trace_id);
      EXPECT_EQ(t.continue_status(), STP_OK);
      EXPECT_EQ(Received(t, "sentry-trace").size(), 1u);
      std::vector<std::string> bag = Received(t, "baggage");
      ASSERT_EQ(bag.size(), 1u);
      EXPECT_LE(bag[0].size(), static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
      EXPECT_TRUE(Received(t, STP_GRPCPP_PARENT_KEY).empty());
    } else {
      if (!tc.trace.empty())
        EXPECT_EQ(t.trace_id(), tc.trace);
      else
        EXPECT_EQ(t.parent_span_id(), "-");
      EXPECT_EQ(t.continue_status(), tc.status);
    }
    // Whatever came in, what the server keeps is bounded.
    EXPECT_LE(t.dsc_size(), STP_BAGGAGE_MAX_MEMBERS);
    std::vector<Record> sr = server.records.WaitFor(1);
    ASSERT_EQ(sr.size(), 1u);
    EXPECT_EQ(sr[0].code, 0);
    EXPECT_EQ(sr[0].continue_status, t.continue_status());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, HostileTest,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kAsync,
                                         Api::kCallback),
                       ::testing::ValuesIn(kCases)),
    [](const ::testing::TestParamInfo<std::tuple<Api, HostileCase>> &info) {
      return std::string(ApiName(std::get<0>(info.param))) +
             std::get<1>(info.param).name;
    });

// Trace headers a caller put on its ClientContext in a form gRPC would
// refuse to send (uppercase keys, control bytes) or several times: the
// client interceptor replaces them all by one valid entry of each name,
// so the call goes out and the server continues the client's trace. The
// caller's valid baggage members survive the merge.
TEST(HostileClientMetadata, InvalidTraceHeadersAreReplaced) {
  Config cfg([](stp_options *o) { o->propagate_traceparent = true; });
  TestServer server(Api::kSync, {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.metadata = {{"Sentry-Trace", "junk"},
                {"sentry-trace", kGood},
                {"sentry-trace", std::string("a\x01\r\nb")},
                {"BAGGAGE", "vendor=1,sentry-release=forged"},
                {"baggage", std::string("bad=\x7f\x01,other=2")},
                {"TraceParent", std::string("00-\n")},
                {"x-kept", "yes"}};
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const Trace &t = r.replies[0].trace();
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(Received(t, "sentry-trace"),
            std::vector<std::string>{cr[0].trace_id + "-" + cr[0].span_id +
                                     "-1"});
  EXPECT_EQ(Received(t, "traceparent"),
            std::vector<std::string>{"00-" + cr[0].trace_id + "-" +
                                     cr[0].span_id + "-01"});
  std::vector<std::string> bag = Received(t, "baggage");
  ASSERT_EQ(bag.size(), 1u);
  EXPECT_EQ(bag[0].rfind("vendor=1,other=2,sentry-trace_id=", 0), 0u)
      << bag[0];
  EXPECT_EQ(bag[0].find("forged"), std::string::npos);
  EXPECT_EQ(Received(t, "x-kept"), std::vector<std::string>{"yes"});
  EXPECT_EQ(t.trace_id(), cr[0].trace_id);
}

} // namespace
} // namespace grpcpp_test
