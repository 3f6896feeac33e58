/* The baggage member scanner (SPEC section 4), private to the core. It is
 * inlined where a context takes in a baggage header, and behind the public
 * stp_baggage_iter_next. */
#ifndef STP_SCAN_H
#define STP_SCAN_H

#include "internal.h"

#if defined(__GNUC__)
#define STP__INLINE static inline __attribute__((always_inline))
#define STP__NOINLINE __attribute__((noinline))
#else
#define STP__INLINE static inline
#define STP__NOINLINE
#endif

/* ---- scanning ------------------------------------------------------------
 * A member is scanned as runs of one class of bytes: the key (tchar), the
 * value (baggage-octet) and the properties (any visible byte, space or tab,
 * except ','). skip_run returns the first byte at or after s that is not
 * in the run's class, or end.
 *
 * On x86-64 CPUs with SSSE3 (decided once, stp__scan_isa), 16 bytes are
 * classified at a time by two table lookups per byte (pshufb): one by its
 * low nibble l, one by its high nibble h. The low table holds, for each l,
 * bit h set when byte 0xhl is in the class; the high table maps h (0 to 7)
 * to bit h. A byte is in the class when the two results share a bit; bytes
 * of 0x80 and up have no bit in the high table. The tables are derived
 * from in_run when stp__scan_isa first runs. A run is then read up to 15
 * bytes past its end, never past `end`. Everywhere else, and for the last
 * bytes of an input, runs go one byte at a time. */

enum run { RUN_KEY, RUN_VALUE, RUN_PROPS };
enum isa { ISA_PORTABLE, ISA_SSSE3 };

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

/* ISA_SSSE3 when the CPU has SSSE3 and the core was built for x86-64
 * without STP_NO_SIMD; ISA_PORTABLE otherwise. The first call also
 * builds the nibble tables. */
enum isa stp__scan_isa(void);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(STP_NO_SIMD)
#define STP__HAVE_SSSE3 1
#include <tmmintrin.h>

#define STP__SSSE3_FN __attribute__((target("ssse3")))

/* Per run: the low-nibble table, then the high-nibble table. */
extern uint8_t stp__nibbles[3][2][16];

/* A bit for each of the 16 bytes at p that is not in the run's class. */
STP__SSSE3_FN static inline unsigned stops16(const char *p, enum run r) {
  const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  const __m128i low = _mm_and_si128(v, _mm_set1_epi8(0x0f));
  const __m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0f));
  const __m128i *t = (const __m128i *)(const void *)stp__nibbles[r];
  const __m128i rows =
      _mm_and_si128(_mm_shuffle_epi8(_mm_loadu_si128(&t[0]), low),
                    _mm_shuffle_epi8(_mm_loadu_si128(&t[1]), high));
  return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(rows, _mm_setzero_si128()));
}
#endif

STP__INLINE const char *skip_run(const char *s, const char *end, enum run r,
                                 enum isa isa) {
#ifdef STP__HAVE_SSSE3
  if (isa == ISA_SSSE3)
    for (; end - s >= 16; s += 16) {
      unsigned stop = stops16(s, r);
      if (stop)
        return s + __builtin_ctz(stop);
    }
#else
  (void)isa;
#endif
  while (s < end && in_run((unsigned char)*s, r))
    s++;
  return s;
}

static inline const char *skip_ows(const char *s, const char *end) {
  /* One compare rejects every byte above ' ', the usual case. */
  while (s < end && (unsigned char)*s <= ' ' && stp__is_ows(*s))
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
                                     stp_baggage_member *m, bool *valid,
                                     enum isa isa) {
  *valid = false;
  s = skip_ows(s, end);
  const char *key = s;
  s = skip_run(s, end, RUN_KEY, isa);
  m->key = key;
  m->key_len = (size_t)(s - key);
  if (s < end && *s != '=')
    s = skip_ows(s, end);
  if (m->key_len == 0 || s == end || *s != '=')
    return skip_member(s, end);
  const char *value = skip_ows(s + 1, end);
  s = skip_run(value, end, RUN_VALUE, isa);
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
  s = skip_run(props, end, RUN_PROPS, isa);
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

STP__INLINE int stp__baggage_next(stp_baggage_iter *it, stp_baggage_member *m,
                                  enum isa isa) {
  while (it->pos < it->end) {
    const char *start = it->pos;
    bool valid;
    it->pos = parse_member(start, it->end, m, &valid, isa);
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
