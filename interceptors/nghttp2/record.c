/* What the client and server span records share: the description and
 * the status. */
#include <string.h>

#include "internal.h"

/* Appends what fits of s[0, n) at *len, keeping one byte for the NUL. */
static void put(char *buf, size_t cap, size_t *len, const char *s, size_t n) {
  size_t room = cap - 1 - *len;
  if (n > room)
    n = room;
  memcpy(buf + *len, s, n);
  *len += n;
}

size_t stp__h2_describe(char *buf, size_t cap, stp__h2_slice method,
                        stp__h2_slice scheme, stp__h2_slice authority,
                        stp__h2_slice path) {
  if (cap == 0)
    return 0;
  size_t len = 0;
  const char *q = path.n ? memchr(path.p, '?', path.n) : NULL;
  if (q)
    path.n = (size_t)(q - path.p);
  put(buf, cap, &len, method.p, method.n);
  put(buf, cap, &len, " ", 1);
  if (authority.n) {
    put(buf, cap, &len, scheme.p, scheme.n);
    put(buf, cap, &len, "://", 3);
    put(buf, cap, &len, authority.p, authority.n);
  }
  put(buf, cap, &len, path.p, path.n);
  buf[len] = '\0';
  return len;
}

int stp__h2_status_value(const uint8_t *value, size_t len) {
  if (len != 3)
    return 0;
  int v = 0;
  for (size_t i = 0; i < 3; i++) {
    if (value[i] < '0' || value[i] > '9')
      return 0;
    v = v * 10 + (value[i] - '0');
  }
  return v >= 100 ? v : 0;
}

const char *stp__h2_error_status(uint32_t error_code) {
  switch (error_code) {
  case NGHTTP2_CANCEL:
    return "cancelled";
  case NGHTTP2_REFUSED_STREAM:
    return "unavailable";
  default:
    return "unknown_error";
  }
}
