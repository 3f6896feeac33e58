/*
 * Why `stp continue` and `stp new` came out as they did: the reasons the
 * human view prints, found again from the incoming headers with the
 * public API (the same rules the library applies, asked of the library).
 */
#ifndef STP_TOOLS_TRACE_WHY_H
#define STP_TOOLS_TRACE_WHY_H

#include <stddef.h>

#include "members.h"
#include "trace.h"

/* The incoming headers as the library saw them: those of -H, or with
 * --env SENTRY_TRACE and SENTRY_BAGGAGE as a sentry-trace and a baggage
 * header. */
typedef struct incoming {
  header env[2];
  const header *h;
  size_t n;
} incoming;

void incoming_init(incoming *in, const trace_report *r);

/* One line of text each, into buf (raw input bytes may be in it: print
 * it with text_put). */
void why_not_continued(char *buf, size_t cap, const trace_report *r,
                       const incoming *in);
void why_sampled(char *buf, size_t cap, const trace_report *r,
                 const incoming *in);
void why_sample_rand(char *buf, size_t cap, const trace_report *r,
                     const incoming *in);

/* A row for each incoming baggage member, with its fate in the context
 * and why. Returns 0 or STP_ERR_NOMEM. */
int incoming_rows(member_rows *rows, const trace_report *r, const incoming *in);

#endif /* STP_TOOLS_TRACE_WHY_H */
