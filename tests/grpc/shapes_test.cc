// Every call shape carries the trace; records carry the status.
#include <gtest/gtest.h>

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

} // namespace
} // namespace stp_test
