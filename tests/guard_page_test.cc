// Every parser input is placed so that its last byte is right before a
// PROT_NONE page: reading one byte too far crashes the test.
#include "guard_page.h"
#include "test_util.h"

using namespace stp_test;

namespace {

const std::string kTP = "00-" + kTrace + "-" + kSpan + "-01";

// Inputs whose every prefix is tried, with the prefix ending at the guard.
const std::vector<std::string> &SentryTraceInputs() {
  static const std::vector<std::string> v = {
      kTS1,
      kTrace + "-" + kSpan,
      kTrace + "-" + kSpan + "-",
      "  " + kTS1 + "\t ",
      "bad, ," + kTS1 + "," + kTrace + "-" + kSpan + "-0",
      "771A43A4192642F0B136D5159A501700-B1C2D3E4F5A6B7C8-0",
      std::string(60, ','),
      std::string(60, '-'),
      kTrace + kSpan + "1",
  };
  return v;
}

const std::vector<std::string> &TraceparentInputs() {
  static const std::vector<std::string> v = {
      kTP,
      "01-" + kTrace + "-" + kSpan + "-01-extra",
      "  " + kTP + "  ",
      "ff-" + kTrace + "-" + kSpan + "-01",
      std::string(60, '-'),
  };
  return v;
}

const std::vector<std::string> &BaggageInputs() {
  static const std::vector<std::string> v = {
      kRefBaggage,
      " a = 1 ; p ; q , b\t=\t2\t;x ",
      "k=%4",
      "k=%",
      "k=%C3%A9%E2%82",
      "bad,=,,a,;,=;",
      "k=v;",
      "a=b=c=%G1",
  };
  return v;
}

TEST(GuardPage, SentryTraceEveryPrefix) {
  GuardedBuffer g;
  for (const auto &in : SentryTraceInputs())
    for (size_t n = 0; n <= in.size(); n++) {
      SCOPED_TRACE(in.substr(0, n));
      stp_trace_header h;
      int err = stp_sentry_trace_parse(&h, g.Place(in.data(), n), n);
      if (n == in.size() && in == kTS1) {
        EXPECT_EQ(err, STP_OK);
      }
    }
}

TEST(GuardPage, SentryTraceLongValue) {
  GuardedBuffer g;
  std::string in(g.capacity(), 'a');
  in.replace(in.size() - kTS1.size(), kTS1.size(), kTS1);
  in[in.size() - kTS1.size() - 1] = ',';
  stp_trace_header h;
  for (size_t n : {size_t{1023}, size_t{1024}, size_t{1025}, size_t{4096},
                   in.size()})
    stp_sentry_trace_parse(&h, g.Place(in.data() + in.size() - n, n), n);
}

TEST(GuardPage, TraceparentEveryPrefix) {
  GuardedBuffer g;
  for (const auto &in : TraceparentInputs())
    for (size_t n = 0; n <= in.size(); n++) {
      SCOPED_TRACE(in.substr(0, n));
      stp_trace_header h;
      int err = stp_traceparent_parse(&h, g.Place(in.data(), n), n);
      if (n == in.size() && in == kTP) {
        EXPECT_EQ(err, STP_OK);
      }
    }
}

TEST(GuardPage, IdsEveryPrefix) {
  GuardedBuffer g;
  for (size_t n = 0; n <= kTrace.size(); n++) {
    stp_trace_id t;
    int err = stp_trace_id_parse(&t, g.Place(kTrace.data(), n), n);
    EXPECT_EQ(err, n == 32 ? STP_OK : STP_ERR_TRACE_ID);
  }
  for (size_t n = 0; n <= kSpan.size(); n++) {
    stp_span_id s;
    int err = stp_span_id_parse(&s, g.Place(kSpan.data(), n), n);
    EXPECT_EQ(err, n == 16 ? STP_OK : STP_ERR_SPAN_ID);
  }
}

TEST(GuardPage, BaggageIteratorAndDecodeEveryPrefix) {
  GuardedBuffer g;
  std::vector<char> out(3 * 1024 + 1);
  for (const auto &in : BaggageInputs())
    for (size_t n = 0; n <= in.size(); n++) {
      SCOPED_TRACE(in.substr(0, n));
      const char *p = g.Place(in.data(), n);
      stp_baggage_iter it;
      stp_baggage_member m;
      stp_baggage_iter_init(&it, p, n);
      size_t count = 0;
      while (stp_baggage_iter_next(&it, &m)) {
        count++;
        ASSERT_GE(m.value, p);
        ASSERT_LE(m.value + m.value_len, p + n);
        ASSERT_LE(m.props + m.props_len, p + n);
        // Decode the value where it lies (the last one ends at the guard).
        size_t len;
        ASSERT_EQ(stp_baggage_decode(out.data(), out.size(), &len, m.value,
                                     m.value_len),
                  STP_OK);
      }
      if (n == in.size() && in == kRefBaggage) {
        EXPECT_EQ(count, 10u);
      }
      size_t len;
      ASSERT_EQ(stp_baggage_decode(out.data(), out.size(), &len, p, n), STP_OK);
      ASSERT_EQ(stp_baggage_encode(out.data(), out.size(), &len, p, n), STP_OK);
    }
}

TEST(GuardPage, DecodeEscapesAtTheEnd) {
  GuardedBuffer g;
  char out[64];
  size_t len;
  const struct {
    std::string in, want;
  } cases[] = {{"%", "%"},   {"%4", "%4"},       {"a%41", "aA"},
               {"%C3", "\xef\xbf\xbd"}, {"%E2%82", "\xef\xbf\xbd"},
               {"\xc3", "\xef\xbf\xbd"}};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.in);
    ASSERT_EQ(stp_baggage_decode(out, sizeof out, &len, g.Place(c.in),
                                 c.in.size()),
              STP_OK);
    EXPECT_EQ(std::string(out, len), c.want);
  }
}

