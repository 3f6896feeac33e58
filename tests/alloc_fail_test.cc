// Every allocation fails in turn: STP_ERR_NOMEM and nothing leaked.
#include <map>

#include "test_util.h"

using namespace stp_test;

namespace {

// Fails the Nth allocation (1-based; 0: never) and counts what is live.
struct FailingAllocator {
  int fail_at = 0;
  int calls = 0;
  int allocs = 0;
  int frees = 0;
  std::map<void *, size_t> live;

  static void *Malloc(size_t size, void *ud) {
    auto *self = static_cast<FailingAllocator *>(ud);
    self->calls++;
    if (self->fail_at && self->calls == self->fail_at)
      return nullptr;
    void *p = malloc(size ? size : 1);
    if (p) {
      self->allocs++;
      self->live[p] = size;
    }
    return p;
  }
  static void Free(void *ptr, void *ud) {
    auto *self = static_cast<FailingAllocator *>(ud);
    if (!ptr)
      return;
    self->frees++;
    EXPECT_EQ(self->live.erase(ptr), 1u) << "free of an unknown pointer";
    free(ptr);
  }
  stp_allocator Get() { return stp_allocator{Malloc, Free, this}; }
};

stp_options FullOptions() {
  static const char *const kTargets[] = {"^https://api\\.example\\.com/",
                                         "localhost", "(a|b)+c{1,3}"};
  stp_options o = DefaultOptions();
  o.org_id = "456";
  o.targets = kTargets;
  o.targets_len = 3;
  o.propagate_traceparent = true;
  return o;
}

TEST(AllocFail, ConfigNew) {
  stp_options o = FullOptions();
  int n;
  for (n = 1; n < 1000; n++) {
    SCOPED_TRACE(n);
    FailingAllocator fa;
    fa.fail_at = n;
    stp_allocator a = fa.Get();
    stp_config *cfg = reinterpret_cast<stp_config *>(0x1);
    int err = stp_config_new(&cfg, &o, &a);
    if (err == STP_OK) {
      ASSERT_NE(cfg, nullptr);
      EXPECT_STREQ(stp_config_org_id(cfg), "456");
      stp_config_del(cfg);
      EXPECT_EQ(fa.allocs, fa.frees);
      EXPECT_TRUE(fa.live.empty());
      break;
    }
    EXPECT_EQ(ErrName(err), ErrName(STP_ERR_NOMEM));
    EXPECT_EQ(cfg, nullptr);
    EXPECT_EQ(fa.allocs, fa.frees) << "leak after a failed allocation";
    EXPECT_TRUE(fa.live.empty());
  }
  EXPECT_GT(n, 1) << "the first allocation failing must fail the call";
  EXPECT_LT(n, 1000);
}

TEST(AllocFail, ContextNew) {
  ConfigPtr cfg = MakeConfig(FullOptions());
  ASSERT_TRUE(cfg);
  int n;
  for (n = 1; n < 100; n++) {
    SCOPED_TRACE(n);
    FailingAllocator fa;
    fa.fail_at = n;
    stp_allocator a = fa.Get();
    stp_context *ctx = reinterpret_cast<stp_context *>(0x1);
    int err = stp_context_new(&ctx, cfg.get(), &a);
    if (err == STP_OK) {
      ASSERT_NE(ctx, nullptr);
      EXPECT_FALSE(stp_trace_id_is_zero(&stp_context_span(ctx)->trace_id));
      stp_context_del(ctx);
      EXPECT_EQ(fa.allocs, fa.frees);
      EXPECT_TRUE(fa.live.empty());
      break;
    }
    EXPECT_EQ(ErrName(err), ErrName(STP_ERR_NOMEM));
    EXPECT_EQ(ctx, nullptr);
    EXPECT_EQ(fa.allocs, fa.frees);
  }
  EXPECT_GT(n, 1);
  EXPECT_LT(n, 100);
}

TEST(AllocFail, ConfigUsesOnlyItsAllocator) {
  // A config built with an allocator frees through it; nothing else in
  // the API allocates from it afterwards.
  FailingAllocator fa;
  stp_allocator a = fa.Get();
  stp_options o = FullOptions();
  stp_config *cfg = nullptr;
  ASSERT_EQ(stp_config_new(&cfg, &o, &a), STP_OK);
  int after_new = fa.calls;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, cfg), STP_OK);
  Headers h{{"sentry-trace", kTS1}, {"baggage", kRefBaggage}};
  stp_carrier c = h.Carrier();
  ASSERT_EQ(stp_context_continue(&ctx, cfg, &c), STP_OK);
  Headers out;
  stp_carrier oc = out.Carrier();
  ASSERT_EQ(stp_context_inject(&ctx, &oc, nullptr), STP_OK);
  EXPECT_EQ(fa.calls, after_new);
  stp_config_del(cfg);
  EXPECT_EQ(fa.allocs, fa.frees);
}

// A URL of 512 bytes or more is copied for regexec through the config's
// allocator: when that copy fails the answer is an error, not "no".
TEST(AllocFail, LongUrlTargetCheck) {
  FailingAllocator fa;
  stp_allocator a = fa.Get();
  stp_options o = FullOptions();
  stp_config *cfg = nullptr;
  ASSERT_EQ(stp_config_new(&cfg, &o, &a), STP_OK);
  std::string url = "https://api.example.com/" + std::string(600, 'x');
  bool match = false;
  EXPECT_EQ(stp_config_should_propagate(cfg, &match, url.data(), url.size()),
            STP_OK);
  EXPECT_TRUE(match);
  fa.fail_at = fa.calls + 1;
  match = true;
  EXPECT_EQ(ErrName(stp_config_should_propagate(cfg, &match, url.data(),
                                                url.size())),
            ErrName(STP_ERR_NOMEM));
  EXPECT_FALSE(match);
  // A short URL needs no copy.
  EXPECT_EQ(stp_config_should_propagate(cfg, &match, url.data(), 40), STP_OK);
  EXPECT_TRUE(match);
  stp_config_del(cfg);
  EXPECT_EQ(fa.allocs, fa.frees);
}

TEST(AllocFail, IncompleteAllocatorIsRejected) {
  stp_options o = FullOptions();
  stp_allocator a = {nullptr, FailingAllocator::Free, nullptr};
  stp_config *cfg = nullptr;
  EXPECT_EQ(stp_config_new(&cfg, &o, &a), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(cfg, nullptr);
}

}  // namespace
