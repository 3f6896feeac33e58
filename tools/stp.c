/*
 * stp: a command-line inspector for the stp library.
 *
 * Parses trace headers and continues or starts traces the way a service
 * using the library would, and prints what it found as one JSON object.
 * Every byte that reaches the output goes through json_str(), so hostile
 * header values cannot break the JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stp/stp.h"

/* Exit statuses. */
enum {
  EXIT_VALID = 0,
  EXIT_INVALID = 1,  /* the header given to `parse` is invalid */
  EXIT_USAGE = 2,    /* bad command line or option value */
  EXIT_INTERNAL = 3, /* the library failed unexpectedly */
};

/* Largest value `--stdin` accepts. */
#define STDIN_MAX ((size_t)1 << 20)

static const char usage_text[] =
    "usage: stp parse sentry-trace|traceparent VALUE\n"
    "       stp parse baggage VALUE [VALUE...]\n"
    "       stp parse sentry-trace|traceparent|baggage --stdin\n"
    "       stp continue [-H 'NAME: VALUE']... [--env] [--existing BAGGAGE]\n"
    "                    [--meta] [OPTIONS]\n"
    "       stp new [--meta] [OPTIONS]\n"
    "       stp --help | --version\n"
    "\n"
    "Inspect Sentry trace propagation headers (sentry-trace, baggage and\n"
    "W3C traceparent). The result is one JSON object on standard output.\n"
    "\n"
    "parse sentry-trace VALUE, parse traceparent VALUE\n"
    "  Parse one header value. Valid:\n"
    "    {\"valid\":true,\"trace_id\":\"...\",\"span_id\":\"...\","
    "\"sampled\":true|false|null}\n"
    "  (traceparent adds \"flags\":\"01\"). Invalid, exit status 1:\n"
    "    {\"valid\":false,\"error\":\"NAME\",\"message\":\"TEXT\"}\n"
    "\n"
    "parse baggage VALUE [VALUE...]\n"
    "  One argument per baggage header; they are combined in order, as if\n"
    "  joined with ','. Prints\n"
    "    {\"sentry\":{KEY:VALUE,...},\"third_party\":[{\"key\":\"...\","
    "\"value\":\"...\",\n"
    "     \"properties\":\"...\"},...],\"skipped\":N}\n"
    "  \"sentry\" holds the sentry-* members keyed without the prefix (the\n"
    "  first of repeated keys wins); values are percent-decoded, properties\n"
    "  are raw. Malformed members are skipped and counted; that is not an\n"
    "  error. But when members were skipped and not one member is valid,\n"
    "  nothing in the input is usable: the object also gets \"error\" and\n"
    "  \"message\" and the exit status is 1. Empty input is not an error.\n"
    "\n"
    "--stdin (parse only)\n"
    "  Read the single value from standard input, byte for byte (it may\n"
    "  hold NUL, CR or LF; at most 1 MiB).\n"
    "\n"
    "continue\n"
    "  Continue the trace carried by the request headers given with -H\n"
    "  (repeatable, names case-insensitive, spaces after ':' ignored), or\n"
    "  with --env by SENTRY_TRACE and SENTRY_BAGGAGE. A trace that cannot be\n"
    "  continued is not an error: a new trace starts, \"continued\" is\n"
    "  false and \"status\" says why (\"absent\", \"trace_id\",\n"
    "  \"org_mismatch\", ...).\n"
    "  -H NAME:VALUE, --header NAME:VALUE  one incoming header\n"
    "  --env                 continue from the environment instead\n"
    "  --existing BAGGAGE    merge the outgoing baggage into this value,\n"
    "                        which the outgoing request already has\n"
    "                        ('baggage: ' in front is allowed; repeatable)\n"
    "\n"
    "new\n"
    "  Start a new trace as its head.\n"
    "\n"
    "Options of continue and new:\n"
    "  --dsn URL             DSN (public key and org id come from it)\n"
    "  --release R           release\n"
    "  --environment E       environment\n"
    "  --sample-rate X       sample rate in [0, 1] (none: no decision)\n"
    "  --org-id N            org id, overrides the DSN's\n"
    "  --strict              strict trace continuation\n"
    "  --propagate-traceparent   also emit a W3C traceparent\n"
    "  --no-accept-traceparent   ignore incoming traceparent headers\n"
    "  --propagate-third-party   forward incoming third-party baggage\n"
    "  --target REGEX        propagation target (repeatable)\n"
    "  --url URL             report whether the targets match URL\n"
    "  --transaction NAME    transaction name of a new head (ignored with a\n"
    "                        warning when the trace was continued)\n"
    "  --meta                add the HTML meta tags\n"
    "Option values may also be given as --option=VALUE.\n"
    "\n"
    "Output of continue and new:\n"
    "  continued, status (error name or null), trace_id, span_id,\n"
    "  parent_span_id (or null), sampled (true/false/null), sample_rand,\n"
    "  frozen (DSC frozen before the outgoing values were made), dsc\n"
    "  (decoded, keyed without 'sentry-'), third_party, skipped and dropped\n"
    "  (baggage members), then the outgoing \"sentry-trace\", \"baggage\"\n"
    "  (null when empty), \"traceparent\" (with --propagate-traceparent),\n"
    "  \"meta\" (with --meta) and \"propagate\" (with --url).\n"
    "\n"
    "Exit status: 0 done; 1 the value given to parse is invalid; 2 usage\n"
    "error or bad option value (the stp error name is on standard error);\n"
    "3 the library failed unexpectedly.\n";

