/* The baggage member scanner (SPEC section 4), private to the core. It is
 * inlined where a context takes in a baggage header, and behind the public
 * stp_baggage_iter_next. */
#ifndef STP_SCAN_H
#define STP_SCAN_H

#include <stdatomic.h>

#include "internal.h"

/* ---- scanning ------------------------------------------------------------
 * A member is scanned as runs of one class of bytes: keys (tchar),
 * values (baggage-octet), and properties (baggage-octets and ';', which
 * holds the usual ones whole: keys and values alike, no OWS). skip_run
 * returns the first byte at or after s that is not in the run's class, or
 * end.
 *
 * On x86-64 CPUs with SSSE3 (decided once, stp__scan_isa), 16 bytes are
 * classified at a time by two table lookups per byte (pshufb): one by its
 * low nibble l, one by its high nibble h. The low table holds, for each l,
 * bit h set when byte 0xhl is in the class; the high table maps h (0 to 7)
 * to bit h. A byte is in the class when the two results share a bit; bytes
 * of 0x80 and up have no bit in the high table. The tables are derived
 * from in_run when stp__scan_isa first runs. A run is then read up to 15
 * bytes past its end, never past `end` (past `end` into the pad of a
 * padded input). Everywhere else, and for the last bytes of an input that
 * is not padded, runs go one byte at a time. */

enum run { RUN_KEY, RUN_VALUE, RUN_PROPS, RUN_COUNT };
enum isa { ISA_PORTABLE, ISA_SSSE3 };

static inline bool in_run(unsigned char c, enum run r) {
  if (r == RUN_PROPS && c == ';')
    return true;
  return stp__cclass[c] & (r == RUN_KEY ? STP__TCHAR : STP__BOCTET);
}

/* ISA_SSSE3 when the CPU has SSSE3 and the core was built for x86-64
 * without STP_NO_SIMD; ISA_PORTABLE otherwise. The first call also
 * builds the nibble tables (stp__scan_isa_choose); the others read one
 * variable, 1 + the choice once made. */
enum isa stp__scan_isa_choose(void);
extern _Atomic int stp__scan_isa_chosen;

