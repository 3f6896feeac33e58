// Client interceptor -> server interceptor over a real loopback connection.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "tests/reference_request.h"

namespace stp_test {
namespace {

const char kDsn[] = "https://abc123@o42.ingest.sentry.io/7";
const char kTrace[] = "771a43a4192642f0b136d5159a501700";
const char kSpan[] = "b9d6f6a3cf7b7a4a";

// A context continued from `sentry_trace` and `baggage`, as a server
// handler would have it.
struct Incoming {
  Incoming(const stp_config *cfg, const std::string &sentry_trace,
           const std::string &baggage) {
    stp_context_begin(&ctx, cfg);
    stp_context_feed(&ctx, "sentry-trace", 12, sentry_trace.data(),
                     sentry_trace.size());
    if (!baggage.empty())
      stp_context_feed(&ctx, "baggage", 7, baggage.data(), baggage.size());
    EXPECT_EQ(stp_context_finish(&ctx), STP_OK);
  }
  stp_context ctx;
};

bool Contains(const std::string &hay, const std::string &needle) {
  return hay.find(needle) != std::string::npos;
}

// Exactly one record from each side; returns them.
void TwoRecords(TestClient &client, TestServer &server, Record *c, Record *s) {
  std::vector<Record> cr = client.records.WaitFor(1);
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  ASSERT_EQ(sr.size(), 1u);
  *c = cr[0];
  *s = sr[0];
}

class PropagationTest : public ::testing::Test {
protected:
  Config cfg_{[](stp_options *o) {
    o->dsn = kDsn;
    o->release = "app@1.0";
    o->environment = "test";
    o->has_sample_rate = true;
    o->sample_rate = 1.0;
  }};
  TestServer server_{cfg_.cfg};
};

TEST_F(PropagationTest, ServerContinuesTheClientsTraceAndRecordsBothSpans) {
  TestClient client(server_.address(), cfg_.cfg);
  stp_context parent;
  ASSERT_EQ(stp_context_init(&parent, cfg_.cfg), STP_OK);
  CallOptions o;
  o.parent = &parent;
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  ASSERT_EQ(r.responses.size(), 1u);
  ASSERT_TRUE(r.has_span);
  auto body = ParseBody(r.responses[0]);

  const stp_span *ps = stp_context_span(&parent);
  // The client span is a child of the caller's span.
  EXPECT_EQ(Hex(r.span.trace_id), Hex(ps->trace_id));
  EXPECT_EQ(Hex(r.span.parent_span_id), Hex(ps->span_id));
  EXPECT_NE(Hex(r.span.span_id), Hex(ps->span_id));
  // The server continued it: same trace, parent = the client span.
  EXPECT_EQ(One(body, "trace"), Hex(ps->trace_id));
  EXPECT_EQ(One(body, "parent"), Hex(r.span.span_id));
  EXPECT_NE(One(body, "span"), Hex(r.span.span_id));
  EXPECT_EQ(One(body, "sampled"), "1");
  EXPECT_EQ(One(body, "status"), "0");
  EXPECT_EQ(One(body, "continued"), "1");
  // The handler's current context is the call's.
  EXPECT_EQ(One(body, "current"),
            One(body, "trace") + "-" + One(body, "span") + "-1");
  // The DSC went across.
  std::string bag = One(body, "baggage");
  EXPECT_TRUE(Contains(bag, "sentry-trace_id=" + Hex(ps->trace_id))) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-public_key=abc123")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-release=app@1.0")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-environment=test")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-sampled=true")) << bag;
  // One entry of each on the wire, keys lowercase, no traceparent.
  EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u);
  EXPECT_EQ(Wire(body, "baggage").size(), 1u);
  EXPECT_EQ(Wire(body, "traceparent").size(), 0u);
  EXPECT_EQ(Wire(body, "sentry-trace")[0],
            Hex(ps->trace_id) + "-" + Hex(r.span.span_id) + "-1");
  // The parent's DSC froze when it left the process.
  EXPECT_TRUE(stp_context_frozen(&parent));

  Record c, s;
  TwoRecords(client, server_, &c, &s);
  EXPECT_EQ(c.op, "grpc.client");
  EXPECT_EQ(c.description, "/test.Echo/Unary");
  EXPECT_EQ(c.trace_id, Hex(ps->trace_id));
  EXPECT_EQ(c.span_id, Hex(r.span.span_id));
  EXPECT_EQ(c.parent_span_id, Hex(ps->span_id));
  EXPECT_TRUE(c.has_status);
  EXPECT_EQ(c.status, GRPC_STATUS_OK);
  EXPECT_EQ(c.sampled, STP_SAMPLED_YES);
  EXPECT_TRUE(c.injected);
  EXPECT_EQ(c.sentry_status, "ok");
  EXPECT_FALSE(c.local_root); // a child of the caller's span
  EXPECT_LE(c.start_ns, c.end_ns);
  EXPECT_GT(c.start_ns, 1600000000ull * 1000000000ull);
  EXPECT_EQ(s.op, "grpc.server");
  EXPECT_EQ(s.description, "/test.Echo/Unary");
  EXPECT_EQ(s.trace_id, c.trace_id);
  EXPECT_EQ(s.parent_span_id, c.span_id);
  EXPECT_EQ(s.span_id, One(body, "span"));
  EXPECT_EQ(s.status, GRPC_STATUS_OK);
  EXPECT_EQ(s.continue_status, STP_OK);
  EXPECT_EQ(s.sampled, STP_SAMPLED_YES);
  EXPECT_EQ(s.sentry_status, "ok");
  EXPECT_TRUE(s.local_root);
  EXPECT_TRUE(s.has_ctx);
  EXPECT_LE(s.start_ns, s.end_ns);
}

