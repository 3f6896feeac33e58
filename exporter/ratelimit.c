/* Sentry's rate limits, as the answers state them: X-Sentry-Rate-Limits
 * (any status), else Retry-After on a 429, else 60 seconds on a 429. Only
 * two categories matter here: all of them, and `transaction`. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { DEFAULT_RETRY_AFTER_MS = 60000 };

/* Seconds as an integer or a decimal number, in milliseconds (the
 * fraction cut to them, the whole bounded to a year); -1 when s is not
 * such a number (an HTTP date, say). */
static long long seconds_ms(const char *s, const char *end) {
  while (s < end && *s == ' ')
    s++;
  while (end > s && end[-1] == ' ')
    end--;
  long long secs = 0, ms = 0, scale = 100;
  bool dot = false, digits = false;
  for (; s < end; s++) {
    if (*s == '.' && !dot) {
      dot = true;
    } else if (*s >= '0' && *s <= '9') {
      digits = true;
      if (!dot && secs < 366LL * 86400)
        secs = secs * 10 + (*s - '0');
      else if (dot && scale > 0) {
        ms += (*s - '0') * scale;
        scale /= 10;
      }
    } else {
      return -1;
    }
  }
  if (!digits)
    return -1;
  if (secs > 366LL * 86400)
    secs = 366LL * 86400;
  return secs * 1000 + ms;
}

static void until(uint64_t *field, uint64_t t) {
  if (t > *field)
    *field = t;
}

/* One quota_limit, `retry_after:categories:scope:...`. */
static void apply_one(stp__limits *l, uint64_t now_ms, const char *s,
                      const char *end) {
  const char *colon = memchr(s, ':', (size_t)(end - s));
  long long ms = seconds_ms(s, colon ? colon : end);
  if (ms < 0)
    return;
  const char *cats = colon ? colon + 1 : end;
  const char *cats_end = memchr(cats, ':', (size_t)(end - cats));
  if (!cats_end)
    cats_end = end;
  uint64_t t = now_ms + (uint64_t)ms;
  if (cats == cats_end) {
    until(&l->all_ms, t);
    return;
  }
  while (cats < cats_end) {
    const char *semi = memchr(cats, ';', (size_t)(cats_end - cats));
    const char *c_end = semi ? semi : cats_end;
    while (cats < c_end && *cats == ' ')
      cats++;
    size_t n = (size_t)(c_end - cats);
    if (n == 11 && memcmp(cats, "transaction", 11) == 0)
      until(&l->tx_ms, t);
    cats = semi ? semi + 1 : cats_end;
  }
}

bool stp__limits_apply(stp__limits *l, uint64_t now_ms, long status,
                       const char *retry_after, const char *rate_limits) {
  if (rate_limits && *rate_limits) {
    const char *s = rate_limits, *end = s + strlen(s);
    while (s < end) {
      const char *c = memchr(s, ',', (size_t)(end - s));
      apply_one(l, now_ms, s, c ? c : end);
      s = c ? c + 1 : end;
    }
  } else if (status == 429) {
    long long ms =
        retry_after && *retry_after
            ? seconds_ms(retry_after, retry_after + strlen(retry_after))
            : -1;
    until(&l->all_ms,
          now_ms + (uint64_t)(ms >= 0 ? ms : DEFAULT_RETRY_AFTER_MS));
  }
  return l->all_ms > now_ms || l->tx_ms > now_ms;
}
