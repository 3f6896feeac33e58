/* What a server made of the trace it was sent, as JSON: the answer of the
 * HTTP/2 and HTTP/1.1 example servers. */
#ifndef STP_EXAMPLES_COMMON_TRACE_JSON_H
#define STP_EXAMPLES_COMMON_TRACE_JSON_H

#include "examples/common/json.h"
#include "stp/stp.h"

/* Appends one line, a JSON object:
 *   {"trace_id":..,"span_id":..,"parent_span_id":..,"sampled":..,
 *    "sample_rand":0.xxxxxx,"continued":true|false,"status":"ok"|why not,
 *    "dsc":{key without "sentry-": decoded value,...},
 *    "outgoing":{"sentry-trace":..,"baggage":..|null[,"traceparent":..]}}
 * "outgoing" is what a call made from here would carry, announcing a child
 * span of the context's. Freezes the context's DSC (it leaves the process
 * in that answer). */
void trace_json_describe(json_buf *j, stp_context *ctx);

#endif /* STP_EXAMPLES_COMMON_TRACE_JSON_H */
