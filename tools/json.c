/* JSON output of the stp command. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_str(const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  putchar('"');
  while (i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
      i++;
    } else if (c < 0x20 || c == 0x7F) {
      printf("\\u00%c%c", hex[c >> 4], hex[c & 15]);
      i++;
    } else if (c < 0x80) {
      putchar(c);
      i++;
    } else {
      bool valid;
      size_t len = stp_utf8_char_len(&valid, s + i, n - i);
      if (valid)
        fwrite(p + i, 1, len, stdout);
      else
        fputs("\\ufffd", stdout);
      i += len;
    }
  }
  putchar('"');
}

void json_cstr(const char *s) {
  json_str(s, strlen(s));
}

void json_key(bool *first, const char *key) {
  if (!*first)
    putchar(',');
  *first = false;
  json_cstr(key);
  putchar(':');
}

void json_fraction(double v) {
  char buf[64];
  for (int prec = 6; prec <= 40; prec++) {
    snprintf(buf, sizeof buf, "%.*f", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, stdout);
}

void json_sampled(stp_sampled s) {
  switch (s) {
  case STP_SAMPLED_YES:
    fputs("true", stdout);
    break;
  case STP_SAMPLED_NO:
    fputs("false", stdout);
    break;
  default: /* deferred */
    fputs("null", stdout);
    break;
  }
}

int json_decoded(char *buf, size_t cap, const char *value, size_t len) {
  size_t out_len = 0;
  int rc = stp_baggage_decode(buf, cap, &out_len, value, len);
  if (rc != STP_OK)
    return rc;
  json_str(buf, out_len);
  return STP_OK;
}
