/* Outgoing requests: the trace into an nghttp2_nv array, through a core
 * carrier over the array; the array is rewritten in place once the core's
 * inject has succeeded. */
#include <stdbool.h>
#include <string.h>

#include "stp/nghttp2.h"

#define LIT(s) s, (sizeof(s) - 1)

static const char kSentryTrace[] = "sentry-trace";
static const char kBaggage[] = "baggage";
static const char kTraceparent[] = "traceparent";

/* name (any case) equals the literal `lit`. */
static bool name_is(const uint8_t *name, size_t len, const char *lit,
                    size_t lit_len) {
  return stp_header_name_equal((const char *)name, len, lit, lit_len);
}

static const nghttp2_nv *find(const nghttp2_nv *nva, size_t nvlen,
                              const char *lit, size_t lit_len) {
  for (size_t i = 0; i < nvlen; i++)
    if (name_is(nva[i].name, nva[i].namelen, lit, lit_len))
      return &nva[i];
  return NULL;
}

int stp_nghttp2_request_url(char *buf, size_t cap, size_t *out_len,
                            const nghttp2_nv *nva, size_t nvlen) {
  if ((!buf && cap) || (!nva && nvlen))
    return STP_ERR_INVALID_ARGUMENT;
  const nghttp2_nv *scheme = find(nva, nvlen, LIT(":scheme"));
  const nghttp2_nv *auth = find(nva, nvlen, LIT(":authority"));
  const nghttp2_nv *path = find(nva, nvlen, LIT(":path"));
  if (!auth || auth->valuelen == 0) {
    const nghttp2_nv *host = find(nva, nvlen, LIT("host"));
    if (host)
      auth = host;
  }
  const nghttp2_nv *parts[] = {scheme, NULL, auth, path};
  size_t need = 1;
  for (size_t i = 0; i < 4; i++)
    need += i == 1 ? 3 : parts[i] ? parts[i]->valuelen : 0;
  if (cap < need) {
    if (out_len)
      *out_len = need;
    return STP_ERR_BUFFER_TOO_SMALL;
  }
  char *p = buf;
  for (size_t i = 0; i < 4; i++) {
    if (i == 1) {
      memcpy(p, "://", 3);
      p += 3;
    } else if (parts[i] && parts[i]->valuelen) {
      memcpy(p, parts[i]->value, parts[i]->valuelen);
      p += parts[i]->valuelen;
    }
  }
  *p = '\0';
  if (out_len)
    *out_len = (size_t)(p - buf);
  return STP_OK;
}

/* The names stp_context_inject sets, in the order their entries are
 * appended: sentry-trace and baggage on every call, then traceparent when
 * the config propagates it. */
enum { N_SET = 3 };
static const struct {
  const char *lit;
  size_t len;
} kSet[N_SET] = {{LIT(kSentryTrace)}, {LIT(kBaggage)}, {LIT(kTraceparent)}};

static int set_index(const uint8_t *name, size_t len) {
  for (int k = 0; k < N_SET; k++)
    if (name_is(name, len, kSet[k].lit, kSet[k].len))
      return k;
  return -1;
}

/* The request's header array seen as a carrier. Reading goes through the
 * array; set only stores the value in *hb and notes it, and apply_sets
 * rewrites the array once stp_context_inject has succeeded: every entry
 * of a name set goes, then the values set are appended. So the entries to
 * be replaced make room for the new ones whatever their order, and an
 * error leaves the array as it was. */
typedef struct {
  stp_nghttp2_headers *hb;
  nghttp2_nv *nva;
  size_t len;
  bool set[N_SET];    /* the name was set: its entries are replaced */
  char *value[N_SET]; /* its value in *hb, or NULL: no entry */
  size_t value_len[N_SET];
} nv_carrier;

static int nv_foreach(void *user, stp_header_fn fn, void *arg) {
  const nv_carrier *c = user;
  for (size_t i = 0; i < c->len; i++) {
    int rc = fn(arg, (const char *)c->nva[i].name, c->nva[i].namelen,
                (const char *)c->nva[i].value, c->nva[i].valuelen);
    if (rc)
      return rc;
  }
  return 0;
}

