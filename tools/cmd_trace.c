/* stp continue and stp new: a trace continued from request headers (or
 * the environment), or started as its head, and the outgoing values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "stp/stp.h"
#include "trace.h"

/* A read-only carrier over an array of name/value pairs. */
typedef struct {
  const header *h;
  size_t n;
} header_list;

static int headers_foreach(void *user, stp_header_fn fn, void *arg) {
  const header_list *l = user;
  for (size_t i = 0; i < l->n; i++) {
    int rc = fn(arg, l->h[i].name, l->h[i].name_len, l->h[i].value,
                l->h[i].value_len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* The option a config error is about, for the message. */
static const char *option_of(int err) {
  switch (err) {
  case STP_ERR_DSN:
    return "--dsn";
  case STP_ERR_SAMPLE_RATE:
    return "--sample-rate";
  case STP_ERR_ORG_ID:
    return "--org-id";
  case STP_ERR_OPTION_VALUE:
    return "--release/--environment";
  case STP_ERR_PATTERN:
    return "--target";
  default:
    return "options";
  }
}

/* Makes the outgoing values, after reading what freezing changes. */
static int make_outgoing(trace_report *r) {
  const trace_args *a = r->args;
  stp_context *ctx = r->ctx;
  r->status = stp_context_status(ctx);
  r->continued = stp_context_continued(ctx);
  r->frozen = stp_context_frozen(ctx);
  r->span = *stp_context_span(ctx);
  r->sample_rand = stp_context_sample_rand(ctx);
  int rc = stp_context_sentry_trace(ctx, r->trace, sizeof r->trace,
                                    &r->trace_len, NULL);
  if (rc != STP_OK)
    return internal_error("stp_context_sentry_trace", rc);
  if (a->opts.propagate_traceparent) {
    rc = stp_context_traceparent(ctx, r->traceparent, sizeof r->traceparent,
                                 &r->traceparent_len, NULL);
    if (rc != STP_OK)
      return internal_error("stp_context_traceparent", rc);
  }
  rc = stp_context_baggage(ctx, r->baggage, STP_BAGGAGE_MAX_BYTES + 1,
                           &r->baggage_len, a->existing, a->existing_len);
  if (rc != STP_OK)
    return internal_error("stp_context_baggage", rc);
  if (a->meta) {
    r->meta = malloc(STP_META_MAX_LEN + 1);
    if (r->meta == NULL)
      return internal_error("meta", STP_ERR_NOMEM);
    rc = stp_context_meta(ctx, r->meta, STP_META_MAX_LEN + 1, &r->meta_len);
    if (rc != STP_OK)
      return internal_error("stp_context_meta", rc);
  }
  if (a->url != NULL) {
    rc = stp_config_should_propagate(r->cfg, &r->propagate, a->url,
                                     strlen(a->url));
    if (rc != STP_OK)
      return internal_error("propagation targets", rc);
  }
  return EXIT_VALID;
}

static void take_in(const trace_args *a, stp_context *ctx,
                    const stp_config *cfg, bool is_continue) {
  if (is_continue) {
    if (a->env) {
      stp_context_continue_env(ctx, cfg);
    } else {
      header_list list = {a->headers, a->n_headers};
      stp_carrier carrier = {headers_foreach, NULL, &list};
      stp_context_continue(ctx, cfg, &carrier);
    }
  }
  if (a->transaction != NULL) {
    int rc = stp_context_set_transaction(ctx, a->transaction,
                                         strlen(a->transaction));
    if (rc != STP_OK)
      fprintf(stderr, "stp: warning: --transaction ignored: %s: %s\n",
              stp_error_name(rc), stp_strerror(rc));
  }
}

static int run_trace(const trace_args *a, bool is_continue) {
  stp_config *cfg = NULL;
  int rc = stp_config_new(&cfg, &a->opts, NULL);
  if (rc != STP_OK) {
    if (rc == STP_ERR_NOMEM)
      return internal_error("stp_config_new", rc);
    fprintf(stderr, "stp: %s: %s: %s\n", option_of(rc), stp_error_name(rc),
            stp_strerror(rc));
    return EXIT_USAGE;
  }
  trace_report r = {.args = a, .is_continue = is_continue, .cfg = cfg};
  int status = EXIT_INTERNAL;
  rc = stp_context_new(&r.ctx, cfg, NULL);
  r.baggage = malloc(STP_BAGGAGE_MAX_BYTES + 1);
  if (rc != STP_OK || r.baggage == NULL) {
    status = internal_error("stp_context_new", rc ? rc : STP_ERR_NOMEM);
  } else {
    take_in(a, r.ctx, cfg, is_continue);
    status = make_outgoing(&r);
  }
  if (status == EXIT_VALID) {
    rc = out_is_json(&a->out) ? trace_json(&r, a->out.pretty) : trace_text(&r);
    if (rc != STP_OK)
      status = internal_error("output", rc);
  }
  free(r.meta);
  free(r.baggage);
  stp_context_del(r.ctx);
  stp_config_del(cfg);
  return status;
}

int cmd_trace(int argc, char **argv, bool is_continue) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (is_help(argv[i]))
      return print_help(is_continue ? help_continue : help_new);
    if (is_version(argv[i]))
      return print_version();
  }
  trace_args a;
  memset(&a, 0, sizeof a);
  int status = parse_trace_args(argc, argv, is_continue, &a);
  if (status == EXIT_VALID)
    status = finish_output(run_trace(&a, is_continue));
  trace_args_free(&a);
  return status;
}
