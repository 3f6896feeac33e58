// Every call shape carries the trace; records carry the status.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>

#include "harness.h"

namespace stp_test {
namespace {

struct ShapeCase {
  const char *name;
  const char *method;
  Shape shape;
  size_t responses;
  const char *received; // messages the server got, as it reports it
};

// gtest prints a parameter by its name (not its raw bytes, padding and all).
void PrintTo(const ShapeCase &c, std::ostream *os) { *os << c.name; }

class ShapeTest : public ::testing::TestWithParam<ShapeCase> {
protected:
  Config cfg_;
  TestServer server_{cfg_.cfg};
};

TEST_P(ShapeTest, CarriesTheTraceAndRecordsOneSpanPerSide) {
  const ShapeCase &tc = GetParam();
  TestClient client(server_.address(), cfg_.cfg);
  stp_context parent;
  ASSERT_EQ(stp_context_init(&parent, cfg_.cfg), STP_OK);
  CallOptions o;
  o.method = tc.method;
  o.shape = tc.shape;
  o.parent = &parent;
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  ASSERT_EQ(r.responses.size(), tc.responses);
  std::string trace = Hex(stp_context_span(&parent)->trace_id);
  for (size_t i = 0; i < r.responses.size(); i++) {
    auto body = ParseBody(r.responses[i]);
    EXPECT_EQ(One(body, "trace"), trace);
    EXPECT_EQ(One(body, "parent"), Hex(r.span.span_id));
    EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u);
  }
  if (tc.shape == Shape::kBidi) // one answer per message, as they came
    for (size_t i = 0; i < r.responses.size(); i++)
      EXPECT_EQ(One(ParseBody(r.responses[i]), "received"),
                std::to_string(i + 1));
  else
    EXPECT_EQ(One(ParseBody(r.responses.back()), "received"), tc.received);

  std::vector<Record> cr = client.records.WaitFor(1);
  std::vector<Record> sr = server_.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(cr[0].op, "grpc.client");
  EXPECT_EQ(sr[0].op, "grpc.server");
  EXPECT_EQ(cr[0].description, tc.method);
  EXPECT_EQ(sr[0].description, tc.method);
  EXPECT_EQ(sr[0].trace_id, trace);
  EXPECT_EQ(sr[0].parent_span_id, cr[0].span_id);
  EXPECT_EQ(cr[0].status, GRPC_STATUS_OK);
  EXPECT_EQ(sr[0].status, GRPC_STATUS_OK);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ShapeTest,
    ::testing::Values(
        ShapeCase{"Unary", "/test.Echo/Unary", Shape::kUnary, 1, "1"},
        ShapeCase{"RegisteredUnary", "/test.Echo/Registered", Shape::kUnary, 1,
                  "1"},
        ShapeCase{"ClientStreaming", "/test.Echo/ClientStream",
                  Shape::kClientStream, 1, "3"},
        ShapeCase{"ServerStreaming", "/test.Echo/ServerStream",
                  Shape::kServerStream, 3, "1"},
        ShapeCase{"Bidirectional", "/test.Echo/Bidi", Shape::kBidi, 3, "3"}),
    [](const ::testing::TestParamInfo<ShapeCase> &info) {
      return std::string(info.param.name);
    });

TEST(Status, ErrorStatusInBothRecords) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.method = "/test.Echo/Fail";
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status, GRPC_STATUS_NOT_FOUND);
  std::vector<Record> cr = client.records.WaitFor(1);
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(cr[0].status, GRPC_STATUS_NOT_FOUND);
  EXPECT_EQ(sr[0].status, GRPC_STATUS_NOT_FOUND);
  EXPECT_TRUE(cr[0].has_status);
  EXPECT_TRUE(sr[0].has_status);
  EXPECT_EQ(sr[0].parent_span_id, cr[0].span_id);
}

TEST(Status, UnknownMethodIsStillTraced) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.method = "/test.Other/Nope";
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status, GRPC_STATUS_UNIMPLEMENTED);
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].description, "/test.Other/Nope");
  EXPECT_EQ(sr[0].status, GRPC_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(sr[0].trace_id, Hex(r.span.trace_id));
}

TEST(Status, SetByHandWinsOverTheStatusSent) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.method = "/test.Echo/Override";
  CallResult r = client.Call(o);
  EXPECT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].status, GRPC_STATUS_INTERNAL);
  EXPECT_TRUE(sr[0].has_status);
}

