/* Configuration: options, DSN, propagation targets. */
/* POSIX regex.h */
#define _GNU_SOURCE

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

void stp_options_init(stp_options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->accept_traceparent = true;
}

static void *default_malloc(size_t size, void *ud) {
  (void)ud;
  return malloc(size);
}

static void default_free(void *ptr, void *ud) {
  (void)ud;
  free(ptr);
}

const stp_allocator *stp_allocator_default(void) {
  static const stp_allocator std = {default_malloc, default_free, NULL};
  return &std;
}

/* A slice of the DSN. */
typedef struct {
  const char *p;
  size_t n;
} slice;

static bool all_digits(const char *s, size_t n) {
  if (n == 0 || n > 20)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* Shortest decimal text that reads back as `rate` (17 significant digits
 * always do), with '.' for a decimal point whatever the locale. It is
 * read back by strtod in the locale snprintf wrote it in: the check must
 * be correctly rounded, which stp__parse_decimal is not for mantissas of
 * more than 53 bits or powers of ten above 1e22. */
static size_t format_rate(char *out, size_t cap, double rate) {
  for (int prec = 1; prec <= 17; prec++) {
    int n = snprintf(out, cap, "%.*g", prec, rate);
    if (n <= 0 || (size_t)n >= cap)
      return 0;
    char *end;
    if (strtod(out, &end) != rate || end != out + n)
      continue;
    /* The locale's decimal point (one byte or more) becomes one '.'. */
    size_t w = 0;
    for (int i = 0; i < n; i++) {
      char c = out[i];
      if ((c >= '0' && c <= '9') || c == 'e' || c == '-' || c == '+')
        out[w++] = c;
      else if (w == 0 || out[w - 1] != '.')
        out[w++] = '.';
    }
    out[w] = '\0';
    return w;
  }
  return 0;
}

static size_t encoded_len(const char *s) {
  size_t n;
  stp_baggage_encode(NULL, 0, &n, s, strlen(s));
  return n; /* includes the terminator */
}

/* The longest DSC a head made with cfg can have: its members from the
 * options, sentry-trace_id, sentry-sample_rand and sentry-sampled=false,
 * one comma apart. */
static size_t head_dsc_len(const stp_config *cfg) {
  size_t len = (sizeof "sentry-trace_id=" - 1 + STP_TRACE_ID_HEX_LEN) +
               (sizeof "sentry-sample_rand=0.123456" - 1) +
               (sizeof "sentry-sampled=false" - 1) + 2;
  for (size_t i = 0; i < cfg->n_head; i++)
    len += 1 + cfg->head[i].key_len + 1 + cfg->head[i].value_len;
  return len;
}

int stp_config_new(stp_config **out, const stp_options *opts,
                   const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!opts || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  if (!alloc)
    alloc = stp_allocator_default();

  slice key = {NULL, 0}, org = {NULL, 0};
  if (opts->dsn) {
    stp_dsn dsn;
    int err = stp_dsn_parse(&dsn, opts->dsn, strlen(opts->dsn));
    if (err)
      return err;
    key = (slice){dsn.public_key, dsn.public_key_len};
    org = (slice){dsn.org_id, dsn.org_id_len};
  }
  if (opts->org_id) {
    org.p = opts->org_id;
    org.n = strlen(opts->org_id);
  }
  /* One rule for an org id, from the option or the DSN's host. */
  if (org.p && !all_digits(org.p, org.n))
    return STP_ERR_ORG_ID;
  if (opts->has_sample_rate &&
      !(opts->sample_rate >= 0.0 && opts->sample_rate <= 1.0))
    return STP_ERR_SAMPLE_RATE; /* also rejects NaN */
  if ((opts->release && stp__has_ctl(opts->release, strlen(opts->release))) ||
      (opts->environment &&
       stp__has_ctl(opts->environment, strlen(opts->environment))))
    return STP_ERR_OPTION_VALUE;
  if (opts->targets_len && !opts->targets)
    return STP_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < opts->targets_len; i++)
    if (!opts->targets[i])
      return STP_ERR_INVALID_ARGUMENT;

  char rate[40];
  size_t rate_len = 0;
  /* -0.0 is in [0, 1] too; it goes out as "0". */
  double sample_rate = opts->sample_rate == 0 ? 0.0 : opts->sample_rate;
  if (opts->has_sample_rate &&
      (rate_len = format_rate(rate, sizeof rate, sample_rate)) == 0)
    return STP_ERR_SAMPLE_RATE;

  /* One block: the struct, the compiled targets, then the strings. */
  size_t n_targets = opts->targets ? opts->targets_len : 0;
  size_t size = sizeof(stp_config) + n_targets * sizeof(regex_t);
  size_t rel_len = opts->release ? encoded_len(opts->release) : 0;
  size_t env_len = opts->environment ? encoded_len(opts->environment) : 0;
  size_t rel_raw = opts->release ? strlen(opts->release) + 1 : 0;
  size_t env_raw = opts->environment ? strlen(opts->environment) + 1 : 0;
  size = size + (key.n + 1) + (org.n + 1) + (rate_len + 1) + rel_len + env_len +
         rel_raw + env_raw;
  stp_config *cfg = alloc->malloc(size, alloc->user_data);
  if (!cfg)
    return STP_ERR_NOMEM;
  memset(cfg, 0, sizeof *cfg);
  cfg->alloc = *alloc;
  cfg->targets = (regex_t *)(cfg + 1);
  char *str = (char *)(cfg->targets + n_targets);

#define COPY(field, src, n)                                                    \
  do {                                                                         \
    memcpy(str, (src), (n));                                                   \
    str[(n)] = '\0';                                                           \
    (field) = str;                                                             \
    str += (n) + 1;                                                            \
  } while (0)

  const char *enc_rel = NULL, *enc_env = NULL, *enc_rate = NULL;
  if (key.n)
    COPY(cfg->public_key, key.p, key.n);
  if (org.n)
    COPY(cfg->org_id, org.p, org.n);
  if (rate_len)
    COPY(enc_rate, rate, rate_len);
  if (opts->release) {
    COPY(cfg->release, opts->release, rel_raw - 1);
    stp_baggage_encode(str, rel_len, NULL, opts->release, rel_raw - 1);
    enc_rel = str;
    str += rel_len;
  }
  if (opts->environment) {
    COPY(cfg->environment, opts->environment, env_raw - 1);
    stp_baggage_encode(str, env_len, NULL, opts->environment, env_raw - 1);
    enc_env = str;
    str += env_len;
  }
#undef COPY

  cfg->has_rate = opts->has_sample_rate;
  cfg->rate = sample_rate;
  cfg->strict = opts->strict_trace_continuation;
  cfg->propagate_tp = opts->propagate_traceparent;
  cfg->accept_tp = opts->accept_traceparent;
  cfg->propagate_third_party = opts->propagate_third_party_baggage;
  cfg->match_all = opts->targets == NULL;
  cfg->on_record = opts->on_record;
  cfg->record_user = opts->record_user;

  for (size_t i = 0; i < n_targets; i++) {
    int rc =
        regcomp(&cfg->targets[i], opts->targets[i], REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      cfg->n_targets = i;
      stp_config_del(cfg);
      return rc == REG_ESPACE ? STP_ERR_NOMEM : STP_ERR_PATTERN;
    }
  }
  cfg->n_targets = n_targets;

#define HEAD(k, v, after)                                                      \
  do {                                                                         \
    if (v) {                                                                   \
      stp__dsc_static *h = &cfg->head[cfg->n_head++];                          \
      h->key = k;                                                              \
      h->key_len = sizeof(k) - 1;                                              \
      h->value = (v);                                                          \
      h->value_len = strlen(v);                                                \
      h->after_decision = (after);                                             \
    }                                                                          \
  } while (0)
  /* Keys and values are all baggage-octets: public key and org id are
   * checked above, the rate is digits, the rest is encoded. */
  HEAD("sentry-public_key", cfg->public_key, false);
  HEAD("sentry-org_id", cfg->org_id, false);
  HEAD("sentry-sample_rate", enc_rate, false);
  HEAD("sentry-release", enc_rel, true);
  HEAD("sentry-environment", enc_env, true);
#undef HEAD

  if (head_dsc_len(cfg) > STP_BAGGAGE_MAX_BYTES) {
    stp_config_del(cfg);
    return STP_ERR_LIMIT;
  }
  *out = cfg;
  return STP_OK;
}

