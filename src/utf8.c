/* UTF-8 well-formedness (RFC 3629; Unicode's table 3-7), for the
 * percent-decoder (baggage.c) and for callers that print bytes they did
 * not make. */
#include "internal.h"

/* Unicode's table 3-7, the well-formed sequences by their first byte:
 * how many bytes, and the range of the second byte (the later ones are
 * always 80..BF). The ranges rule out overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and code points past U+10FFFF (F4
 * 90..BF, F5..FF). A byte 80..FF not listed here starts none. */
static const struct lead {
  uint8_t first, last; /* first bytes */
  uint8_t len;
  uint8_t lo, hi; /* second byte */
} leads[] = {
    {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf},
    {0xe1, 0xec, 3, 0x80, 0xbf}, {0xed, 0xed, 3, 0x80, 0x9f},
    {0xee, 0xef, 3, 0x80, 0xbf}, {0xf0, 0xf0, 4, 0x90, 0xbf},
    {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
};

static const struct lead *lead_of(unsigned char c) {
  for (size_t i = 0; i < sizeof leads / sizeof leads[0]; i++)
    if (c >= leads[i].first && c <= leads[i].last)
      return &leads[i];
  return NULL;
}

size_t stp_utf8_char_len(bool *out_valid, const char *s, size_t len) {
  bool valid = false;
  size_t n = 0;
  if (s && len > 0) {
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) {
      valid = true;
      n = 1;
    } else {
      const struct lead *l = lead_of(p[0]);
      n = 1;
      while (l && n < l->len && n < len && p[n] >= (n == 1 ? l->lo : 0x80) &&
             p[n] <= (n == 1 ? l->hi : 0xbf))
        n++;
      valid = l && n == l->len;
    }
  }
  if (out_valid)
    *out_valid = valid;
  return n;
}
