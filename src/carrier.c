/* Carriers: continue from and inject into any header map; environment
 * variables (SPEC sections 1, 6 and 7). */
#include <stdlib.h>

#include "internal.h"

#define KEY(lit) lit, (sizeof(lit) - 1)

STP__HOT static int feed_one(void *arg, const char *name, size_t name_len,
                             const char *value, size_t value_len) {
  stp_context_feed(arg, name, name_len, value, value_len);
  return 0;
}

STP__HOT int stp_context_continue(stp_context *ctx, const stp_config *cfg,
                                  const stp_carrier *carrier) {
  if (!ctx || !cfg || !carrier || !carrier->foreach)
    return STP_ERR_INVALID_ARGUMENT;
  stp_context_begin(ctx, cfg);
  if (carrier->foreach(carrier->user, feed_one, ctx) < 0) {
    stp_context_init(ctx, cfg);
    ctx->status = STP_ERR_CARRIER;
    return STP_ERR_CARRIER;
  }
  return stp_context_finish(ctx);
}

/* The non-Sentry members of the outgoing request's own baggage values,
 * joined; members that would not fit the output limits are dropped. */
typedef struct {
  char buf[STP_BAGGAGE_MAX_BYTES];
  size_t len, members;
} existing_members;

STP__HOT static int collect_existing(void *arg, const char *name,
                                     size_t name_len, const char *value,
                                     size_t value_len) {
  existing_members *ex = arg;
  if (!stp__name_eq(name, name_len, KEY("baggage")))
    return 0;
  bool cut = value_len > STP_BAGGAGE_SCAN_MAX_BYTES;
  if (cut)
    value_len = STP_BAGGAGE_SCAN_MAX_BYTES;
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, value, value_len);
  while (ex->members < STP_BAGGAGE_MAX_MEMBERS &&
         stp_baggage_iter_next(&it, &m)) {
    if (cut && it.pos == value + value_len && value[value_len - 1] != ',')
      break; /* cut short by the bound */
    if (m.key_len >= 7 && memcmp(m.key, "sentry-", 7) == 0)
      continue;
    size_t need = (ex->len ? 1 : 0) + m.key_len + 1 + m.value_len +
                  (m.props_len ? 1 + m.props_len : 0);
    if (ex->len + need > sizeof ex->buf)
      continue;
    char *p = ex->buf + ex->len;
    if (ex->len)
      *p++ = ',';
    memcpy(p, m.key, m.key_len);
    p += m.key_len;
    *p++ = '=';
    memcpy(p, m.value, m.value_len);
    p += m.value_len;
    if (m.props_len) {
      *p++ = ';';
      memcpy(p, m.props, m.props_len);
    }
    ex->len += need;
    ex->members++;
  }
  return 0;
}

static int set_header(const stp_carrier *c, const char *name, size_t nl,
                      const char *value, size_t vl) {
  int rc = c->set(c->user, name, nl, value, vl);
  return rc == 0 ? STP_OK : rc < 0 ? rc : STP_ERR_CARRIER;
}

STP__HOT int stp_context_inject(stp_context *ctx, const stp_span *span,
                                const stp_carrier *carrier) {
  if (!ctx || !ctx->cfg || !carrier || !carrier->set)
    return STP_ERR_INVALID_ARGUMENT;
  existing_members ex;
  ex.len = 0;
  ex.members = 0;
  if (carrier->foreach &&
      carrier->foreach(carrier->user, collect_existing, &ex) < 0)
    return STP_ERR_CARRIER;

  char trace[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  int err = stp_context_sentry_trace(ctx, span, trace, sizeof trace, &tl);
  if (err == STP_OK)
    err = stp_context_baggage(ctx, ex.buf, ex.len, bag, sizeof bag, &bl);
  if (err == STP_OK)
    err = set_header(carrier, KEY("sentry-trace"), trace, tl);
  if (err == STP_OK)
    err = set_header(carrier, KEY("baggage"), bl ? bag : NULL, bl);
  if (err == STP_OK && stp_config_propagate_traceparent(ctx->cfg)) {
    char tp[STP_TRACEPARENT_LEN + 1];
    err = stp_context_traceparent(ctx, span, tp, sizeof tp, &tl);
    if (err == STP_OK)
      err = set_header(carrier, KEY("traceparent"), tp, tl);
  }
  return err;
}

/* ---- environment -------------------------------------------------------- */

static bool env_disabled(void) {
  static const char *const off[] = {"false", "no", "off", "n", "0"};
  const char *v = getenv("SENTRY_USE_ENVIRONMENT");
  if (!v)
    return false;
  size_t n = strlen(v);
  stp__trim(&v, &n);
  for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
    if (stp__name_eq(v, n, off[i], strlen(off[i])))
      return true;
  return false;
}

int stp_context_continue_env(stp_context *ctx, const stp_config *cfg) {
  if (!ctx || !cfg)
    return STP_ERR_INVALID_ARGUMENT;
  if (env_disabled()) {
    stp_context_init(ctx, cfg);
    ctx->status = STP_ERR_DISABLED;
    return STP_ERR_DISABLED;
  }
  const char *trace = getenv("SENTRY_TRACE");
  const char *bag = getenv("SENTRY_BAGGAGE");
  stp_context_begin(ctx, cfg);
  if (trace)
    stp_context_feed(ctx, KEY("sentry-trace"), trace, strlen(trace));
  if (bag)
    stp_context_feed(ctx, KEY("baggage"), bag, strlen(bag));
  return stp_context_finish(ctx);
}

int stp_context_env(stp_context *ctx, const stp_span *span, char *trace_buf,
                    size_t trace_cap, char *baggage_buf, size_t baggage_cap) {
  if (!ctx || !ctx->cfg || !trace_buf || !baggage_buf)
    return STP_ERR_INVALID_ARGUMENT;
  static const char tk[] = "SENTRY_TRACE=", bk[] = "SENTRY_BAGGAGE=";
  if (trace_cap < sizeof tk || baggage_cap < sizeof bk)
    return STP_ERR_BUFFER_TOO_SMALL;
  memcpy(trace_buf, tk, sizeof tk - 1);
  memcpy(baggage_buf, bk, sizeof bk - 1);
  int err = stp_context_sentry_trace(ctx, span, trace_buf + sizeof tk - 1,
                                     trace_cap - (sizeof tk - 1), NULL);
  if (err == STP_OK)
    err = stp_context_baggage(ctx, NULL, 0, baggage_buf + sizeof bk - 1,
                              baggage_cap - (sizeof bk - 1), NULL);
  return err;
}
