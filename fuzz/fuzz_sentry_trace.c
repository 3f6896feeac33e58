/* sentry-trace parser: no over-read; anything accepted re-formats to a
 * canonical value that parses back to the same ids and decision. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  stp_trace_header h, again;
  if (stp_sentry_trace_parse(&h, (const char *)data, size) != STP_OK)
    return 0;
  char buf[STP_SENTRY_TRACE_MAX_LEN + 1];
  size_t n;
  CHECK(stp_sentry_trace_format(buf, sizeof buf, &n, &h.trace_id, &h.span_id,
                                h.sampled) == STP_OK);
  check_header_value(buf, n);
  CHECK(stp_sentry_trace_parse(&again, buf, n) == STP_OK);
  CHECK(!memcmp(&h.trace_id, &again.trace_id, sizeof h.trace_id));
  CHECK(!memcmp(&h.span_id, &again.span_id, sizeof h.span_id));
  CHECK(h.sampled == again.sampled);
  CHECK(!stp_trace_id_is_zero(&h.trace_id) && !stp_span_id_is_zero(&h.span_id));
  return 0;
}
