/* Runs the baggage member scanner (src/scan.h) over one input with both of
 * its paths, one byte at a time and 16 bytes at a time, and compares what
 * they find. */
#include "tests/scan_agree.h"

#include "src/scan.h"

static int same(const stp_baggage_member *a, const stp_baggage_member *b) {
  return a->key == b->key && a->key_len == b->key_len && a->value == b->value &&
         a->value_len == b->value_len && a->props == b->props &&
         a->props_len == b->props_len;
}

#ifdef STP__HAVE_SSSE3
STP__SSSE3_FN static int next_16(stp_baggage_iter *it, stp_baggage_member *m) {
  return stp__baggage_next(it, m, ISA_SSSE3);
}
#endif

int stp_test_scans_agree(const char *in, size_t len, size_t *members) {
#ifdef STP__HAVE_SSSE3
  if (stp__scan_isa() != ISA_SSSE3)
    return -1;
  stp_baggage_iter one, sixteen;
  stp_baggage_member a, b;
  stp_baggage_iter_init(&one, in, len);
  stp_baggage_iter_init(&sixteen, in, len);
  *members = 0;
  for (;;) {
    int got_a = stp__baggage_next(&one, &a, ISA_PORTABLE);
    int got_b = next_16(&sixteen, &b);
    if (got_a != got_b || one.skipped != sixteen.skipped ||
        one.pos != sixteen.pos)
      return 0;
    if (!got_a)
      return 1;
    if (!same(&a, &b))
      return 0;
    ++*members;
  }
#else
  (void)in;
  (void)len;
  (void)members;
  return -1;
#endif
}
