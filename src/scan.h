/* The baggage member scanner (SPEC section 4), private to the core. It is
 * inlined where members are read in bulk (a context taking in a baggage
 * header, the outgoing request's own baggage) and behind the public
 * stp_baggage_iter_next. */
#ifndef STP_SCAN_H
#define STP_SCAN_H

#include "internal.h"

#if defined(__GNUC__)
#define STP__INLINE static inline __attribute__((always_inline))
#else
#define STP__INLINE static inline
#endif

/* ---- scanning ------------------------------------------------------------
 * A member is scanned as runs of one class of bytes: the key (tchar), the
 * value (baggage-octet) and the properties (any visible byte, space or tab,
 * except ','). skip_run returns the first byte at or after s that is not
 * in the run's class, or end. With SSE2 it looks at 16 bytes at a time
 * while 16 remain, so a run may be read up to 15 bytes past its end, never
 * past `end`; the rest goes one byte at a time through the same classes
 * (chars.c). */

enum run { RUN_KEY, RUN_VALUE, RUN_PROPS };

static inline bool in_run(unsigned char c, enum run r) {
  switch (r) {
  case RUN_KEY:
    return stp__cclass[c] & STP__TCHAR;
  case RUN_VALUE:
    return stp__cclass[c] & STP__BOCTET;
  default:
    return c == '\t' || (c >= 0x20 && c < 0x7f && c != ',');
  }
}

#ifdef STP__SSE2
static inline __m128i eq(__m128i v, char c) {
  return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* A bit for each of the 16 bytes at p that is not in the run's class. The
 * compares are signed: bytes of 0x80 and up are below any character. */
static inline unsigned stops16(const char *p, enum run r) {
  const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i out = _mm_or_si128(eq(v, 0x7f), eq(v, ','));
  if (r == RUN_PROPS) /* controls but tab, DEL, ',' */
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(
        out, _mm_andnot_si128(eq(v, '\t'),
                              _mm_cmplt_epi8(v, _mm_set1_epi8(' ')))));
  /* Not baggage-octets: controls, space, '"', ',', ';', '\\', DEL. */
  out = _mm_or_si128(out, _mm_cmplt_epi8(v, _mm_set1_epi8('!')));
  out = _mm_or_si128(out, _mm_or_si128(eq(v, '"'), eq(v, ';')));
  out = _mm_or_si128(out, eq(v, '\\'));
  if (r == RUN_KEY) { /* baggage-octets that are no tchar: ()/:<=>?@[]{} */
    const __m128i odd = _mm_or_si128(v, _mm_set1_epi8(0x01));
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    out = _mm_or_si128(out, _mm_or_si128(eq(odd, ')'), eq(v, '/')));
    out = _mm_or_si128(out, _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('9')),
                                          _mm_cmplt_epi8(v, _mm_set1_epi8('A'))));
    out = _mm_or_si128(out, _mm_or_si128(eq(lower, '{'), eq(lower, '}')));
  }
  return (unsigned)_mm_movemask_epi8(out);
}
#endif

STP__INLINE const char *skip_run(const char *s, const char *end, enum run r) {
#ifdef STP__SSE2
  for (; end - s >= 16; s += 16) {
    unsigned stop = stops16(s, r);
    if (stop)
      return s + __builtin_ctz(stop);
  }
#endif
  while (s < end && in_run((unsigned char)*s, r))
    s++;
  return s;
}

static inline const char *skip_ows(const char *s, const char *end) {
  while (s < end && stp__is_ows(*s))
    s++;
  return s;
}

/* Skip past the next comma (or to the end): the rest of a bad member. */
static inline const char *skip_member(const char *s, const char *end) {
  const char *comma = memchr(s, ',', (size_t)(end - s));
  return comma ? comma + 1 : end;
}

/* One pass over one list-member starting at s (s < end). Returns where
 * the next member starts, and whether this one was valid. Whitespace
 * after a key or a value is looked for only when the byte there is not
 * the delimiter that usually follows. */
STP__INLINE const char *parse_member(const char *s, const char *end,
                                      stp_baggage_member *m, bool *valid) {
  *valid = false;
  s = skip_ows(s, end);
  const char *key = s;
  s = skip_run(s, end, RUN_KEY);
  m->key = key;
  m->key_len = (size_t)(s - key);
  if (s < end && *s != '=')
    s = skip_ows(s, end);
  if (m->key_len == 0 || s == end || *s != '=')
    return skip_member(s, end);
  const char *value = skip_ows(s + 1, end);
  s = skip_run(value, end, RUN_VALUE);
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
  s = skip_run(props, end, RUN_PROPS);
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

STP__INLINE int stp__baggage_next(stp_baggage_iter *it,
                                    stp_baggage_member *m) {
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

#endif /* STP_SCAN_H */
