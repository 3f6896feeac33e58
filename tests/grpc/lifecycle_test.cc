// Calls that end badly: cancelled, past their deadline, never connected,
// never started. Under --config=asan the leak checker proves that the
// per-call state (all in the call arena) goes away with the call.
#include <gtest/gtest.h>

#include <grpc/grpc_security.h>

#include <string>

#include "harness.h"

namespace stp_test {
namespace {

class LifecycleTest : public ::testing::Test {
protected:
  Config cfg_;
  TestServer server_{cfg_.cfg};
};

TEST_F(LifecycleTest, CancelledCallsRecordCancelledOnBothSides) {
  TestClient client(server_.address(), cfg_.cfg);
  const int n = 10;
  for (int i = 0; i < n; i++) {
    CallOptions o;
    o.method = "/test.Echo/Hang";
    o.cancel = true;
    o.metadata = {{"baggage", "user=" + std::to_string(i)}};
    CallResult r = client.Call(o);
    EXPECT_EQ(r.status, GRPC_STATUS_CANCELLED);
  }
  std::vector<Record> cr = client.records.WaitFor(n);
  std::vector<Record> sr = server_.records.WaitFor(n);
  ASSERT_EQ(cr.size(), static_cast<size_t>(n));
  // gRPC never hands the application a call that its client cancelled
  // before a server worker asked for it (seen under valgrind, where a call
  // can take longer to arrive than the client waits): every call the
  // server accepted has its one record, and there are no others.
  ASSERT_GT(server_.accepted(), 0);
  ASSERT_EQ(sr.size(), static_cast<size_t>(server_.accepted()));
  for (const Record &r : cr)
    EXPECT_EQ(r.status, GRPC_STATUS_CANCELLED);
  for (const Record &r : sr) {
    EXPECT_EQ(r.status, GRPC_STATUS_CANCELLED);
    EXPECT_EQ(r.continue_status, STP_OK);
  }
}

TEST_F(LifecycleTest, DeadlineExceededCalls) {
  TestClient client(server_.address(), cfg_.cfg);
  const int n = 10;
  std::vector<uint64_t> deadlines;
  for (int i = 0; i < n; i++) {
    CallOptions o;
    o.method = "/test.Echo/Hang";
    o.expect_hang = true;
    o.deadline_ms = 100;
    CallResult r = client.Call(o);
    EXPECT_EQ(r.status, GRPC_STATUS_DEADLINE_EXCEEDED);
    deadlines.push_back(r.deadline_ns);
  }
  std::vector<Record> cr = client.records.WaitFor(n);
  std::vector<Record> sr = server_.records.WaitFor(n);
  ASSERT_EQ(cr.size(), static_cast<size_t>(n));
  // As above, for calls whose deadline passed before they were asked for.
  ASSERT_GT(server_.accepted(), 0);
  ASSERT_EQ(sr.size(), static_cast<size_t>(server_.accepted()));
  // Each client record ends when its deadline has passed (the deadline is
  // set before the call is created, which under valgrind can take most of
  // the 100 ms: the record's own duration can be far shorter). The calls
  // are made one after another, so the records come in the same order.
  for (int i = 0; i < n; i++) {
    EXPECT_EQ(cr[i].status, GRPC_STATUS_DEADLINE_EXCEEDED);
    EXPECT_GE(cr[i].end_ns + 10u * 1000000u, deadlines[i]) << i;
    EXPECT_GT(cr[i].end_ns, cr[i].start_ns) << i;
  }
  for (const Record &r : sr)
    EXPECT_EQ(r.status, GRPC_STATUS_CANCELLED);
}

TEST(Lifecycle, UnreachableServerFailsTheCallNotTheProcess) {
  Config cfg;
  int port;
  {
    TestServer gone(cfg.cfg);
    port = gone.port();
  }
  TestClient client("127.0.0.1:" + std::to_string(port), cfg.cfg);
  CallOptions o;
  o.deadline_ms = 300;
  CallResult r = client.Call(o);
  EXPECT_NE(r.status, GRPC_STATUS_OK);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].status, r.status);
  EXPECT_TRUE(r.responses.empty());
}

TEST(Lifecycle, CallsNeverStartedOrWithoutStatus) {
  Config cfg;
  TestClient client("127.0.0.1:1", cfg.cfg);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  gpr_timespec forever = gpr_inf_future(GPR_CLOCK_REALTIME);
  for (int i = 0; i < 5; i++) {
    stp_grpc_call *call;
    ASSERT_EQ(stp_grpc_channel_create_call(client.channel(), &call, nullptr, cq,
                                           "/test.Echo/Unary", forever),
              STP_OK);
    if (i == 1)
      stp_grpc_call_set_status(call, GRPC_STATUS_ABORTED);
    grpc_call_cancel(stp_grpc_call_get(call), nullptr);
    stp_grpc_call_unref(call);
  }
  DestroyPluckQueue(cq);
  std::vector<Record> cr = client.records.WaitFor(5);
  ASSERT_EQ(cr.size(), 5u);
  EXPECT_FALSE(cr[0].has_status);
  EXPECT_EQ(cr[0].status, GRPC_STATUS_UNKNOWN);
  EXPECT_EQ(cr[0].sentry_status, "unknown");
  EXPECT_TRUE(cr[1].has_status);
  EXPECT_EQ(cr[1].status, GRPC_STATUS_ABORTED);
  EXPECT_EQ(cr[1].sentry_status, "aborted");
  // No parent context: each call started a new trace, its span the root.
  for (const Record &r : cr) {
    EXPECT_TRUE(r.local_root);
    EXPECT_FALSE(r.has_parent);
    EXPECT_TRUE(r.has_ctx);
  }
}

TEST(Lifecycle, NullsAndRejectedRequests) {
  stp_grpc_call_unref(nullptr);
  stp_grpc_channel_del(nullptr);
  stp_grpc_server_del(nullptr);
  stp_grpc_request_destroy(nullptr);
  stp_grpc_channel *ch = reinterpret_cast<stp_grpc_channel *>(1);
  EXPECT_EQ(stp_grpc_channel_new(&ch, nullptr, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ch, nullptr);
  stp_grpc_request req;
  memset(&req, 0, sizeof req);
  grpc_call_details_init(&req.details);
  grpc_metadata_array_init(&req.metadata);
  stp_grpc_call *call;
  stp_grpc_server *srv = nullptr;
  grpc_server *server = grpc_server_create(nullptr, nullptr);
  ASSERT_EQ(stp_grpc_server_new(&srv, server), STP_OK);
  EXPECT_EQ(stp_grpc_server_accept(srv, &call, &req), STP_ERR_INVALID_ARGUMENT);
  stp_grpc_request_destroy(&req);
  stp_grpc_request_destroy(&req);
  stp_grpc_interceptor ic = {};
  for (int i = 0; i < STP_GRPC_MAX_INTERCEPTORS; i++)
    EXPECT_EQ(stp_grpc_server_add(srv, &ic), STP_OK);
  EXPECT_EQ(stp_grpc_server_add(srv, &ic), STP_ERR_LIMIT);
  stp_grpc_server_del(srv);
  grpc_server_destroy(server);
}

} // namespace
} // namespace stp_test
