/* The view of `stp continue` and `stp new` for a person: the trace, the
 * decision and why, every incoming baggage member with its fate, and the
 * outgoing values. The reasons are found again from the input with the
 * public API: the library keeps counts, not stories. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "text.h"
#include "trace.h"
#include "trace_why.h"

#define LABEL 13

static void line(const char *label, const char *fmt, const char *value) {
  text_label(stdout, label, LABEL);
  printf(fmt, value);
  putchar('\n');
}

/* A line whose text may hold bytes from the input. */
static void line_raw(const char *label, const char *s, size_t n) {
  text_label(stdout, label, LABEL);
  text_put(stdout, s, n);
  putchar('\n');
}

static void print_ids(const trace_report *r, const char *not_continued) {
  char tid[STP_TRACE_ID_HEX_LEN + 1], sid[STP_SPAN_ID_HEX_LEN + 1];
  stp_trace_id_format(&r->span.trace_id, tid);
  text_label(stdout, "trace", LABEL);
  printf("%s  %s\n", tid,
         r->continued     ? "continued"
         : r->is_continue ? "new: the incoming trace was not continued"
                          : "new: this service is its head");
  if (not_continued != NULL)
    line_raw("why", not_continued, strlen(not_continued));
  if (r->span.has_parent) {
    stp_span_id_format(&r->span.parent_span_id, sid);
    line("parent", "%s  (the caller's span)", sid);
  } else {
    line("parent", "%s", "none");
  }
  stp_span_id_format(&r->span.span_id, sid);
  line("span", "%s  (this service's span, new)", sid);
}

static void print_outgoing(const trace_report *r) {
  const trace_args *a = r->args;
  printf("\noutgoing\n");
  line_raw("sentry-trace", r->trace, r->trace_len);
  if (r->baggage_len > 0)
    line_raw("baggage", r->baggage, r->baggage_len);
  else
    line("baggage", "%s", "(none: nothing to send)");
  if (a->opts.propagate_traceparent)
    line_raw("traceparent", r->traceparent, r->traceparent_len);
  if (a->meta)
    line_raw("meta", r->meta, r->meta_len);
  if (a->url != NULL) {
    text_label(stdout, "propagate", LABEL);
    printf("%s: ", r->propagate ? "yes" : "no");
    text_put(stdout, a->url, strlen(a->url));
    printf(a->n_targets == 0 ? " (no --target: every URL)\n"
           : r->propagate    ? " matches a --target\n"
                             : " matches no --target\n");
  }
}

static int print_incoming(const trace_report *r, const incoming *in) {
  if (!r->is_continue)
    return STP_OK;
  member_rows rows = {0};
  int rc = incoming_rows(&rows, r, in);
  if (rc == STP_OK) {
    size_t c[3];
    member_rows_count(&rows, c);
    printf("\nincoming baggage  ");
    if (rows.n == 0)
      printf("no members\n");
    else
      printf("%zu member%s: %zu kept, %zu skipped, %zu dropped\n", rows.n,
             rows.n == 1 ? "" : "s", c[MEMBER_KEPT], c[MEMBER_SKIPPED],
             c[MEMBER_DROPPED]);
    if (rows.n > 0)
      rc = member_rows_print(stdout, &rows);
  }
  member_rows_free(&rows);
  return rc;
}

int trace_text(const trace_report *r) {
  incoming in;
  incoming_init(&in, r);
  char why[512];
  const char *not_continued = NULL;
  if (r->is_continue && !r->continued) {
    why_not_continued(why, sizeof why, r, &in);
    not_continued = why;
  }
  print_ids(r, not_continued);
  why_sampled(why, sizeof why, r, &in);
  line_raw("sampled", why, strlen(why));
  why_sample_rand(why, sizeof why, r, &in);
  line_raw("sample_rand", why, strlen(why));
  int rc = print_incoming(r, &in);
  if (rc != STP_OK)
    return rc;
  print_outgoing(r);
  putchar('\n');
  text_label(stdout, "counts", LABEL);
  printf("skipped %zu, dropped %zu (the library's counters)\n",
         stp_context_baggage_skipped(r->ctx),
         stp_context_baggage_dropped(r->ctx));
  return STP_OK;
}
