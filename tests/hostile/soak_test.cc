// Concurrency soak: 8 threads continue incoming traces, nest a second
// context for an outgoing hop, attach/detach and inject, all at once and
// sharing one config. Every trace must end up where it belongs. Run it
// under ThreadSanitizer with --config=tsan.

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "stp/stp.h"
#include "tests/test_util.h"

namespace {

using stp_test::Hex;

// One thread's work; returns the number of mismatches seen.
long Worker(const stp_config *cfg, int thread, int iterations) {
  long bad = 0;
  stp_context incoming, outgoing;
  for (int i = 0; i < iterations; i++) {
    // A trace of this thread's own, as an upstream service would send.
    stp_trace_id trace;
    stp_span_id parent;
    stp_trace_id_random(&trace);
    stp_span_id_random(&parent);
    std::string tid = Hex(trace), sid = Hex(parent);
    stp_test::Headers in = {
        {"sentry-trace", tid + "-" + sid + (i % 2 ? "-1" : "-0")},
        {"baggage", "sentry-trace_id=" + tid + ",sentry-environment=t" +
                        std::to_string(thread) + ",vendor=" +
                        std::to_string(i)}};
    stp_carrier cin = in.Carrier();
    stp_token t1;
    if (stp_continue_trace(&incoming, &t1, cfg, &cin) != STP_OK)
      bad++;
    if (stp_current() != &incoming)
      bad++;

    // The outgoing hop: inject, then continue from what was injected, in
    // a nested context made current on top of the first.
    stp_test::Headers out = {{"baggage", "theirs=" + std::to_string(i)}};
    stp_carrier cout = out.Carrier();
    stp_span child;
    stp_context_child_span(&incoming, &child);
    if (stp_context_inject(&incoming, &cout, &child) != STP_OK)
      bad++;
    stp_carrier cback = out.Carrier();
    stp_token t2;
    if (stp_continue_trace(&outgoing, &t2, cfg, &cback) != STP_OK)
      bad++;
    const stp_span *s = stp_context_span(&outgoing);
    if (Hex(s->trace_id) != tid || Hex(s->parent_span_id) != Hex(child.span_id))
      bad++;
    char env[64];
    size_t n;
    if (stp_context_dsc_get(&outgoing, env, sizeof env, &n, "environment",
                            11) != STP_OK ||
        std::string(env, n) != "t" + std::to_string(thread))
      bad++;

    char tp[64];
    if (stp_get_sentry_trace(tp, sizeof tp, &n) != STP_OK ||
        std::string(tp, 32) != tid)
      bad++;
    if (stp_detach(t2) != STP_OK || stp_current() != &incoming)
      bad++;
    if (stp_get_sentry_trace(tp, sizeof tp, &n) != STP_OK ||
        std::string(tp, 32) != tid || std::string(tp + 33, 16) == sid)
      bad++;
    if (stp_detach(t1) != STP_OK || stp_current() != nullptr)
      bad++;
  }
  return bad;
}

TEST(Soak, EightThreads) {
  stp_options o;
  stp_options_init(&o);
  o.has_sample_rate = true;
  o.sample_rate = 0.5;
  stp_config *cfg = nullptr;
  ASSERT_EQ(STP_OK, stp_config_new(&cfg, &o, nullptr));
  // STP_SOAK_ITERATIONS lowers the count for slow runners (valgrind).
  const char *env = getenv("STP_SOAK_ITERATIONS");
  const int threads = 8, iterations = env ? atoi(env) : 20000;
  ASSERT_GT(iterations, 0);
  std::vector<std::thread> ts;
  std::atomic<long> bad{0};
  for (int t = 0; t < threads; t++)
    ts.emplace_back([&, t] { bad += Worker(cfg, t, iterations); });
  for (auto &t : ts)
    t.join();
  EXPECT_EQ(0, bad.load());
  stp_config_del(cfg);
}

}  // namespace