TEST_F(PropagationTest, SamplingDecisionAndFrozenDscOfAContinuedTrace) {
  TestClient client(server_.address(), cfg_.cfg);
  Incoming in(cfg_.cfg, std::string(kTrace) + "-" + kSpan + "-0",
              "sentry-trace_id=771a43a4192642f0b136d5159a501700,"
              "sentry-public_key=upstream,sentry-sample_rate=0.25,"
              "sentry-sample_rand=0.700000,sentry-sampled=false,"
              "sentry-release=up%401,sentry-replay_id=r1");
  CallOptions o;
  o.parent = &in.ctx;
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "trace"), kTrace);
  EXPECT_EQ(One(body, "sampled"), "0"); // the parent wins over rate 1.0
  EXPECT_EQ(One(body, "parent"), Hex(r.span.span_id));
  std::string bag = One(body, "baggage");
  EXPECT_TRUE(Contains(bag, "sentry-public_key=upstream")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-release=up%401")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-sample_rand=0.700000")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-sampled=false")) << bag;
  EXPECT_TRUE(Contains(bag, "sentry-replay_id=r1")) << bag;
  EXPECT_FALSE(Contains(bag, "app@1.0")) << bag; // frozen, not ours
  EXPECT_EQ(Wire(body, "sentry-trace").at(0),
            std::string(kTrace) + "-" + Hex(r.span.span_id) + "-0");
  Record c, s;
  TwoRecords(client, server_, &c, &s);
  EXPECT_EQ(c.sampled, STP_SAMPLED_NO);
  EXPECT_EQ(s.sampled, STP_SAMPLED_NO);
  EXPECT_EQ(c.parent_span_id, Hex(stp_context_span(&in.ctx)->span_id));
  EXPECT_NE(c.parent_span_id, kSpan);
}

TEST_F(PropagationTest, ThirdPartyBaggageDroppedByDefault) {
  TestClient client(server_.address(), cfg_.cfg);
  Incoming in(cfg_.cfg, std::string(kTrace) + "-" + kSpan + "-1",
              "vendor=abc;prop=1,sentry-trace_id=" + std::string(kTrace) +
                  ",other=x");
  CallOptions o;
  o.parent = &in.ctx;
  CallResult r = client.Call(o);
  auto body = ParseBody(r.responses.at(0));
  std::vector<std::string> wire = Wire(body, "baggage");
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_EQ(wire[0].find("sentry-trace_id=" + std::string(kTrace)), 0u);
  EXPECT_FALSE(Contains(wire[0], "vendor")) << wire[0];
  EXPECT_FALSE(Contains(wire[0], "other")) << wire[0];
}

