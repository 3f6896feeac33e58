/* A JSON text built in a growing buffer: what the examples write for
 * others to read (the HTTP/2 server's answers, the span log). */
#ifndef STP_EXAMPLES_JSON_H
#define STP_EXAMPLES_JSON_H

#include <stddef.h>

/* Start with `json_buf j = {0};`. Every write after a failed allocation
 * does nothing, and `failed` stays set: check it once at the end. The
 * text is j.buf[0, j.len), not NUL-terminated, owned by the caller
 * (free(j.buf)). */
typedef struct json_buf {
  char *buf;
  size_t len, cap;
  int failed;
} json_buf;

/* Appends s[0, n) as it is. */
void json_raw(json_buf *j, const char *s, size_t n);

/* Appends the NUL-terminated s as it is (punctuation, literals). */
void json_lit(json_buf *j, const char *s);

/* Appends s[0, n) as a JSON string: quotes, the backslash and every byte
 * outside printable ASCII escaped (a byte >= 0x80 as \u00XX), so that any
 * value from the wire, valid UTF-8 or not, stays inside one string of a
 * one-line, ASCII text. */
void json_str(json_buf *j, const char *s, size_t n);

/* Appends `"key":`. */
void json_key(json_buf *j, const char *key);

#endif /* STP_EXAMPLES_JSON_H */
