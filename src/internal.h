/* Declarations shared by the core's source files; not installed. */
#ifndef STP_INTERNAL_H
#define STP_INTERNAL_H

#include <string.h>

#include "stp/stp.h"

/* A string literal as the (pointer, length) pair of an input. */
#define STP__KEY(lit) lit, (sizeof(lit) - 1)

/* Function attributes, for gcc and clang; other compilers get none.
 * STP__INLINE: always inlined. STP__NOINLINE: never. STP__COLD: runs
 * rarely (once per thread, on an error): kept out of line, away from the
 * code that calls it, whose fast path then needs no registers saved for
 * it. STP__HOT: on the path of every request: grouped with the others in
 * the text section, so that together they take fewer cache lines.
 * STP__UNUSED: a static function of a header that a file may not use. */
#if defined(__GNUC__)
#define STP__INLINE static inline __attribute__((always_inline))
#define STP__NOINLINE __attribute__((noinline))
#define STP__COLD __attribute__((noinline, cold))
#define STP__HOT __attribute__((hot))
#define STP__UNUSED __attribute__((unused))
#else
#define STP__INLINE static inline
#define STP__NOINLINE
#define STP__COLD
#define STP__HOT
#define STP__UNUSED
#endif

/* The bits of a 64-bit set: the index of the lowest and of the highest
 * set bit (x not 0), and how many are set. Builtins with gcc and clang;
 * the loops below elsewhere (tests/bits_test compares the two). */
static inline unsigned stp__lowest_bit_loop(uint64_t x) {
  unsigned i = 0;
  for (; !(x & 1); x >>= 1)
    i++;
  return i;
}

static inline unsigned stp__highest_bit_loop(uint64_t x) {
  unsigned i = 0;
  while (x >>= 1)
    i++;
  return i;
}

static inline unsigned stp__bit_count_loop(uint64_t x) {
  unsigned n = 0;
  for (; x; x &= x - 1)
    n++;
  return n;
}

#if defined(__GNUC__)
static inline unsigned stp__lowest_bit(uint64_t x) {
  return (unsigned)__builtin_ctzll(x);
}
static inline unsigned stp__highest_bit(uint64_t x) {
  return 63u - (unsigned)__builtin_clzll(x);
}
static inline unsigned stp__bit_count(uint64_t x) {
  return (unsigned)__builtin_popcountll(x);
}
#else
#define stp__lowest_bit stp__lowest_bit_loop
#define stp__highest_bit stp__highest_bit_loop
#define stp__bit_count stp__bit_count_loop
#endif

/* Character classes (chars.c). */
enum {
  STP__TCHAR = 1,  /* RFC 7230 token character: a baggage key */
  STP__BOCTET = 2, /* W3C baggage-octet: written raw in a value */
};
extern const uint8_t stp__cclass[256];

/* Hex digit table: 0x10 | value for a digit, 0x20 more for A-F, 0 else. */
enum { STP__HEX_DIGIT = 0x10, STP__HEX_UPPER = 0x20 };
extern const uint8_t stp__hex[256];
extern const char stp__hex_upper[16];
extern const char stp__hex_pairs[513]; /* "000102...ff" */

/* SSE2 (every x86-64) decodes 16 hex digits at a time; STP_NO_SIMD, or
 * another target, leaves only the one-byte-at-a-time path. */
#if defined(__SSE2__) && !defined(STP_NO_SIMD)
#define STP__SSE2 1
#include <emmintrin.h>

/* 16 hex digits at s into 8 bytes at out. Returns the table bits of
 * stp__hex_decode for them. Reads exactly the 16 bytes. */
static inline uint8_t stp__hex_decode16(uint8_t *out, const char *s,
                                        bool upper) {
  const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
  const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
  /* Signed compares: bytes of 0x80 and up are negative, so in neither. */
  const __m128i digit =
      _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                    _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i letter =
      _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                    _mm_cmplt_epi8(folded, _mm_set1_epi8('f' + 1)));
  /* A digit's value is its low nibble; a letter's is its low nibble + 9. */
  const __m128i nibble = _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x0f)),
                                      _mm_and_si128(letter, _mm_set1_epi8(9)));
  /* Each 16-bit lane holds two digits, first in its low byte: make the
   * low byte first << 4 | second, then narrow the lanes to bytes. */
  const __m128i pairs = _mm_or_si128(
      _mm_and_si128(_mm_slli_epi16(nibble, 4), _mm_set1_epi16(0x00f0)),
      _mm_srli_epi16(nibble, 8));
  _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(pairs, pairs));
  uint8_t bits = 0;
  if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) == 0xffff)
    bits |= STP__HEX_DIGIT;
  if (upper && _mm_movemask_epi8(_mm_and_si128(
                   letter, _mm_cmplt_epi8(v, _mm_set1_epi8('a')))))
    bits |= STP__HEX_UPPER;
  return bits;
}
#endif

/* Decodes 2 * n hex digits into n bytes. Returns the table bits of all the
 * digits: STP__HEX_DIGIT when every one was a hex digit and, only when
 * `upper`, STP__HEX_UPPER when any was A-F (`upper` is a constant where
 * this is inlined, so callers that take either case leave the check out).
 * Reads exactly the 2 * n bytes. */
