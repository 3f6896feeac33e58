// Where a context lives besides the stack: a copy of another, and the
// heap (stp_context_new, stp_context_del).
#include "test_util.h"

using namespace stp_test;

namespace {

using ContextCopy = ContextTest;
using HeapContext = ContextTest;

TEST_F(ContextCopy, IsIndependentAndComplete) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1},
                      {"baggage", "sentry-trace_id=" + kTrace +
                                      ",sentry-release=a%40b,other=1;p"}}),
            STP_OK);
  // Garbage in the destination must not survive the copy.
  auto dst = std::make_unique<stp_context>();
  memset(dst.get(), 0x5a, sizeof *dst);
  stp_context_copy(dst.get(), &ctx_);
  EXPECT_EQ(TraceOf(dst.get()), kTrace);
  EXPECT_EQ(SpanOf(dst.get()), SpanOf(&ctx_));
  EXPECT_EQ(Parent(dst.get()), kSpan);
  EXPECT_TRUE(stp_context_continued(dst.get()));
  EXPECT_EQ(stp_context_member_count(dst.get()),
            stp_context_member_count(&ctx_));
  EXPECT_EQ(Dsc(dst.get(), "release"), "a@b");
  EXPECT_EQ(BaggageOf(dst.get()), BaggageOf(&ctx_));
  EXPECT_EQ(SentryTraceOf(dst.get()), SentryTraceOf(&ctx_));
  // Independent: changing the copy leaves the original as it was.
  ASSERT_EQ(stp_context_set_transaction(dst.get(), "x", 1),
            STP_ERR_FROZEN);  // frozen by BaggageOf, like the original
  stp_context_init(dst.get(), cfg_.get());
  EXPECT_EQ(TraceOf(&ctx_), kTrace);
  EXPECT_EQ(Dsc(&ctx_, "release"), "a@b");
}

TEST_F(HeapContext, NewGivesAHeadAndNullsAreRefused) {
  stp_context *heap = nullptr;
  ASSERT_EQ(stp_context_new(&heap, cfg_.get(), nullptr), STP_OK);
  ASSERT_NE(heap, nullptr);
  EXPECT_FALSE(stp_context_continued(heap));
  EXPECT_EQ(Dsc(heap, "public_key"), kPublicKey);
  stp_context_del(heap);
  EXPECT_EQ(stp_context_new(nullptr, cfg_.get(), nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_init(&ctx_, nullptr), STP_ERR_INVALID_ARGUMENT);
}

}  // namespace
