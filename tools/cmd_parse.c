/* stp parse sentry-trace|traceparent|baggage: one header value, judged
 * as the library judges it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "stp/stp.h"

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
    int rc = json_decoded(dec, max_value + 1, f->m.value, f->m.value_len);
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
    int rc = json_decoded(dec, max_value + 1, f->m.value, f->m.value_len);
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

int cmd_parse(int argc, char **argv) {
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
