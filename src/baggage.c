/* W3C baggage: member iterator and percent-coding (SPEC section 4). */
#include "internal.h"

void stp_baggage_iter_init(stp_baggage_iter *it, const char *value,
                           size_t len) {
  it->pos = value;
  it->end = value ? value + len : value;
  it->skipped = 0;
}

/* ---- scanning ------------------------------------------------------------
 * A member is scanned as runs of one class of bytes: the key (tchar), the
 * value (baggage-octet) and the properties (any visible byte, space or tab,
 * except ','). */

/* The first byte at or after s that is not of class `cls` (or end): four
 * at a time while four remain. A run is read at most three bytes past its
 * end, never past `end`. */
static inline const char *skip_class(const char *s, const char *end,
                                     uint8_t cls) {
  const unsigned char *p = (const unsigned char *)s;
  while (end - (const char *)p >= 4 &&
         (stp__cclass[p[0]] & stp__cclass[p[1]] & stp__cclass[p[2]] &
          stp__cclass[p[3]] & cls))
    p += 4;
  while ((const char *)p < end && (stp__cclass[*p] & cls))
    p++;
  return (const char *)p;
}

static inline bool is_prop_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c < 0x7f && c != ',');
}

static inline const char *skip_ows(const char *s, const char *end) {
  while (s < end && stp__is_ows(*s))
    s++;
  return s;
}

/* Skip past the next comma (or to the end): the rest of a bad member. */
static const char *skip_member(const char *s, const char *end) {
  const char *comma = memchr(s, ',', (size_t)(end - s));
  return comma ? comma + 1 : end;
}

/* One pass over one list-member starting at s (s < end). Returns where
 * the next member starts, and whether this one was valid. Whitespace
 * after a key or a value is looked for only when the byte there is not
 * the delimiter that usually follows. */
static const char *parse_member(const char *s, const char *end,
                                stp_baggage_member *m, bool *valid) {
  *valid = false;
  s = skip_ows(s, end);
  const char *key = s;
  s = skip_class(s, end, STP__TCHAR);
  m->key = key;
  m->key_len = (size_t)(s - key);
  if (s < end && *s != '=')
    s = skip_ows(s, end);
  if (m->key_len == 0 || s == end || *s != '=')
    return skip_member(s, end);
  const char *value = skip_ows(s + 1, end);
  s = skip_class(value, end, STP__BOCTET);
  m->value = value;
  m->value_len = (size_t)(s - value);
  m->props = s;
  m->props_len = 0;
  if (s < end && *s != ',')
    s = skip_ows(s, end);
  if (s == end || *s == ',') {
    *valid = true;
    return s == end ? end : s + 1;
  }
  if (*s != ';')
    return skip_member(s, end); /* a byte that is not a baggage-octet */
  const char *props = skip_ows(s + 1, end);
  for (s = props; s < end && is_prop_byte((unsigned char)*s);)
    s++;
  if (s < end && *s != ',')
    return skip_member(s, end); /* a control byte, DEL or above */
  const char *props_end = s;
  while (props_end > props && stp__is_ows(props_end[-1]))
    props_end--;
  m->props = props;
  m->props_len = (size_t)(props_end - props);
  *valid = true;
  return s == end ? end : s + 1;
}

int stp_baggage_iter_next(stp_baggage_iter *it, stp_baggage_member *m) {
  while (it->pos < it->end) {
    const char *start = it->pos;
    bool valid;
    it->pos = parse_member(start, it->end, m, &valid);
    if (valid)
      return 1;
    /* Empty list elements ("a=1,,b=2") are not members; skip quietly. */
    const char *p = start;
    while (p < it->pos && stp__is_ows(*p))
      p++;
    if (p < it->pos && *p != ',')
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
