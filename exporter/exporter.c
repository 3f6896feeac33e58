/* Making and stopping an exporter: options, the DSN's envelope endpoint
 * and X-Sentry-Auth, Spotlight, the storage allocated once, the thread. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void stp_exporter_options_init(stp_exporter_options *o) {
  memset(o, 0, sizeof *o);
  o->max_spans = 4096;
  o->max_transactions = 64;
  o->max_spans_per_transaction = 1000;
  o->orphan_timeout_ms = 60000;
  o->send_timeout_ms = 5000;
  o->flush_timeout_ms = 2000;
  o->retries = 2;
  o->retry_backoff_ms = 1000;
}

static char *dup_n(const stp_allocator *a, const char *s, size_t n) {
  char *p = a->malloc(n + 1, a->user_data);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static void release(const stp_allocator *a, void *p) {
  if (p)
    a->free(p, a->user_data);
}

/* ---- Spotlight: the option, else SENTRY_SPOTLIGHT ------------------------ */

static bool word_in(const char *v, const char *const *words) {
  for (; *words; words++)
    if (stp_header_name_equal(v, strlen(v), *words, strlen(*words)))
      return true;
  return false;
}

/* The URL a Spotlight setting stands for: NULL for off; *bad when it is
 * neither a yes, a no nor an http(s) URL. */
static const char *spotlight_of(const char *v, bool *bad) {
  static const char *const yes[] = {"true", "1", "t", "y", "yes", "on", NULL};
  static const char *const no[] = {"false", "0",   "f", "n",
                                   "no",    "off", "",  NULL};
  *bad = false;
  if (!v || word_in(v, no))
    return NULL;
  if (word_in(v, yes))
    return STP_EXPORTER_SPOTLIGHT_URL;
  size_t n = strlen(v);
  bool http = (n > 7 && stp_header_name_equal(v, 7, "http://", 7)) ||
              (n > 8 && stp_header_name_equal(v, 8, "https://", 8));
  for (size_t i = 0; i < n && http; i++)
    http = (unsigned char)v[i] > 0x20 && v[i] != 0x7f;
  *bad = !http;
  return http ? v : NULL;
}

/* ---- the DSN's endpoint -------------------------------------------------- */

static int sentry_target(stp_exporter *x, const stp_dsn *d) {
  char url[2048], auth[512];
  int n = snprintf(
      url, sizeof url, "%.*s://%.*s%s%.*s/%.*s%sapi/%.*s/envelope/",
      (int)d->scheme_len, d->scheme, (int)d->host_len, d->host,
      d->port_len ? ":" : "", (int)d->port_len, d->port, (int)d->path_len,
      d->path, d->path_len ? "/" : "", (int)d->project_id_len, d->project_id);
  int m = snprintf(auth, sizeof auth,
                   "X-Sentry-Auth: Sentry sentry_version=7, "
                   "sentry_client=stp/" STP_VERSION ", sentry_key=%.*s%s%.*s",
                   (int)d->public_key_len, d->public_key,
                   d->secret_len ? ", sentry_secret=" : "", (int)d->secret_len,
                   d->secret);
  if (n < 0 || (size_t)n >= sizeof url || m < 0 || (size_t)m >= sizeof auth)
    return STP_ERR_DSN;
  x->sentry.url = dup_n(&x->alloc, url, (size_t)n);
  x->sentry.auth = dup_n(&x->alloc, auth, (size_t)m);
  x->public_key = dup_n(&x->alloc, d->public_key, d->public_key_len);
  return x->sentry.url && x->sentry.auth && x->public_key ? STP_OK
                                                          : STP_ERR_NOMEM;
}

/* ---- making and freeing -------------------------------------------------- */

