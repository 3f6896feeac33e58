/*
 * What `stp continue` and `stp new` found, shared by the command
 * (cmd_trace.c) and its two views: JSON (trace_json.c) and the table for
 * a person (trace_text.c).
 */
#ifndef STP_TOOLS_TRACE_H
#define STP_TOOLS_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "stp/stp.h"

typedef struct trace_report {
  const trace_args *args;
  bool is_continue;
  const stp_config *cfg;
  stp_context *ctx; /* its DSC is frozen by the time a view runs */
  /* Read before the outgoing values were made, which freezes the DSC. */
  int status;
  bool continued;
  bool frozen;
  stp_span span;
  double sample_rand;
  /* The outgoing values. */
  char trace[STP_SENTRY_TRACE_MAX_LEN + 1];
  size_t trace_len;
  char traceparent[STP_TRACEPARENT_LEN + 1];
  size_t traceparent_len;
  char *baggage; /* STP_BAGGAGE_MAX_BYTES + 1 bytes */
  size_t baggage_len;
  char *meta; /* with --meta */
  size_t meta_len;
  bool propagate; /* with --url */
} trace_report;

/* The views. Each returns 0 or the error of a library call. */
int trace_json(const trace_report *r, bool pretty);
int trace_text(const trace_report *r);

#endif /* STP_TOOLS_TRACE_H */
