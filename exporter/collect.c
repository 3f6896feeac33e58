/* The records' way in: copied into the exporter's storage by the thread
 * that ends a span, then grouped into transactions by the sending thread.
 * Every function here runs with the mutex held, and none allocates. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "internal.h"

static size_t bucket_of(const stp_trace_id *t) {
  return ((size_t)t->bytes[0] << 8 | t->bytes[15]) % STP__BUCKETS;
}

/* ---- the age list and the buckets: spans waiting for their root ------- */

static void wait_add(stp_exporter *x, stp__xspan *s) {
  s->next = NULL;
  s->prev = x->age_tail;
  if (x->age_tail)
    x->age_tail->next = s;
  else
    x->age_head = s;
  x->age_tail = s;
  stp__xspan **b = &x->bucket[bucket_of(&s->span.trace_id)];
  s->bprev = NULL;
  s->bnext = *b;
  if (*b)
    (*b)->bprev = s;
  *b = s;
}

static void wait_remove(stp_exporter *x, stp__xspan *s) {
  if (s->prev)
    s->prev->next = s->next;
  else
    x->age_head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    x->age_tail = s->prev;
  if (s->bprev)
    s->bprev->bnext = s->bnext;
  else
    x->bucket[bucket_of(&s->span.trace_id)] = s->bnext;
  if (s->bnext)
    s->bnext->bprev = s->bprev;
}

static void span_free(stp_exporter *x, stp__xspan *s) {
  s->next = x->free_spans;
  x->free_spans = s;
}

void stp__x_give_up_waiting(stp_exporter *x) {
  while (x->age_head) {
    stp__xspan *s = x->age_head;
    wait_remove(x, s);
    span_free(x, s);
    x->stats.spans_orphaned++;
  }
}

void stp__x_expire(stp_exporter *x, uint64_t now_ms) {
  while (x->age_head &&
         now_ms - x->age_head->arrived_ms >= x->o.orphan_timeout_ms) {
    stp__xspan *s = x->age_head;
    wait_remove(x, s);
    span_free(x, s);
    x->stats.spans_orphaned++;
  }
}

/* A free span, giving up the oldest one waiting for its root when there
 * is none; NULL when every span is in a transaction. */
static stp__xspan *span_take(stp_exporter *x) {
  if (!x->free_spans && x->age_head) {
    stp__xspan *oldest = x->age_head;
    wait_remove(x, oldest);
    span_free(x, oldest);
    x->stats.spans_orphaned++;
  }
  stp__xspan *s = x->free_spans;
  if (s)
    x->free_spans = s->next;
  return s;
}

/* ---- copying a record ---------------------------------------------------- */

