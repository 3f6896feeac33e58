// 100 calls at once, each with a trace of its own, on every server API:
// every handler finds its own call's trace and no other, and every record
// pairs with its own call.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "harness.h"

namespace grpcpp_test {
namespace {

constexpr int kCalls = 100;

class ConcurrencyTest : public ::testing::TestWithParam<Api> {};

TEST_P(ConcurrencyTest, HundredCallsKeepTheirTracesApart) {
  Config cfg;
  TestServer leaf(Api::kSync, {cfg.cfg});
  TestServer server(GetParam(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);

  // A parent per call: its own trace, continued from a random header.
  std::vector<std::unique_ptr<Continued>> parents;
  for (int i = 0; i < kCalls; i++) {
    stp_trace_id t;
    stp_span_id s;
    stp_trace_id_random(&t);
    stp_span_id_random(&s);
    parents.push_back(std::make_unique<Continued>(
        cfg.cfg, Hex(t) + "-" + Hex(s) + "-1"));
  }
  std::vector<CallResult> results(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; i++) {
    threads.emplace_back([&, i] {
      CallOptions o;
      o.shape = static_cast<Shape>(i % 4);
      o.parent = &parents[i]->ctx;
      o.request.set_text(std::to_string(i));
      o.request.set_delay_ms(20); // so that the calls overlap
      o.deadline_ms = 60000;     // valgrind runs them one at a time
      if (i % 2 == 0) {
        o.request.set_nested_address(leaf.address());
        o.request.set_nested(i % 4 == 0 ? stp::test::SCOPE
                                        : stp::test::OTHER_THREAD_SET_PARENT);
      }
      results[i] = client.Call(o);
    });
  }
  for (std::thread &t : threads)
    t.join();

  std::vector<Record> cr = client.records.WaitFor(kCalls, 60000);
  ASSERT_EQ(cr.size(), static_cast<size_t>(kCalls));
  std::map<std::string, Record> client_by_trace;
  for (const Record &r : cr)
    client_by_trace[r.trace_id] = r;
  ASSERT_EQ(client_by_trace.size(), static_cast<size_t>(kCalls));

  for (int i = 0; i < kCalls; i++) {
    SCOPED_TRACE("call " + std::to_string(i));
    const CallResult &r = results[i];
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_FALSE(r.replies.empty());
    std::string trace = Hex(stp_context_span(&parents[i]->ctx)->trace_id);
    const Record &c = client_by_trace[trace];
    EXPECT_EQ(c.parent_span_id,
              Hex(stp_context_span(&parents[i]->ctx)->span_id));
    for (const EchoReply &reply : r.replies) {
      EXPECT_EQ(reply.trace().trace_id(), trace);
      EXPECT_EQ(reply.trace().parent_span_id(), c.span_id);
      EXPECT_TRUE(reply.trace().current_is_call());
      if (i % 2 == 0) {
        EXPECT_EQ(reply.nested().trace_id(), trace);
        EXPECT_EQ(reply.nested_status(), 0);
      }
    }
  }

  // The server: one record per call, each the child of its own call's
  // client span; its nested calls' records in the same traces.
  // Even calls are unary or server-streaming: one nested call each.
  size_t nested = kCalls / 2;
  server.records.WaitFor(kCalls + nested, 60000);
  std::vector<Record> sr = server.records.Of("grpc.server");
  ASSERT_EQ(sr.size(), static_cast<size_t>(kCalls));
  std::set<std::string> server_spans;
  for (const Record &s : sr) {
    ASSERT_EQ(client_by_trace.count(s.trace_id), 1u);
    EXPECT_EQ(s.parent_span_id, client_by_trace[s.trace_id].span_id);
    EXPECT_EQ(s.code, 0);
    server_spans.insert(s.span_id);
  }
  std::vector<Record> nr = server.records.Of("grpc.client");
  EXPECT_EQ(nr.size(), nested);
  for (const Record &n : nr) {
    EXPECT_EQ(client_by_trace.count(n.trace_id), 1u);
    EXPECT_EQ(server_spans.count(n.parent_span_id), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllApis, ConcurrencyTest,
                         ::testing::Values(Api::kSync, Api::kAsync,
                                           Api::kCallback),
                         [](const ::testing::TestParamInfo<Api> &info) {
                           return std::string(ApiName(info.param));
                         });

} // namespace
} // namespace grpcpp_test
