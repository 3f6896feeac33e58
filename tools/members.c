/* Baggage members one by one, and why one is skipped. */
#include "members.h"

#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *member_fate_name(member_fate f) {
  return f == MEMBER_KEPT      ? "kept"
         : f == MEMBER_SKIPPED ? "skipped"
                               : "dropped";
}

static bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n) {
  while (*n > 0 && is_ows(**p))
    (*p)++, (*n)--;
  while (*n > 0 && is_ows((*p)[*n - 1]))
    (*n)--;
}

/* Whether the iterator takes s[0, n) as one valid member. */
static bool member_ok(const char *s, size_t n, stp_baggage_member *m) {
  stp_baggage_iter it;
  stp_baggage_member tmp;
  stp_baggage_iter_init(&it, s, n);
  return stp_baggage_iter_next(&it, m ? m : &tmp);
}

/* A probe: pre + mid[0, n) + post, judged by the iterator. buf holds
 * n + 8 bytes at least. */
static bool probe(char *buf, const char *pre, const char *mid, size_t n,
                  const char *post) {
  size_t a = strlen(pre), b = strlen(post);
  memcpy(buf, pre, a);
  memcpy(buf + a, mid, n);
  memcpy(buf + a + n, post, b);
  return member_ok(buf, a + n + b, NULL);
}

static void describe_byte(char *buf, size_t cap, unsigned char c) {
  if (c == ' ')
    snprintf(buf, cap, "a space");
  else if (c == '\t')
    snprintf(buf, cap, "a tab");
  else if (c > 0x20 && c < 0x7f)
    snprintf(buf, cap, "'%c'", c);
  else
    snprintf(buf, cap, "byte 0x%02X", c);
}

/* The first byte of s[0, n) that the probe pre + byte + post refuses, or
 * -1. */
static long first_refused(char *buf, const char *pre, const char *s, size_t n,
                          const char *post) {
  for (size_t i = 0; i < n; i++)
    if (!probe(buf, pre, s + i, 1, post))
      return (long)i;
  return -1;
}

/* Why the iterator skips the member p[0, n) (spaces around it trimmed). */
static void explain(char *why, size_t cap, const char *p, size_t n, char *buf) {
  char b[24];
  const char *eq = memchr(p, '=', n);
  if (eq == NULL) {
    snprintf(why, cap, "no '=' between a key and a value");
    return;
  }
  const char *key = p;
  size_t key_len = (size_t)(eq - p);
  trim(&key, &key_len);
  if (key_len == 0) {
    snprintf(why, cap, "the key is empty");
    return;
  }
  long at = first_refused(buf, "", key, key_len, "=v");
  if (at >= 0) {
    describe_byte(b, sizeof b, (unsigned char)key[at]);
    snprintf(why, cap,
             "the key has %s (a key is a token: letters, digits "
             "and !#$%%&'*+-.^_`|~)",
             b);
    return;
  }
  const char *rest = eq + 1;
  size_t rest_len = n - (size_t)(rest - p);
  const char *semi = memchr(rest, ';', rest_len);
  const char *val = rest;
  size_t val_len = semi ? (size_t)(semi - rest) : rest_len;
  trim(&val, &val_len);
  at = first_refused(buf, "k=a", val, val_len, "a");
  if (at >= 0) {
    describe_byte(b, sizeof b, (unsigned char)val[at]);
    snprintf(why, cap, "the value has %s (percent-encode it, as %%%02X)", b,
             (unsigned char)val[at]);
    return;
  }
  if (semi != NULL) {
    const char *prop = semi + 1, *end = p + n;
    while (prop <= end) {
      const char *next = memchr(prop, ';', (size_t)(end - prop));
      size_t len = (size_t)((next ? next : end) - prop);
      if (!probe(buf, "k=v;", prop, len, "")) {
        snprintf(why, cap, "the property '%.*s' is not valid", (int)len, prop);
        return;
      }
      if (next == NULL)
        break;
      prop = next + 1;
    }
  }
  snprintf(why, cap, "not a valid list-member");
}

static int push(member_rows *r, member_row **out) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    member_row *v = realloc(r->v, cap * sizeof *v);
    if (v == NULL)
      return STP_ERR_NOMEM;
    r->v = v;
    r->cap = cap;
  }
  *out = &r->v[r->n++];
  memset(*out, 0, sizeof **out);
  return STP_OK;
}

int member_rows_add(member_rows *r, const char *value, size_t len,
                    size_t value_index) {
  const char *name;
  size_t name_len;
  bool pasted = starts_with_header_name(value, len, &name, &name_len);
  char *buf = malloc(len + 8);
  if (buf == NULL)
    return STP_ERR_NOMEM;
  size_t start = 0;
  while (start <= len) {
    const char *comma = memchr(value + start, ',', len - start);
    size_t end = comma ? (size_t)(comma - value) : len;
    const char *p = value + start;
    size_t n = end - start;
    trim(&p, &n);
    if (n > 0) {
      member_row *row;
      if (push(r, &row) != STP_OK) {
        free(buf);
        return STP_ERR_NOMEM;
      }
      row->text = p;
      row->len = n;
      row->value_index = value_index;
      row->end = end;
      row->valid = member_ok(p, n, &row->m);
      if (row->valid) {
        row->sentry =
            row->m.key_len >= 7 && memcmp(row->m.key, "sentry-", 7) == 0;
        row->fate = MEMBER_KEPT;
      } else {
        row->fate = MEMBER_SKIPPED;
        if (pasted && start == 0)
          header_name_reason(row->why, sizeof row->why, name, name_len);
        else
          explain(row->why, sizeof row->why, p, n, buf);
      }
    }
    if (comma == NULL)
      break;
    start = end + 1;
  }
  free(buf);
  return STP_OK;
}

