// The implicit API: the current context of the thread, set by
// stp_continue_trace and stp_attach, restored by stp_detach. Several
// threads at once: threads_test.cc.
#include "test_util.h"

using namespace stp_test;

namespace {

using CurrentContext = ContextTest;

TEST_F(CurrentContext, FollowsContinueAttachAndDetach) {
  ASSERT_EQ(stp_current(), nullptr);
  char buf[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n;
  EXPECT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_ERR_NO_CONTEXT);
  EXPECT_EQ(stp_get_baggage(buf, sizeof buf, &n), STP_ERR_NO_CONTEXT);

  Headers h{{"sentry-trace", kTS1}, {"baggage", kRefBaggage}};
  stp_carrier c = h.Carrier();
  stp_token tok;
  ASSERT_EQ(stp_continue_trace(&ctx_, &tok, cfg_.get(), &c), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  ASSERT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n), kTrace + "-" + SpanOf(&ctx_) + "-1");
  ASSERT_EQ(stp_get_baggage(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n), kRefDsc);

  // Nested: an invalid request still attaches a (new head) context.
  stp_context inner;
  Headers bad{{"sentry-trace", "nope"}};
  stp_carrier cb = bad.Carrier();
  stp_token tok2;
  EXPECT_EQ(stp_continue_trace(&inner, &tok2, cfg_.get(), &cb),
            STP_ERR_MALFORMED);
  EXPECT_EQ(stp_current(), &inner);
  ASSERT_EQ(stp_get_sentry_trace(buf, sizeof buf, &n), STP_OK);
  EXPECT_EQ(std::string(buf, n).substr(0, 32), TraceOf(&inner));
  EXPECT_EQ(stp_detach(tok2), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);

  // A NULL argument attaches nothing, and its token detaches to what is
  // current: a caller that always detaches changes nothing.
  stp_token none = {&inner, &inner};
  EXPECT_EQ(stp_continue_trace(&inner, &none, nullptr, &cb),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_current(), &ctx_);
  EXPECT_EQ(stp_detach(none), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  EXPECT_EQ(stp_continue_trace(nullptr, nullptr, cfg_.get(), &cb),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_current(), &ctx_);

  EXPECT_EQ(stp_detach(tok), STP_OK);
  EXPECT_EQ(stp_current(), nullptr);

  // Out of order: reported, and restored anyway.
  stp_token a = stp_attach(&ctx_);
  stp_token b = stp_attach(&inner);
  EXPECT_EQ(stp_detach(a), STP_ERR_DETACH_ORDER);
  EXPECT_EQ(stp_current(), nullptr);
  (void)b;
  // Token may be NULL.
  ASSERT_EQ(stp_continue_trace(&ctx_, nullptr, cfg_.get(), &c), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  stp_token t = stp_attach(nullptr);
  EXPECT_EQ(stp_current(), nullptr);
  EXPECT_EQ(stp_detach(t), STP_OK);
  EXPECT_EQ(stp_current(), &ctx_);
  stp_token clear = {nullptr, &ctx_};
  EXPECT_EQ(stp_detach(clear), STP_OK);
  EXPECT_EQ(stp_current(), nullptr);
}

}  // namespace
