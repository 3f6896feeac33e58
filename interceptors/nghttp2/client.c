/* Outgoing requests: the trace into an nghttp2_nv array, through a core
 * carrier whose set callback rewrites the array in place. */
#include <stdbool.h>
#include <string.h>

#include "stp/nghttp2.h"

#define LIT(s) s, (sizeof(s) - 1)

static const char kSentryTrace[] = "sentry-trace";
static const char kBaggage[] = "baggage";
static const char kTraceparent[] = "traceparent";

static const unsigned char kLower[256] = {
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e',
    ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j',
    ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o',
    ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't',
    ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z',
};

static unsigned char lower(unsigned char c) {
  return kLower[c] ? kLower[c] : c;
}

/* name (any case) equals the lowercase literal `lit`. */
static bool name_is(const uint8_t *name, size_t len, const char *lit,
                    size_t lit_len) {
  if (len != lit_len)
    return false;
  for (size_t i = 0; i < len; i++)
    if (lower(name[i]) != (unsigned char)lit[i])
      return false;
  return true;
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
  if (!auth)
    auth = find(nva, nvlen, LIT("host"));
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

/* The request's header array seen as a carrier. */
typedef struct {
  stp_nghttp2_headers *hb;
  nghttp2_nv *nva;
  size_t cap;
  size_t len;
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
  const char *lit;
  char *store;
  size_t store_cap;
  if (name_is((const uint8_t *)name, name_len, LIT(kSentryTrace))) {
    lit = kSentryTrace;
    store = c->hb->sentry_trace;
    store_cap = sizeof c->hb->sentry_trace;
  } else if (name_is((const uint8_t *)name, name_len, LIT(kBaggage))) {
    lit = kBaggage;
    store = c->hb->baggage;
    store_cap = sizeof c->hb->baggage;
  } else if (name_is((const uint8_t *)name, name_len, LIT(kTraceparent))) {
    lit = kTraceparent;
    store = c->hb->traceparent;
    store_cap = sizeof c->hb->traceparent;
  } else {
    return STP_ERR_INVALID_ARGUMENT;
  }
  if (value && value_len >= store_cap)
    return STP_ERR_TOO_LONG;

  /* Drop every entry of that name, keeping the others in order. */
  size_t kept = 0;
  for (size_t i = 0; i < c->len; i++)
    if (!name_is(c->nva[i].name, c->nva[i].namelen, lit, name_len))
      c->nva[kept++] = c->nva[i];
  c->len = kept;
  if (!value)
    return 0;
  if (c->len == c->cap) /* excluded by the check in stp_nghttp2_inject */
    return STP_ERR_BUFFER_TOO_SMALL;

  memcpy(store, value, value_len);
  store[value_len] = '\0';
  nghttp2_nv *nv = &c->nva[c->len++];
  nv->name = (uint8_t *)lit;
  nv->namelen = name_len;
  nv->value = (uint8_t *)store;
  nv->valuelen = value_len;
  nv->flags = NGHTTP2_NV_FLAG_NONE;
  return 0;
}

int stp_nghttp2_inject(stp_context *ctx, const stp_span *span,
                       stp_nghttp2_headers *hb, nghttp2_nv *nva, size_t nvcap,
                       size_t *nvlen, const char *url, size_t url_len) {
  if (!ctx || !hb || !nvlen || (!nva && (nvcap || *nvlen)) || *nvlen > nvcap ||
      (!url && url_len))
    return STP_ERR_INVALID_ARGUMENT;

  char composed[STP_NGHTTP2_URL_MAX];
  if (!url) {
    int err = stp_nghttp2_request_url(composed, sizeof composed, &url_len, nva,
                                      *nvlen);
    if (err == STP_ERR_BUFFER_TOO_SMALL)
      return STP_ERR_TOO_LONG;
    if (err != STP_OK)
      return err;
    url = composed;
  }
  const stp_config *cfg = stp_context_config(ctx);
  if (!cfg)
    return STP_ERR_INVALID_ARGUMENT;
  if (!stp_config_should_propagate(cfg, url, url_len))
    return STP_OK;

  /* Check the room first so that the array is never left half rewritten:
   * past this point the carrier's set callback cannot fail. */
  size_t kept = 0;
  for (size_t i = 0; i < *nvlen; i++)
    if (!name_is(nva[i].name, nva[i].namelen, LIT(kSentryTrace)) &&
        !name_is(nva[i].name, nva[i].namelen, LIT(kBaggage)))
      kept++;
  size_t extra = stp_config_propagate_traceparent(cfg) ? 3 : 2;
  if (nvcap < kept + extra)
    return STP_ERR_BUFFER_TOO_SMALL;

  nv_carrier c = {hb, nva, nvcap, *nvlen};
  stp_carrier carrier = {nv_foreach, nv_set, &c};
  int err = stp_context_inject(ctx, span, &carrier);
  *nvlen = c.len; /* unchanged unless set was called */
  return err;
}
