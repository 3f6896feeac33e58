// The exporter's bounds: spans whose root never comes, full storage, too
// many spans for one transaction, a stop with a full queue, and 100 000
// spans into an endpoint that is not there (memory stays flat).
#include <chrono>
#include <fstream>

#include "exporter_util.h"

// The quarantine of freed memory would hide what this file measures.
extern "C" const char *__asan_default_options() {
  return "quarantine_size_mb=1";
}

namespace {

using namespace stp_test;
using Clock = std::chrono::steady_clock;

stp_exporter_stats Stats(stp_exporter *x) {
  stp_exporter_stats st;
  stp_exporter_stats_get(x, &st);
  return st;
}

class Bounds : public ::testing::Test {
protected:
  void SetUp() override {
    cfg = MakeConfig(DefaultOptions());
    Continued(&ctx, cfg.get());
  }
  Sink sink;
  ConfigPtr cfg;
  stp_context ctx;
};

TEST_F(Bounds, SpansWhoseRootNeverComesAreGivenUp) {
  stp_exporter_options eo = TestOptions();
  eo.orphan_timeout_ms = 100;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  const std::string q = "q";
  for (int i = 0; i < 5; i++) {
    stp_span_record r =
        Rec(Child(*stp_context_span(&ctx)), "db", q, 0, 1, 2, false);
    stp_exporter_record(x.get(), &r);
  }
  for (int i = 0; i < 50 && Stats(x.get()).spans_orphaned < 5; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Stats(x.get()).spans_orphaned, 5u);
  // The root comes too late: a transaction without them.
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 1u);
  const std::string &b = posted[0].body;
  EXPECT_EQ(b.find("\"op\":\"db\""), b.rfind("\"op\":\"db\""))
      << "one span only: " << b;
}

TEST_F(Bounds, FullStorageGivesUpTheOldestWaitingSpanFirst) {
  stp_exporter_options eo = TestOptions();
  eo.max_spans = 4;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  const std::string q = "q";
  for (int i = 0; i < 10; i++) {
    stp_span_record r =
        Rec(Child(*stp_context_span(&ctx)), "db", q, 0, 1, 2, false);
    stp_exporter_record(x.get(), &r);
  }
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.spans_accepted, 10u);
  EXPECT_EQ(st.spans_orphaned, 6u) << "room made for the newest";
  EXPECT_EQ(st.spans_dropped_full, 0u);
}

TEST_F(Bounds, FullQueuesDropAndCount) {
  stp_exporter_options eo = TestOptions();
  eo.max_transactions = 2;
  eo.max_spans = 8;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Queue({200, {}, 500}); // the sending thread is held up here
  SendOne(x.get(), &ctx);
  ASSERT_TRUE(sink.WaitFor(1, 5000));
  for (int i = 0; i < 10; i++)
    SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 10000), STP_OK);
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.transactions_queued, 2u) << "the one held up and one more";
  EXPECT_EQ(st.transactions_dropped_full, 9u);
  EXPECT_EQ(st.envelopes_sent, 2u);
  EXPECT_EQ(sink.Requests().size(), 2u);
}

TEST_F(Bounds, SpansPastThePerTransactionLimit) {
  stp_exporter_options eo = TestOptions();
  eo.max_spans_per_transaction = 3;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  const stp_span &root = *stp_context_span(&ctx);
  const std::string q = "q", job = "job";
  for (int i = 0; i < 5; i++) {
    stp_span_record r = Rec(Child(root), "db", q, 0, 1, 2, false);
    stp_exporter_record(x.get(), &r);
  }
  stp_span_record r = Rec(root, "task", job, 0, 1, 3, true, &ctx);
  stp_exporter_record(x.get(), &r);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.spans_over_limit, 2u);
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 1u);
  size_t spans = 0;
  for (size_t at = 0; (at = posted[0].body.find("\"op\":\"db\"", at)) !=
                      std::string::npos;
       at++)
    spans++;
  EXPECT_EQ(spans, 3u);
}

TEST_F(Bounds, StoppingWithAFullQueueEndsWithinTheFlushTime) {
  stp_exporter_options eo = TestOptions();
  eo.flush_timeout_ms = 500;
  eo.send_timeout_ms = 30000;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Set({200, {}, 3000}); // every answer takes 3 s
  for (int i = 0; i < 64; i++)
    SendOne(x.get(), &ctx);
  ASSERT_TRUE(sink.WaitFor(1, 5000));
  auto t0 = Clock::now();
  stp_exporter *raw = x.release();
  stp_exporter_stats st;
  stp_exporter_stats_get(raw, &st);
  stp_exporter_del(raw);
  auto took = Clock::now() - t0;
  // 500 ms, and the time to cut the request off and join the thread.
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(st.transactions_queued, 64u);
}

// Resident memory in KiB (Linux).
long RssKib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

TEST_F(Bounds, HundredThousandSpansIntoADeadEndpointKeepMemoryFlat) {
  int port;
  {
    Sink gone;
    port = gone.port();
  }
  std::string dsn =
      "http://" + kPublicKey + "@127.0.0.1:" + std::to_string(port) + "/42";
  stp_exporter_options eo = TestOptions();
  eo.flush_timeout_ms = 200;
  ExporterPtr x = MakeExporter(dsn, eo);
  // Warm up: the storage is touched once, libcurl's state is made.
  for (int i = 0; i < 5000; i++)
    SendOne(x.get(), &ctx);
  long before = RssKib();
  for (int i = 0; i < 50000; i++) // two records each: 100 000 spans
    SendOne(x.get(), &ctx);
  long after = RssKib();
  stp_exporter_stats st = Stats(x.get());
  printf("RSS before %ld KiB, after 100000 spans %ld KiB; accepted %llu, "
         "transactions dropped (queue full) %llu, envelopes failed %llu\n",
         before, after, (unsigned long long)st.spans_accepted,
         (unsigned long long)st.transactions_dropped_full,
         (unsigned long long)st.envelopes_failed);
  // Unbounded, 100 000 records would take some 37 MB.
  EXPECT_LT(after - before, 4096) << "KiB grown";
  EXPECT_EQ(st.spans_accepted + st.spans_dropped_full, 110000u);
  EXPECT_GT(st.transactions_dropped_full, 0u);
}

} // namespace
