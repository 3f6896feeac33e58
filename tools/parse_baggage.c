/* stp parse baggage: the members of one or more baggage values, as JSON
 * (what the library takes) or as a table (every member and its fate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "members.h"
#include "stp/stp.h"
#include "text.h"

/* The members the iterator returns, for the JSON. */
typedef struct {
  stp_baggage_member m;
  size_t index; /* position in the input, to keep the first of duplicates */
  bool sentry;
  bool duplicate;
} found_member;

typedef struct {
  found_member *v;
  size_t n, cap;
  size_t skipped;
  size_t max_value;
} found_list;

static int cmp_key_then_index(const void *a, const void *b) {
  const found_member *x = *(const found_member *const *)a;
  const found_member *y = *(const found_member *const *)b;
  int c = member_key_order(&x->m, &y->m);
  return c != 0 ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int collect(found_list *f, const char *const *vals, const size_t *lens,
                   size_t n_vals) {
  for (size_t v = 0; v < n_vals; v++) {
    stp_baggage_iter it;
    stp_baggage_member m;
    stp_baggage_iter_init(&it, vals[v], lens[v]);
    while (stp_baggage_iter_next(&it, &m)) {
      if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        found_member *nv = realloc(f->v, cap * sizeof *nv);
        if (nv == NULL)
          return STP_ERR_NOMEM;
        f->v = nv;
        f->cap = cap;
      }
      found_member *e = &f->v[f->n];
      e->m = m;
      e->index = f->n++;
      e->sentry = is_sentry_key(m.key, m.key_len);
      e->duplicate = false;
      if (m.value_len > f->max_value)
        f->max_value = m.value_len;
    }
    f->skipped += it.skipped;
  }
  return STP_OK;
}

/* Marks repeated sentry keys: sorted by key then position, every entry
 * equal to its predecessor's key is a later duplicate. */
static int mark_duplicates(found_list *f) {
  size_t n_sentry = 0;
  for (size_t i = 0; i < f->n; i++)
    n_sentry += f->v[i].sentry;
  if (n_sentry == 0)
    return STP_OK;
  found_member **s = malloc(n_sentry * sizeof *s);
  if (s == NULL)
    return STP_ERR_NOMEM;
  for (size_t i = 0, j = 0; i < f->n; i++)
    if (f->v[i].sentry)
      s[j++] = &f->v[i];
  qsort(s, n_sentry, sizeof *s, cmp_key_then_index);
  for (size_t i = 1; i < n_sentry; i++)
    if (s[i]->m.key_len == s[i - 1]->m.key_len &&
        memcmp(s[i]->m.key, s[i - 1]->m.key, s[i]->m.key_len) == 0)
      s[i]->duplicate = true;
  free(s);
  return STP_OK;
}

static int print_json(const out_opts *o, const found_list *f, char *dec,
                      const char *msg) {
  json j;
  json_init(&j, stdout, o->pretty);
  json_open(&j, '{');
  json_key(&j, "sentry");
  json_open(&j, '{');
  int rc = STP_OK;
  for (size_t i = 0; i < f->n && rc == STP_OK; i++) {
    const found_member *e = &f->v[i];
    if (!e->sentry || e->duplicate)
      continue;
    json_key_str(&j, e->m.key + SENTRY_PREFIX_LEN,
                 e->m.key_len - SENTRY_PREFIX_LEN);
    rc = json_decoded(&j, dec, f->max_value + 1, e->m.value, e->m.value_len);
  }
  json_close(&j, '}');
  json_key(&j, "third_party");
  json_open(&j, '[');
  for (size_t i = 0; i < f->n && rc == STP_OK; i++) {
    const found_member *e = &f->v[i];
    if (e->sentry)
      continue;
    json_open(&j, '{');
    json_key(&j, "key");
    json_str(&j, e->m.key, e->m.key_len);
    json_key(&j, "value");
    rc = json_decoded(&j, dec, f->max_value + 1, e->m.value, e->m.value_len);
    json_key(&j, "properties");
    json_str(&j, e->m.props, e->m.props_len);
    json_close(&j, '}');
  }
  if (rc != STP_OK) {
    putchar('\n');
    return rc;
  }
  json_close(&j, ']');
  json_key(&j, "skipped");
  json_size(&j, f->skipped);
  if (msg != NULL) {
    json_key(&j, "error");
    json_cstr(&j, stp_error_name(STP_ERR_BAGGAGE_MEMBER));
    json_key(&j, "message");
    json_cstr(&j, msg);
  }
  json_close(&j, '}');
  json_end(&j);
  return STP_OK;
}

/* Why each member the library takes is kept. */
static void explain_kept(member_rows *r) {
  for (size_t i = 0; i < r->n; i++) {
    member_row *row = &r->v[i];
    if (row->fate != MEMBER_KEPT)
      continue;
    if (row->sentry && row->m.props_len > 0)
      snprintf(row->why, sizeof row->why,
               "in the DSC; its properties are not kept");
    else if (row->sentry)
      snprintf(row->why, sizeof row->why, "in the DSC");
    else if (row->m.props_len > 0)
      snprintf(row->why, sizeof row->why, "third-party; properties '%.*s'",
               (int)row->m.props_len, row->m.props);
    else
      snprintf(row->why, sizeof row->why, "third-party");
  }
}

static int print_text(const char *const *vals, const size_t *lens,
                      size_t n_vals, const char *msg) {
  member_rows r = {0};
  int rc = STP_OK;
  for (size_t v = 0; v < n_vals && rc == STP_OK; v++)
    rc = member_rows_add(&r, vals[v], lens[v], v);
  if (rc == STP_OK)
    rc = member_rows_drop_repeats(&r);
  if (rc == STP_OK) {
    explain_kept(&r);
    size_t c[3];
    member_rows_count(&r, c);
    if (r.n == 0)
      printf("baggage  no members\n");
    else
      printf("baggage  %zu member%s: %zu kept, %zu skipped, %zu dropped\n", r.n,
             r.n == 1 ? "" : "s", c[MEMBER_KEPT], c[MEMBER_SKIPPED],
             c[MEMBER_DROPPED]);
    if (r.n > 0)
      rc = member_rows_print(stdout, &r);
  }
  if (rc == STP_OK && msg != NULL) {
    text_label(stdout, "error", 7);
    printf("%s: ", stp_error_name(STP_ERR_BAGGAGE_MEMBER));
    text_put(stdout, msg, strlen(msg));
    putchar('\n');
  }
  member_rows_free(&r);
  return rc;
}

int parse_baggage(const out_opts *o, const char *const *vals,
                  const size_t *lens, size_t n_vals) {
  found_list f = {0};
  char *dec = NULL;
  int rc = collect(&f, vals, lens, n_vals);
  if (rc == STP_OK)
    rc = mark_duplicates(&f);
  if (rc == STP_OK && (dec = malloc(f.max_value + 1)) == NULL)
    rc = STP_ERR_NOMEM;
  /* Nothing usable: members were skipped and not one is valid. */
  bool unusable = f.n == 0 && f.skipped > 0;
  char msg[256];
  if (unusable)
    value_error_message(msg, sizeof msg, STP_ERR_BAGGAGE_MEMBER, vals[0],
                        lens[0]);
  if (rc == STP_OK)
    rc = out_is_json(o) ? print_json(o, &f, dec, unusable ? msg : NULL)
                        : print_text(vals, lens, n_vals, unusable ? msg : NULL);
  free(dec);
  free(f.v);
  if (rc != STP_OK)
    return internal_error("parse baggage", rc);
  return unusable ? EXIT_INVALID : EXIT_VALID;
}
