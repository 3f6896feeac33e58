/* The sending thread: groups the transactions whose root finished, writes
 * each as an envelope and posts it, honouring rate limits and backing off
 * after failures. It holds the mutex except while writing and posting. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

uint64_t stp__x_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A version 4 UUID as 32 hex digits. */
static void new_event_id(char out[33]) {
  uint64_t a = stp_random_u64(), b = stp_random_u64();
  a = (a & ~0xf000ull) | 0x4000ull;       /* version 4 */
  b = (b & ~(3ull << 62)) | (2ull << 62); /* variant 10 */
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)a,
           (unsigned long long)b);
}

/* After a request with no answer, the endpoint is left alone for a while
 * (retry_backoff_ms, doubling up to a minute), so that a DSN that is not
 * there costs no CPU per transaction: the queue fills, and records are
 * dropped where they arrive. Any answer ends it. */
static void note_answer(stp_exporter *x, int rc, uint64_t now) {
  if (rc == 0) {
    x->down_backoff_ms = 0;
    return;
  }
  uint32_t b =
      x->down_backoff_ms ? x->down_backoff_ms * 2 : x->o.retry_backoff_ms;
  x->down_backoff_ms = b < 60000 ? b : 60000;
  x->down_until_ms = now + x->down_backoff_ms;
}

static bool limited(stp_exporter *x) {
  uint64_t now = stp__x_now_ms();
  return x->limits.all_ms > now || x->limits.tx_ms > now;
}

/* Posts to Spotlight once per transaction; its failures are not retried. */
static void to_spotlight(stp_exporter *x, stp__xtx *tx, const stp__buf *b) {
  char ra[STP__HEADER_KEEP], rl[STP__HEADER_KEEP];
  long status;
  int rc = stp__x_post(x, &x->spotlight, b, &status, ra, rl);
  tx->spotlight_done = true;
  pthread_mutex_lock(&x->mu);
  note_answer(x, rc, stp__x_now_ms());
  if (rc == 0 && status >= 200 && status < 300)
    x->stats.spotlight_sent++;
  else
    x->stats.spotlight_failed++;
  pthread_mutex_unlock(&x->mu);
}

/* Posts to the DSN. Returns true when tx is to be sent again later. */
static bool to_sentry(stp_exporter *x, stp__xtx *tx, const stp__buf *b) {
  pthread_mutex_lock(&x->mu);
  bool skip = limited(x);
  if (skip)
    x->stats.envelopes_rate_limited++;
  pthread_mutex_unlock(&x->mu);
  if (skip)
    return false;
  char ra[STP__HEADER_KEEP], rl[STP__HEADER_KEEP];
  long status;
  int rc = stp__x_post(x, &x->sentry, b, &status, ra, rl);
  bool retry = false;
  pthread_mutex_lock(&x->mu);
  uint64_t now = stp__x_now_ms();
  note_answer(x, rc, now);
  if (rc == 0)
    stp__limits_apply(&x->limits, now, status, ra, rl);
  if (rc == 0 && status >= 200 && status < 300) {
    x->stats.envelopes_sent++;
  } else if (rc == 0 && status == 429) {
    x->stats.envelopes_rate_limited++;
  } else if ((rc != 0 || status >= 500) && tx->attempts < x->o.retries &&
             !x->stopping) {
    retry = true;
    x->stats.retries++;
    tx->not_before_ms = now + ((uint64_t)x->o.retry_backoff_ms << tx->attempts);
    tx->attempts++;
  } else {
    x->stats.envelopes_failed++;
  }
  pthread_mutex_unlock(&x->mu);
  return retry;
}

static bool send_tx(stp_exporter *x, stp__xtx *tx) {
  if (!tx->event_id[0])
    new_event_id(tx->event_id);
  stp__buf b = {.alloc = &x->alloc};
  stp__x_envelope(x, &b, tx, tx->event_id, stp_time_now_ns());
  bool retry = false;
  if (b.failed) {
    pthread_mutex_lock(&x->mu);
    x->stats.envelopes_failed++;
    pthread_mutex_unlock(&x->mu);
  } else {
    if (x->spotlight.url && !tx->spotlight_done)
      to_spotlight(x, tx, &b);
    if (x->sentry.url)
      retry = to_sentry(x, tx, &b);
  }
  stp__buf_free(&b);
  return retry;
}

/* Sleeps until `wake_ms` (monotonic) or a signal. */
static void wait_until(stp_exporter *x, uint64_t wake_ms) {
  struct timespec ts = {(time_t)(wake_ms / 1000),
                        (long)(wake_ms % 1000) * 1000000L};
  pthread_cond_timedwait(&x->wake, &x->mu, &ts);
}

static uint64_t next_wake(const stp_exporter *x, uint64_t now) {
  uint64_t wake = now + 1000;
  if (x->queue_head && x->queue_head->not_before_ms < wake)
    wake = x->queue_head->not_before_ms;
  if (x->queue_head && x->down_until_ms > now && x->down_until_ms < wake)
    wake = x->down_until_ms;
  if (x->age_head) {
    uint64_t t = x->age_head->arrived_ms + x->o.orphan_timeout_ms;
    if (t < wake)
      wake = t;
  }
  if (x->stopping && x->deadline_ms < wake)
    wake = x->deadline_ms;
  return wake;
}

static void settle(stp_exporter *x) {
  if (!x->queue_head && !x->busy)
    pthread_cond_broadcast(&x->idle);
}

void *stp__x_sender(void *arg) {
  stp_exporter *x = arg;
  pthread_mutex_lock(&x->mu);
  for (;;) {
    uint64_t now = stp__x_now_ms();
    stp__x_expire(x, now);
    if (x->stopping && (!x->queue_head || now >= x->deadline_ms))
      break;
    stp__xtx *tx = x->queue_head;
    if (!tx || tx->not_before_ms > now || x->down_until_ms > now) {
      wait_until(x, next_wake(x, now));
      continue;
    }
    x->queue_head = tx->next;
    if (!x->queue_head)
      x->queue_tail = NULL;
    if (!tx->grouped)
      stp__x_group(x, tx);
    x->busy++;
    pthread_mutex_unlock(&x->mu);
    bool retry = send_tx(x, tx);
    pthread_mutex_lock(&x->mu);
    x->busy--;
    if (retry) { /* first again: the order of the queue is kept */
      tx->next = x->queue_head;
      x->queue_head = tx;
      if (!x->queue_tail)
        x->queue_tail = tx;
    } else {
      stp__x_free_tx(x, tx);
    }
    settle(x);
  }
  while (x->queue_head) {
    stp__xtx *tx = x->queue_head;
    x->queue_head = tx->next;
    x->stats.envelopes_dropped_shutdown++;
    stp__x_free_tx(x, tx);
  }
  x->queue_tail = NULL;
  stp__x_give_up_waiting(x);
  settle(x);
  pthread_mutex_unlock(&x->mu);
  stp__x_target_close(&x->sentry);
  stp__x_target_close(&x->spotlight);
  return NULL;
}
