/*
 * stp/exporter.h: send the span records of every layer to Sentry, as
 * transactions in envelopes, from a background thread.
 *
 * Wiring, once per process, before the config:
 *
 *   stp_options opts;
 *   stp_options_init(&opts);
 *   opts.dsn = "https://KEY@o1.ingest.sentry.io/5";
 *   opts.release = "shop@1.4.2";
 *   opts.has_sample_rate = true;
 *   opts.sample_rate = 0.2;
 *   stp_exporter *exp;
 *   stp_exporter_new(&exp, &opts, NULL, NULL);  (NULL: default bounds)
 *   opts.on_record = stp_exporter_record;        the config's record sink
 *   opts.record_user = exp;
 *   stp_config_new(&cfg, &opts, NULL);
 *   ... every layer made with cfg reports to exp ...
 *   stp_config_del(cfg);  after the channels, servers and contexts
 *   stp_exporter_del(exp);  sends what is left, within flush_timeout_ms
 *
 * What is sent: a record that is a local root (a server span, a span that
 * started a trace here, stp_local_span_start_root) becomes a transaction
 * event; the records of the same process whose parent is a span of that
 * transaction become its spans. The transaction leaves when its root
 * finishes; spans finishing later are not in it. Only sampled traces are
 * sent: an unsampled record costs one comparison. Each transaction is one
 * envelope (header with event_id, sent_at, dsn, sdk and the trace's DSC as
 * `trace`; one `transaction` item), POSTed to the DSN's
 * /api/PROJECT_ID/envelope/ with X-Sentry-Auth, and to Spotlight when
 * configured. 429 answers and X-Sentry-Rate-Limits stop sending for the
 * time they say (dropping, as the SDKs do); failures and 5xx are retried
 * with back-off, then dropped. Everything dropped is counted
 * (stp_exporter_stats).
 *
 * Threads and memory: stp_exporter_record may be called from any thread.
 * It copies the record into storage allocated once by stp_exporter_new
 * (max_spans records, max_transactions transactions), under a mutex the
 * sending thread never holds across network I/O: it never blocks on the
 * network and never allocates. When that storage is full the record is
 * dropped and counted, after the oldest span still waiting for its root
 * has been given up. The sending thread allocates the envelope it
 * writes (bounded by max_spans_per_transaction) and uses libcurl.
 *
 * Errors and parameter order follow the API convention of stp/stp.h.
 */
#ifndef STP_EXPORTER_H
#define STP_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stp/stp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where Spotlight listens when SENTRY_SPOTLIGHT (or the option) is only
 * "true": what the Sentry SDKs use. */
#define STP_EXPORTER_SPOTLIGHT_URL "http://localhost:8969/stream"

/* Bytes of a span's description kept in a transaction (longer ones are
 * cut at a character boundary). */
#define STP_EXPORTER_DESCRIPTION_MAX 256

typedef struct stp_exporter_options {
  /* Spotlight, Sentry's development sidecar: NULL reads SENTRY_SPOTLIGHT
   * as the SDKs do: "true", "1", "t", "y", "yes", "on" (any case) send to
   * STP_EXPORTER_SPOTLIGHT_URL; "false", "0", "f", "n", "no", "off" or
   * empty send nothing; anything else is the URL. The option itself is
   * read the same way. Copied. */
  const char *spotlight;
  /* Send to Spotlight alone, never to the DSN (a development machine with
   * a production DSN). Default false. */
  bool spotlight_only;
  size_t max_spans;                 /* records held at once; default 4096 */
  size_t max_transactions;          /* transactions held at once; default 64 */
  size_t max_spans_per_transaction; /* default 1000, Sentry's own limit */
  uint32_t orphan_timeout_ms;       /* a span waiting for its root; 60000 */
  uint32_t send_timeout_ms;  /* one HTTP request, connect included; 5000 */
  uint32_t flush_timeout_ms; /* stp_exporter_del; default 2000 */
  uint32_t retries;          /* after a failure or 5xx; default 2 */
  uint32_t retry_backoff_ms; /* the first wait, doubled each time; 1000 */
} stp_exporter_options;

/* Fill *eopts with the defaults above. */
void stp_exporter_options_init(stp_exporter_options *eopts);

typedef struct stp_exporter stp_exporter;

/* Make an exporter and start its thread. From opts it reads the DSN (where
 * to send, and X-Sentry-Auth), release and environment (for the
 * transactions); everything is copied. eopts and alloc may be NULL
 * (defaults; malloc/free). Returns 0, STP_ERR_DSN (a bad DSN, or neither a
 * DSN nor Spotlight to send to), STP_ERR_INVALID_ARGUMENT (a bound of 0, a
 * Spotlight URL that is not http(s)), STP_ERR_OPTION_VALUE (control bytes
 * in a string), or STP_ERR_NOMEM (also when the thread or libcurl could
 * not start); *out is NULL on error. */
int stp_exporter_new(stp_exporter **out, const stp_options *opts,
                     const stp_exporter_options *eopts,
                     const stp_allocator *alloc);

/* Stop: send what is queued for at most flush_timeout_ms (an HTTP request
 * still running then is cut off), count the rest as dropped, join the
 * thread, free everything. Records must no longer arrive (delete the
 * config's users first). NULL does nothing. */
void stp_exporter_del(stp_exporter *exp);

/* The record sink (stp_span_record_fn) with the exporter as user: for
 * stp_options.on_record, or to call from a sink of your own. */
void stp_exporter_record(void *exp, const stp_span_record *rec);

/* Wait until every transaction queued so far has been sent or dropped,
 * at most timeout_ms. Returns 0, STP_ERR_TIMEOUT, or
 * STP_ERR_INVALID_ARGUMENT. Spans still waiting for their root are not
 * waited for. */
int stp_exporter_flush(stp_exporter *exp, uint32_t timeout_ms);

/* Counters since stp_exporter_new. */
typedef struct stp_exporter_stats {
  uint64_t spans_accepted;            /* sampled records taken in */
  uint64_t spans_unsampled;           /* records of unsampled traces, ignored */
  uint64_t spans_dropped_full;        /* no room: the storage was full */
  uint64_t spans_orphaned;            /* their root never came (time or room) */
  uint64_t spans_over_limit;          /* past max_spans_per_transaction */
  uint64_t transactions_queued;       /* roots taken in */
  uint64_t transactions_dropped_full; /* no room for another */
  uint64_t envelopes_sent;            /* the DSN answered 2xx */
  uint64_t envelopes_rate_limited;    /* 429 or a limit in force */
  uint64_t envelopes_failed;          /* other answers, retries used up */
  uint64_t envelopes_dropped_shutdown; /* left when the flush time ran out */
  uint64_t retries;                    /* requests sent again */
  uint64_t spotlight_sent;             /* Spotlight answered 2xx */
  uint64_t spotlight_failed;           /* anything else (not retried) */
} stp_exporter_stats;

/* Copy the counters into *out. Thread-safe. */
void stp_exporter_stats_get(const stp_exporter *exp, stp_exporter_stats *out);

/* The URLs it sends to, NUL-terminated, owned by the exporter (valid until
 * stp_exporter_del); NULL when it does not send there. */
const char *stp_exporter_envelope_url(const stp_exporter *exp);
const char *stp_exporter_spotlight_url(const stp_exporter *exp);

#ifdef __cplusplus
}
#endif

#endif /* STP_EXPORTER_H */
