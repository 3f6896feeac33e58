/* traceparent parser: no over-read; accepted values re-format to a value
 * that parses back to the same ids and sampled bit. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  stp_trace_header h, again;
  if (stp_traceparent_parse(&h, (const char *)data, size) != STP_OK)
    return 0;
  char buf[STP_TRACEPARENT_LEN + 1];
  size_t n;
  CHECK(stp_traceparent_format(buf, sizeof buf, &n, &h.trace_id, &h.span_id,
                               h.sampled) == STP_OK);
  CHECK(n == STP_TRACEPARENT_LEN);
  check_header_value(buf, n);
  CHECK(stp_traceparent_parse(&again, buf, n) == STP_OK);
  CHECK(!memcmp(&h, &again, offsetof(stp_trace_header, sampled)));
  CHECK(h.sampled == again.sampled);
  CHECK((h.trace_flags & 1) == (h.sampled == STP_SAMPLED_YES));
  return 0;
}