#if defined(__GNUC__)
#define PRINTF_LIKE __attribute__((format(printf, 1, 2)))
#else
#define PRINTF_LIKE
#endif

static void usage_error(const char *fmt, ...) PRINTF_LIKE;

static void usage_error(const char *fmt, ...) {
  va_list ap;
  fputs("stp: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\nTry 'stp --help'.\n", stderr);
}

static int internal_error(const char *what, int err) {
  fprintf(stderr, "stp: %s: %s: %s\n", what, stp_error_name(err),
          stp_strerror(err));
  return EXIT_INTERNAL;
}

/* ------------------------------------------------------------------------ */
/* JSON output.                                                             */

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is not
 * one. Overlong forms, surrogates and code points past U+10FFFF are
 * rejected. *bad gets how many bytes form the invalid prefix (at least 1),
 * so each maximal invalid subpart becomes one U+FFFD. */
static size_t utf8_len(const unsigned char *s, size_t n, size_t *bad) {
  unsigned char c = s[0];
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
  *bad = 1;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t i = 1; i < need; i++) {
    unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
    if (i >= n || s[i] < lo_i || s[i] > hi_i) {
      *bad = i;
      return 0;
    }
  }
  return need;
}

/* Write s[0..n) as a JSON string: quotes, backslashes and control bytes
 * escaped, valid UTF-8 passed through, anything else as U+FFFD. */
static void json_str(const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  putchar('"');
  while (i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
      i++;
    } else if (c < 0x20 || c == 0x7F) {
      printf("\\u00%c%c", hex[c >> 4], hex[c & 15]);
      i++;
    } else if (c < 0x80) {
      putchar(c);
      i++;
    } else {
      size_t bad, len = utf8_len(p + i, n - i, &bad);
      if (len > 0) {
        fwrite(p + i, 1, len, stdout);
        i += len;
      } else {
        fputs("\\ufffd", stdout);
        i += bad;
      }
    }
  }
  putchar('"');
}

static void json_cstr(const char *s) {
  json_str(s, strlen(s));
}

/* `,"key":` (no comma before the first member of an object). */
static void json_key(bool *first, const char *key) {
  if (!*first)
    putchar(',');
  *first = false;
  json_cstr(key);
  putchar(':');
}

/* A number in [0, 1) in fixed notation with at least 6 decimals, and as
 * many more as it takes to read back as the same double (so 0.9999999
 * does not print as 1.000000). */
