/* W3C baggage: member iterator and percent-coding (SPEC section 4). */
#include "internal.h"

void stp_baggage_iter_init(stp_baggage_iter *it, const char *value,
                           size_t len) {
  it->pos = value;
  it->end = value ? value + len : value;
  it->skipped = 0;
}

static bool is_prop_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c < 0x7f);
}

/* Parse [s, e) as one list-member. */
static bool parse_member(const char *s, const char *e,
                         stp_baggage_member *m) {
  while (s < e && stp__is_ows(*s))
    s++;
  const char *key = s;
  while (s < e && (stp__cclass[(unsigned char)*s] & STP__TCHAR))
    s++;
  if (s == key)
    return false;
  m->key = key;
  m->key_len = (size_t)(s - key);

  while (s < e && stp__is_ows(*s))
    s++;
  if (s == e || *s != '=')
    return false;
  s++;
  while (s < e && stp__is_ows(*s))
    s++;
  const char *value = s;
  while (s < e && (stp__cclass[(unsigned char)*s] & STP__BOCTET))
    s++;
  m->value = value;
  m->value_len = (size_t)(s - value);

  while (s < e && stp__is_ows(*s))
    s++;
  m->props = s;
  m->props_len = 0;
  if (s == e)
    return true;
  if (*s != ';')
    return false; /* a byte that is not a baggage-octet inside the value */
  const char *props = ++s;
  while (e > props && stp__is_ows(e[-1]))
    e--;
  for (const char *p = props; p < e; p++)
    if (!is_prop_byte((unsigned char)*p))
      return false;
  m->props = props;
  m->props_len = (size_t)(e - props);
  return true;
}

int stp_baggage_iter_next(stp_baggage_iter *it, stp_baggage_member *m) {
  while (it->pos < it->end) {
    const char *start = it->pos;
    const char *comma = memchr(start, ',', (size_t)(it->end - start));
    const char *end = comma ? comma : it->end;
    it->pos = comma ? comma + 1 : it->end;
    if (parse_member(start, end, m))
      return 1;
    /* Empty list elements ("a=1,,b=2") are not members; skip quietly. */
    const char *p = start;
    while (p < end && stp__is_ows(*p))
      p++;
    if (p < end)
      it->skipped++;
  }
  return 0;
}

/* ---- percent-decoding --------------------------------------------------- */

/* The next decoded byte at *i, advancing *i past the escape. */
static unsigned char next_byte(const char *in, size_t len, size_t *i) {
  size_t k = *i;
  if (in[k] == '%' && len - k >= 3) {
    uint8_t hi = stp__hex[(unsigned char)in[k + 1]];
    uint8_t lo = stp__hex[(unsigned char)in[k + 2]];
    if (hi & lo & STP__HEX_DIGIT) {
      *i = k + 3;
      return (unsigned char)(((hi & 15) << 4) | (lo & 15));
    }
  }
  *i = k + 1; /* a plain byte, or an invalid escape kept as it is */
  return (unsigned char)in[k];
}

static const char replacement[3] = {(char)0xef, (char)0xbf, (char)0xbd};

int stp_baggage_decode(char *buf, size_t cap, size_t *out_len,
                       const char *in, size_t len) {
  if ((!in && len) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  stp__buf out = {buf, cap, 0};
  size_t i = 0;
  while (i < len) {
    unsigned char c = next_byte(in, len, &i);
    if (c < 0x80) {
      stp__putc(&out, (char)c);
      continue;
    }
    /* A UTF-8 sequence: its length and the range of its second byte. */
    int need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
      need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    } else {
      stp__put(&out, replacement, 3);
      continue;
    }
    unsigned char seq[4] = {c, 0, 0, 0};
    int got = 0;
    while (got < need && i < len) {
      size_t j = i;
      unsigned char d = next_byte(in, len, &j);
      if (d < lo || d > hi)
        break;
      seq[++got] = d;
      i = j;
      lo = 0x80;
      hi = 0xbf;
    }
    if (got == need)
      stp__put(&out, (const char *)seq, (size_t)need + 1);
    else
      stp__put(&out, replacement, 3); /* the maximal invalid prefix */
  }
  return stp__finish(&out, out_len);
}

int stp_baggage_encode(char *buf, size_t cap, size_t *out_len,
                       const char *in, size_t len) {
  if ((!in && len) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  stp__buf out = {buf, cap, 0};
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if ((stp__cclass[c] & STP__BOCTET) && c != '%') {
      stp__putc(&out, (char)c);
    } else {
      char esc[3] = {'%', stp__hex_upper[c >> 4], stp__hex_upper[c & 15]};
      stp__put(&out, esc, 3);
    }
  }
  return stp__finish(&out, out_len);
}
