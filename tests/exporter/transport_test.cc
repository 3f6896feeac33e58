// How the exporter takes each answer of the DSN: 200, 429 with
// Retry-After, 429 with X-Sentry-Rate-Limits (per category), 500, a slow
// answer, a closed connection, an endpoint that is not there; what it
// retries, what it drops and counts, and that recording never waits.
#include <chrono>

#include "exporter_util.h"

namespace {

using namespace stp_test;
using Clock = std::chrono::steady_clock;

class Transport : public ::testing::Test {
protected:
  void SetUp() override {
    cfg = MakeConfig(DefaultOptions());
    Continued(&ctx, cfg.get());
  }
  stp_exporter_stats Stats(stp_exporter *x) {
    stp_exporter_stats st;
    stp_exporter_stats_get(x, &st);
    return st;
  }
  Sink sink;
  ConfigPtr cfg;
  stp_context ctx;
};

TEST_F(Transport, RetryAfterStopsEverythingForItsTime) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  sink.Queue({429, {{"Retry-After", "3600"}}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  SendOne(x.get(), &ctx);
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 1u) << "nothing sent while limited";
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.envelopes_rate_limited, 3u);
  EXPECT_EQ(st.envelopes_sent, 0u);
  EXPECT_EQ(st.retries, 0u) << "a 429 is not retried";
}

TEST_F(Transport, RetryAfterRunsOut) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  sink.Queue({429, {{"Retry-After", "0.3"}}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 2u);
  EXPECT_EQ(Stats(x.get()).envelopes_sent, 1u);
}

TEST_F(Transport, A429WithoutHeadersWaitsSixtySeconds) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  sink.Queue({429, {}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 1u);
}

TEST_F(Transport, RateLimitsOfTheTransactionCategory) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  // The header wins over Retry-After, even on a 200.
  sink.Queue({200,
              {{"Retry-After", "0"},
               {"X-Sentry-Rate-Limits", "60:error;transaction:key:quota"}}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 1u);
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.envelopes_sent, 1u);
  EXPECT_EQ(st.envelopes_rate_limited, 1u);
}

TEST_F(Transport, RateLimitsOfOtherCategoriesDoNotStopTransactions) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  sink.Queue({429,
              {{"Retry-After", "3600"},
               {"X-Sentry-Rate-Limits", "3600:error;session:org, junk, :"}}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 2u);
  EXPECT_EQ(Stats(x.get()).envelopes_sent, 1u);
}

TEST_F(Transport, EmptyCategoriesLimitEverything) {
  ExporterPtr x = MakeExporter(DsnFor(sink), TestOptions());
  sink.Queue({429, {{"X-Sentry-Rate-Limits", "60::organization"}}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 1u);
}

TEST_F(Transport, ServerErrorsAreRetriedWithBackOffThenDropped) {
  stp_exporter_options eo = TestOptions();
  eo.retries = 2;
  eo.retry_backoff_ms = 100;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Set({500, {}});
  auto t0 = Clock::now();
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 10000), STP_OK);
  auto waited = Clock::now() - t0;
  auto posted = sink.Requests();
  ASSERT_EQ(posted.size(), 3u) << "the first try and two retries";
  // The same envelope (same event id), sent_at aside.
  auto without_sent_at = [](std::string b) {
    size_t at = b.find(",\"sent_at\":");
    return b.erase(at, b.find(',', at + 1) - at);
  };
  EXPECT_EQ(without_sent_at(posted[0].body), without_sent_at(posted[1].body));
  EXPECT_EQ(without_sent_at(posted[1].body), without_sent_at(posted[2].body));
  // 100 ms, then 200 ms, on a clock read in whole milliseconds.
  EXPECT_GE(waited, std::chrono::milliseconds(290));
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.retries, 2u);
  EXPECT_EQ(st.envelopes_failed, 1u);
}

TEST_F(Transport, ARetryThatSucceeds) {
  stp_exporter_options eo = TestOptions();
  eo.retries = 2;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Queue({503, {}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 10000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 2u);
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.envelopes_sent, 1u);
  EXPECT_EQ(st.retries, 1u);
}

TEST_F(Transport, OtherClientErrorsAreDroppedAtOnce) {
  stp_exporter_options eo = TestOptions();
  eo.retries = 2;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Set({413, {}});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 1u);
  EXPECT_EQ(Stats(x.get()).envelopes_failed, 1u);
}

TEST_F(Transport, AClosedConnectionIsAFailure) {
  stp_exporter_options eo = TestOptions();
  eo.retries = 1;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  sink.Queue({200, {}, 0, true});
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 10000), STP_OK);
  EXPECT_EQ(sink.Requests().size(), 2u) << "tried again, answered then";
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.retries, 1u);
  EXPECT_EQ(st.envelopes_sent, 1u);
}

TEST_F(Transport, ASlowAnswerTimesOutAndRecordingNeverWaits) {
  stp_exporter_options eo = TestOptions();
  eo.send_timeout_ms = 500;
  ExporterPtr x = MakeExporter(DsnFor(sink), eo);
  // The endpoint answers one request at a time: the next ones wait for it.
  sink.Queue({200, {}, 700});
  SendOne(x.get(), &ctx);
  ASSERT_TRUE(sink.WaitFor(1, 5000));
  // The sending thread is stuck in the slow request: records still go in.
  for (int i = 0; i < 10; i++)
    SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 10000), STP_OK);
  stp_exporter_stats st = Stats(x.get());
  EXPECT_EQ(st.transactions_queued, 11u);
  EXPECT_EQ(st.envelopes_failed, 1u) << "the slow one timed out";
  EXPECT_EQ(st.envelopes_sent, 10u);
}

TEST_F(Transport, AnEndpointThatIsNotThere) {
  int port;
  {
    Sink gone;
    port = gone.port();
  }
  std::string dsn =
      "http://" + kPublicKey + "@127.0.0.1:" + std::to_string(port) + "/42";
  ExporterPtr x = MakeExporter(dsn, TestOptions());
  SendOne(x.get(), &ctx);
  ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
  EXPECT_EQ(Stats(x.get()).envelopes_failed, 1u);
}

} // namespace
