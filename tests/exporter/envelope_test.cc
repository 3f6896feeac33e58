// What the exporter posts, byte for byte: the request line and headers the
// DSN asks for, the envelope header, the item header with the payload's
// exact length, the transaction with its spans, and JSON that stays valid
// whatever bytes a description holds.
#include "exporter_util.h"

namespace {

using namespace stp_test;

const uint64_t kT0 = 1700000000000001000ull; // 1700000000.000001 s

std::string Ts(uint64_t ns) {
  char b[40];
  snprintf(b, sizeof b, "%llu.%06llu", (unsigned long long)(ns / 1000000000),
           (unsigned long long)(ns % 1000000000 / 1000));
  return b;
}

std::string SpanJson(const stp_span &s, const std::string &op,
                     const std::string &status, const std::string &data,
                     const std::string &description, uint64_t t0,
                     uint64_t t1) {
  return "{\"trace_id\":\"" + Hex(s.trace_id) + "\",\"span_id\":\"" +
         Hex(s.span_id) + "\",\"parent_span_id\":\"" +
         Hex(s.parent_span_id) + "\",\"op\":\"" + op +
         "\",\"status\":\"" + status + "\"" + data +
         ",\"description\":" + description + ",\"start_timestamp\":" + Ts(t0) +
         ",\"timestamp\":" + Ts(t1) + "}";
}

// Whether s has the shape of pattern: d a digit, h a lowercase hex digit,
// v one of 89ab, anything else itself.
bool Shaped(const std::string &s, const std::string &pattern) {
  if (s.size() != pattern.size())
    return false;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i], k = pattern[i];
    bool ok = k == 'd'   ? isdigit((unsigned char)c)
              : k == 'h' ? isdigit((unsigned char)c) || (c >= 'a' && c <= 'f')
              : k == 'v' ? strchr("89ab", c) != nullptr
                         : c == k;
    if (!ok)
      return false;
  }
  return true;
}

class Envelope : public ::testing::Test {
protected:
  void SetUp() override {
    cfg = MakeConfig(DefaultOptions());
    Continued(&ctx, cfg.get());
    x = MakeExporter(DsnFor(sink), TestOptions());
    ASSERT_TRUE(x);
  }
  Sink sink;
  ConfigPtr cfg;
  stp_context ctx;
  ExporterPtr x;
};

TEST_F(Envelope, ByteForByte) {
  const stp_span root = *stp_context_span(&ctx);
  const stp_span child = Child(root), grandchild = Child(child);
  stp_span stranger = Child(root);
  stranger.trace_id.bytes[3] ^= 0x55; // another trace: not in it
  const std::string hostile = "SELECT \"x\"\n\\\x01\xff\xc3\xa9";
  const std::string reserve = "/shop.Stock/Reserve", other = "other",
                    checkout = "/shop.Orders/Checkout";
  stp_span_record recs[] = {
      Rec(grandchild, "db.query", hostile, -1, kT0 + 2000, kT0 + 3000, false),
      Rec(child, "grpc.client", reserve, 5, kT0 + 1000,
          kT0 + 4000, false),
      Rec(stranger, "db.query", other, -1, kT0, kT0 + 1, false),
      Rec(root, "grpc.server", checkout, 0, kT0,
          kT0 + 500000000, true, &ctx),
  };
  recs[3].source = "route";
  for (auto &r : recs)
    stp_exporter_record(x.get(), &r);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 1u);
  const Posted &p = posted[0];
  EXPECT_EQ(p.method, "POST");
  EXPECT_EQ(p.target, "/api/42/envelope/");
  EXPECT_EQ(p.headers.at("content-type"), "application/x-sentry-envelope");
  EXPECT_EQ(p.headers.at("x-sentry-auth"),
            "Sentry sentry_version=7, sentry_client=stp/" STP_VERSION
            ", sentry_key=" +
                kPublicKey);
  EXPECT_EQ(p.headers.at("user-agent"), "stp/" STP_VERSION);
  EXPECT_EQ(p.headers.count("expect"), 0u);

  // {"event_id":"<uuid4 hex>","sent_at":"<RFC 3339, microseconds, Z>"
  const std::string lead = "{\"event_id\":\"", mid = "\",\"sent_at\":\"";
  ASSERT_EQ(p.body.compare(0, lead.size(), lead), 0) << p.body;
  const std::string id = p.body.substr(lead.size(), 32);
  ASSERT_EQ(p.body.compare(lead.size() + 32, mid.size(), mid), 0) << p.body;
  const std::string sent_at = p.body.substr(lead.size() + 32 + mid.size(), 27);
  EXPECT_TRUE(Shaped(id, "hhhhhhhhhhhh4hhhvhhhhhhhhhhhhhhh")) << id;
  EXPECT_TRUE(Shaped(sent_at, "dddd-dd-ddTdd:dd:dd.ddddddZ")) << sent_at;
  const std::string sdk = "{\"name\":\"stp\",\"version\":\"" STP_VERSION "\"}";
  const std::string header =
      "{\"event_id\":\"" + id + "\",\"sent_at\":\"" + sent_at +
      "\",\"dsn\":\"" + DsnFor(sink) + "\",\"sdk\":" + sdk +
      ",\"trace\":{\"trace_id\":\"" + kTrace + "\",\"public_key\":\"" +
      kPublicKey +
      "\",\"sample_rate\":\"0.25\",\"sampled\":\"true\",\"release\":"
      "\"backend@1.2.3\",\"environment\":\"prod\",\"transaction\":\"GET "
      "/api/users\",\"sample_rand\":\"0.123456\"}}";
  const std::string c = SpanJson(
      child, "grpc.client", "internal_error",
      ",\"data\":{\"rpc.grpc.status_code\":5}", "\"/shop.Stock/Reserve\"",
      kT0 + 1000, kT0 + 4000);
  const std::string g = SpanJson(
      grandchild, "db.query", "ok", "",
      "\"SELECT \\\"x\\\"\\u000a\\\\\\u0001\xef\xbf\xbd\xc3\xa9\"", kT0 + 2000,
      kT0 + 3000);
  const std::string start =
      "{\"event_id\":\"" + id +
      "\",\"type\":\"transaction\",\"platform\":\"c\",\"transaction\":\"/"
      "shop.Orders/Checkout\",\"transaction_info\":{\"source\":\"route\"},"
      "\"start_timestamp\":" +
      Ts(kT0) + ",\"timestamp\":" + Ts(kT0 + 500000000) +
      ",\"release\":\"shop@1.4.2\",\"environment\":\"test\",\"sdk\":" + sdk +
      ",\"contexts\":{\"trace\":{\"trace_id\":\"" + kTrace +
      "\",\"span_id\":\"" + Hex(root.span_id) +
      "\",\"parent_span_id\":\"" + kSpan +
      "\",\"op\":\"grpc.server\",\"status\":\"ok\",\"data\":{\"rpc.grpc."
      "status_code\":0}}},\"spans\":[";
  // The spans' order is the order they joined: either is valid.
  bool matched = false;
  for (const std::string &spans : {c + "," + g, g + "," + c}) {
    const std::string payload = start + spans + "]}";
    const std::string want = header + "\n{\"type\":\"transaction\",\"length\":" +
                             std::to_string(payload.size()) + "}\n" + payload +
                             "\n";
    matched |= p.body == want;
  }
  EXPECT_TRUE(matched) << p.body;

  stp_exporter_stats st;
  stp_exporter_stats_get(x.get(), &st);
  EXPECT_EQ(st.spans_accepted, 4u);
  EXPECT_EQ(st.envelopes_sent, 1u);
  EXPECT_EQ(st.transactions_queued, 1u);
}

