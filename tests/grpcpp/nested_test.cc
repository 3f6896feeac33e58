// An outgoing call made while a handler runs is a child of the server span,
// on every server API, whether the parent comes from a scope on the
// handler's thread or from set_parent on another thread.
#include <gtest/gtest.h>

#include <tuple>

#include "harness.h"

namespace grpcpp_test {
namespace {

using stp::test::Nested;

const char *NestedName(Nested n) {
  switch (n) {
  case stp::test::SCOPE:
    return "Scope";
  case stp::test::OTHER_THREAD_SET_PARENT:
    return "OtherThreadSetParent";
  case stp::test::OTHER_THREAD_SCOPE:
    return "OtherThreadScope";
  case stp::test::OTHER_THREAD_BARE:
    return "OtherThreadBare";
  default:
    return "?";
  }
}

class NestedTest
    : public ::testing::TestWithParam<std::tuple<Api, Shape, Nested>> {};

TEST_P(NestedTest, OutgoingCallIsAChildOfTheServerSpan) {
  auto [api, shape, mode] = GetParam();
  Config cfg;
  TestServer leaf(Api::kSync, {cfg.cfg});
  TestServer middle(api, {cfg.cfg});
  TestClient client(middle.address(), cfg.cfg);
  Continued parent(cfg.cfg, stp_test::kTS1);

  CallOptions o;
  o.shape = shape;
  o.parent = &parent.ctx;
  o.request.set_nested_address(leaf.address());
  o.request.set_nested(mode);
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_FALSE(r.replies.empty());

  size_t calls = shape == Shape::kBidi ? kMessages : 1;
  // The middle server's records: its server span and each nested call's
  // client span.
  std::vector<Record> mr = middle.records.WaitFor(1 + calls);
  std::vector<Record> server = middle.records.Of("grpc.server");
  std::vector<Record> nested = middle.records.Of("grpc.client");
  ASSERT_EQ(server.size(), 1u);
  ASSERT_EQ(nested.size(), calls);
  ASSERT_EQ(leaf.records.WaitFor(calls).size(), calls);

  for (const EchoReply &reply : r.replies) {
    const Trace &mid = reply.trace();
    const Trace &inner = reply.nested();
    EXPECT_EQ(reply.nested_status(), 0);
    EXPECT_EQ(mid.span_id(), server[0].span_id);
    EXPECT_TRUE(inner.found());
    // Whichever nested call this reply's is, it is one of the recorded
    // ones.
    const Record *c = nullptr;
    for (const Record &n : nested)
      if (n.span_id == inner.parent_span_id())
        c = &n;
    if (mode == stp::test::OTHER_THREAD_BARE) {
      // Nothing tied the call to the handler's trace: a new one.
      EXPECT_NE(inner.trace_id(), stp_test::kTrace);
      ASSERT_NE(c, nullptr);
      EXPECT_FALSE(c->has_parent);
      EXPECT_TRUE(c->local_root);
    } else {
      EXPECT_EQ(inner.trace_id(), stp_test::kTrace);
      ASSERT_NE(c, nullptr) << "the leaf's parent is no nested client span";
      EXPECT_EQ(c->trace_id, stp_test::kTrace);
      EXPECT_EQ(c->parent_span_id, server[0].span_id);
      EXPECT_FALSE(c->local_root);
      EXPECT_TRUE(c->injected);
      // The call's copy of the handler's trace: the context itself under a
      // scope; set_parent's entry, continued, otherwise.
      EXPECT_EQ(c->ctx_span_id, mode == stp::test::OTHER_THREAD_SET_PARENT
                                    ? c->span_id
                                    : server[0].span_id);
      EXPECT_TRUE(c->ctx_frozen);
    }
    EXPECT_EQ(c->thread, reply.nested_thread());
    // The asynchronous and callback handlers run on a thread of their own,
    // and the other modes make the call on yet another.
    bool same = api == Api::kSync && mode == stp::test::SCOPE;
    EXPECT_EQ(reply.nested_thread() == mid.thread(), same);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllApis, NestedTest,
    ::testing::Combine(
        ::testing::Values(Api::kSync, Api::kAsync, Api::kCallback),
        ::testing::Values(Shape::kUnary, Shape::kBidi),
        ::testing::Values(stp::test::SCOPE, stp::test::OTHER_THREAD_SET_PARENT,
                          stp::test::OTHER_THREAD_SCOPE,
                          stp::test::OTHER_THREAD_BARE)),
    [](const ::testing::TestParamInfo<std::tuple<Api, Shape, Nested>> &info) {
      return std::string(ApiName(std::get<0>(info.param))) +
             ShapeName(std::get<1>(info.param)) +
             NestedName(std::get<2>(info.param));
    });

} // namespace
} // namespace grpcpp_test
