/* stp parse sentry-trace|traceparent|baggage: one header value, judged
 * as the library judges it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "members.h"
#include "stp/stp.h"
#include "text.h"

typedef enum { SENTRY_TRACE, TRACEPARENT, BAGGAGE } header_kind;

static const char *const kind_names[] = {"sentry-trace", "traceparent",
                                         "baggage"};

/* ------------------------------------------------------------------------ */
/* parse sentry-trace / traceparent                                         */

static void trace_json(const out_opts *o, header_kind kind, int rc,
                       const char *msg, const stp_trace_header *h) {
  json j;
  json_init(&j, stdout, o->pretty);
  json_open(&j, '{');
  json_key(&j, "valid");
  json_bool(&j, rc == STP_OK);
  if (rc != STP_OK) {
    json_key(&j, "error");
    json_cstr(&j, stp_error_name(rc));
    json_key(&j, "message");
    json_cstr(&j, msg);
  } else {
    char tid[STP_TRACE_ID_HEX_LEN + 1], sid[STP_SPAN_ID_HEX_LEN + 1];
    stp_trace_id_format(&h->trace_id, tid);
    stp_span_id_format(&h->span_id, sid);
    json_key(&j, "trace_id");
    json_cstr(&j, tid);
    json_key(&j, "span_id");
    json_cstr(&j, sid);
    json_key(&j, "sampled");
    json_sampled(&j, h->sampled);
    if (kind == TRACEPARENT) {
      char flags[3];
      snprintf(flags, sizeof flags, "%02x", (unsigned)h->trace_flags);
      json_key(&j, "flags");
      json_cstr(&j, flags);
    }
  }
  json_close(&j, '}');
  json_end(&j);
}

static const char *sampled_text(header_kind kind, stp_sampled s) {
  if (kind == TRACEPARENT)
    return s == STP_SAMPLED_YES ? "yes (bit 0 of the flags is set)"
                                : "deferred (bit 0 of the flags is not set: "
                                  "the receiver decides)";
  return s == STP_SAMPLED_YES  ? "yes (flag 1)"
         : s == STP_SAMPLED_NO ? "no (flag 0)"
                               : "deferred (no flag: the receiver decides)";
}

static void trace_text(header_kind kind, int rc, const char *msg,
                       const stp_trace_header *h) {
  printf("%s  %s\n", kind_names[kind], rc == STP_OK ? "valid" : "invalid");
  if (rc != STP_OK) {
    text_label(stdout, "error", 10);
    printf("%s\n", stp_error_name(rc));
    text_label(stdout, "why", 10);
    text_put(stdout, msg, strlen(msg));
    putchar('\n');
    return;
  }
  char tid[STP_TRACE_ID_HEX_LEN + 1], sid[STP_SPAN_ID_HEX_LEN + 1];
  stp_trace_id_format(&h->trace_id, tid);
  stp_span_id_format(&h->span_id, sid);
  text_label(stdout, "trace id", 10);
  printf("%s\n", tid);
  text_label(stdout, kind == TRACEPARENT ? "parent id" : "span id", 10);
  printf("%s\n", sid);
  text_label(stdout, "sampled", 10);
  printf("%s\n", sampled_text(kind, h->sampled));
  if (kind == TRACEPARENT) {
    text_label(stdout, "flags", 10);
    printf("%02x\n", (unsigned)h->trace_flags);
  }
}

static int parse_trace(const out_opts *o, header_kind kind, const char *value,
                       size_t len) {
  stp_trace_header h;
  int rc = kind == TRACEPARENT ? stp_traceparent_parse(&h, value, len)
                               : stp_sentry_trace_parse(&h, value, len);
  char msg[256] = "";
  if (rc != STP_OK)
    value_error_message(msg, sizeof msg, rc, value, len);
  if (out_is_json(o))
    trace_json(o, kind, rc, msg, &h);
  else
    trace_text(kind, rc, msg, &h);
  return rc == STP_OK ? EXIT_VALID : EXIT_INVALID;
}

/* ------------------------------------------------------------------------ */
/* The command line                                                         */

