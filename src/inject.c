/* Injecting: the trace into any header map through a carrier, merged with
 * the baggage the map already has (SPEC section 6). */
#include "context.h"

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
  if (!stp__name_eq(name, name_len, STP__KEY("baggage")))
    return 0;
  bool cut = value_len > STP_BAGGAGE_SCAN_MAX_BYTES;
  if (cut)
    value_len = STP_BAGGAGE_SCAN_MAX_BYTES;
  stp_baggage_iter it = {value, value + value_len, 0};
  scanned m;
  while (ex->members < STP_BAGGAGE_MAX_MEMBERS && stp__baggage_next(&it, &m)) {
    if (cut && it.pos == value + value_len && value[value_len - 1] != ',')
      break; /* cut short by the bound */
    if (stp__is_sentry_key(m.key, m.key_len))
      continue;
    size_t need = (ex->len ? 1 : 0) +
                  stp__text_bytes(m.key_len, m.value_len, m.props_len);
    if (ex->len + need > sizeof ex->buf)
      continue;
    char *p = ex->buf + ex->len;
    if (ex->len)
      *p++ = ',';
    memcpy(p, m.key, m.key_len);
    p += m.key_len;
    *p++ = '=';
    memcpy(p, m.key + m.value_off, m.value_len);
    p += m.value_len;
    if (m.props_len) {
      *p++ = ';';
      memcpy(p, m.key + m.props_off, m.props_len);
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

STP__HOT int stp_context_inject(stp_context *ctx, const stp_carrier *carrier,
                                const stp_span *span) {
  const stp_config *cfg = ctx ? stp__cctx_of(ctx)->cfg : NULL;
  if (!cfg || !carrier || !carrier->set)
    return STP_ERR_INVALID_ARGUMENT;
  existing_members ex;
  ex.len = 0;
  ex.members = 0;
  if (carrier->foreach &&
      carrier->foreach(carrier->user, collect_existing, &ex) < 0)
    return STP_ERR_CARRIER;

  if (!span)
    span = &stp__cctx_of(ctx)->span;
  char trace[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  int err = stp_sentry_trace_format(trace, sizeof trace, &tl, &span->trace_id,
                                    &span->span_id, span->sampled);
  if (err == STP_OK)
    err = stp_context_baggage(ctx, bag, sizeof bag, &bl, ex.buf, ex.len);
  if (err == STP_OK)
    err = set_header(carrier, STP__KEY("sentry-trace"), trace, tl);
  if (err == STP_OK)
    err = set_header(carrier, STP__KEY("baggage"), bl ? bag : NULL, bl);
  if (err == STP_OK && cfg->propagate_tp) {
    char tp[STP_TRACEPARENT_LEN + 1];
    err = stp_traceparent_format(tp, sizeof tp, &tl, &span->trace_id,
                                 &span->span_id, span->sampled);
    if (err == STP_OK)
      err = set_header(carrier, STP__KEY("traceparent"), tp, tl);
  }
  return err;
}
