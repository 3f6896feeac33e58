// Sentry's span status for gRPC and HTTP status codes.
#include "test_util.h"

namespace {

struct StatusCase {
  const char *what;
  int code;
  const char *status;
};

const StatusCase kGrpc[] = {
    {"OK", 0, "ok"},
    {"CANCELLED", 1, "cancelled"},
    {"DEADLINE_EXCEEDED", 4, "deadline_exceeded"},
    {"INTERNAL", 13, "internal_error"},
    {"UNAUTHENTICATED, the last code", 16, "unauthenticated"},
    {"one past the last code", 17, "unknown_error"},
    {"negative", -1, "unknown_error"},
};

const StatusCase kHttp[] = {
    {"200", 200, "ok"},
    {"a redirect", 304, "ok"},
    {"404", 404, "not_found"},
    {"a 4xx without its own status", 418, "invalid_argument"},
    {"429", 429, "resource_exhausted"},
    {"503", 503, "unavailable"},
    {"a 5xx without its own status", 599, "internal_error"},
    {"below 200", 99, "unknown_error"},
    {"600 and up", 600, "unknown_error"},
};

TEST(SpanStatus, FromGrpcCodes) {
  for (const auto &c : kGrpc) {
    SCOPED_TRACE(c.what);
    EXPECT_STREQ(stp_span_status_grpc(c.code), c.status);
  }
}

TEST(SpanStatus, FromHttpCodes) {
  for (const auto &c : kHttp) {
    SCOPED_TRACE(c.what);
    EXPECT_STREQ(stp_span_status_http(c.code), c.status);
  }
}

}  // namespace
