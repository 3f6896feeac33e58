/* A growable buffer and the JSON pieces the envelope is written with. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "internal.h"

void stp__buf_put(stp__buf *b, const char *s, size_t n) {
  if (b->failed || n == 0)
    return;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
      cap *= 2;
    char *p = b->alloc->malloc(cap, b->alloc->user_data);
    if (!p) {
      b->failed = true;
      return;
    }
    if (b->len)
      memcpy(p, b->p, b->len);
    if (b->p)
      b->alloc->free(b->p, b->alloc->user_data);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

void stp__buf_lit(stp__buf *b, const char *s) {
  stp__buf_put(b, s, strlen(s));
}

void stp__buf_free(stp__buf *b) {
  if (b->p)
    b->alloc->free(b->p, b->alloc->user_data);
  b->p = NULL;
  b->len = b->cap = 0;
}

void stp__json_str(stp__buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  stp__buf_put(b, "\"", 1);
  size_t run = 0; /* bytes copied as they are, written in one go */
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    bool valid;
    size_t len = stp_utf8_char_len(&valid, s + i, n - i);
    if (valid && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
      run += len;
      i += len;
      continue;
    }
    stp__buf_put(b, s + i - run, run);
    run = 0;
    if (!valid) {
      stp__buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD */
    } else if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      stp__buf_put(b, esc, 2);
    } else {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      stp__buf_put(b, esc, 6);
    }
    i += len;
  }
  stp__buf_put(b, s + n - run, run);
  stp__buf_put(b, "\"", 1);
}

void stp__json_key(stp__buf *b, const char *key) {
  stp__json_str(b, key, strlen(key));
  stp__buf_put(b, ":", 1);
}

void stp__json_time(stp__buf *b, uint64_t ns) {
  char num[32];
  int n = snprintf(num, sizeof num, "%llu.%06llu",
                   (unsigned long long)(ns / 1000000000u),
                   (unsigned long long)(ns % 1000000000u / 1000u));
  stp__buf_put(b, num, (size_t)n);
}
