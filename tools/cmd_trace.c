/* stp continue and stp new: a trace continued from request headers (or
 * the environment), or started as its head, and the outgoing values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "json.h"
#include "stp/stp.h"

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

/* Print the context's baggage members: the DSC as an object (first of
 * repeated keys wins) or the third-party ones as an array. */
static int print_members(const stp_context *ctx, bool dsc, char *dec,
                         size_t dec_cap) {
  size_t n = stp_context_member_count(ctx);
  bool first = true;
  putchar(dsc ? '{' : '[');
  for (size_t i = 0; i < n; i++) {
    stp_baggage_member m;
    bool is_sentry = false;
    int rc = stp_context_member(ctx, &m, &is_sentry, i);
    if (rc != STP_OK)
      return rc;
    if (is_sentry != dsc)
      continue;
    if (dsc) {
      const char *key = m.key;
      size_t key_len = m.key_len;
      if (is_sentry_key(key, key_len)) {
        key += SENTRY_PREFIX_LEN;
        key_len -= SENTRY_PREFIX_LEN;
      }
      bool dup = false;
      for (size_t j = 0; j < i && !dup; j++) {
        stp_baggage_member o;
        bool o_sentry = false;
        if (stp_context_member(ctx, &o, &o_sentry, j) == STP_OK && o_sentry &&
            o.key_len == m.key_len && memcmp(o.key, m.key, m.key_len) == 0)
          dup = true;
      }
      if (dup)
        continue;
      if (!first)
        putchar(',');
      json_str(key, key_len);
      putchar(':');
    } else {
      fputs(first ? "{\"key\":" : ",{\"key\":", stdout);
      json_str(m.key, m.key_len);
      fputs(",\"value\":", stdout);
    }
    first = false;
    if (m.value_len + 1 > dec_cap)
      return STP_ERR_BUFFER_TOO_SMALL;
    rc = json_decoded(dec, dec_cap, m.value, m.value_len);
    if (rc != STP_OK)
      return rc;
    if (!dsc) {
      fputs(",\"properties\":", stdout);
      json_str(m.props, m.props_len);
      putchar('}');
    }
  }
  putchar(dsc ? '}' : ']');
  return STP_OK;
}

