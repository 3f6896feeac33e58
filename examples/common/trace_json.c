#define _POSIX_C_SOURCE 200809L

#include "trace_json.h"

#include <stdio.h>
#include <string.h>

#include "examples/common/span_log.h"

void trace_json_describe(json_buf *j, stp_context *ctx) {
  char num[32];
  json_lit(j, "{");
  span_log_json_span(j, stp_context_span(ctx));
  json_key(j, "sample_rand");
  snprintf(num, sizeof num, "%.6f,", stp_context_sample_rand(ctx));
  json_lit(j, num);
  json_key(j, "continued");
  json_lit(j, stp_context_continued(ctx) ? "true," : "false,");
  json_key(j, "status");
  const char *status = stp_error_name(stp_context_status(ctx));
  json_str(j, status, strlen(status));
  json_lit(j, ",");

  /* The DSC, keys without their `sentry-` prefix, values decoded. */
  json_key(j, "dsc");
  json_lit(j, "{");
  int first = 1;
  for (size_t i = 0; i < stp_context_member_count(ctx); i++) {
    stp_baggage_member m;
    bool is_sentry;
    char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t vlen;
    if (stp_context_member(ctx, &m, &is_sentry, i) != STP_OK || !is_sentry ||
        stp_baggage_decode(value, sizeof value, &vlen, m.value, m.value_len) !=
            STP_OK)
      continue;
    json_lit(j, first ? "" : ",");
    first = 0;
    json_str(j, m.key + 7, m.key_len - 7);
    json_lit(j, ":");
    json_str(j, value, vlen);
  }
  json_lit(j, "},");

  /* What a call made from here would carry: a child span of ours. */
  stp_span child;
  stp_context_child_span(ctx, &child);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t st_len = 0, bag_len = 0;
  stp_context_sentry_trace(ctx, st, sizeof st, &st_len, &child);
  stp_context_baggage(ctx, bag, sizeof bag, &bag_len, NULL, 0);
  json_key(j, "outgoing");
  json_lit(j, "{");
  json_key(j, "sentry-trace");
  json_str(j, st, st_len);
  json_lit(j, ",");
  json_key(j, "baggage");
  if (bag_len)
    json_str(j, bag, bag_len);
  else
    json_lit(j, "null");
  if (stp_config_propagate_traceparent(stp_context_config(ctx))) {
    char tp[STP_TRACEPARENT_LEN + 1];
    size_t tp_len = 0;
    stp_context_traceparent(ctx, tp, sizeof tp, &tp_len, &child);
    json_lit(j, ",");
    json_key(j, "traceparent");
    json_str(j, tp, tp_len);
  }
  json_lit(j, "}}\n");
}