// A carrier whose names and values each end at a guard page.
struct GuardedCarrier {
  std::vector<std::pair<std::string, std::string>> headers;
  GuardedBuffer names, values;

  static int Foreach(void *user, stp_header_fn fn, void *arg) {
    auto *self = static_cast<GuardedCarrier *>(user);
    for (const auto &h : self->headers) {
      // Both live until the next header: the library must not keep them.
      const char *n = self->names.Place(h.first);
      const char *v = self->values.Place(h.second);
      int rc = fn(arg, n, h.first.size(), v, h.second.size());
      if (rc)
        return rc;
    }
    return 0;
  }
  static int Set(void *, const char *, size_t, const char *, size_t) {
    return 0;
  }
};

TEST(GuardPage, ContinueThroughACarrierEveryPrefix) {
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  ASSERT_TRUE(cfg);
  const std::vector<std::pair<std::string, std::string>> full = {
      {"sentry-trace", kTS1},
      {"traceparent", kTP},
      {"baggage", kRefBaggage},
  };
  for (const auto &h : full)
    for (size_t n = 0; n <= h.second.size(); n++) {
      SCOPED_TRACE(h.first + ": " + h.second.substr(0, n));
      GuardedCarrier gc;
      gc.headers = {{h.first, h.second.substr(0, n)},
                    {"x", "y"},
                    {"sentry-trac", "z"},
                    {"baggag", "z"}};
      stp_carrier c = {GuardedCarrier::Foreach, GuardedCarrier::Set, &gc};
      stp_context ctx;
      int err = stp_context_continue(&ctx, cfg.get(), &c);
      if (n == h.second.size() && h.first != "baggage") {
        EXPECT_EQ(err, STP_OK);
      }
      // Outgoing values are built from the context's own copies.
      (void)BaggageOf(&ctx);
    }
}

TEST(GuardPage, ExistingBaggageAndUrl) {
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  ASSERT_TRUE(cfg);
  GuardedBuffer g;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, cfg.get()), STP_OK);
  std::vector<char> buf(STP_BAGGAGE_MAX_BYTES + 1);
  for (size_t n = 0; n <= kRefBaggage.size(); n++) {
    size_t len;
    ASSERT_EQ(stp_context_baggage(&ctx, buf.data(), buf.size(), &len,
                                  g.Place(kRefBaggage.data(), n), n),
              STP_OK);
  }
  const char *targets[] = {"^https://api\\.example\\.com/", "x{2}$"};
  stp_options o = DefaultOptions();
  o.targets = targets;
  o.targets_len = 2;
  ConfigPtr tcfg = MakeConfig(o);
  ASSERT_TRUE(tcfg);
  std::string url = "https://api.example.com/v1";
  for (size_t n = 0; n <= url.size(); n++)
    EXPECT_EQ(ShouldPropagate(tcfg.get(), g.Place(url.data(), n), n), n >= 24);
}

}  // namespace
