/* HTML meta tags for a rendered page (the seed page's third way out of a
 * service). */
#include "internal.h"

static void put_escaped(stp__buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&':
      stp__put(b, STP__KEY("&amp;"));
      break;
    case '<':
      stp__put(b, STP__KEY("&lt;"));
      break;
    case '>':
      stp__put(b, STP__KEY("&gt;"));
      break;
    case '"':
      stp__put(b, STP__KEY("&quot;"));
      break;
    case '\'':
      stp__put(b, STP__KEY("&#x27;"));
      break;
    default:
      stp__putc(b, s[i]);
    }
  }
}

int stp_context_meta(stp_context *ctx, char *buf, size_t cap, size_t *out_len) {
  if (!ctx || !stp_context_config(ctx) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  char trace[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  int err = stp_context_sentry_trace(ctx, trace, sizeof trace, &tl, NULL);
  if (err == STP_OK)
    err = stp_context_baggage(ctx, bag, sizeof bag, &bl, NULL, 0);
  if (err != STP_OK)
    return err;
  stp__buf out = {buf, cap, 0};
  stp__put(&out, STP__KEY("<meta name=\"sentry-trace\" content=\""));
  put_escaped(&out, trace, tl);
  stp__put(&out, STP__KEY("\">"));
  if (bl) {
    stp__put(&out, STP__KEY("<meta name=\"baggage\" content=\""));
    put_escaped(&out, bag, bl);
    stp__put(&out, STP__KEY("\">"));
  }
  return stp__finish(&out, out_len);
}
