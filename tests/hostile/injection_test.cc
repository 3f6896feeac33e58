// Header injection: whatever bytes arrive in incoming headers, the DSN,
// release, environment or transaction name, no control byte (CR, LF, NUL,
// ...) and nothing outside printable ASCII reaches an emitted header,
// metadata value or environment variable; the HTML meta output stays two
// well-formed tags.

#include <string>
#include <vector>

#include "stp/stp.h"
#include "tests/test_util.h"

namespace {

using stp_test::kSpan;
using stp_test::kTrace;
using stp_test::kTS1;

// One line each: what it carries.
const std::vector<std::pair<const char *, std::string>> kHostile = {
    {"CRLF and a header", "\r\nX-Injected: 1"},
    {"bare LF", "a\nb"},
    {"NUL", std::string("a\0b", 3)},
    {"C0 controls", "\x01\x02\x1b[31m"},
    {"DEL", "\x7f"},
    {"tab", "a\tb"},
    {"bytes above 0x7f", "\xff\xfe\xc3\x28"},
    {"HTML breakout", "\"><script>alert(1)</script>"},
    {"quote and ampersand", "'&amp;\""},
    {"separators", ",;=%"},
};


// What HTTP/2 and gRPC metadata both accept: 0x20-0x7e.
::testing::AssertionResult Printable(const std::string &v) {
  for (unsigned char c : v)
    if (c < 0x20 || c > 0x7e)
      return ::testing::AssertionFailure()
             << "byte 0x" << std::hex << int(c) << " in [" << v << "]";
  return ::testing::AssertionSuccess();
}

stp_config *Config(const char *release, const char *environment,
                   bool third_party, int *err) {
  stp_options o;
  stp_options_init(&o);
  o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o1.ingest.sentry.io/2";
  o.release = release;
  o.environment = environment;
  o.has_sample_rate = true;
  o.sample_rate = 1;
  o.propagate_traceparent = true;
  o.propagate_third_party_baggage = third_party;
  stp_config *cfg = nullptr;
  *err = stp_config_new(&cfg, &o, nullptr);
  return cfg;
}

// Every way a context leaves the process, checked.
void CheckOutputs(stp_context *ctx) {
  stp_test::Headers out = {{"baggage", "theirs=1"}};
  stp_carrier c = out.Carrier();
  ASSERT_EQ(STP_OK, stp_context_inject(ctx, &c, nullptr));
  for (const auto &h : out.list)
    EXPECT_TRUE(Printable(h.second)) << h.first;

  char t[STP_ENV_TRACE_MAX_LEN + 1], b[STP_ENV_BAGGAGE_MAX_LEN + 1];
  ASSERT_EQ(STP_OK,
            stp_context_env_sentry_trace(ctx, t, sizeof t, nullptr, nullptr));
  ASSERT_EQ(STP_OK, stp_context_env_baggage(ctx, b, sizeof b, nullptr));
  EXPECT_TRUE(Printable(t));
  EXPECT_TRUE(Printable(b));

  std::string meta(STP_META_MAX_LEN + 1, '\0');
  size_t n;
  ASSERT_EQ(STP_OK, stp_context_meta(ctx, &meta[0], meta.size(), &n));
  meta.resize(n);
  EXPECT_TRUE(Printable(meta));
  // Exactly the two tags: every '<' opens one of them, every '"' belongs
  // to their attributes.
  size_t lt = 0, quotes = 0;
  for (char ch : meta) {
    lt += ch == '<';
    quotes += ch == '"';
  }
  EXPECT_EQ(2u, lt) << meta;
  EXPECT_EQ(8u, quotes) << meta;
  EXPECT_EQ(std::string::npos, meta.find("<script"));
}

TEST(Injection, IncomingHeaders) {
  int err;
  stp_config *cfg = Config(nullptr, nullptr, true, &err);
  ASSERT_EQ(STP_OK, err);
  for (const auto &[what, bad] : kHostile) {
    SCOPED_TRACE(what);
    // In the trace header (after a valid one, and alone), in a Sentry
    // value, a third-party value and a property.
    stp_test::Headers in = {
        {"sentry-trace", kTS1 + bad},
        {"sentry-trace", bad + "," + kTS1},
        {"baggage", "sentry-release=r" + bad + ",sentry-trace_id=" + kTrace},
        {"baggage", "vendor=v" + bad + ",other=o;p=" + bad + ",ok=1;q=" + bad},
        {"traceparent", "00-" + kTrace + "-" + kSpan + "-01" + bad},
    };
    stp_carrier c = in.Carrier();
    stp_context ctx;
    EXPECT_EQ(STP_OK, stp_context_continue(&ctx, cfg, &c));
    CheckOutputs(&ctx);
  }
  stp_config_del(cfg);
}

TEST(Injection, OptionsAndTransaction) {
  for (const auto &[what, bad] : kHostile) {
    SCOPED_TRACE(what);
    // As C strings, options end at a NUL; control bytes before it are
    // refused outright, anything else is accepted and percent-encoded.
    std::string release = "rel" + bad, environment = "env" + bad;
    bool control = false;
    for (unsigned char ch : std::string(release.c_str()))
      control |= ch < 0x20 || ch == 0x7f;
    int err;
    stp_config *cfg =
        Config(release.c_str(), environment.c_str(), false, &err);
    if (control) {
      EXPECT_EQ(STP_ERR_OPTION_VALUE, err);
      EXPECT_EQ(nullptr, cfg);
    } else {
      ASSERT_EQ(STP_OK, err);
    }
    // Without them, the transaction name (it may come from a request path)
    // carries the bytes: encoded on the way out, decoded back intact.
    if (!cfg)
      cfg = Config("rel", "env", false, &err);
    ASSERT_EQ(STP_OK, err);
    stp_context ctx;
    ASSERT_EQ(STP_OK, stp_context_init(&ctx, cfg));
    EXPECT_EQ(STP_OK,
              stp_context_set_transaction(&ctx, bad.data(), bad.size()));
    CheckOutputs(&ctx);
    char v[256];
    size_t n;
    ASSERT_EQ(STP_OK,
              stp_context_dsc_get(&ctx, v, sizeof v, &n, "transaction", 11));
    if (bad.find_first_of("\xff\xfe") == std::string::npos) {
      EXPECT_EQ(bad, std::string(v, n)) << "decodes back to the input";
    }
    stp_config_del(cfg);
  }
}

TEST(Injection, Dsn) {
  for (const auto &[what, bad] : kHostile) {
    SCOPED_TRACE(what);
    std::string dsn = "https://49d0f7386ad645858ae85020e393bef3" + bad +
                      "@o1.ingest.sentry.io/2";
    stp_options o;
    stp_options_init(&o);
    o.dsn = dsn.c_str();
    stp_config *cfg = nullptr;
    EXPECT_EQ(STP_ERR_DSN, stp_config_new(&cfg, &o, nullptr));
    EXPECT_EQ(nullptr, cfg);
  }
}

}  // namespace
