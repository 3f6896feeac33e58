#include "json.h"

#include <stdlib.h>
#include <string.h>

void json_raw(json_buf *j, const char *s, size_t n) {
  if (j->failed)
    return;
  if (n > j->cap - j->len) {
    size_t cap = j->cap ? j->cap : 512;
    while (cap - j->len < n)
      cap *= 2;
    char *p = realloc(j->buf, cap);
    if (!p) {
      j->failed = 1;
      return;
    }
    j->buf = p;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
}

void json_lit(json_buf *j, const char *s) {
  json_raw(j, s, strlen(s));
}

void json_str(json_buf *j, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  json_raw(j, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      json_raw(j, esc, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      json_raw(j, esc, 6);
    } else {
      json_raw(j, (const char *)&c, 1);
    }
  }
  json_raw(j, "\"", 1);
}

void json_key(json_buf *j, const char *key) {
  json_str(j, key, strlen(key));
  json_raw(j, ":", 1);
}