static void print_fraction(double v) {
  char buf[64];
  for (int prec = 6; prec <= 40; prec++) {
    snprintf(buf, sizeof buf, "%.*f", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, stdout);
}

static void json_sampled(stp_sampled s) {
  switch (s) {
  case STP_SAMPLED_YES:
    fputs("true", stdout);
    break;
  case STP_SAMPLED_NO:
    fputs("false", stdout);
    break;
  default: /* deferred */
    fputs("null", stdout);
    break;
  }
}

/* ------------------------------------------------------------------------ */
/* Small helpers.                                                           */

/* Read all of standard input; NULL with a message on error. */
static char *read_stdin(size_t *out_len) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fputs("stp: out of memory\n", stderr);
    return NULL;
  }
  for (;;) {
    if (len == cap) {
      if (cap >= STDIN_MAX + 1) {
        usage_error("--stdin: input longer than %zu bytes", STDIN_MAX);
        free(buf);
        return NULL;
      }
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        fputs("stp: out of memory\n", stderr);
        free(buf);
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, stdin);
    len += got;
    if (got == 0) {
      if (ferror(stdin)) {
        fprintf(stderr, "stp: reading standard input: %s\n", strerror(errno));
        free(buf);
        return NULL;
      }
      break;
    }
  }
  if (len > STDIN_MAX) {
    usage_error("--stdin: input longer than %zu bytes", STDIN_MAX);
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

static bool is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Flush stdout and turn a write error into an exit status. */
static int finish_output(int status) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "stp: writing standard output: %s\n", strerror(errno));
    return EXIT_INTERNAL;
  }
  return status;
}

/* ------------------------------------------------------------------------ */
/* parse sentry-trace / traceparent                                         */

static int parse_trace(bool traceparent, const char *value, size_t len) {
  stp_trace_header h;
  int rc = traceparent ? stp_traceparent_parse(&h, value, len)
                       : stp_sentry_trace_parse(&h, value, len);
  if (rc != STP_OK) {
    fputs("{\"valid\":false,\"error\":", stdout);
    json_cstr(stp_error_name(rc));
    fputs(",\"message\":", stdout);
    json_cstr(stp_strerror(rc));
    fputs("}\n", stdout);
    return EXIT_INVALID;
  }
  char tid[STP_TRACE_ID_HEX_LEN + 1], sid[STP_SPAN_ID_HEX_LEN + 1];
  stp_trace_id_format(&h.trace_id, tid);
  stp_span_id_format(&h.span_id, sid);
  printf("{\"valid\":true,\"trace_id\":\"%s\",\"span_id\":\"%s\",\"sampled\":",
         tid, sid);
  json_sampled(h.sampled);
  if (traceparent)
    printf(",\"flags\":\"%02x\"", (unsigned)h.trace_flags);
  fputs("}\n", stdout);
  return EXIT_VALID;
}

/* ------------------------------------------------------------------------ */
/* parse baggage                                                            */

typedef struct {
  stp_baggage_member m;
  size_t index; /* position in the input, to keep the first of duplicates */
  bool sentry;
  bool duplicate;
} found_member;

static const char sentry_prefix[] = "sentry-";
#define SENTRY_PREFIX_LEN (sizeof sentry_prefix - 1)

static bool is_sentry_key(const char *key, size_t len) {
  return len >= SENTRY_PREFIX_LEN &&
         memcmp(key, sentry_prefix, SENTRY_PREFIX_LEN) == 0;
}

