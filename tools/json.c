/* JSON output of the stp command. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

void json_init(json *j, FILE *out, bool pretty) {
  j->out = out;
  j->pretty = pretty;
  j->depth = 0;
  j->first = true;
  j->after_key = false;
}

static void newline(json *j) {
  fputc('\n', j->out);
  for (int i = 0; i < j->depth; i++)
    fputs("  ", j->out);
}

/* What comes before any value or key: a comma after an earlier member,
 * and in pretty output its own line. Nothing after a key. */
static void separate(json *j) {
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  if (!j->first)
    fputc(',', j->out);
  if (j->pretty && j->depth > 0)
    newline(j);
  j->first = false;
}

void json_open(json *j, char bracket) {
  separate(j);
  fputc(bracket, j->out);
  j->depth++;
  j->first = true;
}

void json_close(json *j, char bracket) {
  j->depth--;
  if (j->pretty && !j->first)
    newline(j);
  fputc(bracket, j->out);
  j->first = false;
}

static void put_str(FILE *out, const char *s, size_t n);

void json_key_str(json *j, const char *key, size_t n) {
  separate(j);
  put_str(j->out, key, n);
  fputs(j->pretty ? ": " : ":", j->out);
  j->after_key = true;
}

void json_key(json *j, const char *key) {
  json_key_str(j, key, strlen(key));
}

static void put_str(FILE *out, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  fputc('"', out);
  while (i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      i++;
    } else if (c < 0x20 || c == 0x7F) {
      fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
      i++;
    } else if (c < 0x80) {
      fputc(c, out);
      i++;
    } else {
      bool valid;
      size_t len = stp_utf8_char_len(&valid, s + i, n - i);
      if (valid)
        fwrite(p + i, 1, len, out);
      else
        fputs("\\ufffd", out);
      i += len;
    }
  }
  fputc('"', out);
}

void json_str(json *j, const char *s, size_t n) {
  separate(j);
  put_str(j->out, s, n);
}

void json_cstr(json *j, const char *s) {
  json_str(j, s, strlen(s));
}

void json_raw(json *j, const char *text) {
  separate(j);
  fputs(text, j->out);
}

void json_bool(json *j, bool v) {
  json_raw(j, v ? "true" : "false");
}

void json_size(json *j, size_t v) {
  separate(j);
  fprintf(j->out, "%zu", v);
}

void format_fraction(char *buf, size_t cap, double v) {
  for (int prec = 6; prec <= 40; prec++) {
    snprintf(buf, cap, "%.*f", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
}

void json_fraction(json *j, double v) {
  char buf[64];
  format_fraction(buf, sizeof buf, v);
  json_raw(j, buf);
}

void json_sampled(json *j, stp_sampled s) {
  json_raw(j, s == STP_SAMPLED_YES  ? "true"
              : s == STP_SAMPLED_NO ? "false"
                                    : "null");
}

int json_decoded(json *j, char *buf, size_t cap, const char *value,
                 size_t len) {
  size_t out_len = 0;
  int rc = stp_baggage_decode(buf, cap, &out_len, value, len);
  if (rc != STP_OK)
    return rc;
  json_str(j, buf, out_len);
  return STP_OK;
}

void json_end(json *j) {
  fputc('\n', j->out);
}