void member_rows_free(member_rows *r) {
  free(r->v);
  r->v = NULL;
  r->n = r->cap = 0;
}

/* Orders Sentry rows by key, then by position. */
static int cmp_key_then_position(const void *a, const void *b) {
  const member_row *x = *(const member_row *const *)a;
  const member_row *y = *(const member_row *const *)b;
  int c = member_key_order(&x->m, &y->m);
  return c != 0 ? c : x < y ? -1 : x > y;
}

static bool kept_sentry(const member_row *row) {
  return row->valid && row->sentry && row->fate == MEMBER_KEPT;
}

int member_rows_drop_repeats(member_rows *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++)
    n += kept_sentry(&r->v[i]);
  if (n < 2)
    return STP_OK;
  member_row **s = malloc(n * sizeof *s);
  if (s == NULL)
    return STP_ERR_NOMEM;
  for (size_t i = 0, j = 0; i < r->n; i++)
    if (kept_sentry(&r->v[i]))
      s[j++] = &r->v[i];
  qsort(s, n, sizeof *s, cmp_key_then_position);
  for (size_t i = 1; i < n; i++) {
    member_row *row = s[i];
    if (row->m.key_len == s[i - 1]->m.key_len &&
        memcmp(row->m.key, s[i - 1]->m.key, row->m.key_len) == 0) {
      row->fate = MEMBER_DROPPED;
      snprintf(row->why, sizeof row->why, "repeats %.*s; the first one wins",
               (int)row->m.key_len, row->m.key);
    }
  }
  free(s);
  return STP_OK;
}

bool starts_with_header_name(const char *value, size_t len, const char **name,
                             size_t *name_len) {
  static const char *const names[] = {"sentry-trace", "traceparent", "baggage"};
  const char *p = value;
  size_t n = len;
  trim(&p, &n);
  const char *colon = memchr(p, ':', n);
  if (colon == NULL)
    return false;
  size_t k = (size_t)(colon - p);
  while (k > 0 && is_ows(p[k - 1]))
    k--;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (stp_header_name_equal(p, k, names[i], strlen(names[i]))) {
      *name = p;
      *name_len = k;
      return true;
    }
  return false;
}

void header_name_reason(char *buf, size_t cap, const char *name,
                        size_t name_len) {
  snprintf(buf, cap,
           "the value starts with the header name '%.*s:'; give only what "
           "follows it",
           (int)name_len, name);
}

void value_error_message(char *buf, size_t cap, int rc, const char *value,
                         size_t len) {
  const char *name;
  size_t name_len;
  if (starts_with_header_name(value, len, &name, &name_len))
    header_name_reason(buf, cap, name, name_len);
  else
    snprintf(buf, cap, "%s", stp_strerror(rc));
}

int member_key_order(const stp_baggage_member *a, const stp_baggage_member *b) {
  size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
  int c = memcmp(a->key, b->key, n);
  if (c != 0)
    return c;
  return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* The cells of a row: the key (valid) or the whole member (skipped), and
 * the decoded value. dec holds the longest value + 1. */
static void row_cells(const member_row *row, cell *key, cell *value, char *dec,
                      size_t dec_cap) {
  if (!row->valid) {
    cell_set(key, row->text, row->len);
    cell_setc(value, "");
    return;
  }
  cell_set(key, row->m.key, row->m.key_len);
  size_t n = 0;
  if (stp_baggage_decode(dec, dec_cap, &n, row->m.value, row->m.value_len) !=
      STP_OK)
    n = 0;
  cell_set(value, dec, n);
}

int member_rows_print(FILE *out, const member_rows *r) {
  size_t max_value = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].valid && r->v[i].m.value_len > max_value)
      max_value = r->v[i].m.value_len;
  char *dec = malloc(max_value + 1);
  if (dec == NULL)
    return STP_ERR_NOMEM;
  cell key, value;
  size_t key_w = 3, value_w = 5;
  for (size_t i = 0; i < r->n; i++) {
    row_cells(&r->v[i], &key, &value, dec, max_value + 1);
    key_w = key.cols > key_w ? key.cols : key_w;
    value_w = value.cols > value_w ? value.cols : value_w;
  }
  cell_setc(&key, "KEY");
  cell_setc(&value, "VALUE");
  fputs("  STATUS   ", out);
  cell_put(out, &key, key_w + 2);
  cell_put(out, &value, value_w + 2);
  fputs("WHY\n", out);
  for (size_t i = 0; i < r->n; i++) {
    const member_row *row = &r->v[i];
    row_cells(row, &key, &value, dec, max_value + 1);
    fprintf(out, "  %-7s  ", member_fate_name(row->fate));
    cell_put(out, &key, key_w + 2);
    cell_put(out, &value, value_w + 2);
    text_put(out, row->why, strlen(row->why));
    fputc('\n', out);
  }
  free(dec);
  return STP_OK;
}

void member_rows_count(const member_rows *r, size_t counts[3]) {
  counts[MEMBER_KEPT] = counts[MEMBER_SKIPPED] = counts[MEMBER_DROPPED] = 0;
  for (size_t i = 0; i < r->n; i++)
    counts[r->v[i].fate]++;
}
