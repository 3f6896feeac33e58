/*
 * JSON output of the stp command, on standard output. Every byte of input
 * that reaches the output goes through json_str(), so hostile header
 * values cannot break the JSON.
 */
#ifndef STP_TOOLS_JSON_H
#define STP_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "stp/stp.h"

/* s[0..n) as a JSON string: quotes, backslashes and control bytes
 * escaped, valid UTF-8 passed through, each maximal invalid subpart as
 * U+FFFD. */
void json_str(const char *s, size_t n);
void json_cstr(const char *s);

/* `,"key":` (no comma before the first member of an object). */
void json_key(bool *first, const char *key);

/* A number in [0, 1) in fixed notation with at least 6 decimals, and as
 * many more as it takes to read back as the same double (so 0.9999999
 * does not print as 1.000000). */
void json_fraction(double v);

/* true, false or null (deferred). */
void json_sampled(stp_sampled s);

/* A baggage value percent-decoded into buf (cap >= len + 1), as a JSON
 * string. Returns 0 or stp_baggage_decode's error. */
int json_decoded(char *buf, size_t cap, const char *value, size_t len);

#endif /* STP_TOOLS_JSON_H */
