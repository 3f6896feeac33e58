// Environment variables (SPEC section 7): continuing from SENTRY_TRACE
// and SENTRY_BAGGAGE, SENTRY_USE_ENVIRONMENT, and the variables written
// for a child process.
#include <stdlib.h>

#include "test_util.h"

using namespace stp_test;

namespace {

class Environment : public ContextTest {
 protected:
  void TearDown() override {
    unsetenv("SENTRY_TRACE");
    unsetenv("SENTRY_BAGGAGE");
    unsetenv("SENTRY_USE_ENVIRONMENT");
  }
};

TEST_F(Environment, ContinuesFromSentryTraceAndSentryBaggage) {
  setenv("SENTRY_TRACE", kTS1.c_str(), 1);
  setenv("SENTRY_BAGGAGE", kRefBaggage.c_str(), 1);
  unsetenv("SENTRY_USE_ENVIRONMENT");
  ASSERT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_OK);
  EXPECT_EQ(TraceOf(&ctx_), kTrace);
  EXPECT_EQ(Parent(&ctx_), kSpan);
  EXPECT_EQ(BaggageOf(&ctx_), kRefDsc);
}

TEST_F(Environment, AbsentOrInvalidVariablesStartAHead) {
  unsetenv("SENTRY_TRACE");
  unsetenv("SENTRY_BAGGAGE");
  EXPECT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_ERR_ABSENT);
  EXPECT_FALSE(stp_context_continued(&ctx_));
  EXPECT_FALSE(stp_trace_id_is_zero(&stp_context_span(&ctx_)->trace_id));
  setenv("SENTRY_TRACE", "junk", 1);
  EXPECT_EQ(stp_context_continue_env(&ctx_, cfg_.get()), STP_ERR_MALFORMED);
}

struct UseEnvCase {
  const char *value;  // nullptr: unset
  bool disabled;
};

TEST_F(Environment, SentryUseEnvironmentFalseTurnsThemOff) {
  const UseEnvCase cases[] = {
      {"false", true}, {"FALSE", true}, {"False", true}, {"no", true},
      {"NO", true},    {"off", true},   {"OfF", true},   {"n", true},
      {"N", true},     {"0", true},     {nullptr, false}, {"true", false},
      {"1", false},    {"yes", false},  {"on", false},   {"", false},
      {"nope", false}, {"00", false},   {"falsey", false}, {"f", false},
  };
  setenv("SENTRY_TRACE", kTS1.c_str(), 1);
  setenv("SENTRY_BAGGAGE", kRefBaggage.c_str(), 1);
  for (const auto &c : cases) {
    SCOPED_TRACE(c.value ? std::string("\"") + c.value + "\"" : "unset");
    if (c.value)
      setenv("SENTRY_USE_ENVIRONMENT", c.value, 1);
    else
      unsetenv("SENTRY_USE_ENVIRONMENT");
    int err = stp_context_continue_env(&ctx_, cfg_.get());
    if (c.disabled) {
      EXPECT_EQ(ErrName(err), ErrName(STP_ERR_DISABLED));
      EXPECT_FALSE(stp_context_continued(&ctx_));
      EXPECT_NE(TraceOf(&ctx_), kTrace);
      EXPECT_EQ(Dsc(&ctx_, "public_key"), kPublicKey);
    } else {
      EXPECT_EQ(ErrName(err), ErrName(STP_OK));
      EXPECT_EQ(TraceOf(&ctx_), kTrace);
    }
  }
}

TEST_F(Environment, WritesVariablesForAChild) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefBaggage}}),
            STP_OK);
  char trace[STP_ENV_TRACE_MAX_LEN + 1], bag[STP_ENV_BAGGAGE_MAX_LEN + 1];
  size_t trace_len, bag_len;
  ASSERT_EQ(stp_context_env_sentry_trace(&ctx_, trace, sizeof trace, &trace_len,
                                         nullptr),
            STP_OK);
  ASSERT_EQ(stp_context_env_baggage(&ctx_, bag, sizeof bag, &bag_len), STP_OK);
  EXPECT_EQ(trace_len, strlen(trace));
  EXPECT_EQ(bag_len, strlen(bag));
  EXPECT_EQ(std::string(trace),
            "SENTRY_TRACE=" + kTrace + "-" + SpanOf(&ctx_) + "-1");
  EXPECT_EQ(std::string(bag), "SENTRY_BAGGAGE=" + kRefDsc);
  // A child process continues from them.
  ASSERT_EQ(putenv(trace), 0);
  ASSERT_EQ(putenv(bag), 0);
  stp_context child;
  ASSERT_EQ(stp_context_continue_env(&child, cfg_.get()), STP_OK);
  EXPECT_EQ(TraceOf(&child), kTrace);
  EXPECT_EQ(Parent(&child), SpanOf(&ctx_));
  EXPECT_EQ(BaggageOf(&child), kRefDsc);
  unsetenv("SENTRY_TRACE");
  unsetenv("SENTRY_BAGGAGE");
  // Too small a buffer, with and without room for the name: the size
  // needed comes back either way.
  for (size_t cap : {size_t{0}, size_t{5}, size_t{20}, trace_len}) {
    char tiny[STP_ENV_TRACE_MAX_LEN + 1];
    size_t need = 0;
    EXPECT_EQ(stp_context_env_sentry_trace(&ctx_, cap ? tiny : nullptr, cap,
                                           &need, nullptr),
              STP_ERR_BUFFER_TOO_SMALL)
        << cap;
    EXPECT_EQ(need, trace_len + 1) << cap;
    need = 0;
    EXPECT_EQ(stp_context_env_baggage(&ctx_, cap ? tiny : nullptr, cap, &need),
              STP_ERR_BUFFER_TOO_SMALL)
        << cap;
    EXPECT_EQ(need, bag_len + 1) << cap;
  }
}

}  // namespace