static inline uint8_t stp__hex_decode(uint8_t *out, const char *s, size_t n,
                                      bool upper) {
  uint8_t all = STP__HEX_DIGIT, any = 0;
#ifdef STP__SSE2
  for (; n >= 8; n -= 8, s += 16, out += 8) {
    uint8_t bits = stp__hex_decode16(out, s, upper);
    all &= bits;
    any |= bits;
  }
#endif
  for (size_t i = 0; i < n; i++) {
    uint8_t hi = stp__hex[(unsigned char)s[2 * i]];
    uint8_t lo = stp__hex[(unsigned char)s[2 * i + 1]];
    all &= hi & lo;
    any |= hi | lo;
    out[i] = (uint8_t)((hi << 4) | (lo & 15)); /* hi's flags shift out */
  }
  return (uint8_t)((all & STP__HEX_DIGIT) | (upper ? any & STP__HEX_UPPER : 0));
}

/* Whether 2 * n hex digits, either case, decode into n bytes. */
static inline bool stp__hex_digits(uint8_t *out, const char *s, size_t n) {
  return stp__hex_decode(out, s, n, false) & STP__HEX_DIGIT;
}

#ifdef STP__SSE2
/* The 16 lowercase hex digits of the 8 bytes at b, to p. */
static inline void stp__hex_put8(char *p, const uint8_t *b) {
  const __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)b);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i nibbles =
      _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), low4),
                        _mm_and_si128(v, low4)); /* high, low, high, ... */
  /* '0' + n, and 'a' - '0' - 10 more for the nibbles above 9. */
  const __m128i letters = _mm_and_si128(
      _mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  _mm_storeu_si128(
      (__m128i *)(void *)p,
      _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters));
}
#endif

/* Writes the 2 * n lowercase hex digits of n bytes; returns their end. */
static inline char *stp__hex_put(char *p, const uint8_t *bytes, size_t n) {
#ifdef STP__SSE2
  for (; n >= 8; n -= 8, bytes += 8, p += 16)
    stp__hex_put8(p, bytes);
#endif
  for (size_t i = 0; i < n; i++, p += 2)
    memcpy(p, stp__hex_pairs + 2 * bytes[i], 2);
  return p;
}

static inline bool stp__all_zero(const uint8_t *b, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; n - i >= 8; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    acc |= w;
  }
  for (; i < n; i++)
    acc |= b[i];
  return acc == 0;
}

static inline bool stp__is_ows(char c) {
  return c == ' ' || c == '\t';
}

static inline bool stp__is_ctl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

static inline unsigned char stp__lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Strip spaces and tabs on both sides of [*s, *s + *len). */
static inline void stp__trim(const char **s, size_t *len) {
  const char *p = *s;
  size_t n = *len;
  while (n > 0 && stp__is_ows(p[0])) {
    p++;
    n--;
  }
  while (n > 0 && stp__is_ows(p[n - 1]))
    n--;
  *s = p;
  *len = n;
}

/* ASCII case-insensitive comparison with a lowercase literal. The first
 * bytes are compared up to case first (most names differ there), then the
 * names as they are: HTTP/2 and gRPC names are lowercase, and with a
 * literal the compiler inlines that comparison. Then, rarely, up to case
 * (stp_header_name_equal). */
static inline bool stp__name_eq(const char *name, size_t len, const char *lower,
                                size_t lower_len) {
  return len == lower_len &&
         (len == 0 || ((unsigned char)name[0] | 0x20) ==
                          ((unsigned char)lower[0] | 0x20)) &&
         (memcmp(name, lower, len) == 0 ||
          stp_header_name_equal(name, len, lower, len));
}

bool stp__has_ctl(const char *s, size_t len);

/* Decimal number: digits [. digits] [e [+-] digits], or . digits. No sign,
 * no spaces, locale-independent. */
int stp__parse_decimal(double *out, const char *s, size_t len);

/* Uniform integer in [lo, hi), hi - lo <= 2^32. */
uint32_t stp__random_range(uint32_t lo, uint32_t hi);

/* A bounded writer: counts what does not fit so callers can report the
 * size needed. Every bounds check of formatted output lives here. */
typedef struct stp__buf {
  char *p;
  size_t cap;
  size_t len;
} stp__buf;

static inline void stp__put(stp__buf *b, const char *s, size_t n) {
  if (n > 0 && b->len < b->cap && b->cap - b->len >= n)
    memcpy(b->p + b->len, s, n);
  b->len += n;
}

static inline void stp__putc(stp__buf *b, char c) {
  if (b->len < b->cap)
    b->p[b->len] = c;
  b->len++;
}

/* NUL-terminate; STP_ERR_BUFFER_TOO_SMALL with *out_len = size needed
 * (terminator included) when it did not fit. */
static inline int stp__finish(stp__buf *b, size_t *out_len) {
  if (b->len >= b->cap) {
    if (out_len)
      *out_len = b->len + 1;
    return STP_ERR_BUFFER_TOO_SMALL;
  }
  b->p[b->len] = '\0';
  if (out_len)
    *out_len = b->len;
  return STP_OK;
}

/* The bytes of a context's member store, for tests that look inside it
 * (context.c). */
const char *stp__context_store(const stp_context *ctx, size_t *out_len);

#endif /* STP_INTERNAL_H */