static inline enum isa stp__scan_isa(void) {
  int chosen =
      atomic_load_explicit(&stp__scan_isa_chosen, memory_order_acquire);
  return chosen ? (enum isa)(chosen - 1) : stp__scan_isa_choose();
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(STP_NO_SIMD)
#define STP__HAVE_SSSE3 1
#include <tmmintrin.h>

#define STP__SSSE3_FN __attribute__((target("ssse3")))

/* Per run: the low-nibble table, then the high-nibble table. */
extern uint8_t stp__nibbles[RUN_COUNT][2][16];

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

/* What becomes of a Sentry member's properties: the public iterator gives
 * every member as it is (KEEP_PROPS); a context keeps a Sentry member as
 * `key=value` alone (DSC_WITHOUT_PROPS, SPEC section 4: properties are not
 * part of the DSC, and the Sentry SDKs, which split a member at its first
 * '=' only, would read them as part of the value). Decided in the
 * properties' own path, which the usual member never takes. */
enum props { KEEP_PROPS, DSC_WITHOUT_PROPS };

static inline bool stp__is_sentry_key(const char *k, size_t n) {
  return n >= 7 && memcmp(k, "sentry-", 7) == 0;
}

/* Whether the bytes after an input are its pad: 16 readable bytes that
 * are in no run's class and not whitespace (zeros). Over a padded input
 * the scanner needs no bounds checks inside a run: every run stops at the
 * pad at the latest. */
enum pad { UNPADDED, PADDED };

STP__INLINE const char *skip_run(const char *s, const char *end, enum run r,
                                 enum isa isa, enum pad pad) {
#ifdef STP__HAVE_SSSE3
  if (isa == ISA_SSSE3) {
    if (pad == PADDED)
      for (;; s += 16) {
        unsigned stop = stops16(s, r);
        if (stop)
          return s + __builtin_ctz(stop);
      }
    for (; end - s >= 16; s += 16) {
      unsigned stop = stops16(s, r);
      if (stop)
        return s + __builtin_ctz(stop);
    }
  }
#else
  (void)isa;
#endif
  while ((pad == PADDED || s < end) && in_run((unsigned char)*s, r))
    s++;
  return s;
}

static inline const char *skip_ows(const char *s, const char *end,
                                   enum pad pad) {
  /* One compare rejects every byte above ' ', the usual case. */
  while ((pad == PADDED || s < end) && (unsigned char)*s <= ' ' &&
         stp__is_ows(*s))
    s++;
  return s;
}

/* Skip past the next comma (or to the end): the rest of a bad member. */
static inline const char *skip_member(const char *s, const char *end) {
  const char *comma = memchr(s, ',', (size_t)(end - s));
  return comma ? comma + 1 : end;
}

/* One member as the scanner found it: where its key starts, its length
 * up to the end of its properties (or value), and its slices as offsets
 * from the key. */
typedef struct scanned {
  const char *key;
  size_t len;
  size_t key_len, value_off, value_len, props_off, props_len;
  bool plain; /* its bytes are its text, "key=value[;props]": no
               * whitespace around '=' or ';', no tab in the properties
               * (false is always safe) */
} scanned;

/* OWS from s, as skip_ows, noting in *tab whether it held a tab. */
STP__INLINE const char *skip_ows_tab(const char *s, const char *end,
                                     enum pad pad, bool *tab) {
  while ((pad == PADDED || s < end) && (unsigned char)*s <= ' ' &&
         stp__is_ows(*s)) {
    *tab = *tab || *s == '\t';
    s++;
  }
  return s;
}

/* Whether props[0, n), baggage-octets and ';' only (a RUN_PROPS run), is
 * a list of properties: each `key[=value]` with a non-empty token key,
 * one ';' apart (no empty one, no trailing ';'). The values need no look:
 * the run took only baggage-octets. */
STP__INLINE bool plain_props_valid(const char *p, const char *end) {
  for (;;) {
    const char *key = p;
    while (p < end && (stp__cclass[(unsigned char)*p] & STP__TCHAR))
      p++;
    if (p == key)
      return false;
    if (p < end && *p == '=')
      while (p < end && *p != ';')
        p++;
    if (p == end)
      return true;
    if (*p != ';')
      return false; /* a baggage-octet that is not a token's, in a key */
    p++;
  }
}

/* The properties by the W3C grammar, with OWS anywhere between their
 * parts, from props (after the first ';' and the OWS after it): where the
 * next member starts, or NULL when they are malformed; *props_end (the
 * end of the last property) and *tab (a tab in OWS inside) are set. */
STP__INLINE const char *parse_props_ows(const char *p, const char *end,
                                        const char **props_end, bool *tab,
                                        enum isa isa, enum pad pad) {
  for (;;) {
    const char *name = p;
    p = skip_run(p, end, RUN_KEY, isa, pad);
    if (p == name)
      return NULL;
    *props_end = p;
    if ((pad == PADDED || p < end) && *p != ';' && *p != ',')
      p = skip_ows_tab(p, end, pad, tab);
    if ((pad == PADDED || p < end) && *p == '=') {
      const char *eq = p;
      p = skip_ows_tab(eq + 1, end, pad, tab);
      const char *value_end = skip_run(p, end, RUN_VALUE, isa, pad);
      *props_end = value_end > p ? value_end : eq + 1;
      p = value_end;
      if ((pad == PADDED || p < end) && *p != ';' && *p != ',')
        p = skip_ows_tab(p, end, pad, tab);
    }
    if (p == end || *p == ',')
      return p;
    if (*p != ';')
      return NULL;
    p = skip_ows_tab(p + 1, end, pad, tab);
  }
}

/* The rest of a member whose key and value *m holds (len: up to the end
 * of the value), from the ';' at s: its properties, by the W3C grammar
 * (`key OWS [ "=" OWS value ]` separated by `OWS ";" OWS`, keys tokens and
 * values baggage-octets; an empty property, ";;" or a trailing ';', makes
 * the member malformed). The usual properties, without OWS, are one run
 * and a look at their keys; others are read part by part. Returns where
 * the next member starts, and whether this one was valid. */
STP__INLINE const char *parse_props(const char *s, const char *end, scanned *m,
                                    bool *valid, enum isa isa, enum pad pad,
                                    enum props keep) {
  *valid = false;
  const char *key = m->key;
  const char *after_value = key + m->len;
  bool tab = false; /* in OWS inside: the text then is not the bytes */
  const char *props = skip_ows_tab(s + 1, end, pad, &tab);
  const char *props_end = skip_run(props, end, RUN_PROPS, isa, pad);
  const char *p = props_end;
  if (p == end || *p == ',') {
    if (!plain_props_valid(props, props_end))
      return skip_member(p, end);
  } else {
    p = parse_props_ows(props, end, &props_end, &tab, isa, pad);
    if (!p)
      return skip_member(props_end, end);
  }
  m->props_off = (size_t)(props - key);
  m->props_len = (size_t)(props_end - props);
  if (keep == DSC_WITHOUT_PROPS && stp__is_sentry_key(key, m->key_len)) {
    m->props_off = m->len;
    m->props_len = 0;
  } else {
    m->len = (size_t)(props_end - key);
    m->plain = m->plain && !tab && props == after_value + 1;
  }
  *valid = true;
  return p == end ? end : p + 1;
}

/* One pass over one list-member starting at s (s < end). Returns where
 * the next member starts, and whether this one was valid. Whitespace
 * after a key or a value is looked for only when the byte there is not
 * the delimiter that usually follows. */
STP__INLINE const char *parse_member(const char *s, const char *end, scanned *m,
                                     bool *valid, enum isa isa, enum pad pad,
                                     enum props keep) {
  *valid = false;
  s = skip_ows(s, end, pad);
  const char *key = s;
  s = skip_run(s, end, RUN_KEY, isa, pad);
  m->key = key;
  m->key_len = (size_t)(s - key);
  if ((pad == PADDED || s < end) && *s != '=')
    s = skip_ows(s, end, pad);
  if (m->key_len == 0 || s == end || *s != '=')
    return skip_member(s, end);
  const char *value = skip_ows(s + 1, end, pad);
  s = skip_run(value, end, RUN_VALUE, isa, pad);
  m->value_off = (size_t)(value - key);
  m->value_len = (size_t)(s - value);
  m->props_off = (size_t)(s - key);
  m->props_len = 0;
  m->len = m->props_off;
  m->plain = m->value_off == m->key_len + 1;
  if ((pad == PADDED || s < end) && *s != ',')
    s = skip_ows(s, end, pad);
  if (s == end || *s == ',') {
    *valid = true;
    return s == end ? end : s + 1;
  }
  if (*s != ';')
    return skip_member(s, end); /* a byte that is not a baggage-octet */
  return parse_props(s, end, m, valid, isa, pad, keep);
}

/* The record of a member "key=value" whose key starts at key: its bytes
 * are its text. */
STP__INLINE scanned key_value(const char *key, size_t key_len,
                              size_t value_len) {
  size_t len = key_len + 1 + value_len;
  return (scanned){.key = key,
                   .len = len,
                   .key_len = key_len,
                   .value_off = key_len + 1,
                   .value_len = value_len,
                   .props_off = len,
                   .props_len = 0,
                   .plain = true};
}

/* The usual member, "key=value" then ',' or the end, or then ';' and its
 * properties (parse_props): where the next member starts and whether the
 * member was valid, or NULL when the member at s is not that (parse_member
 * then reads it; what this one takes, it reads alike). For padded inputs. */
STP__INLINE const char *parse_plain(const char *s, const char *end, scanned *m,
                                    bool *valid, enum isa isa,
                                    enum props keep) {
  const char *eq = skip_run(s, end, RUN_KEY, isa, PADDED);
  if (eq == s || *eq != '=')
    return NULL;
  const char *stop = skip_run(eq + 1, end, RUN_VALUE, isa, PADDED);
  *m = key_value(s, (size_t)(eq - s), (size_t)(stop - eq - 1));
  *valid = true;
  if (stop == end)
    return end;
  if (*stop == ',')
    return stop + 1;
  if (*stop == ';')
    return parse_props(stop, end, m, valid, isa, PADDED, keep);
  return NULL;
}

/* The next valid member from *pos. Malformed members are counted in
 * *skipped, up to skip_limit: the scan stops (false, *pos at the member
 * not examined) rather than examine another member once *skipped has
 * reached it (a context's bound on members examined, valid or not).
 * Empty list elements ("a=1,,b=2") are not members and are skipped
 * quietly. */
STP__INLINE bool next_member(const char **pos, const char *end, scanned *m,
                             size_t *skipped, size_t skip_limit, enum isa isa,
                             enum pad pad, enum props keep) {
  if (pad == PADDED && *pos < end) {
    bool valid;
    const char *next = parse_plain(*pos, end, m, &valid, isa, keep);
    if (next) {
      *pos = next;
      if (valid)
        return true;
      ++*skipped; /* it starts with a key: not an empty list element */
    }
  }
  while (*pos < end && *skipped < skip_limit) {
    const char *start = *pos;
    bool valid;
    *pos = parse_member(start, end, m, &valid, isa, pad, keep);
    if (valid)
      return true;
    const char *p = start;
    while (p < *pos && stp__is_ows(*p))
      p++;
    if (p < *pos && *p != ',')
      ++*skipped;
  }
  return false;
}

/* A member's slices as the public iterator gives them. */
STP__INLINE void scanned_slices(const scanned *sc, stp_baggage_member *m) {
  m->key = sc->key;
  m->key_len = sc->key_len;
  m->value = sc->key + sc->value_off;
  m->value_len = sc->value_len;
  m->props = sc->key + sc->props_off;
  m->props_len = sc->props_len;
}

/* stp_baggage_iter_next, with the member as the scanner found it. */
bool stp__baggage_next(stp_baggage_iter *it, scanned *m);

#endif /* STP_SCAN_H */