// A client and a server that pass third-party baggage on.
class ThirdPartyTest : public ::testing::Test {
protected:
  // One call from a context continued from the reference trace and
  // `baggage`, with `metadata` as the user's own; the server's view of it.
  std::multimap<std::string, std::string>
  CallFrom(const std::string &baggage, const Metadata &metadata = {}) {
    Incoming in(cfg_.cfg, std::string(kTrace) + "-" + kSpan + "-1", baggage);
    CallOptions o;
    o.parent = &in.ctx;
    o.metadata = metadata;
    CallResult r = client_.Call(o);
    EXPECT_EQ(r.status, GRPC_STATUS_OK) << r.details;
    if (r.responses.empty())
      return {};
    return ParseBody(r.responses[0]);
  }

  Config cfg_{[](stp_options *o) { o->propagate_third_party_baggage = true; }};
  TestServer server_{cfg_.cfg};
  TestClient client_{server_.address(), cfg_.cfg};
};

TEST_F(ThirdPartyTest, ThirdPartyBaggageForwardedWhenEnabled) {
  auto body = CallFrom("vendor=abc;prop=1,sentry-trace_id=" +
                       std::string(kTrace) + ",other=x");
  std::vector<std::string> wire = Wire(body, "baggage");
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(Contains(wire[0], "vendor=abc;prop=1")) << wire[0];
  EXPECT_TRUE(Contains(wire[0], "other=x")) << wire[0];
  EXPECT_TRUE(Contains(wire[0], "sentry-trace_id=" + std::string(kTrace)));
  // The server keeps them and would forward them again.
  EXPECT_TRUE(Contains(One(body, "baggage"), "vendor=abc"));
}

TEST_F(PropagationTest, UserMetadataMergedIntoOneBaggageAndTraceReplaced) {
  TestClient client(server_.address(), cfg_.cfg);
  stp_context parent;
  ASSERT_EQ(stp_context_init(&parent, cfg_.cfg), STP_OK);
  CallOptions o;
  o.parent = &parent;
  o.metadata = {{"baggage", "user=1,sentry-release=stale"},
                {"x-custom", "keep me"},
                {"sentry-trace", std::string(kTrace) + "-" + kSpan + "-0"},
                {"baggage", "other=2;p"}};
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  auto body = ParseBody(r.responses.at(0));
  std::vector<std::string> bag = Wire(body, "baggage");
  ASSERT_EQ(bag.size(), 1u);
  EXPECT_EQ(bag[0].find("user=1,other=2;p,sentry-trace_id="), 0u) << bag[0];
  EXPECT_FALSE(Contains(bag[0], "stale")) << bag[0];
  EXPECT_TRUE(Contains(bag[0], "sentry-release=app@1.0")) << bag[0];
  std::vector<std::string> st = Wire(body, "sentry-trace");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0], Hex(stp_context_span(&parent)->trace_id) + "-" +
                       Hex(r.span.span_id) + "-1");
  EXPECT_EQ(Wire(body, "x-custom"), std::vector<std::string>{"keep me"});
  EXPECT_EQ(One(body, "trace"), Hex(stp_context_span(&parent)->trace_id));
}

// The client interceptor sets its entries without stp_grpc_metadata_set's
// checks: what stp_context_inject writes is always legal gRPC metadata.
// Here both its inputs are hostile, a parent continued from baggage with
// tabs and OWS in it, and user baggage gRPC itself would refuse (a tab, a
// DEL, a byte above 0x7f): gRPC checks every entry of the batch and would
// fail the whole call on one illegal byte, and a debug build asserts.
TEST_F(ThirdPartyTest, WhatTheClientInjectsIsLegalWhateverCameIn) {
  auto body = CallFrom("\tin=1;p\t=\tq ,\tsentry-trace_id=" +
                           std::string(kTrace) + "\t,tab\t=\t2\t;\tr",
                       {{"baggage", "u=1;x\t=\ty,del=\x7f,high=\xc3\xa9,u2=2"},
                        {"baggage", "ctl=\x01,u3=3"}});
  std::vector<std::string> bag = Wire(body, "baggage");
  ASSERT_EQ(bag.size(), 1u);
  for (unsigned char c : bag[0])
    EXPECT_TRUE(c >= 0x20 && c <= 0x7e)
        << "byte " << int(c) << " in " << bag[0];
  EXPECT_EQ(
      bag[0].find("u=1;x = y,u2=2,u3=3,in=1;p = q,tab=2;r,sentry-trace_id="),
      0u)
      << bag[0];
  EXPECT_FALSE(Contains(bag[0], "del=")) << bag[0];
  EXPECT_FALSE(Contains(bag[0], "high=")) << bag[0];
  EXPECT_FALSE(Contains(bag[0], "ctl=")) << bag[0];
  EXPECT_EQ(One(body, "trace"), kTrace);
}