static int nv_set(void *user, const char *name, size_t name_len,
                  const char *value, size_t value_len) {
  nv_carrier *c = user;
  char *const store[N_SET] = {c->hb->sentry_trace, c->hb->baggage,
                              c->hb->traceparent};
  const size_t store_cap[N_SET] = {sizeof c->hb->sentry_trace,
                                   sizeof c->hb->baggage,
                                   sizeof c->hb->traceparent};
  int k = set_index((const uint8_t *)name, name_len);
  if (k < 0)
    return STP_ERR_INVALID_ARGUMENT;
  if (value && value_len >= store_cap[k])
    return STP_ERR_TOO_LONG;
  c->set[k] = true;
  c->value[k] = NULL;
  if (value) {
    memcpy(store[k], value, value_len);
    store[k][value_len] = '\0';
    c->value[k] = store[k];
    c->value_len[k] = value_len;
  }
  return 0;
}

/* The entries of the names not set, in order, then the values set. */
static size_t apply_sets(const nv_carrier *c) {
  size_t kept = 0;
  for (size_t i = 0; i < c->len; i++) {
    int k = set_index(c->nva[i].name, c->nva[i].namelen);
    if (k < 0 || !c->set[k])
      c->nva[kept++] = c->nva[i];
  }
  for (int k = 0; k < N_SET; k++)
    if (c->value[k])
      c->nva[kept++] = (nghttp2_nv){.name = (uint8_t *)kSet[k].lit,
                                    .value = (uint8_t *)c->value[k],
                                    .namelen = kSet[k].len,
                                    .valuelen = c->value_len[k],
                                    .flags = NGHTTP2_NV_FLAG_NONE};
  return kept;
}

int stp_nghttp2_inject(stp_context *ctx, stp_nghttp2_headers *hb,
                       nghttp2_nv *nva, size_t nvcap, size_t *nvlen,
                       const stp_span *span, const char *url, size_t url_len) {
  if (!ctx || !hb || !nvlen || (!nva && (nvcap || *nvlen)) || *nvlen > nvcap ||
      (!url && url_len))
    return STP_ERR_INVALID_ARGUMENT;

  const stp_config *cfg = stp_context_config(ctx);
  if (!cfg)
    return STP_ERR_INVALID_ARGUMENT;
  /* The URL matters only to propagation targets: without them, a request
   * however long its path carries the trace. */
  int err;
  if (stp_config_has_targets(cfg)) {
    char composed[STP_NGHTTP2_URL_MAX];
    if (!url) {
      err = stp_nghttp2_request_url(composed, sizeof composed, &url_len, nva,
                                    *nvlen);
      if (err == STP_ERR_BUFFER_TOO_SMALL)
        return STP_ERR_TOO_LONG;
      if (err != STP_OK)
        return err;
      url = composed;
    }
    bool match;
    err = stp_config_should_propagate(cfg, &match, url, url_len);
    if (err != STP_OK || !match)
      return err;
  }

  /* The room, checked before *hb is written (entries of an earlier call
   * may point into it): the entries kept and one of each name set. On
   * success stp_context_inject has set sentry-trace and baggage, and
   * traceparent when the config propagates it (`names`), so apply_sets
   * keeps `kept` entries and adds at most `names`. */
  int names = stp_config_propagate_traceparent(cfg) ? 3 : 2;
  size_t kept = 0;
  for (size_t i = 0; i < *nvlen; i++) {
    int k = set_index(nva[i].name, nva[i].namelen);
    if (k < 0 || k >= names)
      kept++;
  }
  if (nvcap < kept + (size_t)names)
    return STP_ERR_BUFFER_TOO_SMALL;

  nv_carrier c = {.hb = hb, .nva = nva, .len = *nvlen};
  stp_carrier carrier = {nv_foreach, nv_set, &c};
  err = stp_context_inject(ctx, &carrier, span);
  if (err == STP_OK)
    *nvlen = apply_sets(&c);
  return err;
}