// A batch gRPC refuses is not noted for the record, and the status
// variable it held is as it was: a batch with an illegal metadata key (gRPC
// takes no initial metadata for that call afterwards: it is cancelled),
// then, on a second call, a second status op while the first is pending.
TEST(Status, RefusedBatchesAreNotNoted) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  stp_grpc_call *call;
  ASSERT_EQ(stp_grpc_channel_create_call(client.channel(), &call, nullptr, cq,
                                         "/test.Echo/Unary", In(5000)),
            STP_OK);
  int next = 1;
  auto tag = [&next] {
    return reinterpret_cast<void *>(static_cast<intptr_t>(next++));
  };

  grpc_metadata bad;
  memset(&bad, 0, sizeof bad);
  bad.key = grpc_slice_from_static_string("Bad-Key");
  bad.value = grpc_slice_from_static_string("v");
  grpc_metadata_array initial, trailing;
  grpc_metadata_array_init(&initial);
  grpc_metadata_array_init(&trailing);
  grpc_slice details = grpc_empty_slice();
  grpc_status_code status = GRPC_STATUS_DATA_LOSS;
  grpc_op send_md = Op(GRPC_OP_SEND_INITIAL_METADATA);
  send_md.data.send_initial_metadata.count = 1;
  send_md.data.send_initial_metadata.metadata = &bad;
  grpc_op recv_status = Op(GRPC_OP_RECV_STATUS_ON_CLIENT);
  recv_status.data.recv_status_on_client.trailing_metadata = &trailing;
  recv_status.data.recv_status_on_client.status = &status;
  recv_status.data.recv_status_on_client.status_details = &details;
  grpc_op refused[] = {send_md, recv_status};
  EXPECT_EQ(stp_grpc_call_start_batch(call, refused, 2, tag()),
            GRPC_CALL_ERROR_INVALID_METADATA);
  EXPECT_EQ(status, GRPC_STATUS_DATA_LOSS) << "put back";
  grpc_status_code got;
  EXPECT_FALSE(stp_grpc_call_status(call, &got));
  grpc_call_cancel(stp_grpc_call_get(call), nullptr);
  stp_grpc_call_unref(call);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_FALSE(cr[0].has_status);

  ASSERT_EQ(stp_grpc_channel_create_call(client.channel(), &call, nullptr, cq,
                                         "/test.Echo/Unary", In(5000)),
            STP_OK);
  send_md.data.send_initial_metadata.count = 0;
  grpc_byte_buffer *ping = Message("ping");
  grpc_op send = Op(GRPC_OP_SEND_MESSAGE);
  send.data.send_message.send_message = ping;
  grpc_op close = Op(GRPC_OP_SEND_CLOSE_FROM_CLIENT);
  grpc_byte_buffer *answer = nullptr;
  grpc_op recv_md = Op(GRPC_OP_RECV_INITIAL_METADATA);
  recv_md.data.recv_initial_metadata.recv_initial_metadata = &initial;
  grpc_op recv = Op(GRPC_OP_RECV_MESSAGE);
  recv.data.recv_message.recv_message = &answer;
  grpc_op first[] = {send_md, send, close, recv_md, recv};
  void *t = tag();
  ASSERT_EQ(stp_grpc_call_start_batch(call, first, 5, t), GRPC_CALL_OK);
  EXPECT_TRUE(grpc_completion_queue_pluck(cq, t, Forever(), nullptr).success);
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(One(ParseBody(Read(answer)), "method"), "/test.Echo/Unary");

  void *status_tag = tag();
  ASSERT_EQ(stp_grpc_call_start_batch(call, &recv_status, 1, status_tag),
            GRPC_CALL_OK);
  grpc_status_code other = GRPC_STATUS_DATA_LOSS;
  grpc_op again = recv_status;
  again.data.recv_status_on_client.status = &other;
  EXPECT_NE(stp_grpc_call_start_batch(call, &again, 1, tag()), GRPC_CALL_OK);
  EXPECT_EQ(other, GRPC_STATUS_DATA_LOSS) << "put back";
  grpc_completion_queue_pluck(cq, status_tag, Forever(), nullptr);
  EXPECT_EQ(status, GRPC_STATUS_OK);
  ASSERT_TRUE(stp_grpc_call_status(call, &got));
  EXPECT_EQ(got, GRPC_STATUS_OK);
  stp_grpc_call_unref(call);

  cr = client.records.WaitFor(2);
  ASSERT_EQ(cr.size(), 2u);
  EXPECT_EQ(cr[1].status, GRPC_STATUS_OK);
  grpc_byte_buffer_destroy(ping);
  grpc_byte_buffer_destroy(answer);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  DestroyPluckQueue(cq);
}

// The method and host given to stp_grpc_channel_create_call(_ex) need only
// live through that call: here they are overwritten right after it, and the
// server still gets the call under its method and host (the host longer
// than a slice holds inline).
TEST(Names, MethodAndHostNeedOnlyLiveThroughCreate) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  CallOptions o;
  o.method = "/test.Echo/Unary";
  o.host = "a-host-name-longer-than-inline.example:443";
  o.clobber_names = true;
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  auto body = ParseBody(r.responses.at(0));
  EXPECT_EQ(One(body, "method"), o.method);
  EXPECT_EQ(One(body, "authority"), o.host);
  std::vector<Record> cr = client.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].description, o.method);
}

} // namespace
} // namespace stp_test
