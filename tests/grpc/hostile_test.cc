// Hostile request metadata never crashes the server or fails the call; the
// server starts a new trace (and says why) or continues what is valid.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "harness.h"

namespace stp_test {
namespace {

const char kTrace[] = "771a43a4192642f0b136d5159a501700";
const char kSpan[] = "b9d6f6a3cf7b7a4a";
const std::string kGood = std::string(kTrace) + "-" + kSpan + "-1";

using stp_test::Binary;
using stp_test::Repeat;

struct HostileCase {
  const char *name;
  Metadata metadata;
  const char *trace; // expected continued trace, or "" for a new head
  int status;        // expected stp_context_status on the server
};

// gtest prints a parameter by its name (not its raw bytes, padding and all).
void PrintTo(const HostileCase &c, std::ostream *os) { *os << c.name; }

Metadata ManyBaggage(int n, bool with_trace) {
  Metadata md;
  if (with_trace)
    md.push_back({"sentry-trace", kGood});
  for (int i = 0; i < n; i++)
    md.push_back({"baggage", "k" + std::to_string(i) + "=v"});
  md.push_back({"baggage", "sentry-release=late"});
  return md;
}

class HostileTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileTest, CallCompletesAndTheServerDecides) {
  const HostileCase &tc = GetParam();
  Config cfg([](stp_options *o) { o->propagate_third_party_baggage = true; });
  TestServer server(cfg.cfg);
  // A client without interceptors sends the metadata as it is; one with
  // them merges it (and then always sends a valid trace).
  for (bool intercepted : {false, true}) {
    SCOPED_TRACE(intercepted ? "intercepted client" : "plain client");
    server.records.Clear();
    TestClient client(server.address(), intercepted ? cfg.cfg : nullptr);
    CallOptions o;
    o.metadata = tc.metadata;
    CallResult r = client.Call(o);
    ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
    ASSERT_EQ(r.responses.size(), 1u);
    auto body = ParseBody(r.responses[0]);
    if (intercepted) {
      EXPECT_EQ(One(body, "trace"), Hex(r.span.trace_id));
      EXPECT_EQ(One(body, "status"), "0");
      EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u);
      EXPECT_LE(Wire(body, "baggage").size(), 1u);
      std::vector<std::string> bag = Wire(body, "baggage");
      if (!bag.empty()) {
        EXPECT_LE(bag[0].size(), static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
      }
    } else {
      if (*tc.trace)
        EXPECT_EQ(One(body, "trace"), tc.trace);
      else
        EXPECT_EQ(One(body, "continued"), "0");
      EXPECT_EQ(One(body, "status"), std::to_string(tc.status));
      // Whatever came in, what the server would send on is bounded.
      EXPECT_LE(One(body, "baggage").size(),
                static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
    }
    std::vector<Record> sr = server.records.WaitFor(1);
    ASSERT_EQ(sr.size(), 1u);
    EXPECT_EQ(sr[0].status, GRPC_STATUS_OK);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, HostileTest,
    ::testing::Values(
        HostileCase{"OversizedBaggage",
                    {{"sentry-trace", kGood},
                     {"baggage", Repeat("vendor=xxxxxxxxxxxxxxxx,", 4000)}},
                    kTrace,
                    STP_OK},
        HostileCase{
            "OneHugeBaggageValue",
            {{"sentry-trace", kGood}, {"baggage", "k=" + Repeat("v", 200000)}},
            kTrace,
            STP_OK},
        HostileCase{"ThousandBaggageEntries", ManyBaggage(1000, true), kTrace,
                    STP_OK},
        HostileCase{"ThousandBaggageEntriesNoTrace", ManyBaggage(1000, false),
                    "", STP_ERR_ABSENT},
        HostileCase{"BinaryJunkInBinKeys",
                    {{"baggage-bin", Binary(5000)},
                     {"sentry-trace-bin", Binary(64)},
                     {"x-junk-bin", Binary(300)}},
                    "",
                    STP_ERR_ABSENT},
        HostileCase{"SentryTraceOnlyInABinKey",
                    {{"sentry-trace-bin", kGood}},
                    "",
                    STP_ERR_ABSENT},
        HostileCase{"PrintableJunk",
                    {{"sentry-trace", "%%%,,,;;==\"\\{}"},
                     {"baggage", ",,,;;;===,=,=;=,%ZZ,\"\"=\"\""}},
                    "",
                    STP_ERR_MALFORMED},
        HostileCase{"UppercaseIdsAreNormalised",
                    {{"sentry-trace",
                      "771A43A4192642F0B136D5159A501700-B9D6F6A3CF7B7A4A-1"}},
                    kTrace,
                    STP_OK},
        HostileCase{"UppercaseTraceparentIsIgnored",
                    {{"traceparent",
                      "00-771A43A4192642F0B136D5159A501700-B9D6F6A3CF7B7A4A-"
                      "01"}},
                    "",
                    STP_ERR_UPPERCASE},
        HostileCase{"FirstValidOfManySentryTraces",
                    {{"sentry-trace", "junk"},
                     {"sentry-trace", "0-0-0"},
                     {"sentry-trace", kGood},
                     {"sentry-trace", Repeat("f", 5000)}},
                    kTrace,
                    STP_OK},
        HostileCase{"ThousandSentryTraces",
                    Metadata(1000, {"sentry-trace", "x-y-z"}), "",
                    STP_ERR_TRACE_ID},
        HostileCase{"ZeroIds",
                    {{"sentry-trace", std::string(32, '0') + "-" +
                                          std::string(16, '0') + "-1"}},
                    "",
                    STP_ERR_ZERO_ID},
        HostileCase{"VeryLongSentryTrace",
                    {{"sentry-trace", kGood + Repeat("0", 100000)}},
                    "",
                    STP_ERR_TOO_LONG}),
    [](const ::testing::TestParamInfo<HostileCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
} // namespace stp_test
