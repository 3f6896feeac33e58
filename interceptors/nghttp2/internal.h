/* Helpers shared by the nghttp2 layer's source files; not installed. */
#ifndef STP_NGHTTP2_INTERNAL_H
#define STP_NGHTTP2_INTERNAL_H

#include "stp/nghttp2.h"

/* A slice of a header value. */
typedef struct stp__h2_slice {
  const char *p;
  size_t n;
} stp__h2_slice;

/* "METHOD scheme://authority/path" (scheme and authority may be empty,
 * and then go with their "://"), the query left out, cut to fit cap - 1
 * bytes, NUL-terminated. Returns the length written. */
size_t stp__h2_describe(char *buf, size_t cap, stp__h2_slice method,
                        stp__h2_slice scheme, stp__h2_slice authority,
                        stp__h2_slice path);

/* The value of a `:status` field as a number in 100..999, or 0. */
int stp__h2_status_value(const uint8_t *value, size_t len);

/* Sentry's status for a stream that ended without a :status. */
const char *stp__h2_error_status(uint32_t error_code);

#endif /* STP_NGHTTP2_INTERNAL_H */