void stp_config_del(stp_config *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->n_targets; i++)
    regfree(&cfg->targets[i]);
  cfg->alloc.free(cfg, cfg->alloc.user_data);
}

const char *stp_config_public_key(const stp_config *cfg) {
  return cfg->public_key;
}

const char *stp_config_org_id(const stp_config *cfg) {
  return cfg->org_id;
}

const char *stp_config_release(const stp_config *cfg) {
  return cfg->release;
}

const char *stp_config_environment(const stp_config *cfg) {
  return cfg->environment;
}

bool stp_config_sample_rate(const stp_config *cfg, double *out_rate) {
  if (cfg->has_rate && out_rate)
    *out_rate = cfg->rate;
  return cfg->has_rate;
}

int stp_config_should_propagate(const stp_config *cfg, bool *out_match,
                                const char *url, size_t len) {
  if (!out_match)
    return STP_ERR_INVALID_ARGUMENT;
  *out_match = false;
  if (!cfg || (!url && len))
    return STP_ERR_INVALID_ARGUMENT;
  if (cfg->match_all) {
    *out_match = true;
    return STP_OK;
  }
  if (len && memchr(url, '\0', len))
    return STP_OK; /* a NUL cannot be part of a URL */
  /* regexec wants a C string (REG_STARTEND is not honoured everywhere,
   * sanitizer interceptors included): copy, on the heap only when long. */
  char small[512], *str = small;
  if (len >= sizeof small) {
    str = cfg->alloc.malloc(len + 1, cfg->alloc.user_data);
    if (!str)
      return STP_ERR_NOMEM;
  }
  if (len)
    memcpy(str, url, len);
  str[len] = '\0';
  bool match = false;
  for (size_t i = 0; i < cfg->n_targets && !match; i++)
    match = regexec(&cfg->targets[i], str, 0, NULL, 0) == 0;
  if (str != small)
    cfg->alloc.free(str, cfg->alloc.user_data);
  *out_match = match;
  return STP_OK;
}

stp_span_record_fn stp_config_record_sink(const stp_config *cfg,
                                          void **out_user) {
  if (out_user)
    *out_user = cfg ? cfg->record_user : NULL;
  return cfg ? cfg->on_record : NULL;
}

void stp_config_emit(const stp_config *cfg, const stp_span_record *rec) {
  if (cfg && cfg->on_record && rec)
    cfg->on_record(cfg->record_user, rec);
}

bool stp_config_strict_trace_continuation(const stp_config *cfg) {
  return cfg->strict;
}

bool stp_config_propagate_traceparent(const stp_config *cfg) {
  return cfg->propagate_tp;
}

bool stp_config_accept_traceparent(const stp_config *cfg) {
  return cfg->accept_tp;
}

bool stp_config_propagate_third_party_baggage(const stp_config *cfg) {
  return cfg->propagate_third_party;
}

bool stp_config_has_targets(const stp_config *cfg) {
  return !cfg->match_all;
}