static int cmp_key_then_index(const void *a, const void *b) {
  const found_member *x = *(const found_member *const *)a;
  const found_member *y = *(const found_member *const *)b;
  size_t n = x->m.key_len < y->m.key_len ? x->m.key_len : y->m.key_len;
  int c = memcmp(x->m.key, y->m.key, n);
  if (c != 0)
    return c;
  if (x->m.key_len != y->m.key_len)
    return x->m.key_len < y->m.key_len ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Print a percent-decoded baggage value; buf holds at least len + 1. */
static int print_decoded(char *buf, size_t cap, const char *value, size_t len) {
  size_t out_len = 0;
  int rc = stp_baggage_decode(buf, cap, &out_len, value, len);
  if (rc != STP_OK)
    return rc;
  json_str(buf, out_len);
  return STP_OK;
}

static int parse_baggage(const char *const *vals, const size_t *lens,
                         size_t n_vals) {
  found_member *found = NULL;
  found_member **sentry = NULL;
  char *dec = NULL;
  size_t n = 0, cap = 0, n_sentry = 0, skipped = 0, max_value = 0;
  int status = EXIT_INTERNAL;

  for (size_t v = 0; v < n_vals; v++) {
    stp_baggage_iter it;
    stp_baggage_member m;
    stp_baggage_iter_init(&it, vals[v], lens[v]);
    while (stp_baggage_iter_next(&it, &m)) {
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        found_member *nf = realloc(found, ncap * sizeof *nf);
        if (nf == NULL)
          goto nomem;
        found = nf;
        cap = ncap;
      }
      found[n].m = m;
      found[n].index = n;
      found[n].sentry = is_sentry_key(m.key, m.key_len);
      found[n].duplicate = false;
      if (found[n].sentry)
        n_sentry++;
      if (m.value_len > max_value)
        max_value = m.value_len;
      n++;
    }
    skipped += it.skipped;
  }

  /* Mark repeated sentry keys: sorted by key then position, every entry
   * equal to its predecessor's key is a later duplicate. */
  if (n_sentry > 0) {
    sentry = malloc(n_sentry * sizeof *sentry);
    if (sentry == NULL)
      goto nomem;
    for (size_t i = 0, j = 0; i < n; i++)
      if (found[i].sentry)
        sentry[j++] = &found[i];
    qsort(sentry, n_sentry, sizeof *sentry, cmp_key_then_index);
    for (size_t i = 1; i < n_sentry; i++)
      if (sentry[i]->m.key_len == sentry[i - 1]->m.key_len &&
          memcmp(sentry[i]->m.key, sentry[i - 1]->m.key,
                 sentry[i]->m.key_len) == 0)
        sentry[i]->duplicate = true;
  }

  dec = malloc(max_value + 1);
  if (dec == NULL)
    goto nomem;

  fputs("{\"sentry\":{", stdout);
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    const found_member *f = &found[i];
    if (!f->sentry || f->duplicate)
      continue;
    if (!first)
      putchar(',');
    first = false;
    json_str(f->m.key + SENTRY_PREFIX_LEN, f->m.key_len - SENTRY_PREFIX_LEN);
    putchar(':');
    int rc = print_decoded(dec, max_value + 1, f->m.value, f->m.value_len);
    if (rc != STP_OK) {
      putchar('\n');
      status = internal_error("stp_baggage_decode", rc);
      goto out;
    }
  }
  fputs("},\"third_party\":[", stdout);
  first = true;
  for (size_t i = 0; i < n; i++) {
    const found_member *f = &found[i];
    if (f->sentry)
      continue;
    fputs(first ? "{\"key\":" : ",{\"key\":", stdout);
    first = false;
    json_str(f->m.key, f->m.key_len);
    fputs(",\"value\":", stdout);
    int rc = print_decoded(dec, max_value + 1, f->m.value, f->m.value_len);
    if (rc != STP_OK) {
      putchar('\n');
      status = internal_error("stp_baggage_decode", rc);
      goto out;
    }
    fputs(",\"properties\":", stdout);
    json_str(f->m.props, f->m.props_len);
    putchar('}');
  }
  printf("],\"skipped\":%zu", skipped);
  status = EXIT_VALID;
  if (n == 0 && skipped > 0) {
    fputs(",\"error\":", stdout);
    json_cstr(stp_error_name(STP_ERR_BAGGAGE_MEMBER));
    fputs(",\"message\":", stdout);
    json_cstr(stp_strerror(STP_ERR_BAGGAGE_MEMBER));
    status = EXIT_INVALID;
  }
  fputs("}\n", stdout);
  goto out;

nomem:
  fputs("stp: out of memory\n", stderr);
  status = EXIT_INTERNAL;
out:
  free(dec);
  free(sentry);
  free(found);
  return status;
}

