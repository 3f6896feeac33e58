// Helpers shared by the stp unit tests.
#ifndef STP_TESTS_TEST_UTIL_H
#define STP_TESTS_TEST_UTIL_H

#include <gtest/gtest.h>
#include <strings.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stp/stp.h"
#include "tests/reference_request.h"

namespace stp_test {

// Reference inputs.
inline const std::string kTrace = "771a43a4192642f0b136d5159a501700";
inline const std::string kSpan = "b1c2d3e4f5a6b7c8";
inline const std::string kPublicKey = "49d0f7386ad645858ae85020e393bef3";
inline const std::string kDsn =
    "https://49d0f7386ad645858ae85020e393bef3@o123.ingest.sentry.io/42";
inline const std::string kRefDsc =
    "sentry-trace_id=771a43a4192642f0b136d5159a501700,"
    "sentry-public_key=49d0f7386ad645858ae85020e393bef3,"
    "sentry-sample_rate=0.25,sentry-sampled=true,"
    "sentry-release=backend%401.2.3,sentry-environment=prod,"
    "sentry-transaction=GET%20%2Fapi%2Fusers,sentry-sample_rand=0.123456";
inline const std::string kRefBaggage = kRefDsc + ",vendor=abc;prop=1,other=x";

// A second, unrelated trace.
inline const std::string kTrace2 = "0af7651916cd43dd8448eb211c80319c";
inline const std::string kSpan2 = "00f067aa0ba902b7";

// sentry-trace values of the reference trace: sampled, not sampled, and
// with the decision left open (no flag); traceparent values of the second
// trace, sampled and not.
inline const std::string kTS1 = kTrace + "-" + kSpan + "-1";
inline const std::string kTS0 = kTrace + "-" + kSpan + "-0";
inline const std::string kTSD = kTrace + "-" + kSpan;
inline const std::string kTP01 = "00-" + kTrace2 + "-" + kSpan2 + "-01";
inline const std::string kTP00 = "00-" + kTrace2 + "-" + kSpan2 + "-00";

inline std::string Hex(const stp_trace_id &id) {
  char buf[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&id, buf);
  return buf;
}

inline std::string Hex(const stp_span_id &id) {
  char buf[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&id, buf);
  return buf;
}

inline std::string ErrName(int err) { return stp_error_name(err); }

// Hostile inputs: s n times over; n bytes of every value, none printable
// for long.
inline std::string Repeat(const std::string &s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++)
    out += s;
  return out;
}

inline std::string Binary(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++)
    out += static_cast<char>((i * 37 + 11) & 0xff);
  return out;
}

// ---- configs ---------------------------------------------------------------

struct ConfigDeleter {
  void operator()(stp_config *c) const { stp_config_del(c); }
};
using ConfigPtr = std::unique_ptr<stp_config, ConfigDeleter>;

// Options used by most tests: the reference DSN (org 123), a release with a
// space (so its encoding is unambiguous), environment prod, rate 0.25.
inline stp_options DefaultOptions() {
  stp_options o;
  stp_options_init(&o);
  o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o123.ingest.sentry.io/42";
  o.release = "my app 1.0";
  o.environment = "prod";
  o.has_sample_rate = true;
  o.sample_rate = 0.25;
  return o;
}

// stp_config_should_propagate's answer, which must come with STP_OK.
inline bool ShouldPropagate(const stp_config *cfg, const char *url,
                            size_t len) {
  bool match = true;
  int err = stp_config_should_propagate(cfg, &match, url, len);
  EXPECT_EQ(stp_error_name(err), std::string("ok"));
  return err == STP_OK && match;
}

inline ConfigPtr MakeConfig(const stp_options &o) {
  stp_config *c = nullptr;
  int err = stp_config_new(&c, &o, nullptr);
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  return ConfigPtr(c);
}

// ---- a header-map carrier ---------------------------------------------------

struct Headers {
  std::vector<std::pair<std::string, std::string>> list;
  int set_calls = 0;
  int fail_set = 0;  // returned by set when non-zero

  Headers() = default;
  Headers(std::initializer_list<std::pair<std::string, std::string>> l)
      : list(l) {}

  std::vector<std::string> All(const std::string &name) const {
    std::vector<std::string> out;
    for (const auto &h : list)
      if (strcasecmp(h.first.c_str(), name.c_str()) == 0)
        out.push_back(h.second);
    return out;
  }

  static int Foreach(void *user, stp_header_fn fn, void *arg) {
    auto *self = static_cast<Headers *>(user);
    for (const auto &h : self->list) {
      int rc = fn(arg, h.first.data(), h.first.size(), h.second.data(),
                  h.second.size());
      if (rc != 0)
        return rc;
    }
    return 0;
  }

  static int Set(void *user, const char *name, size_t name_len,
                 const char *value, size_t value_len) {
    auto *self = static_cast<Headers *>(user);
    self->set_calls++;
    if (self->fail_set)
      return self->fail_set;
    std::string n(name, name_len);
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto &h : self->list)
      if (strcasecmp(h.first.c_str(), n.c_str()) != 0)
        kept.push_back(h);
    if (value)
      kept.emplace_back(n, std::string(value, value_len));
    self->list = kept;
    return 0;
  }

  stp_carrier Carrier() { return stp_carrier{Foreach, Set, this}; }
};