TEST_F(PropagationTest, CurrentContextIsTheParentWhenNoneIsGiven) {
  TestClient client(server_.address(), cfg_.cfg);
  stp_context parent;
  ASSERT_EQ(stp_context_init(&parent, cfg_.cfg), STP_OK);
  stp_token tok = stp_attach(&parent);
  CallResult r = client.Call(CallOptions());
  EXPECT_EQ(stp_detach(tok), STP_OK);
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "trace"), Hex(stp_context_span(&parent)->trace_id));
  EXPECT_EQ(Hex(r.span.parent_span_id),
            Hex(stp_context_span(&parent)->span_id));
}

TEST_F(PropagationTest, NoContextAtAllStartsANewTraceAtTheClient) {
  TestClient client(server_.address(), cfg_.cfg);
  ASSERT_EQ(stp_current(), nullptr);
  CallResult r = client.Call(CallOptions());
  ASSERT_TRUE(r.has_span);
  EXPECT_FALSE(r.span.has_parent);
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "trace"), Hex(r.span.trace_id));
  EXPECT_EQ(One(body, "parent"), Hex(r.span.span_id));
  EXPECT_EQ(One(body, "continued"), "1");
  Record c, s;
  TwoRecords(client, server_, &c, &s);
  EXPECT_FALSE(c.has_parent);
  EXPECT_EQ(s.parent_span_id, c.span_id);
}

// A parent between begin and finish is not decided: the call starts a
// trace of its own, as with no parent, and the server continues it.
TEST_F(PropagationTest, AParentNotDecidedYetStartsANewTraceAtTheClient) {
  TestClient client(server_.address(), cfg_.cfg);
  stp_context parent;
  ASSERT_EQ(stp_context_begin(&parent, cfg_.cfg), STP_OK);
  stp_token tok = stp_attach(&parent);
  CallResult r = client.Call(CallOptions());
  EXPECT_EQ(stp_detach(tok), STP_OK);
  ASSERT_TRUE(r.has_span);
  EXPECT_FALSE(r.span.has_parent);
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "trace"), Hex(r.span.trace_id));
  EXPECT_EQ(One(body, "continued"), "1");
  Record c, s;
  TwoRecords(client, server_, &c, &s);
  EXPECT_EQ(s.parent_span_id, c.span_id);
}

TEST_F(PropagationTest, ServerWithoutTraceMetadataStartsANewHead) {
  TestClient plain(server_.address(), nullptr); // no interceptor
  CallResult r = plain.Call(CallOptions());
  ASSERT_EQ(r.status, GRPC_STATUS_OK);
  EXPECT_FALSE(r.has_span);
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "continued"), "0");
  EXPECT_EQ(One(body, "parent"), "-");
  EXPECT_EQ(One(body, "status"), std::to_string(STP_ERR_ABSENT));
  // Named by the method path, as the grpc++ server names its heads.
  EXPECT_TRUE(Contains(One(body, "baggage"),
                       "sentry-transaction=" + One(body, "method")))
      << One(body, "baggage");
  std::vector<Record> sr = server_.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].continue_status, STP_ERR_ABSENT);
  EXPECT_FALSE(sr[0].has_parent);
  EXPECT_TRUE(plain.records.All().empty());
}

TEST_F(PropagationTest, TraceparentFallbackOnTheServer) {
  TestClient plain(server_.address(), nullptr);
  CallOptions o;
  o.metadata = {
      {"traceparent", std::string("00-") + kTrace + "-" + kSpan + "-01"}};
  CallResult r = plain.Call(o);
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "trace"), kTrace);
  EXPECT_EQ(One(body, "parent"), kSpan);
  EXPECT_EQ(One(body, "sampled"), "1");
}

