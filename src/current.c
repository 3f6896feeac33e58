/* The implicit API: one current context per thread. */
#include "internal.h"

static _Thread_local stp_context *current;

stp_context *stp_current(void) {
  return current;
}

stp_token stp_attach(stp_context *ctx) {
  stp_token t = {current, ctx};
  current = ctx;
  return t;
}

int stp_detach(stp_token token) {
  int err = current == token.self ? STP_OK : STP_ERR_DETACH_ORDER;
  current = token.prev;
  return err;
}

int stp_continue_trace(stp_context *ctx, stp_token *token,
                       const stp_config *cfg, const stp_carrier *carrier) {
  if (!ctx || !cfg || !carrier) {
    if (token) /* a token whose detach changes nothing */
      *token = (stp_token){current, current};
    return STP_ERR_INVALID_ARGUMENT;
  }
  int err = stp_context_continue(ctx, cfg, carrier);
  stp_token t = stp_attach(ctx);
  if (token)
    *token = t;
  return err;
}

int stp_get_sentry_trace(char *buf, size_t cap, size_t *out_len) {
  if (!current)
    return STP_ERR_NO_CONTEXT;
  return stp_context_sentry_trace(current, buf, cap, out_len, NULL);
}

int stp_get_baggage(char *buf, size_t cap, size_t *out_len) {
  if (!current)
    return STP_ERR_NO_CONTEXT;
  return stp_context_baggage(current, buf, cap, out_len, NULL, 0);
}
