/* Error descriptions. */
#include "internal.h"

typedef struct {
  const char *name;
  const char *text;
} err_info;

/* Indexed by -err. */
static const err_info errors[] = {
    [0] = {"ok", "success"},
    [1] = {"invalid_argument", "invalid argument"},
    [2] = {"nomem", "out of memory"},
    [3] = {"buffer_too_small", "output buffer too small"},
    [4] = {"absent", "header not present"},
    [5] = {"empty", "header value is empty"},
    [6] = {"malformed", "malformed value: missing or extra parts"},
    [7] = {"trace_id", "trace id is not 32 hex digits"},
    [8] = {"span_id", "span id is not 16 hex digits"},
    [9] = {"zero_id", "trace id or span id is all zeros"},
    [10] = {"sampled_flag", "sampled flag is not 0 or 1"},
    [11] = {"control_char", "value contains a control character"},
    [12] = {"too_long", "value is longer than the format allows"},
    [13] = {"version", "traceparent version is invalid"},
    [14] = {"flags", "traceparent flags are not two hex digits"},
    [15] = {"uppercase", "traceparent contains uppercase hex"},
    [16] = {"baggage_member", "malformed baggage member"},
    [17] = {"limit", "size limit reached"},
    [18] = {"org_mismatch", "org id does not allow continuing the trace"},
    [19] = {"dsn", "invalid DSN"},
    [20] = {"sample_rate", "sample rate is not a number in [0, 1]"},
    [21] = {"org_id", "org id is not a decimal number"},
    [22] = {"option_value", "option value contains control characters"},
    [23] = {"pattern", "invalid propagation target pattern"},
    [24] = {"no_context", "no current context on this thread"},
    [25] = {"detach_order", "contexts detached out of order"},
    [26] = {"frozen", "dynamic sampling context is already frozen"},
    [27] = {"carrier", "carrier callback failed"},
    [28] = {"disabled", "disabled by SENTRY_USE_ENVIRONMENT"},
    [29] = {"not_found", "not found"},
    [30] = {"grpc", "gRPC refused the operation"},
    [31] = {"state", "called at the wrong time (such as outside begin/finish)"},
    [32] = {"header_name", "not a legal header or metadata name"},
    [33] = {"timeout", "the time allowed ran out"},
};

static const err_info *lookup(int err) {
  if (err > 0 || err < -(int)(sizeof(errors) / sizeof(errors[0]) - 1))
    return NULL;
  return &errors[-err];
}

const char *stp_strerror(int err) {
  const err_info *e = lookup(err);
  return e ? e->text : "unknown error";
}

const char *stp_error_name(int err) {
  const err_info *e = lookup(err);
  return e ? e->name : "unknown";
}
