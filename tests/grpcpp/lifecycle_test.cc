// Calls that end early: cancelled by either side, past their deadline, or
// abandoned by the client. Each still gives one record per side with the
// status the call ended with, and nothing is left behind (run under
// ASan's leak checker and valgrind).
#include <gtest/gtest.h>

#include <tuple>

#include "harness.h"

namespace grpcpp_test {
namespace {

using Code = grpc::StatusCode;

class LifecycleTest
    : public ::testing::TestWithParam<std::tuple<Api, Shape>> {
protected:
  Api api() const {
    return std::get<0>(GetParam());
  }
  Shape shape() const {
    return std::get<1>(GetParam());
  }
  // Waits for the one server record of the call, and checks that no
  // second one follows.
  Record OneServerRecord(TestServer *server) {
    std::vector<Record> sr = server->records.WaitFor(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(server->records.All().size(), 1u);
    return sr.empty() ? Record() : sr[0];
  }
};

TEST_P(LifecycleTest, ClientCancelsWhileTheHandlerRuns) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  // Long enough that only the cancel ends the handler: one that returned
  // first would answer before the cancel reached the server.
  o.request.set_delay_ms(20000);
  o.request.set_until_cancelled(true);
  o.cancel_server = &server;
  o.cancel_when_started = 1;
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status.error_code(), Code::CANCELLED);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].code, static_cast<int>(Code::CANCELLED));
  EXPECT_EQ(cr[0].status, "cancelled");
  Record s = OneServerRecord(&server);
  EXPECT_EQ(s.code, static_cast<int>(Code::CANCELLED));
  EXPECT_EQ(s.trace_id, cr[0].trace_id);
  EXPECT_EQ(s.parent_span_id, cr[0].span_id);
}

TEST_P(LifecycleTest, DeadlinePassesWhileTheHandlerRuns) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  o.request.set_delay_ms(400);
  o.deadline_ms = 150;
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status.error_code(), Code::DEADLINE_EXCEEDED);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].code, static_cast<int>(Code::DEADLINE_EXCEEDED));
  EXPECT_EQ(cr[0].status, "deadline_exceeded");
  // A client-streaming handler starts only once the client has sent
  // everything, which it may not have before the deadline.
  if (server.started() == 0)
    return;
  Record s = OneServerRecord(&server);
  if (api() == Api::kSync) {
    // The synchronous server sees the call close once the handler has
    // returned, long past the deadline.
    EXPECT_EQ(s.code, static_cast<int>(Code::DEADLINE_EXCEEDED));
    EXPECT_EQ(s.status, "deadline_exceeded");
  } else {
    // The others see it when it happens: the client's timer, whose cancel
    // may reach the server before the server's own timer fires (its
    // deadline counts from the request's arrival) and then reads as a
    // cancel.
    EXPECT_TRUE(s.code == static_cast<int>(Code::DEADLINE_EXCEEDED) ||
                s.code == static_cast<int>(Code::CANCELLED))
        << s.code;
  }
}

TEST_P(LifecycleTest, ServerCancelsTheCall) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  o.request.set_server_cancel(true);
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status.error_code(), Code::CANCELLED);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].code, static_cast<int>(Code::CANCELLED));
  Record s = OneServerRecord(&server);
  EXPECT_EQ(s.code, static_cast<int>(Code::CANCELLED));
}

TEST_P(LifecycleTest, DeadlineAlreadyPassed) {
  Config cfg;
  TestServer server(api(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.shape = shape();
  o.deadline_ms = -10;
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status.error_code(), Code::DEADLINE_EXCEEDED);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].code, static_cast<int>(Code::DEADLINE_EXCEEDED));
  // gRPC ends such a call before it leaves the client, as a rule: the
  // server then has nothing to record. Should the request have gone out
  // first, the server's record says the call was cut short.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (const Record &s : server.records.All())
    EXPECT_TRUE(s.code == static_cast<int>(Code::DEADLINE_EXCEEDED) ||
                s.code == static_cast<int>(Code::CANCELLED))
        << s.code;
  EXPECT_LE(server.records.All().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    AllApisAndShapes, LifecycleTest,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kAsync,
                                         Api::kCallback),
                       ::testing::Values(Shape::kUnary, Shape::kClientStream,
                                         Shape::kServerStream, Shape::kBidi)),
    [](const ::testing::TestParamInfo<std::tuple<Api, Shape>> &info) {
      return std::string(ApiName(std::get<0>(info.param))) +
             ShapeName(std::get<1>(info.param));
    });

// A client that walks away from a stream without finishing it: its record
// comes when the ClientContext goes (status unknown), and the server's
// says the call was cancelled.
class AbandonTest : public ::testing::TestWithParam<Api> {};

TEST_P(AbandonTest, ClientAbandonsABidiStream) {
  Config cfg;
  TestServer server(GetParam(), {cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  {
    grpc::ClientContext cc;
    cc.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
    auto stream = client.stub()->Bidi(&cc);
    EchoRequest req;
    EchoReply reply;
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_TRUE(reply.trace().found());
    EXPECT_TRUE(client.records.All().empty()); // the call is still on
  } // no WritesDone, no Finish: the stream and its context go
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].code, -1);
  EXPECT_EQ(cr[0].status, "unknown");
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].code, static_cast<int>(Code::CANCELLED));
  EXPECT_EQ(sr[0].parent_span_id, cr[0].span_id);
}

INSTANTIATE_TEST_SUITE_P(AllApis, AbandonTest,
                         ::testing::Values(Api::kSync, Api::kAsync,
                                           Api::kCallback),
                         [](const ::testing::TestParamInfo<Api> &info) {
                           return std::string(ApiName(info.param));
                         });

} // namespace
} // namespace grpcpp_test