static int cmd_parse(int argc, char **argv) {
  if (argc < 1) {
    usage_error("parse: missing header type");
    return EXIT_USAGE;
  }
  if (is_help(argv[0])) {
    fputs(usage_text, stdout);
    return finish_output(EXIT_VALID);
  }
  const char *type = argv[0];
  enum { SENTRY_TRACE, TRACEPARENT, BAGGAGE } kind;
  if (strcmp(type, "sentry-trace") == 0)
    kind = SENTRY_TRACE;
  else if (strcmp(type, "traceparent") == 0)
    kind = TRACEPARENT;
  else if (strcmp(type, "baggage") == 0)
    kind = BAGGAGE;
  else {
    usage_error("parse: unknown header type '%s' (sentry-trace, traceparent "
                "or baggage)",
                type);
    return EXIT_USAGE;
  }
  argc--;
  argv++;

  if (argc == 1 && strcmp(argv[0], "--stdin") == 0) {
    size_t len = 0;
    char *value = read_stdin(&len);
    if (value == NULL)
      return EXIT_USAGE;
    int status;
    if (kind == BAGGAGE) {
      const char *vals[1] = {value};
      status = parse_baggage(vals, &len, 1);
    } else {
      status = parse_trace(kind == TRACEPARENT, value, len);
    }
    free(value);
    return finish_output(status);
  }
  if (argc < 1) {
    usage_error("parse %s: missing VALUE", type);
    return EXIT_USAGE;
  }
  if (kind != BAGGAGE) {
    if (argc > 1) {
      usage_error("parse %s: expected one VALUE, got %d", type, argc);
      return EXIT_USAGE;
    }
    return finish_output(
        parse_trace(kind == TRACEPARENT, argv[0], strlen(argv[0])));
  }

  size_t *lens = malloc((size_t)argc * sizeof *lens);
  if (lens == NULL) {
    fputs("stp: out of memory\n", stderr);
    return EXIT_INTERNAL;
  }
  for (int i = 0; i < argc; i++)
    lens[i] = strlen(argv[i]);
  int status = parse_baggage((const char *const *)argv, lens, (size_t)argc);
  free(lens);
  return finish_output(status);
}

/* ------------------------------------------------------------------------ */
/* continue / new                                                           */

typedef struct {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} header;

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

typedef struct {
  stp_options opts;
  header *headers;
  size_t n_headers;
  const char **targets;
  size_t n_targets;
  char *existing; /* the --existing values joined with ',' */
  size_t existing_len;
  const char *transaction;
  const char *url;
  bool env;
  bool meta;
} trace_args;

static void trace_args_free(trace_args *a) {
  free(a->headers);
  free(a->targets);
  free(a->existing);
}

/* Split `NAME: VALUE`. Leading spaces and tabs of the value are dropped;
 * the library ignores trailing ones. */
static bool split_header(const char *arg, header *h) {
  const char *colon = strchr(arg, ':');
  if (colon == NULL || colon == arg)
    return false;
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  h->name = arg;
  h->name_len = (size_t)(colon - arg);
  h->value = v;
  h->value_len = strlen(v);
  return true;
}

static bool append_existing(trace_args *a, const char *arg) {
  /* Accept the header form `baggage: VALUE` as well as a bare value; a
   * bare value cannot start like that, since ':' is not a key character. */
  static const char name[] = "baggage:";
  size_t k = 0;
  while (k < sizeof name - 1 && arg[k] != '\0' && (arg[k] | 0x20) == name[k])
    k++;
  if (k == sizeof name - 1) {
    arg += k;
    while (*arg == ' ' || *arg == '\t')
      arg++;
  }
  size_t len = strlen(arg);
  size_t sep = a->existing_len > 0 ? 1 : 0;
  char *nb = realloc(a->existing, a->existing_len + sep + len + 1);
  if (nb == NULL)
    return false;
  if (sep)
    nb[a->existing_len] = ',';
  memcpy(nb + a->existing_len + sep, arg, len + 1);
  a->existing = nb;
  a->existing_len += sep + len;
  return true;
}

/* Match `--name VALUE` or `--name=VALUE`; *i is advanced past VALUE. */
static int take_value(int argc, char **argv, int *i, const char *name,
                      const char **out) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0)
    return 0;
  if (arg[n] == '=') {
    *out = arg + n + 1;
    return 1;
  }
  if (arg[n] != '\0')
    return 0;
  if (*i + 1 >= argc) {
    usage_error("%s needs a value", name);
    return -1;
  }
  *out = argv[++*i];
  return 1;
}

