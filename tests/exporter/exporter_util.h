// Helpers of the exporter tests: exporters, contexts and records.
#ifndef STP_TESTS_EXPORTER_UTIL_H
#define STP_TESTS_EXPORTER_UTIL_H

#include <string>

#include "sink.h"
#include "stp/exporter.h"
#include "tests/test_util.h"

namespace stp_test {

struct ExporterDeleter {
  void operator()(stp_exporter *x) const { stp_exporter_del(x); }
};
using ExporterPtr = std::unique_ptr<stp_exporter, ExporterDeleter>;

// Short times, no retries, no Spotlight (whatever the environment says).
inline stp_exporter_options TestOptions() {
  stp_exporter_options o;
  stp_exporter_options_init(&o);
  o.spotlight = "false";
  o.retries = 0;
  o.retry_backoff_ms = 50;
  o.send_timeout_ms = 3000;
  o.flush_timeout_ms = 3000;
  return o;
}

inline std::string DsnFor(const Sink &s) {
  return "http://" + kPublicKey + "@127.0.0.1:" + std::to_string(s.port()) +
         "/42";
}

inline ExporterPtr MakeExporter(const std::string &dsn,
                                const stp_exporter_options &eo,
                                const char *release = "shop@1.4.2",
                                const char *environment = "test") {
  stp_options o;
  stp_options_init(&o);
  o.dsn = dsn.empty() ? nullptr : dsn.c_str();
  o.release = release;
  o.environment = environment;
  stp_exporter *x = nullptr;
  EXPECT_EQ(stp_exporter_new(&x, &o, &eo, nullptr), STP_OK);
  return ExporterPtr(x);
}

// A context continued from kTS1 with the reference DSC.
inline void Continued(stp_context *ctx, const stp_config *cfg) {
  Headers h({{"sentry-trace", kTS1}, {"baggage", kRefDsc}});
  stp_carrier c = h.Carrier();
  ASSERT_EQ(stp_context_continue(ctx, cfg, &c), STP_OK);
}

// description must outlive the record (no temporaries).
inline stp_span_record Rec(const stp_span &span, const char *op,
                           const std::string &description, int code,
                           uint64_t start_ns, uint64_t end_ns, bool root,
                           const stp_context *ctx = nullptr) {
  stp_span_record r{};
  r.span = span;
  r.op = op;
  r.description = description.data();
  r.description_len = description.size();
  r.status = code <= 0 ? "ok" : "internal_error";
  r.code = code;
  r.start_ns = start_ns;
  r.end_ns = end_ns;
  r.local_root = root;
  r.ctx = ctx;
  return r;
}

// A child of `parent` in the same trace.
inline stp_span Child(const stp_span &parent) {
  stp_span s = parent;
  stp_span_id_random(&s.span_id);
  s.parent_span_id = parent.span_id;
  s.has_parent = true;
  return s;
}

// One transaction: a root of ctx's span and one child, for load tests.
inline void SendOne(stp_exporter *x, const stp_context *ctx) {
  const stp_span &root = *stp_context_span(ctx);
  stp_span child = Child(root);
  static const std::string q = "q", job = "job";
  stp_span_record c = Rec(child, "db", q, 0, 1, 2, false);
  stp_exporter_record(x, &c);
  stp_span_record r = Rec(root, "task", job, 0, 1, 3, true, ctx);
  stp_exporter_record(x, &r);
}

} // namespace stp_test

#endif // STP_TESTS_EXPORTER_UTIL_H
