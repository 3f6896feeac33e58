// stp_strerror / stp_error_name: never NULL, stable names, distinct texts.
#include <climits>
#include <set>

#include "test_util.h"

namespace {

struct NameCase {
  const char *what;
  int err;
  const char *name;
};

const NameCase kNames[] = {
    {"success", STP_OK, "ok"},
    {"trace id error", STP_ERR_TRACE_ID, "trace_id"},
    {"span id error", STP_ERR_SPAN_ID, "span_id"},
    {"org mismatch", STP_ERR_ORG_MISMATCH, "org_mismatch"},
    {"gRPC refused", STP_ERR_GRPC, "grpc"},
    {"wrong state", STP_ERR_STATE, "state"},
    {"header name", STP_ERR_HEADER_NAME, "header_name"},
    {"last defined code", STP_ERR_TIMEOUT, "timeout"},
    {"positive value", 1, "unknown"},
    {"one past the last code", STP_ERR_TIMEOUT - 1, "unknown"},
    {"large negative", -1000, "unknown"},
    {"INT_MIN", INT_MIN, "unknown"},
    {"INT_MAX", INT_MAX, "unknown"},
};

TEST(Errors, NamesOfSelectedCodes) {
  for (const auto &c : kNames) {
    SCOPED_TRACE(c.what);
    ASSERT_NE(stp_error_name(c.err), nullptr);
    EXPECT_STREQ(stp_error_name(c.err), c.name);
    ASSERT_NE(stp_strerror(c.err), nullptr);
    EXPECT_STRNE(stp_strerror(c.err), "");
  }
}

TEST(Errors, EveryDefinedCodeHasItsOwnNameAndText) {
  std::set<std::string> names, texts;
  for (int err = STP_OK; err >= STP_ERR_TIMEOUT; err--) {
    SCOPED_TRACE(err);
    const char *name = stp_error_name(err);
    const char *text = stp_strerror(err);
    ASSERT_NE(name, nullptr);
    ASSERT_NE(text, nullptr);
    EXPECT_STRNE(name, "unknown");
    EXPECT_STRNE(name, "");
    EXPECT_STRNE(text, "");
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    EXPECT_TRUE(texts.insert(text).second) << "duplicate text " << text;
    // Names are identifiers suited to logs and JSON.
    for (const char *p = name; *p; p++)
      EXPECT_TRUE((*p >= 'a' && *p <= 'z') || *p == '_') << name;
  }
}

TEST(Errors, UnknownCodesNeverGiveNull) {
  for (int err : {1, 2, 100, -34, -35, -12345, INT_MIN, INT_MAX, INT_MIN + 1}) {
    SCOPED_TRACE(err);
    ASSERT_NE(stp_strerror(err), nullptr);
    ASSERT_NE(stp_error_name(err), nullptr);
    EXPECT_STREQ(stp_error_name(err), "unknown");
    EXPECT_STRNE(stp_strerror(err), "");
  }
}

TEST(Errors, ValuesAreAppendOnly) {
  // The numbering is part of the ABI.
  EXPECT_EQ(STP_ERR_INVALID_ARGUMENT, -1);
  EXPECT_EQ(STP_ERR_NOMEM, -2);
  EXPECT_EQ(STP_ERR_ABSENT, -4);
  EXPECT_EQ(STP_ERR_CONTROL_CHAR, -11);
  EXPECT_EQ(STP_ERR_BAGGAGE_MEMBER, -16);
  EXPECT_EQ(STP_ERR_PATTERN, -23);
  EXPECT_EQ(STP_ERR_NOT_FOUND, -29);
  EXPECT_EQ(STP_ERR_GRPC, -30);
  EXPECT_EQ(STP_ERR_STATE, -31);
  EXPECT_EQ(STP_ERR_HEADER_NAME, -32);
  EXPECT_EQ(STP_ERR_TIMEOUT, -33);
}

}  // namespace
