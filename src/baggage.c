/* W3C baggage: member iterator and percent-coding (SPEC section 4). */
#include "scan.h"

void stp_baggage_iter_init(stp_baggage_iter *it, const char *value,
                           size_t len) {
  it->pos = value;
  it->end = value ? value + len : value;
  it->skipped = 0;
}

/* ---- the scanner's instruction set (scan.h) ------------------------------ */

_Atomic int stp__scan_isa_chosen;

#ifdef STP__HAVE_SSSE3
#include <pthread.h>

uint8_t stp__nibbles[RUN_COUNT][2][16];
static pthread_once_t scan_once = PTHREAD_ONCE_INIT;

/* Builds the tables, then publishes the choice: a thread that reads it
 * (acquire) sees the tables. */
static void choose_isa(void) {
  for (int r = RUN_KEY; r < RUN_COUNT; r++)
    for (unsigned h = 0; h < 8; h++) {
      stp__nibbles[r][1][h] = (uint8_t)(1u << h);
      for (unsigned l = 0; l < 16; l++)
        if (in_run((unsigned char)(h << 4 | l), (enum run)r))
          stp__nibbles[r][0][l] |= (uint8_t)(1u << h);
    }
  __builtin_cpu_init();
  enum isa isa = __builtin_cpu_supports("ssse3") ? ISA_SSSE3 : ISA_PORTABLE;
  atomic_store_explicit(&stp__scan_isa_chosen, 1 + (int)isa,
                        memory_order_release);
}

enum isa stp__scan_isa_choose(void) {
  pthread_once(&scan_once, choose_isa);
  return (enum isa)(
      atomic_load_explicit(&stp__scan_isa_chosen, memory_order_acquire) - 1);
}

STP__SSSE3_FN static bool next_ssse3(stp_baggage_iter *it, scanned *m) {
  return next_member(&it->pos, it->end, m, &it->skipped, SIZE_MAX, ISA_SSSE3,
                     UNPADDED, KEEP_PROPS);
}
#else
enum isa stp__scan_isa_choose(void) {
  atomic_store_explicit(&stp__scan_isa_chosen, 1 + (int)ISA_PORTABLE,
                        memory_order_relaxed);
  return ISA_PORTABLE;
}
#endif

bool stp__baggage_next(stp_baggage_iter *it, scanned *m) {
#ifdef STP__HAVE_SSSE3
  if (stp__scan_isa() == ISA_SSSE3)
    return next_ssse3(it, m);
#endif
  return next_member(&it->pos, it->end, m, &it->skipped, SIZE_MAX, ISA_PORTABLE,
                     UNPADDED, KEEP_PROPS);
}

bool stp_baggage_iter_next(stp_baggage_iter *it, stp_baggage_member *m) {
  scanned sc;
  if (!stp__baggage_next(it, &sc))
    return false;
  scanned_slices(&sc, m);
  return true;
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

int stp_baggage_decode(char *buf, size_t cap, size_t *out_len, const char *in,
                       size_t len) {
  if ((!in && len) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  stp__buf out = {buf, cap, 0};
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    unsigned char c = next_byte(in, len, &j);
    if (c < 0x80) {
      stp__putc(&out, (char)c);
      i = j;
      continue;
    }
    /* Decode as many bytes as the longest character takes, judge them,
     * and go on after those that made the character (or its maximal
     * invalid prefix): the others are decoded again. */
    char seq[4] = {(char)c};
    size_t after[4] = {j}, n = 1;
    for (; n < 4 && after[n - 1] < len; n++) {
      after[n] = after[n - 1];
      seq[n] = (char)next_byte(in, len, &after[n]);
    }
    bool valid;
    size_t used = stp_utf8_char_len(&valid, seq, n);
    if (valid)
      stp__put(&out, seq, used);
    else
      stp__put(&out, replacement, 3);
    i = after[used - 1];
  }
  return stp__finish(&out, out_len);
}

int stp_baggage_encode(char *buf, size_t cap, size_t *out_len, const char *in,
                       size_t len) {
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