static int run_trace(const trace_args *a, bool is_continue) {
  stp_config *cfg = NULL;
  stp_context *ctx = NULL;
  char *meta = NULL, *dec = NULL;
  int status = EXIT_INTERNAL;

  int rc = stp_config_new(&cfg, &a->opts, NULL);
  if (rc != STP_OK) {
    if (rc == STP_ERR_NOMEM)
      return internal_error("stp_config_new", rc);
    fprintf(stderr, "stp: %s: %s: %s\n", option_of(rc), stp_error_name(rc),
            stp_strerror(rc));
    return EXIT_USAGE;
  }
  rc = stp_context_new(&ctx, cfg, NULL);
  if (rc != STP_OK) {
    status = internal_error("stp_context_new", rc);
    goto out;
  }

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
    rc = stp_context_set_transaction(ctx, a->transaction,
                                     strlen(a->transaction));
    if (rc != STP_OK)
      fprintf(stderr, "stp: warning: --transaction ignored: %s: %s\n",
              stp_error_name(rc), stp_strerror(rc));
  }

  /* Everything about the decision is read before the outgoing values are
   * made, since making them freezes the DSC. */
  int ctx_status = stp_context_status(ctx);
  bool continued = stp_context_continued(ctx);
  bool frozen = stp_context_frozen(ctx);
  const stp_span *span = stp_context_span(ctx);
  double sample_rand = stp_context_sample_rand(ctx);

  char trace[STP_SENTRY_TRACE_MAX_LEN + 1];
  char tp[STP_TRACEPARENT_LEN + 1];
  static char baggage[STP_BAGGAGE_MAX_BYTES + 1];
  size_t trace_len = 0, tp_len = 0, baggage_len = 0, meta_len = 0;

  rc = stp_context_sentry_trace(ctx, trace, sizeof trace, &trace_len, NULL);
  if (rc != STP_OK) {
    status = internal_error("stp_context_sentry_trace", rc);
    goto out;
  }
  if (a->opts.propagate_traceparent) {
    rc = stp_context_traceparent(ctx, tp, sizeof tp, &tp_len, NULL);
    if (rc != STP_OK) {
      status = internal_error("stp_context_traceparent", rc);
      goto out;
    }
  }
  rc = stp_context_baggage(ctx, baggage, sizeof baggage, &baggage_len,
                           a->existing, a->existing_len);
  if (rc != STP_OK) {
    status = internal_error("stp_context_baggage", rc);
    goto out;
  }
  if (a->meta) {
    meta = malloc(STP_META_MAX_LEN + 1);
    if (meta == NULL) {
      status = internal_error("meta", STP_ERR_NOMEM);
      goto out;
    }
    rc = stp_context_meta(ctx, meta, STP_META_MAX_LEN + 1, &meta_len);
    if (rc != STP_OK) {
      status = internal_error("stp_context_meta", rc);
      goto out;
    }
  }
  dec = malloc(STP_BAGGAGE_MAX_BYTES + 1);
  if (dec == NULL) {
    status = internal_error("decode", STP_ERR_NOMEM);
    goto out;
  }

  char tid[STP_TRACE_ID_HEX_LEN + 1], sid[STP_SPAN_ID_HEX_LEN + 1];
  bool first = true;
  putchar('{');
  json_key(&first, "continued");
  fputs(continued ? "true" : "false", stdout);
  json_key(&first, "status");
  if (ctx_status == STP_OK)
    fputs("null", stdout);
  else
    json_cstr(stp_error_name(ctx_status));
  stp_trace_id_format(&span->trace_id, tid);
  json_key(&first, "trace_id");
  json_cstr(tid);
  stp_span_id_format(&span->span_id, sid);
  json_key(&first, "span_id");
  json_cstr(sid);
  json_key(&first, "parent_span_id");
  if (span->has_parent) {
    stp_span_id_format(&span->parent_span_id, sid);
    json_cstr(sid);
  } else {
    fputs("null", stdout);
  }
  json_key(&first, "sampled");
  json_sampled(span->sampled);
  json_key(&first, "sample_rand");
  json_fraction(sample_rand);
  json_key(&first, "frozen");
  fputs(frozen ? "true" : "false", stdout);
  json_key(&first, "dsc");
  rc = print_members(ctx, true, dec, STP_BAGGAGE_MAX_BYTES + 1);
  if (rc == STP_OK) {
    json_key(&first, "third_party");
    rc = print_members(ctx, false, dec, STP_BAGGAGE_MAX_BYTES + 1);
  }
  if (rc != STP_OK) {
    putchar('\n');
    status = internal_error("stp_context_member", rc);
    goto out;
  }
  json_key(&first, "skipped");
  printf("%zu", stp_context_baggage_skipped(ctx));
  json_key(&first, "dropped");
  printf("%zu", stp_context_baggage_dropped(ctx));
  json_key(&first, "sentry-trace");
  json_str(trace, trace_len);
  json_key(&first, "baggage");
  if (baggage_len > 0)
    json_str(baggage, baggage_len);
  else
    fputs("null", stdout);
  if (a->opts.propagate_traceparent) {
    json_key(&first, "traceparent");
    json_str(tp, tp_len);
  }
  if (a->meta) {
    json_key(&first, "meta");
    json_str(meta, meta_len);
  }
  if (a->url != NULL) {
    json_key(&first, "propagate");
    bool propagate = false;
    int err =
        stp_config_should_propagate(cfg, &propagate, a->url, strlen(a->url));
    if (err != STP_OK) {
      status = internal_error("propagation targets", err);
      goto out;
    }
    fputs(propagate ? "true" : "false", stdout);
  }
  fputs("}\n", stdout);
  status = EXIT_VALID;

out:
  free(dec);
  free(meta);
  stp_context_del(ctx);
  stp_config_del(cfg);
  return status;
}

int cmd_trace(int argc, char **argv, bool is_continue) {
  for (int i = 0; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_text, stdout);
      return finish_output(EXIT_VALID);
    }
  }
  trace_args a;
  memset(&a, 0, sizeof a);
  int status = parse_trace_args(argc, argv, is_continue, &a);
  if (status == EXIT_VALID)
    status = finish_output(run_trace(&a, is_continue));
  trace_args_free(&a);
  return status;
}
