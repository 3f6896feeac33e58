// Every call shape on every server API: the handler finds the trace the
// client sent from its ServerContext, and both sides record one span.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "harness.h"

namespace grpcpp_test {
namespace {

using stp_test::kTS1;
using stp_test::kTrace;

class ShapesTest : public ::testing::TestWithParam<std::tuple<Api, Shape>> {
protected:
  Api api() const {
    return std::get<0>(GetParam());
  }
  Shape shape() const {
    return std::get<1>(GetParam());
  }
  size_t replies() const {
    return shape() == Shape::kServerStream || shape() == Shape::kBidi
               ? kMessages
               : 1;
  }
};

bool Has(const google::protobuf::RepeatedPtrField<std::string> &v,
         const std::string &s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_P(ShapesTest, HandlerContinuesTheTraceTheClientSent) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  Continued parent(cfg.cfg, kTS1, stp_test::kRefBaggage);
  std::string parent_span =
      Hex(stp_context_span(&parent.ctx)->span_id);

  CallOptions o;
  o.shape = shape();
  o.parent = &parent.ctx;
  o.request.set_text("hello");
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), replies());

  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  const Record &c = cr[0];
  EXPECT_EQ(c.op, "grpc.client");
  EXPECT_EQ(c.description, MethodPath(shape()));
  EXPECT_EQ(c.trace_id, kTrace);
  EXPECT_EQ(c.parent_span_id, parent_span);
  EXPECT_NE(c.span_id, parent_span);
  EXPECT_EQ(c.code, 0);
  EXPECT_EQ(c.status, "ok");
  EXPECT_TRUE(c.injected);
  EXPECT_FALSE(c.local_root);
  EXPECT_EQ(c.ctx_span_id, c.span_id); // set_parent's parent, continued
  EXPECT_TRUE(c.ctx_frozen);
  EXPECT_LE(c.start_ns, c.end_ns);

  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  const Record &s = sr[0];
  for (const EchoReply &reply : r.replies) {
    const Trace &t = reply.trace();
    EXPECT_TRUE(t.found());
    EXPECT_EQ(t.trace_id(), kTrace);
    EXPECT_EQ(t.parent_span_id(), c.span_id);
    EXPECT_EQ(t.span_id(), s.span_id);
    EXPECT_EQ(t.sampled(), STP_SAMPLED_YES);
    EXPECT_EQ(t.continue_status(), STP_OK);
    EXPECT_TRUE(t.current_is_call());
    EXPECT_EQ(Received(t, "sentry-trace"),
              std::vector<std::string>{kTrace + "-" + c.span_id + "-1"});
    EXPECT_EQ(Received(t, "baggage").size(), 1u);
    EXPECT_TRUE(Received(t, STP_GRPCPP_PARENT_KEY).empty());
    // The DSC went on as the parent received it.
    EXPECT_TRUE(Has(t.dsc(), "release=backend@1.2.3"));
    EXPECT_TRUE(Has(t.dsc(), "transaction=GET /api/users"));
  }
  EXPECT_EQ(s.op, "grpc.server");
  EXPECT_EQ(s.description, MethodPath(shape()));
  EXPECT_EQ(s.trace_id, kTrace);
  EXPECT_EQ(s.parent_span_id, c.span_id);
  EXPECT_EQ(s.code, 0);
  EXPECT_EQ(s.status, "ok");
  EXPECT_TRUE(s.local_root);
  EXPECT_EQ(s.continue_status, STP_OK);
  EXPECT_FALSE(s.injected);
  EXPECT_EQ(s.ctx_span_id, s.span_id);
  EXPECT_TRUE(s.ctx_frozen);
  EXPECT_LE(s.start_ns, s.end_ns);
  // The server span starts after the client span (each side ends when it
  // sees the call end, in no fixed order).
  EXPECT_LE(c.start_ns, s.start_ns);
}

TEST_P(ShapesTest, ClientWithoutParentStartsTheTrace) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), replies());
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_TRUE(cr[0].local_root);
  EXPECT_FALSE(cr[0].has_parent);
  EXPECT_TRUE(cr[0].injected);
  EXPECT_EQ(cr[0].ctx_span_id, cr[0].span_id); // the head's own span
  for (const EchoReply &reply : r.replies) {
    EXPECT_EQ(reply.trace().trace_id(), cr[0].trace_id);
    EXPECT_EQ(reply.trace().parent_span_id(), cr[0].span_id);
    EXPECT_EQ(reply.trace().continue_status(), STP_OK);
  }
}

// A server without the interceptor: the handler finds nothing, and the call
// goes on.
TEST_P(ShapesTest, ServerWithoutInterceptorHasNoTrace) {
  Config cfg;
  TestServer server(api(), {nullptr});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), replies());
  for (const EchoReply &reply : r.replies) {
    EXPECT_FALSE(reply.trace().found());
    EXPECT_FALSE(reply.trace().current_is_call());
    EXPECT_EQ(Received(reply.trace(), "sentry-trace").size(), 1u);
  }
  EXPECT_TRUE(server.records.All().empty());
}

// A client without the interceptor: the server starts the trace, and its
// DSC names the call as the transaction.
TEST_P(ShapesTest, ServerStartsATraceWhenNoneCame) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), nullptr);
  CallOptions o;
  o.shape = shape();
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), replies());
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].continue_status, STP_ERR_ABSENT);
  EXPECT_FALSE(sr[0].has_parent);
  EXPECT_TRUE(sr[0].local_root);
  for (const EchoReply &reply : r.replies) {
    const Trace &t = reply.trace();
    EXPECT_TRUE(t.found());
    EXPECT_EQ(t.trace_id(), sr[0].trace_id);
    EXPECT_EQ(t.parent_span_id(), "-");
    EXPECT_EQ(t.continue_status(), STP_ERR_ABSENT);
    EXPECT_TRUE(Has(t.dsc(), "transaction=" + MethodPath(shape())));
    EXPECT_TRUE(Has(t.dsc(), "trace_id=" + sr[0].trace_id));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllApisAndShapes, ShapesTest,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kAsync,
                                         Api::kCallback),
                       ::testing::Values(Shape::kUnary, Shape::kClientStream,
                                         Shape::kServerStream, Shape::kBidi)),
    [](const ::testing::TestParamInfo<std::tuple<Api, Shape>> &info) {
      return std::string(ApiName(std::get<0>(info.param))) +
             ShapeName(std::get<1>(info.param));
    });

} // namespace
} // namespace grpcpp_test
