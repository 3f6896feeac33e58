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

/* What stp_config_new takes from the options before it allocates: the
 * DSN's public key, the org id, the rate's text, and the lengths of the
 * strings it copies. */
typedef struct {
  slice key, org;
  char rate[40];
  size_t rate_len;
  size_t release_len, environment_len; /* raw, without the terminator */
  size_t release_enc, environment_enc; /* encoded, with the terminator */
  size_t n_targets;
} parsed_options;

/* Checks the options; the error names the bad one. */
static int parse_options(parsed_options *p, const stp_options *opts) {
  memset(p, 0, sizeof *p);
  if (opts->dsn) {
    stp_dsn dsn;
    int err = stp_dsn_parse(&dsn, opts->dsn, strlen(opts->dsn));
    if (err)
      return err;
    p->key = (slice){dsn.public_key, dsn.public_key_len};
    p->org = (slice){dsn.org_id, dsn.org_id_len};
  }
  if (opts->org_id)
    p->org = (slice){opts->org_id, strlen(opts->org_id)};
  /* One rule for an org id, from the option or the DSN's host. */
  if (p->org.p && !all_digits(p->org.p, p->org.n))
    return STP_ERR_ORG_ID;
  if (opts->has_sample_rate) {
    /* -0.0 is in [0, 1] too; it goes out as "0". Also rejects NaN. */
    double rate = opts->sample_rate == 0 ? 0.0 : opts->sample_rate;
    if (!(rate >= 0.0 && rate <= 1.0) ||
        (p->rate_len = format_rate(p->rate, sizeof p->rate, rate)) == 0)
      return STP_ERR_SAMPLE_RATE;
  }
  if (opts->release) {
    p->release_len = strlen(opts->release);
    p->release_enc = encoded_len(opts->release);
  }
  if (opts->environment) {
    p->environment_len = strlen(opts->environment);
    p->environment_enc = encoded_len(opts->environment);
  }
  if (stp__has_ctl(opts->release, p->release_len) ||
      stp__has_ctl(opts->environment, p->environment_len))
    return STP_ERR_OPTION_VALUE;
  if (opts->targets_len && !opts->targets)
    return STP_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < opts->targets_len; i++)
    if (!opts->targets[i])
      return STP_ERR_INVALID_ARGUMENT;
  p->n_targets = opts->targets ? opts->targets_len : 0;
  return STP_OK;
}

/* The config's one block: the struct, the compiled targets, then the
 * strings, each NUL-terminated. */
static size_t block_size(const parsed_options *p) {
  return sizeof(stp_config) + p->n_targets * sizeof(regex_t) + (p->key.n + 1) +
         (p->org.n + 1) + (p->rate_len + 1) + (p->release_len + 1) +
         p->release_enc + (p->environment_len + 1) + p->environment_enc;
}

/* Copies s[0, n) to *str, NUL-terminated; returns the copy. */
static const char *put_string(char **str, const char *s, size_t n) {
  char *copy = *str;
  if (n)
    memcpy(copy, s, n);
  copy[n] = '\0';
  *str += n + 1;
  return copy;
}

/* Encodes s for baggage to *str; returns the encoded copy. */
static const char *put_encoded(char **str, const char *s, size_t n,
                               size_t enc) {
  char *copy = *str;
  stp_baggage_encode(copy, enc, NULL, s, n);
  *str += enc;
  return copy;
}

/* Appends a member of a head's DSC; value NULL: none. Keys and values are
 * all baggage-octets: public key and org id are checked, the rate is
 * digits, the rest is encoded. */
static void add_head(stp_config *cfg, const char *key, const char *value,
                     bool after_decision) {
  if (!value)
    return;
  stp__dsc_static *h = &cfg->head[cfg->n_head++];
  h->key = key;
  h->key_len = strlen(key);
  h->value = value;
  h->value_len = strlen(value);
  h->after_decision = after_decision;
}

/* Fills the block's strings and the head's DSC (in its order). */
static void set_strings(stp_config *cfg, const parsed_options *p,
                        const stp_options *opts) {
  char *str = (char *)(cfg->targets + p->n_targets);
  const char *rate = NULL, *release = NULL, *environment = NULL;
  if (p->key.n)
    cfg->public_key = put_string(&str, p->key.p, p->key.n);
  if (p->org.n)
    cfg->org_id = put_string(&str, p->org.p, p->org.n);
  if (p->rate_len)
    rate = put_string(&str, p->rate, p->rate_len);
  if (opts->release) {
    cfg->release = put_string(&str, opts->release, p->release_len);
    release = put_encoded(&str, opts->release, p->release_len, p->release_enc);
  }
  if (opts->environment) {
    cfg->environment = put_string(&str, opts->environment, p->environment_len);
    environment = put_encoded(&str, opts->environment, p->environment_len,
                              p->environment_enc);
  }
  add_head(cfg, "sentry-public_key", cfg->public_key, false);
  add_head(cfg, "sentry-org_id", cfg->org_id, false);
  add_head(cfg, "sentry-sample_rate", rate, false);
  add_head(cfg, "sentry-release", release, true);
  add_head(cfg, "sentry-environment", environment, true);
}

/* Compiles the propagation targets: STP_ERR_PATTERN or STP_ERR_NOMEM on
 * failure, with cfg->n_targets those compiled (for stp_config_del). */
static int compile_targets(stp_config *cfg, const stp_options *opts, size_t n) {
  for (cfg->n_targets = 0; cfg->n_targets < n; cfg->n_targets++) {
    int rc = regcomp(&cfg->targets[cfg->n_targets],
                     opts->targets[cfg->n_targets], REG_EXTENDED | REG_NOSUB);
    if (rc != 0)
      return rc == REG_ESPACE ? STP_ERR_NOMEM : STP_ERR_PATTERN;
  }
  return STP_OK;
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
  parsed_options p;
  int err = parse_options(&p, opts);
  if (err != STP_OK)
    return err;

  stp_config *cfg = alloc->malloc(block_size(&p), alloc->user_data);
  if (!cfg)
    return STP_ERR_NOMEM;
  memset(cfg, 0, sizeof *cfg);
  cfg->alloc = *alloc;
  cfg->targets = (regex_t *)(cfg + 1);
  cfg->has_rate = opts->has_sample_rate;
  cfg->rate = opts->sample_rate == 0 ? 0.0 : opts->sample_rate;
  cfg->strict = opts->strict_trace_continuation;
  cfg->propagate_tp = opts->propagate_traceparent;
  cfg->accept_tp = opts->accept_traceparent;
  cfg->propagate_third_party = opts->propagate_third_party_baggage;
  cfg->match_all = opts->targets == NULL;
  cfg->on_record = opts->on_record;
  cfg->record_user = opts->record_user;
  set_strings(cfg, &p, opts);

  err = compile_targets(cfg, opts, p.n_targets);
  if (err == STP_OK && head_dsc_len(cfg) > STP_BAGGAGE_MAX_BYTES)
    err = STP_ERR_LIMIT;
  if (err != STP_OK) {
    stp_config_del(cfg);
    return err;
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
