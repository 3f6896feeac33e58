/* The exporter's private layout, shared by its source files; not
 * installed. */
#ifndef STP_EXPORTER_INTERNAL_H
#define STP_EXPORTER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "stp/exporter.h"

/* One record, copied. Lives in the exporter's span storage: on the free
 * list, waiting for its root (the age list and a bucket), or in a
 * transaction. */
typedef struct stp__xspan {
  struct stp__xspan *prev, *next;   /* free list, age list, transaction */
  struct stp__xspan *bprev, *bnext; /* bucket, while waiting */
  stp_span span;
  uint64_t start_ns, end_ns;
  uint64_t arrived_ms; /* monotonic */
  int code;
  bool local_root;
  uint16_t description_len;
  char op[32];
  char status[32];
  char source[16];
  char description[STP_EXPORTER_DESCRIPTION_MAX];
} stp__xspan;

/* One transaction: its root, then its spans once grouped. */
typedef struct stp__xtx {
  struct stp__xtx *next;
  stp__xspan *root;
  stp__xspan *spans; /* through next */
  size_t n_spans;
  bool grouped;
  bool spotlight_done;
  uint32_t attempts;
  uint64_t not_before_ms; /* back-off: monotonic */
  char event_id[33];      /* set when first sent, kept for retries */
  size_t dsc_len;
  char dsc[STP_BAGGAGE_MAX_BYTES]; /* sentry-* members, comma-separated */
} stp__xtx;

enum { STP__BUCKETS = 1024 };

/* Rate limits in force: until when, monotonic milliseconds; 0: none. */
typedef struct stp__limits {
  uint64_t all_ms, tx_ms;
} stp__limits;

/* Where an envelope goes, and what the answers said. */
typedef struct stp__target {
  char *url;  /* NULL: not used */
  char *auth; /* X-Sentry-Auth header line, or NULL */
  void *curl; /* CURL *, made by the sending thread */
} stp__target;

struct stp_exporter {
  stp_allocator alloc;
  stp_exporter_options o;
  char *dsn, *release, *environment, *public_key;

  pthread_mutex_t mu;
  pthread_cond_t wake; /* to the sending thread */
  pthread_cond_t idle; /* from it: the queue emptied */
  pthread_t thread;

  /* Guarded by mu. */
  stp__xspan *spans; /* all of them, one block */
  stp__xspan *free_spans;
  stp__xspan *age_head, *age_tail; /* waiting for a root, oldest first */
  stp__xspan *bucket[STP__BUCKETS];
  stp__xtx *txs; /* one block */
  stp__xtx *free_txs;
  stp__xtx *queue_head, *queue_tail;
  size_t busy; /* transactions taken off the queue, not yet freed */
  bool stopping;
  uint64_t deadline_ms; /* when stopping */
  stp__limits limits;
  /* No answer came (refused, cut, timed out): nothing is tried again
   * before down_until_ms; the wait doubles while it lasts. */
  uint64_t down_until_ms;
  uint32_t down_backoff_ms;
  stp_exporter_stats stats;

  /* The sending thread's own. */
  stp_span_id *seen; /* the span ids of the transaction being grouped */
  size_t seen_cap;
  stp__target sentry, spotlight;
  atomic_uint_fast64_t unsampled;
};

/* Monotonic milliseconds. */
uint64_t stp__x_now_ms(void);

/* collect.c: the record sink's half (any thread) and grouping (the
 * sending thread), both with mu held. */
void stp__x_expire(stp_exporter *x, uint64_t now_ms);
void stp__x_group(stp_exporter *x, stp__xtx *tx);
void stp__x_free_tx(stp_exporter *x, stp__xtx *tx);
void stp__x_give_up_waiting(stp_exporter *x);

/* A growable byte buffer through the exporter's allocator (json.c). */
typedef struct stp__buf {
  const stp_allocator *alloc;
  char *p;
  size_t len, cap;
  bool failed; /* an allocation failed: the content is incomplete */
} stp__buf;

void stp__buf_put(stp__buf *b, const char *s, size_t n);
void stp__buf_lit(stp__buf *b, const char *s);
void stp__buf_free(stp__buf *b);
/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8. */
void stp__json_str(stp__buf *b, const char *s, size_t n);
/* "key": */
void stp__json_key(stp__buf *b, const char *key);
/* Seconds with microseconds, from Unix nanoseconds. */
void stp__json_time(stp__buf *b, uint64_t ns);

/* envelope.c: the whole envelope of tx. event_id is 32 hex digits,
 * sent_ns the Unix time of sending. */
void stp__x_envelope(const stp_exporter *x, stp__buf *b, const stp__xtx *tx,
                     const char event_id[33], uint64_t sent_ns);

/* ratelimit.c: apply the rate-limit headers of an answer with status
 * `status` (0 when there was none). Returns true when the transaction
 * category is now limited. */
bool stp__limits_apply(stp__limits *l, uint64_t now_ms, long status,
                       const char *retry_after, const char *rate_limits);

/* transport.c: POST body to t; *status the HTTP status, 0 when no answer
 * came (connection refused, cut, timed out). The Retry-After and
 * X-Sentry-Rate-Limits values are copied to retry_after / rate_limits
 * (empty when absent). */
#define STP__HEADER_KEEP 512
int stp__x_post(stp_exporter *x, stp__target *t, const stp__buf *body,
                long *status, char retry_after[STP__HEADER_KEEP],
                char rate_limits[STP__HEADER_KEEP]);
void stp__x_target_close(stp__target *t);

/* sender.c: the sending thread. */
void *stp__x_sender(void *arg);

#endif /* STP_EXPORTER_INTERNAL_H */
