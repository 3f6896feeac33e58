// The exporter's options: Spotlight (the option and SENTRY_SPOTLIGHT), the
// URLs it sends to, and the options it refuses.
#include <cstdlib>

#include "exporter_util.h"

namespace {

using namespace stp_test;

int New(const char *dsn, const stp_exporter_options &eo, stp_exporter **out,
        const char *release = nullptr) {
  stp_options o;
  stp_options_init(&o);
  o.dsn = dsn;
  o.release = release;
  return stp_exporter_new(out, &o, &eo, nullptr);
}

struct SpotlightCase {
  const char *what;
  const char *value; // the option, or SENTRY_SPOTLIGHT when from_env
  bool from_env;
  int err;
  const char *url; // nullptr: none
};

const SpotlightCase kSpotlight[] = {
    {"true", "true", false, STP_OK, STP_EXPORTER_SPOTLIGHT_URL},
    {"YES from the environment", "YES", true, STP_OK,
     STP_EXPORTER_SPOTLIGHT_URL},
    {"1", "1", true, STP_OK, STP_EXPORTER_SPOTLIGHT_URL},
    {"off", "off", true, STP_OK, nullptr},
    {"0", "0", false, STP_OK, nullptr},
    {"empty", "", true, STP_OK, nullptr},
    {"a URL", "http://127.0.0.1:9/stream", true, STP_OK,
     "http://127.0.0.1:9/stream"},
    {"an https URL", "https://spot.local/stream", false, STP_OK,
     "https://spot.local/stream"},
    {"not a URL", "maybe", false, STP_ERR_INVALID_ARGUMENT, nullptr},
    {"another scheme", "ftp://x/stream", true, STP_ERR_INVALID_ARGUMENT,
     nullptr},
    {"a URL with a space", "http://x/a b", false, STP_ERR_INVALID_ARGUMENT,
     nullptr},
    {"a URL with a newline", "http://x/\r\nX-Evil: 1", true,
     STP_ERR_INVALID_ARGUMENT, nullptr},
};

TEST(Options, SpotlightAsTheSdksReadIt) {
  for (const auto &c : kSpotlight) {
    SCOPED_TRACE(c.what);
    stp_exporter_options eo = TestOptions();
    eo.spotlight = c.from_env ? nullptr : c.value;
    if (c.from_env)
      setenv("SENTRY_SPOTLIGHT", c.value, 1);
    stp_exporter *x = nullptr;
    int err = New("https://k@o1.ingest.sentry.io/5", eo, &x);
    unsetenv("SENTRY_SPOTLIGHT");
    ASSERT_EQ(err, c.err);
    if (err != STP_OK) {
      EXPECT_EQ(x, nullptr);
      continue;
    }
    const char *url = stp_exporter_spotlight_url(x);
    EXPECT_STREQ(url, c.url);
    stp_exporter_del(x);
  }
}

TEST(Options, TheEnvelopeEndpointOfTheDsn) {
  struct {
    const char *dsn, *url;
  } cases[] = {
      {"https://k@o1.ingest.sentry.io/5",
       "https://o1.ingest.sentry.io/api/5/envelope/"},
      {"http://k:s@sentry.local:9000/sub/7",
       "http://sentry.local:9000/sub/api/7/envelope/"},
  };
  for (const auto &c : cases) {
    stp_exporter *x = nullptr;
    ASSERT_EQ(New(c.dsn, TestOptions(), &x), STP_OK);
    EXPECT_STREQ(stp_exporter_envelope_url(x), c.url);
    EXPECT_EQ(stp_exporter_spotlight_url(x), nullptr);
    stp_exporter_del(x);
  }
}

TEST(Options, Refused) {
  stp_exporter *x = reinterpret_cast<stp_exporter *>(1);
  stp_exporter_options eo = TestOptions();
  EXPECT_EQ(New("not a dsn", eo, &x), STP_ERR_DSN);
  EXPECT_EQ(x, nullptr);
  EXPECT_EQ(New(nullptr, eo, &x), STP_ERR_DSN) << "nowhere to send";
  EXPECT_EQ(New("https://k@h/1", eo, &x, "bad\nrelease"),
            STP_ERR_OPTION_VALUE);
  eo.max_spans = 0;
  EXPECT_EQ(New("https://k@h/1", eo, &x), STP_ERR_INVALID_ARGUMENT);
  eo = TestOptions();
  eo.spotlight_only = true;
  EXPECT_EQ(New("https://k@h/1", eo, &x), STP_ERR_DSN)
      << "Spotlight alone, and no Spotlight";
  EXPECT_EQ(stp_exporter_new(nullptr, nullptr, nullptr, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  stp_options o;
  stp_options_init(&o);
  stp_allocator half = {nullptr, nullptr, nullptr};
  EXPECT_EQ(stp_exporter_new(&x, &o, nullptr, &half), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_exporter_flush(nullptr, 1), STP_ERR_INVALID_ARGUMENT);
  stp_exporter_del(nullptr);
  stp_exporter_record(nullptr, nullptr);
}

TEST(Options, SpotlightAloneAndBoth) {
  Sink spot, sentry;
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  stp_context ctx;
  Continued(&ctx, cfg.get());
  std::string url = spot.Url("/stream");
  for (bool only : {true, false}) {
    stp_exporter_options eo = TestOptions();
    eo.spotlight = url.c_str();
    eo.spotlight_only = only;
    ExporterPtr x = MakeExporter(DsnFor(sentry), eo);
    ASSERT_TRUE(x);
    SendOne(x.get(), &ctx);
    ASSERT_EQ(stp_exporter_flush(x.get(), 5000), STP_OK);
    stp_exporter_stats st;
    stp_exporter_stats_get(x.get(), &st);
    EXPECT_EQ(st.spotlight_sent, 1u);
    EXPECT_EQ(st.envelopes_sent, only ? 0u : 1u);
  }
  auto s = spot.Requests();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].target, "/stream");
  EXPECT_EQ(s[0].headers.at("content-type"), "application/x-sentry-envelope");
  EXPECT_EQ(s[0].headers.count("x-sentry-auth"), 0u)
      << "Spotlight is not Sentry: no key";
  EXPECT_TRUE(Contains(s[0].body, "\"public_key\":\"" + kPublicKey + "\""))
      << "the DSC still names the key";
  EXPECT_EQ(sentry.Requests().size(), 1u);
}

TEST(Options, FailuresOfAllocationAreErrorsNotLeaks) {
  // Every allocation of stp_exporter_new failed in turn.
  struct Counter {
    int fail_at, n = 0;
  };
  for (int k = 0;; k++) {
    Counter c{k};
    stp_allocator a = {
        [](size_t size, void *u) -> void * {
          auto *c = static_cast<Counter *>(u);
          return c->n++ == c->fail_at ? nullptr : malloc(size);
        },
        [](void *p, void *) { free(p); }, &c};
    stp_options o;
    stp_options_init(&o);
    o.dsn = "https://k@h/1";
    o.release = "r";
    stp_exporter *x = nullptr;
    int err = stp_exporter_new(&x, &o, nullptr, &a);
    if (err == STP_OK) {
      stp_exporter_del(x);
      EXPECT_GT(k, 3);
      break;
    }
    EXPECT_EQ(err, STP_ERR_NOMEM) << "allocation " << k;
    EXPECT_EQ(x, nullptr);
  }
}

} // namespace