// ---- outgoing values --------------------------------------------------------

inline std::string SentryTraceOf(const stp_context *ctx,
                                 const stp_span *span = nullptr) {
  char buf[STP_SENTRY_TRACE_MAX_LEN + 1];
  size_t n = 0;
  int err = stp_context_sentry_trace(ctx, buf, sizeof buf, &n, span);
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  return err == STP_OK ? std::string(buf, n) : std::string();
}

inline std::string TraceparentOf(const stp_context *ctx,
                                 const stp_span *span = nullptr) {
  char buf[STP_TRACEPARENT_LEN + 1];
  size_t n = 0;
  int err = stp_context_traceparent(ctx, buf, sizeof buf, &n, span);
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  return err == STP_OK ? std::string(buf, n) : std::string();
}

inline std::string BaggageOf(stp_context *ctx,
                             const std::string &existing = "") {
  std::vector<char> buf(STP_BAGGAGE_MAX_BYTES + 1);
  size_t n = 12345;
  int err = stp_context_baggage(ctx, buf.data(), buf.size(), &n,
                                existing.data(), existing.size());
  EXPECT_EQ(ErrName(err), ErrName(STP_OK));
  if (err != STP_OK)
    return "<error>";
  EXPECT_LE(n, static_cast<size_t>(STP_BAGGAGE_MAX_BYTES));
  EXPECT_EQ(buf[n], '\0');
  return std::string(buf.data(), n);
}

// Decoded DSC value, or "<absent>".
inline std::string Dsc(const stp_context *ctx, const std::string &key) {
  char buf[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n = 0;
  int err =
      stp_context_dsc_get(ctx, buf, sizeof buf, &n, key.data(), key.size());
  if (err == STP_ERR_NOT_FOUND)
    return "<absent>";
  EXPECT_EQ(ErrName(err), ErrName(STP_OK)) << key;
  return err == STP_OK ? std::string(buf, n) : "<error>";
}

inline std::vector<std::string> Split(const std::string &s, char sep) {
  std::vector<std::string> out;
  if (s.empty())
    return out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? p : p - start));
    if (p == std::string::npos)
      return out;
    start = p + 1;
  }
}

inline std::string Join(const std::vector<std::string> &v, const char *sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++)
    out += (i ? sep : "") + v[i];
  return out;
}

// Members of a baggage value as "key=value[;props]" strings, through the
// library's iterator; *skipped gets the malformed count.
inline std::vector<std::string> Members(const std::string &baggage,
                                        size_t *skipped = nullptr) {
  std::vector<std::string> out;
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, baggage.data(), baggage.size());
  while (stp_baggage_iter_next(&it, &m)) {
    std::string s = std::string(m.key, m.key_len) + "=" +
                    std::string(m.value, m.value_len);
    if (m.props_len)
      s += ";" + std::string(m.props, m.props_len);
    out.push_back(s);
  }
  if (skipped)
    *skipped = it.skipped;
  return out;
}

// Whether the text is a well-formed outgoing baggage value: non-empty
// members, no empty list elements, only printable ASCII.
inline bool WellFormedBaggage(const std::string &b) {
  if (b.empty())
    return false;
  for (unsigned char c : b)
    if (c < 0x20 || c >= 0x7f)
      return false;
  size_t skipped = 0;
  std::vector<std::string> m = Members(b, &skipped);
  return skipped == 0 && m.size() == Split(b, ',').size();
}

inline bool StartsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

inline bool EndsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool Contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

// "key=value" members of the DSC part of a baggage value, sorted.
inline std::vector<std::string> SortedSentry(const std::string &baggage) {
  std::vector<std::string> out;
  for (const auto &m : Members(baggage))
    if (StartsWith(m, "sentry-"))
      out.push_back(m);
  std::sort(out.begin(), out.end());
  return out;
}

// ---- continuing -------------------------------------------------------------

// Continues *ctx from `headers`; returns the status, which the context
// must report too.
inline int Continue(stp_context *ctx, const stp_config *cfg, Headers headers) {
  stp_carrier c = headers.Carrier();
  int err = stp_context_continue(ctx, cfg, &c);
  EXPECT_EQ(err, stp_context_status(ctx));
  EXPECT_EQ(err == STP_OK, stp_context_continued(ctx));
  return err;
}

// The context's span: its parent ("<none>" for a head), trace and id.
inline std::string Parent(const stp_context *ctx) {
  const stp_span *s = stp_context_span(ctx);
  return s->has_parent ? Hex(s->parent_span_id) : "<none>";
}

inline std::string TraceOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->trace_id);
}

inline std::string SpanOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->span_id);
}

// A context to continue into, and the two configs most tests continue
// with: DefaultOptions(), and the same passing third-party baggage on.
class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = MakeConfig(DefaultOptions());
    ASSERT_TRUE(cfg_);
    stp_options o = DefaultOptions();
    o.propagate_third_party_baggage = true;
    third_party_cfg_ = MakeConfig(o);
    ASSERT_TRUE(third_party_cfg_);
  }
  ConfigPtr cfg_;
  ConfigPtr third_party_cfg_;
  stp_context ctx_;
};

}  // namespace stp_test

#endif  // STP_TESTS_TEST_UTIL_H
