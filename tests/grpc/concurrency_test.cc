// Concurrent calls from several threads each carry their own trace.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace stp_test {
namespace {

TEST(Concurrency, HundredCallsFromFourThreadsEachSeeTheirOwnTrace) {
  Config cfg([](stp_options *o) {
    o->has_sample_rate = true;
    o->sample_rate = 0.5;
  });
  TestServer server(cfg.cfg, 4);
  TestClient client(server.address(), cfg.cfg); // one shared channel
  const int kThreads = 4, kPerThread = 25;
  std::atomic<int> ok{0}, mismatches{0};
  std::vector<std::string> traces[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        // Each unit of work is the thread's current context while it runs,
        // the implicit style.
        stp_context ctx;
        stp_context_init(&ctx, cfg.cfg);
        stp_token tok = stp_attach(&ctx);
        CallOptions o;
        o.shape = i % 2 ? Shape::kUnary : Shape::kBidi;
        o.method = i % 2 ? "/test.Echo/Unary" : "/test.Echo/Bidi";
        o.messages = 2;
        CallResult r = client.Call(o);
        stp_detach(tok);
        const stp_span *span = stp_context_span(&ctx);
        std::string trace = Hex(span->trace_id);
        traces[t].push_back(trace);
        if (r.status != GRPC_STATUS_OK || r.responses.empty()) {
          mismatches++;
          continue;
        }
        bool good = true;
        for (const std::string &resp : r.responses) {
          auto body = ParseBody(resp);
          good = good && One(body, "trace") == trace &&
                 One(body, "parent") == Hex(r.span.span_id) &&
                 One(body, "sampled") ==
                     std::to_string(static_cast<int>(span->sampled));
        }
        good = good && Hex(r.span.parent_span_id) == Hex(span->span_id);
        (good ? ok : mismatches)++;
      }
    });
  }
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(mismatches.load(), 0);
  std::set<std::string> distinct;
  for (auto &v : traces)
    distinct.insert(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kPerThread));

  // One record per call on each side, pairing up by span id.
  std::vector<Record> cr = client.records.WaitFor(kThreads * kPerThread);
  std::vector<Record> sr = server.records.WaitFor(kThreads * kPerThread);
  ASSERT_EQ(cr.size(), static_cast<size_t>(kThreads * kPerThread));
  ASSERT_EQ(sr.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> client_spans;
  for (const Record &r : cr)
    client_spans.insert(r.trace_id + "/" + r.span_id);
  for (const Record &r : sr)
    EXPECT_EQ(client_spans.count(r.trace_id + "/" + r.parent_span_id), 1u);
}

} // namespace
} // namespace stp_test
