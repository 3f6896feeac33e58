// The implicit API from several threads at once: each thread only ever
// sees its own current context.
#include <atomic>
#include <thread>

#include "test_util.h"

using namespace stp_test;

namespace {

struct Result {
  int iterations = 0;
  int wrong_trace = 0;
  int wrong_current = 0;
  int wrong_baggage = 0;
  int errors = 0;
};

void Worker(const stp_config *cfg, const std::string &trace, int n,
            std::atomic<int> *ready, Result *r) {
  ready->fetch_add(1);
  while (ready->load() < 2) {
  }
  for (int i = 0; i < n; i++) {
    char span[17];
    snprintf(span, sizeof span, "%016x", i + 1);
    std::string st = trace + "-" + span + (i % 2 ? "-1" : "-0");
    Headers h{{"sentry-trace", st},
              {"baggage", "sentry-trace_id=" + trace +
                              ",sentry-sample_rand=0.5"}};
    stp_carrier c = h.Carrier();
    stp_context ctx;
    stp_token tok;
    if (stp_continue_trace(&ctx, &tok, cfg, &c) != STP_OK)
      r->errors++;
    if (stp_current() != &ctx)
      r->wrong_current++;
    char buf[STP_BAGGAGE_MAX_BYTES + 1];
    size_t len = 0;
    if (stp_get_sentry_trace(buf, sizeof buf, &len) != STP_OK)
      r->errors++;
    std::string got(buf, len);
    std::string want = trace + "-" +
                       Hex(stp_context_span(&ctx)->span_id) +
                       (i % 2 ? "-1" : "-0");
    if (got != want)
      r->wrong_trace++;
    if (stp_get_baggage(buf, sizeof buf, &len) != STP_OK)
      r->errors++;
    if (std::string(buf, len) !=
        "sentry-trace_id=" + trace + ",sentry-sample_rand=0.5")
      r->wrong_baggage++;
    if (stp_detach(tok) != STP_OK)
      r->errors++;
    if (stp_current() != nullptr)
      r->wrong_current++;
    r->iterations++;
  }
}

TEST(Threads, ImplicitApiIsPerThread) {
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  ASSERT_TRUE(cfg);
  const int kIterations = 5000;
  std::atomic<int> ready{0};
  Result a, b;
  std::thread ta(Worker, cfg.get(), kTrace, kIterations, &ready, &a);
  std::thread tb(Worker, cfg.get(), kTrace2, kIterations, &ready, &b);
  ta.join();
  tb.join();
  for (const Result *r : {&a, &b}) {
    EXPECT_EQ(r->iterations, kIterations);
    EXPECT_EQ(r->wrong_trace, 0);
    EXPECT_EQ(r->wrong_current, 0);
    EXPECT_EQ(r->wrong_baggage, 0);
    EXPECT_EQ(r->errors, 0);
  }
  // The main thread never had a context.
  EXPECT_EQ(stp_current(), nullptr);
}

TEST(Threads, SharedFrozenContextInjectsConcurrently) {
  // A context frozen before sharing can be read from several threads.
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  ASSERT_TRUE(cfg);
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, cfg.get()), STP_OK);
  stp_context_freeze(&ctx);
  std::string want = BaggageOf(&ctx);
  std::atomic<int> bad{0};
  auto work = [&] {
    for (int i = 0; i < 2000; i++) {
      char buf[STP_BAGGAGE_MAX_BYTES + 1];
      size_t n;
      if (stp_context_baggage(&ctx, buf, sizeof buf, &n, nullptr, 0) !=
              STP_OK ||
          std::string(buf, n) != want)
        bad++;
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