TEST(PropagationOptions, TraceparentSentWhenEnabled) {
  Config cfg([](stp_options *o) {
    o->propagate_traceparent = true;
    o->has_sample_rate = true;
    o->sample_rate = 0.0;
  });
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallResult r = client.Call(CallOptions());
  auto body = ParseBody(r.responses.at(0));
  std::vector<std::string> tp = Wire(body, "traceparent");
  ASSERT_EQ(tp.size(), 1u);
  EXPECT_EQ(tp[0],
            "00-" + Hex(r.span.trace_id) + "-" + Hex(r.span.span_id) + "-00");
  EXPECT_EQ(One(body, "sampled"), "0");
}

struct TargetCase {
  const char *name;
  std::vector<const char *> targets; // {"<none>"}: an empty list
  const char *method;
  bool inject;
};

// gtest prints a parameter by its name (not its raw bytes, padding and all).
void PrintTo(const TargetCase &c, std::ostream *os) { *os << c.name; }

class TargetTest : public ::testing::TestWithParam<TargetCase> {};

TEST_P(TargetTest, InjectsOnlyForMatchingTargets) {
  const TargetCase &tc = GetParam();
  bool empty_list =
      tc.targets.size() == 1 && std::strcmp(tc.targets[0], "<none>") == 0;
  Config cfg([&](stp_options *o) {
    o->targets = tc.targets.empty() ? nullptr : tc.targets.data();
    o->targets_len = empty_list ? 0 : tc.targets.size();
  });
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.method = tc.method;
  o.metadata = {{"baggage", "user=1"}};
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  auto body = ParseBody(r.responses.at(0));
  std::vector<std::string> bag = Wire(body, "baggage");
  ASSERT_EQ(bag.size(), 1u);
  if (tc.inject) {
    EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u);
    EXPECT_TRUE(Contains(bag[0], "sentry-trace_id=")) << bag[0];
    EXPECT_EQ(One(body, "trace"), Hex(r.span.trace_id));
  } else {
    EXPECT_TRUE(Wire(body, "sentry-trace").empty());
    EXPECT_EQ(bag[0], "user=1"); // the user's own, untouched
    EXPECT_EQ(One(body, "continued"), "0");
  }
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].injected, tc.inject);
}

INSTANTIATE_TEST_SUITE_P(
    Targets, TargetTest,
    ::testing::Values(
        TargetCase{"DefaultMatchesAll", {}, "/test.Echo/Unary", true},
        TargetCase{
            "EmptyListNeverInjects", {"<none>"}, "/test.Echo/Unary", false},
        TargetCase{
            "OtherHost", {"^api\\.example\\.com"}, "/test.Echo/Unary", false},
        TargetCase{"AuthorityAndMethod",
                   {"^127\\.0\\.0\\.1:[0-9]+/test\\.Echo/Unary$"},
                   "/test.Echo/Unary",
                   true},
        TargetCase{"OtherMethod",
                   {"^127\\.0\\.0\\.1:[0-9]+/test\\.Echo/Unary$"},
                   "/test.Echo/ClientStream",
                   false},
        TargetCase{"SecondPatternMatches",
                   {"nomatch", "/test\\.Echo/"},
                   "/test.Echo/ClientStream",
                   true}),
    [](const ::testing::TestParamInfo<TargetCase> &info) {
      return std::string(info.param.name);
    });

TEST(PropagationOptions, DefaultTargetsSeeTheChannelsAuthority) {
  Config cfg([](stp_options *o) {
    static const char *const t[] = {"^localhost:[0-9]+/test"};
    o->targets = t;
    o->targets_len = 1;
  });
  TestServer server(cfg.cfg);
  TestClient client("dns:///localhost:" + std::to_string(server.port()),
                    cfg.cfg);
  size_t len;
  stp_grpc_call *call;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  ASSERT_EQ(stp_grpc_channel_create_call(client.channel(), &call, nullptr, cq,
                                         "/test.Echo/Unary",
                                         gpr_inf_future(GPR_CLOCK_REALTIME)),
            STP_OK);
  const char *t = stp_grpc_call_target(call, &len);
  EXPECT_EQ(std::string(t, len),
            "localhost:" + std::to_string(server.port()) + "/test.Echo/Unary");
  t = stp_grpc_call_method(call, &len);
  EXPECT_EQ(std::string(t, len), "/test.Echo/Unary");
  stp_grpc_call_unref(call);
  DestroyPluckQueue(cq);
}

