// Helpers of the nghttp2 helper tests: the reference trace, configs, a
// context that continued it, and request header arrays.
#ifndef STP_TESTS_H2_NGHTTP2_TEST_UTIL_H
#define STP_TESTS_H2_NGHTTP2_TEST_UTIL_H

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "stp/nghttp2.h"

namespace nghttp2_test {

inline const std::string kTrace = "771a43a4192642f0b136d5159a501700";
inline const std::string kSpan = "b1c2d3e4f5a6b7c8";
inline const std::string kIncoming = kTrace + "-" + kSpan + "-1";
inline const std::string kDsc = "sentry-trace_id=" + kTrace +
                         ",sentry-public_key=49d0f7386ad645858ae85020e393bef3"
                         ",sentry-sample_rate=0.25,sentry-sampled=true"
                         ",sentry-sample_rand=0.123456,sentry-custom=kept";

struct ConfigDel {
  void operator()(stp_config *c) const {
    stp_config_del(c);
  }
};
using Config = std::unique_ptr<stp_config, ConfigDel>;

inline Config MakeConfig(const std::vector<const char *> *targets = nullptr,
                  bool traceparent = false) {
  stp_options o;
  stp_options_init(&o);
  o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o123.ingest.sentry.io/42";
  o.has_sample_rate = true;
  o.sample_rate = 0.25;
  o.propagate_traceparent = traceparent;
  static const char *const kNone[1] = {nullptr};
  if (targets) {
    // An empty vector's data() may be NULL, which would mean "everything".
    o.targets = targets->empty() ? kNone : targets->data();
    o.targets_len = targets->size();
  }
  stp_config *c = nullptr;
  EXPECT_EQ(stp_config_new(&c, &o, nullptr), STP_OK);
  return Config(c);
}

// A context that continued kIncoming with kDsc.
inline void Continue(stp_context *ctx, const stp_config *cfg) {
  stp_context_begin(ctx, cfg);
  stp_context_feed(ctx, "sentry-trace", 12, kIncoming.data(), kIncoming.size());
  stp_context_feed(ctx, "baggage", 7, kDsc.data(), kDsc.size());
  ASSERT_EQ(stp_context_finish(ctx), STP_OK);
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// Header list whose nghttp2_nv entries point into its own strings (so it
// cannot be copied or moved).
struct Request {
  Fields fields;
  std::vector<nghttp2_nv> nva;
  size_t len = 0;

  explicit Request(Fields f, size_t extra = STP_NGHTTP2_NV_EXTRA)
      : fields(std::move(f)) {
    for (auto &kv : fields)
      nva.push_back(nghttp2_nv{(uint8_t *)kv.first.data(),
                               (uint8_t *)kv.second.data(), kv.first.size(),
                               kv.second.size(), NGHTTP2_NV_FLAG_NONE});
    len = nva.size();
    nva.resize(len + extra);
  }
  Request(const Request &) = delete;
  Request &operator=(const Request &) = delete;
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < len; i++)
      out.emplace_back((const char *)nva[i].name, nva[i].namelen);
    return out;
  }
  // Values of every entry named `name` (exact, lowercase).
  std::vector<std::string> Values(const std::string &name) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < len; i++)
      if (std::string((const char *)nva[i].name, nva[i].namelen) == name)
        out.emplace_back((const char *)nva[i].value, nva[i].valuelen);
    return out;
  }
};

inline Request Get(const Fields &more = {}) {
  Fields f = {{":method", "GET"},
              {":scheme", "http"},
              {":authority", "api.example.com:8080"},
              {":path", "/v1/users?id=7"}};
  f.insert(f.end(), more.begin(), more.end());
  return Request(f);
}

inline int Inject(stp_context *ctx, stp_nghttp2_headers *hb, Request &r,
           const char *url = nullptr) {
  return stp_nghttp2_inject(ctx, hb, r.nva.data(), r.nva.size(), &r.len,
                            nullptr, url, url ? std::strlen(url) : 0);
}

inline bool ValidFieldValue(const std::string &v) {
  if (v.empty() || v.front() == ' ' || v.back() == ' ')
    return false;
  for (unsigned char c : v)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

inline std::string Hex(const stp_trace_id &id) {
  char b[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&id, b);
  return b;
}
inline std::string Hex(const stp_span_id &id) {
  char b[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&id, b);
  return b;
}

}  // namespace nghttp2_test

#endif  // STP_TESTS_H2_NGHTTP2_TEST_UTIL_H
