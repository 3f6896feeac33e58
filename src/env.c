/* Environment variables: continuing a parent process's trace, and the
 * variables for a child process (SPEC section 7). */
#include <stdlib.h>

#include "context.h"

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
    stp__ctx_of(ctx)->status = STP_ERR_DISABLED;
    return STP_ERR_DISABLED;
  }
  const char *trace = getenv("SENTRY_TRACE");
  const char *bag = getenv("SENTRY_BAGGAGE");
  stp_context_begin(ctx, cfg);
  if (trace)
    stp_context_feed(ctx, STP__KEY("sentry-trace"), trace, strlen(trace));
  if (bag)
    stp_context_feed(ctx, STP__KEY("baggage"), bag, strlen(bag));
  return stp_context_finish(ctx);
}

/* The room left for a value after `NAME=` (written when it fits). */
static char *value_room(char *buf, size_t cap, const char *name, size_t nl,
                        size_t *room) {
  *room = cap > nl ? cap - nl : 0;
  if (!*room)
    return NULL;
  memcpy(buf, name, nl);
  return buf + nl;
}

/* The variable's length, or the size it needs, from the value's. */
static int var_done(int err, size_t *out_len, size_t nl, size_t vl) {
  if (out_len && (err == STP_OK || err == STP_ERR_BUFFER_TOO_SMALL))
    *out_len = nl + vl;
  return err;
}

int stp_context_env_sentry_trace(const stp_context *ctx, char *buf, size_t cap,
                                 size_t *out_len, const stp_span *span) {
  static const char name[] = "SENTRY_TRACE=";
  if (!ctx || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  size_t nl = sizeof name - 1, room, vl = 0;
  char *value = value_room(buf, cap, name, nl, &room);
  int err = stp_context_sentry_trace(ctx, value, room, &vl, span);
  return var_done(err, out_len, nl, vl);
}

int stp_context_env_baggage(stp_context *ctx, char *buf, size_t cap,
                            size_t *out_len) {
  static const char name[] = "SENTRY_BAGGAGE=";
  if (!ctx || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  size_t nl = sizeof name - 1, room, vl = 0;
  char *value = value_room(buf, cap, name, nl, &room);
  int err = stp_context_baggage(ctx, value, room, &vl, NULL, 0);
  return var_done(err, out_len, nl, vl);
}