// A call made under a parent continued from a sentry-trace of kTrace and
// `baggage`, to the server at `address`: its answer, parsed (*r: the call).
std::multimap<std::string, std::string>
CallUnderParent(const stp_config *cfg, const std::string &address,
                const std::string &baggage, CallResult *r) {
  Incoming in(cfg, std::string(kTrace) + "-" + kSpan + "-1", baggage);
  TestClient client(address, cfg);
  CallOptions o;
  o.parent = &in.ctx;
  *r = client.Call(o);
  EXPECT_EQ(r->status, GRPC_STATUS_OK) << r->details;
  EXPECT_EQ(r->responses.size(), 1u);
  return r->responses.empty() ? std::multimap<std::string, std::string>{}
                              : ParseBody(r->responses[0]);
}

// The members of a baggage list, sorted.
std::vector<std::string> SortedMembers(const std::string &list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string m; std::getline(in, m, ',');)
    out.push_back(m);
  std::sort(out.begin(), out.end());
  return out;
}

// The reference request: sentry-trace and the 321-byte baggage of
// tests/reference_request.h. Each side keeps a compact copy of the context
// in the call's arena, sized by what the call carried, and all the layer
// takes from the arena for the call (its state, the interceptors' data,
// the method, the request metadata's entries) stays within 1 KiB.
TEST_F(PropagationTest, EachSideKeepsUnderOneKibibyte) {
  CallResult r;
  auto body = CallUnderParent(cfg_.cfg, server_.address(), STP_REF_BAGGAGE, &r);
  EXPECT_EQ(One(body, "trace"), kTrace);
  size_t server_ctx = std::stoul(One(body, "context_bytes"));
  size_t server_arena = std::stoul(One(body, "arena_bytes"));
  EXPECT_GT(server_ctx, 321u);
  EXPECT_GT(r.context_bytes, 321u);
  // The context is part of what the layer took from each call's arena.
  EXPECT_GE(server_arena, server_ctx);
  EXPECT_GE(r.arena_bytes, r.context_bytes);
  EXPECT_LE(server_arena, 1024u);
  EXPECT_LE(r.arena_bytes, 1024u);
  std::cout << "stp's arena bytes per call: client " << r.arena_bytes
            << " (context " << r.context_bytes << "), server " << server_arena
            << " (context " << server_ctx << ")\n";

  // The same headers from a client without stp: the server keeps all of
  // the baggage (its third-party members too) and every metadata entry.
  TestClient plain(server_.address(), nullptr);
  CallOptions o;
  o.metadata = {{"sentry-trace", STP_REF_SENTRY_TRACE},
                {"baggage", STP_REF_BAGGAGE}};
  CallResult pr = plain.Call(o);
  ASSERT_EQ(pr.status, GRPC_STATUS_OK) << pr.details;
  ASSERT_EQ(pr.responses.size(), 1u);
  auto plain_body = ParseBody(pr.responses[0]);
  size_t plain_arena = std::stoul(One(plain_body, "arena_bytes"));
  EXPECT_GT(std::stoul(One(plain_body, "context_bytes")), server_ctx);
  EXPECT_LE(plain_arena, 1024u);
  std::cout << "stp's arena bytes per call, server, from a client without "
               "stp: "
            << plain_arena << "\n";
}

// A large baggage still travels whole: the copy grows with what was
// received.
TEST_F(PropagationTest, ALargeBaggageTravelsWhole) {
  std::string baggage = "sentry-trace_id=" + std::string(kTrace) +
                        ",sentry-sample_rand=0.5";
  for (int i = 0; baggage.size() < 7000; i++) // 35 members, of the 64 kept
    baggage += ",k" + std::to_string(i) + "=" + std::string(200, 'v');
  Config third_party{[](stp_options *o) {
    o->dsn = kDsn;
    o->propagate_third_party_baggage = true;
  }};
  TestServer server(third_party.cfg);
  CallResult r;
  auto body = CallUnderParent(third_party.cfg, server.address(), baggage, &r);
  // The same members (the DSC goes out after the others).
  EXPECT_EQ(SortedMembers(One(body, "baggage")), SortedMembers(baggage));
  EXPECT_GT(std::stoul(One(body, "context_bytes")), 7000u);
  EXPECT_GT(r.context_bytes, 7000u);
}

} // namespace
} // namespace stp_test