typedef struct {
  header_kind kind;
  bool have_kind;
  bool use_stdin;
  out_opts out;
  const char **vals; /* the VALUE arguments */
  size_t n_vals;
} parse_args;

static bool kind_of(const char *type, header_kind *kind) {
  for (int k = SENTRY_TRACE; k <= BAGGAGE; k++)
    if (strcmp(type, kind_names[k]) == 0) {
      *kind = (header_kind)k;
      return true;
    }
  return false;
}

/* Reads the command line into *a. Returns EXIT_VALID to go on, or the
 * exit status of a usage error (after its message). *done is -1, or the
 * exit status when the command line asked for help or the version, which
 * were printed. Options may come anywhere; after "--" every argument is a
 * value. */
static int parse_command_line(int argc, char **argv, parse_args *a, int *done) {
  bool values_only = false;
  *done = -1;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!values_only) {
      if (strcmp(arg, "--") == 0) {
        values_only = true;
        continue;
      }
      if (is_help(arg)) {
        *done = print_help(help_parse);
        return EXIT_VALID;
      }
      if (is_version(arg)) {
        *done = print_version();
        return EXIT_VALID;
      }
      if (out_option(&a->out, arg))
        continue;
      if (strcmp(arg, "--stdin") == 0) {
        a->use_stdin = true;
        continue;
      }
      if (looks_like_option(arg)) {
        usage_error("parse: unknown option '%s' (a value that starts with "
                    "'--' goes after '--')",
                    arg);
        return EXIT_USAGE;
      }
    }
    if (!a->have_kind) {
      if (!kind_of(arg, &a->kind)) {
        usage_error("parse: unknown header type '%s' (sentry-trace, "
                    "traceparent or baggage)",
                    arg);
        return EXIT_USAGE;
      }
      a->have_kind = true;
      continue;
    }
    a->vals[a->n_vals++] = arg;
  }
  if (!a->have_kind) {
    usage_error("parse: missing header type");
    return EXIT_USAGE;
  }
  const char *type = kind_names[a->kind];
  if (a->use_stdin && a->n_vals > 0) {
    usage_error("parse %s: --stdin reads the value from standard input; "
                "give no VALUE with it (got '%s')",
                type, a->vals[0]);
    return EXIT_USAGE;
  }
  if (!a->use_stdin && a->n_vals == 0) {
    usage_error("parse %s: missing VALUE", type);
    return EXIT_USAGE;
  }
  if (a->kind != BAGGAGE && a->n_vals > 1) {
    usage_error("parse %s: expected one VALUE, got %zu", type, a->n_vals);
    return EXIT_USAGE;
  }
  return EXIT_VALID;
}

static int run_parse(const parse_args *a) {
  if (a->use_stdin) {
    size_t len = 0;
    char *value = read_stdin(&len);
    if (value == NULL)
      return EXIT_USAGE;
    const char *vals[1] = {value};
    int status = a->kind == BAGGAGE ? parse_baggage(&a->out, vals, &len, 1)
                                    : parse_trace(&a->out, a->kind, value, len);
    free(value);
    return status;
  }
  if (a->kind != BAGGAGE)
    return parse_trace(&a->out, a->kind, a->vals[0], strlen(a->vals[0]));
  size_t *lens = malloc(a->n_vals * sizeof *lens);
  if (lens == NULL)
    return internal_error("parse baggage", STP_ERR_NOMEM);
  for (size_t i = 0; i < a->n_vals; i++)
    lens[i] = strlen(a->vals[i]);
  int status = parse_baggage(&a->out, a->vals, lens, a->n_vals);
  free(lens);
  return status;
}

int cmd_parse(int argc, char **argv) {
  parse_args a = {.out = {FORMAT_AUTO, false}};
  a.vals = malloc(((size_t)argc + 1) * sizeof *a.vals);
  if (a.vals == NULL)
    return internal_error("parse", STP_ERR_NOMEM);
  int done;
  int status = parse_command_line(argc, argv, &a, &done);
  if (done >= 0)
    status = done;
  else if (status == EXIT_VALID)
    status = finish_output(run_parse(&a));
  free(a.vals);
  return status;
}