static bool has_ctl(const char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

static int check(const stp_options *opts, const stp_exporter_options *o) {
  if (!o->max_spans || !o->max_transactions || !o->max_spans_per_transaction ||
      !o->send_timeout_ms)
    return STP_ERR_INVALID_ARGUMENT;
  if (has_ctl(opts->release) || has_ctl(opts->environment))
    return STP_ERR_OPTION_VALUE;
  return STP_OK;
}

static void free_all(stp_exporter *x) {
  const stp_allocator *a = &x->alloc;
  stp_allocator copy = *a;
  release(&copy, x->dsn);
  release(&copy, x->release);
  release(&copy, x->environment);
  release(&copy, x->public_key);
  release(&copy, x->sentry.url);
  release(&copy, x->sentry.auth);
  release(&copy, x->spotlight.url);
  release(&copy, x->spans);
  release(&copy, x->txs);
  release(&copy, x->seen);
  release(&copy, x);
}

/* The strings and the targets. */
static int setup_strings(stp_exporter *x, const stp_options *opts) {
  const stp_allocator *a = &x->alloc;
  bool bad;
  const char *spot = spotlight_of(
      x->o.spotlight ? x->o.spotlight : getenv("SENTRY_SPOTLIGHT"), &bad);
  if (bad)
    return STP_ERR_INVALID_ARGUMENT;
  if (spot && !(x->spotlight.url = dup_n(a, spot, strlen(spot))))
    return STP_ERR_NOMEM;
  x->o.spotlight = x->spotlight.url;
  if (opts->dsn && !x->o.spotlight_only) {
    stp_dsn d;
    int err = stp_dsn_parse(&d, opts->dsn, strlen(opts->dsn));
    if (err == STP_OK)
      err = sentry_target(x, &d);
    if (err != STP_OK)
      return err;
    if (!(x->dsn = dup_n(a, opts->dsn, strlen(opts->dsn))))
      return STP_ERR_NOMEM;
  } else if (opts->dsn) {
    stp_dsn d; /* the envelope names the public key still */
    if (stp_dsn_parse(&d, opts->dsn, strlen(opts->dsn)) != STP_OK)
      return STP_ERR_DSN;
    if (!(x->public_key = dup_n(a, d.public_key, d.public_key_len)))
      return STP_ERR_NOMEM;
  }
  if (!x->sentry.url && !x->spotlight.url)
    return STP_ERR_DSN;
  if ((opts->release &&
       !(x->release = dup_n(a, opts->release, strlen(opts->release)))) ||
      (opts->environment &&
       !(x->environment =
             dup_n(a, opts->environment, strlen(opts->environment)))))
    return STP_ERR_NOMEM;
  return STP_OK;
}

/* The span and transaction storage, on free lists. */
static int setup_storage(stp_exporter *x) {
  const stp_allocator *a = &x->alloc;
  size_t ns = x->o.max_spans, nt = x->o.max_transactions;
  if (ns > SIZE_MAX / sizeof(stp__xspan) || nt > SIZE_MAX / sizeof(stp__xtx))
    return STP_ERR_NOMEM;
  x->seen_cap = x->o.max_spans_per_transaction + 1;
  x->spans = a->malloc(ns * sizeof *x->spans, a->user_data);
  x->txs = a->malloc(nt * sizeof *x->txs, a->user_data);
  x->seen = a->malloc(x->seen_cap * sizeof *x->seen, a->user_data);
  if (!x->spans || !x->txs || !x->seen)
    return STP_ERR_NOMEM;
  for (size_t i = 0; i < ns; i++)
    x->spans[i].next = i + 1 < ns ? &x->spans[i + 1] : NULL;
  for (size_t i = 0; i < nt; i++)
    x->txs[i].next = i + 1 < nt ? &x->txs[i + 1] : NULL;
  x->free_spans = x->spans;
  x->free_txs = x->txs;
  return STP_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_ready;

static void curl_start(void) {
  curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int start(stp_exporter *x) {
  pthread_once(&curl_once, curl_start);
  if (curl_ready != CURLE_OK)
    return STP_ERR_NOMEM;
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0)
    return STP_ERR_NOMEM;
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_mutex_init(&x->mu, NULL);
  if (rc == 0 && (rc = pthread_cond_init(&x->wake, &ca)) != 0)
    pthread_mutex_destroy(&x->mu);
  if (rc == 0 && (rc = pthread_cond_init(&x->idle, &ca)) != 0) {
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->mu);
  }
  pthread_condattr_destroy(&ca);
  if (rc != 0)
    return STP_ERR_NOMEM;
  if (pthread_create(&x->thread, NULL, stp__x_sender, x) != 0) {
    pthread_cond_destroy(&x->idle);
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->mu);
    return STP_ERR_NOMEM;
  }
  return STP_OK;
}

int stp_exporter_new(stp_exporter **out, const stp_options *opts,
                     const stp_exporter_options *eopts,
                     const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!opts || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  if (!alloc)
    alloc = stp_allocator_default();
  stp_exporter_options defaults;
  stp_exporter_options_init(&defaults);
  int err = check(opts, eopts ? eopts : &defaults);
  if (err != STP_OK)
    return err;
  stp_exporter *x = alloc->malloc(sizeof *x, alloc->user_data);
  if (!x)
    return STP_ERR_NOMEM;
  memset(x, 0, sizeof *x);
  x->alloc = *alloc;
  x->o = eopts ? *eopts : defaults;
  atomic_init(&x->unsampled, 0);
  if ((err = setup_strings(x, opts)) != STP_OK ||
      (err = setup_storage(x)) != STP_OK || (err = start(x)) != STP_OK) {
    free_all(x);
    return err;
  }
  *out = x;
  return STP_OK;
}

void stp_exporter_del(stp_exporter *x) {
  if (!x)
    return;
  pthread_mutex_lock(&x->mu);
  x->stopping = true;
  x->deadline_ms = stp__x_now_ms() + x->o.flush_timeout_ms;
  pthread_cond_signal(&x->wake);
  pthread_mutex_unlock(&x->mu);
  pthread_join(x->thread, NULL);
  pthread_cond_destroy(&x->idle);
  pthread_cond_destroy(&x->wake);
  pthread_mutex_destroy(&x->mu);
  free_all(x);
}

int stp_exporter_flush(stp_exporter *x, uint32_t timeout_ms) {
  if (!x)
    return STP_ERR_INVALID_ARGUMENT;
  uint64_t end = stp__x_now_ms() + timeout_ms;
  struct timespec ts = {(time_t)(end / 1000), (long)(end % 1000) * 1000000L};
  int err = STP_OK;
  pthread_mutex_lock(&x->mu);
  while ((x->queue_head || x->busy) && err == STP_OK)
    if (pthread_cond_timedwait(&x->idle, &x->mu, &ts) != 0 &&
        (x->queue_head || x->busy))
      err = STP_ERR_TIMEOUT;
  pthread_mutex_unlock(&x->mu);
  return err;
}

void stp_exporter_stats_get(const stp_exporter *x, stp_exporter_stats *out) {
  stp_exporter *m = (stp_exporter *)x; /* the mutex, not the counters */
  pthread_mutex_lock(&m->mu);
  *out = x->stats;
  pthread_mutex_unlock(&m->mu);
  out->spans_unsampled =
      atomic_load_explicit(&m->unsampled, memory_order_relaxed);
}

const char *stp_exporter_envelope_url(const stp_exporter *x) {
  return x ? x->sentry.url : NULL;
}

const char *stp_exporter_spotlight_url(const stp_exporter *x) {
  return x ? x->spotlight.url : NULL;
}