/* The C string s (NULL: fallback) into dst[cap]. */
static void copy_str(char *dst, size_t cap, const char *s,
                     const char *fallback) {
  if (!s)
    s = fallback;
  size_t n = strnlen(s, cap - 1);
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* How many of the n bytes of s fit in cap without cutting a UTF-8
 * sequence (an invalid byte counts as one character). */
static size_t fit_utf8(const char *s, size_t n, size_t cap) {
  if (n <= cap)
    return n;
  size_t len = 0;
  while (len < cap) {
    size_t c = stp_utf8_char_len(NULL, s + len, n - len);
    if (len + c > cap)
      break;
    len += c;
  }
  return len;
}

static void copy_record(stp__xspan *s, const stp_span_record *rec) {
  s->span = rec->span;
  s->start_ns = rec->start_ns;
  s->end_ns = rec->end_ns >= rec->start_ns ? rec->end_ns : rec->start_ns;
  s->code = rec->code;
  s->local_root = rec->local_root;
  copy_str(s->op, sizeof s->op, rec->op, "default");
  copy_str(s->status, sizeof s->status, rec->status, "unknown");
  copy_str(s->source, sizeof s->source, rec->source, "");
  size_t n = rec->description ? rec->description_len : 0;
  n = fit_utf8(rec->description, n, sizeof s->description);
  if (n)
    memcpy(s->description, rec->description, n);
  s->description_len = (uint16_t)n;
}

/* The DSC of the root's context: its sentry-* members as they are kept
 * (percent-encoded), comma-separated. */
static void copy_dsc(stp__xtx *tx, const stp_context *ctx) {
  tx->dsc_len = 0;
  size_t count = ctx ? stp_context_member_count(ctx) : 0;
  for (size_t i = 0; i < count; i++) {
    stp_baggage_member m;
    bool sentry;
    if (stp_context_member(ctx, &m, &sentry, i) != STP_OK || !sentry)
      continue;
    size_t need = (tx->dsc_len ? 1 : 0) + m.key_len + 1 + m.value_len;
    if (tx->dsc_len + need > sizeof tx->dsc)
      break; /* cannot happen: the context's store is no larger */
    char *p = tx->dsc + tx->dsc_len;
    if (tx->dsc_len)
      *p++ = ',';
    memcpy(p, m.key, m.key_len);
    p[m.key_len] = '=';
    memcpy(p + m.key_len + 1, m.value, m.value_len);
    tx->dsc_len += need;
  }
}

static void take_root(stp_exporter *x, stp__xspan *s,
                      const stp_span_record *rec) {
  stp__xtx *tx = x->free_txs;
  if (!tx) {
    span_free(x, s);
    x->stats.transactions_dropped_full++;
    return;
  }
  x->free_txs = tx->next;
  memset(tx, 0, offsetof(stp__xtx, dsc));
  tx->root = s;
  copy_dsc(tx, rec->ctx);
  if (x->queue_tail)
    x->queue_tail->next = tx;
  else
    x->queue_head = tx;
  x->queue_tail = tx;
  x->stats.transactions_queued++;
  pthread_cond_signal(&x->wake);
}

void stp_exporter_record(void *user, const stp_span_record *rec) {
  stp_exporter *x = user;
  if (!x || !rec)
    return;
  if (rec->span.sampled != STP_SAMPLED_YES) {
    atomic_fetch_add_explicit(&x->unsampled, 1, memory_order_relaxed);
    return;
  }
  pthread_mutex_lock(&x->mu);
  stp__xspan *s = x->stopping ? NULL : span_take(x);
  if (!s) {
    x->stats.spans_dropped_full++;
  } else {
    x->stats.spans_accepted++;
    copy_record(s, rec);
    s->arrived_ms = stp__x_now_ms();
    if (rec->local_root)
      take_root(x, s, rec);
    else
      wait_add(x, s);
  }
  pthread_mutex_unlock(&x->mu);
}

/* ---- grouping: the sending thread -----------------------------------------
 */

static bool seen_has(const stp_exporter *x, size_t n, const stp_span_id *id) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&x->seen[i], id, sizeof *id) == 0)
      return true;
  return false;
}

/* Moves the spans waiting under tx's root into tx, level by level: a span
 * joins when its parent has joined. */
void stp__x_group(stp_exporter *x, stp__xtx *tx) {
  tx->grouped = true;
  size_t n_seen = 0;
  x->seen[n_seen++] = tx->root->span.span_id;
  const stp_trace_id *trace = &tx->root->span.trace_id;
  stp__xspan **tail = &tx->spans;
  for (bool more = true; more;) {
    more = false;
    stp__xspan *s = x->bucket[bucket_of(trace)], *next;
    for (; s; s = next) {
      next = s->bnext;
      if (memcmp(&s->span.trace_id, trace, sizeof *trace) != 0 ||
          !s->span.has_parent || !seen_has(x, n_seen, &s->span.parent_span_id))
        continue;
      wait_remove(x, s);
      if (tx->n_spans >= x->o.max_spans_per_transaction) {
        span_free(x, s);
        x->stats.spans_over_limit++;
        continue;
      }
      x->seen[n_seen++] = s->span.span_id;
      s->next = NULL;
      *tail = s;
      tail = &s->next;
      tx->n_spans++;
      more = true;
    }
  }
}

void stp__x_free_tx(stp_exporter *x, stp__xtx *tx) {
  stp__xspan *s = tx->spans, *next;
  for (; s; s = next) {
    next = s->next;
    span_free(x, s);
  }
  span_free(x, tx->root);
  tx->next = x->free_txs;
  x->free_txs = tx;
}