/* Parse the options of continue/new. Returns EXIT_VALID or EXIT_USAGE. */
static int parse_trace_args(int argc, char **argv, bool is_continue,
                            trace_args *a) {
  const char *cmd = is_continue ? "continue" : "new";
  stp_options_init(&a->opts);
  a->headers = malloc(((size_t)argc + 1) * sizeof *a->headers);
  a->targets = malloc(((size_t)argc + 1) * sizeof *a->targets);
  if (a->headers == NULL || a->targets == NULL) {
    fputs("stp: out of memory\n", stderr);
    return EXIT_INTERNAL;
  }
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i], *val = NULL;
    int r;
    if (is_continue &&
        (strncmp(arg, "-H", 2) == 0 || strcmp(arg, "--header") == 0 ||
         strncmp(arg, "--header=", 9) == 0)) {
      if (strcmp(arg, "-H") == 0 || strcmp(arg, "--header") == 0) {
        if (i + 1 >= argc) {
          usage_error("%s needs a value 'NAME: VALUE'", arg);
          return EXIT_USAGE;
        }
        val = argv[++i];
      } else {
        val = arg[1] == 'H' ? arg + 2 : arg + 9;
      }
      if (!split_header(val, &a->headers[a->n_headers])) {
        usage_error("continue: header '%s' is not 'NAME: VALUE'", val);
        return EXIT_USAGE;
      }
      a->n_headers++;
      continue;
    }
    if (is_continue && strcmp(arg, "--env") == 0) {
      a->env = true;
      continue;
    }
    if (is_continue &&
        (r = take_value(argc, argv, &i, "--existing", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      if (!append_existing(a, val)) {
        fputs("stp: out of memory\n", stderr);
        return EXIT_INTERNAL;
      }
      continue;
    }
    if (strcmp(arg, "--meta") == 0) {
      a->meta = true;
    } else if (strcmp(arg, "--strict") == 0) {
      a->opts.strict_trace_continuation = true;
    } else if (strcmp(arg, "--propagate-traceparent") == 0) {
      a->opts.propagate_traceparent = true;
    } else if (strcmp(arg, "--no-accept-traceparent") == 0) {
      a->opts.accept_traceparent = false;
    } else if (strcmp(arg, "--propagate-third-party") == 0) {
      a->opts.propagate_third_party_baggage = true;
    } else if ((r = take_value(argc, argv, &i, "--dsn", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.dsn = val;
    } else if ((r = take_value(argc, argv, &i, "--release", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.release = val;
    } else if ((r = take_value(argc, argv, &i, "--environment", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.environment = val;
    } else if ((r = take_value(argc, argv, &i, "--org-id", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.org_id = val;
    } else if ((r = take_value(argc, argv, &i, "--target", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->targets[a->n_targets++] = val;
    } else if ((r = take_value(argc, argv, &i, "--url", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->url = val;
    } else if ((r = take_value(argc, argv, &i, "--transaction", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->transaction = val;
    } else if ((r = take_value(argc, argv, &i, "--sample-rate", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      /* Only the form is checked here: stp_config_new checks the range
       * (an underflow to 0 or a subnormal is a rate in [0, 1]; an
       * overflow is infinite, and refused there). */
      char *end = NULL;
      double rate = strtod(val, &end);
      if (*val == '\0' || end == NULL || *end != '\0') {
        fprintf(stderr, "stp: --sample-rate '%s': %s: %s\n", val,
                stp_error_name(STP_ERR_SAMPLE_RATE),
                stp_strerror(STP_ERR_SAMPLE_RATE));
        return EXIT_USAGE;
      }
      a->opts.has_sample_rate = true;
      a->opts.sample_rate = rate;
    } else {
      usage_error("%s: unknown argument '%s'", cmd, arg);
      return EXIT_USAGE;
    }
  }
  if (a->env && a->n_headers > 0) {
    usage_error("continue: use either -H or --env, not both");
    return EXIT_USAGE;
  }
  if (a->n_targets > 0) {
    a->opts.targets = a->targets;
    a->opts.targets_len = a->n_targets;
  }
  return EXIT_VALID;
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
    rc = print_decoded(dec, dec_cap, m.value, m.value_len);
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
  print_fraction(sample_rand);
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

static int cmd_trace(int argc, char **argv, bool is_continue) {
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

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_error("missing command (parse, continue or new)");
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_text, stdout);
    return finish_output(EXIT_VALID);
  }
  if (strcmp(cmd, "--version") == 0) {
    puts("stp " STP_VERSION);
    return finish_output(EXIT_VALID);
  }
  if (strcmp(cmd, "parse") == 0)
    return cmd_parse(argc - 2, argv + 2);
  if (strcmp(cmd, "continue") == 0)
    return cmd_trace(argc - 2, argv + 2, true);
  if (strcmp(cmd, "new") == 0)
    return cmd_trace(argc - 2, argv + 2, false);
  usage_error("unknown command '%s'", cmd);
  return EXIT_USAGE;
}