TEST_F(Envelope, WithoutAContextTheTraceHeaderHasTheIdsItKnows) {
  stp_span root;
  stp_trace_id_random(&root.trace_id);
  stp_span_id_random(&root.span_id);
  root.has_parent = false;
  root.sampled = STP_SAMPLED_YES;
  const std::string none;
  stp_span_record r = Rec(root, "task", none, -1, kT0, kT0 + 1000, true);
  stp_exporter_record(x.get(), &r);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 1u);
  const std::string &b = posted[0].body;
  EXPECT_TRUE(Contains(b, ",\"trace\":{\"trace_id\":\"" +
                              Hex(root.trace_id) +
                              "\",\"public_key\":\"" + kPublicKey + "\"}}\n"))
      << b;
  EXPECT_TRUE(Contains(b, "\"transaction\":\"task\",\"transaction_info\":{"
                          "\"source\":\"custom\"}"))
      << "an empty description names the transaction by its op: " << b;
  EXPECT_FALSE(Contains(b, "parent_span_id")) << "the head of a trace";
}

TEST_F(Envelope, UnsampledTracesCostNothingAndSendNothing) {
  stp_span root = *stp_context_span(&ctx);
  root.sampled = STP_SAMPLED_NO;
  const std::string job = "job";
  stp_span_record r = Rec(root, "task", job, 0, kT0, kT0 + 1, true, &ctx);
  stp_exporter_record(x.get(), &r);
  root.sampled = STP_SAMPLED_DEFERRED;
  r.span = root;
  stp_exporter_record(x.get(), &r);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_TRUE(sink.Requests().empty());
  stp_exporter_stats st;
  stp_exporter_stats_get(x.get(), &st);
  EXPECT_EQ(st.spans_unsampled, 2u);
  EXPECT_EQ(st.spans_accepted, 0u);
}

TEST_F(Envelope, LongDescriptionsAreCutOnACharacterBoundary) {
  std::string d(STP_EXPORTER_DESCRIPTION_MAX - 1, 'a');
  d += "\xc3\xa9"; // é across the bound
  stp_span_record r = Rec(*stp_context_span(&ctx), "task", d, 0, kT0, kT0 + 1,
                          true, &ctx);
  stp_exporter_record(x.get(), &r);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_TRUE(Contains(posted[0].body,
                       "\"transaction\":\"" + d.substr(0, d.size() - 2) +
                           "\","))
      << "the whole é goes, not half of it";
}

} // namespace
