/* Runs the baggage member scanner (src/scan.h) over one input in each of
 * its ways: one byte at a time and 16 bytes at a time, over the input as
 * it is and over a copy followed by its pad (as a context scans in its
 * store). All must find the same members, the same slices and the same
 * skipped count, and stop at the same places; both as the iterator scans
 * (Sentry members with their properties) and as a context does (without
 * them). */
#include "tests/scan_agree.h"

#include <stdlib.h>

#include "src/scan.h"

enum { WAYS = 4 };

/* One scan: where it reads, and what it has found so far. */
typedef struct {
  const char *base, *pos, *end;
  size_t skipped;
  scanned m;
} way;

static bool next(way *w, enum isa isa, enum pad pad, enum props keep) {
  return next_member(&w->pos, w->end, &w->m, &w->skipped, SIZE_MAX, isa, pad,
                     keep);
}

#ifdef STP__HAVE_SSSE3
STP__SSSE3_FN static bool next_16(way *w, enum pad pad, enum props keep) {
  return next_member(&w->pos, w->end, &w->m, &w->skipped, SIZE_MAX, ISA_SSSE3,
                     pad, keep);
}
#endif

/* At the same place of its input, with the same skipped count. */
static bool same_place(const way *a, const way *b) {
  return a->pos - a->base == b->pos - b->base && a->skipped == b->skipped;
}

/* The same member: the same place and slices. */
static bool same_member(const way *a, const way *b) {
  return a->m.key - a->base == b->m.key - b->base && a->m.len == b->m.len &&
         a->m.key_len == b->m.key_len && a->m.value_off == b->m.value_off &&
         a->m.value_len == b->m.value_len && a->m.props_off == b->m.props_off &&
         a->m.props_len == b->m.props_len && a->m.plain == b->m.plain;
}

int stp_test_scans_agree(const char *in, size_t len, size_t *members) {
#ifdef STP__HAVE_SSSE3
  if (stp__scan_isa() != ISA_SSSE3)
    return -1;
  char *padded = malloc(len + 16);
  if (!padded)
    return 0;
  if (len)
    memcpy(padded, in, len);
  memset(padded + len, 0, 16);
  int result = 1;
  *members = 0;
  for (int k = 0; k < 2 && result; k++) {
    enum props keep = k == 0 ? KEEP_PROPS : DSC_WITHOUT_PROPS;
    way w[WAYS];
    for (int i = 0; i < WAYS; i++) {
      const char *base = i < 2 ? in : padded;
      w[i] = (way){base, base, base + len, 0, {0}};
    }
    size_t found = 0;
    for (;;) {
      bool got[WAYS] = {next(&w[0], ISA_PORTABLE, UNPADDED, keep),
                        next_16(&w[1], UNPADDED, keep),
                        next(&w[2], ISA_PORTABLE, PADDED, keep),
                        next_16(&w[3], PADDED, keep)};
      bool agree = true;
      for (int i = 1; i < WAYS; i++)
        agree = agree && got[i] == got[0] && same_place(&w[i], &w[0]) &&
                (!got[0] || same_member(&w[i], &w[0]));
      if (!agree) {
        result = 0;
        break;
      }
      if (!got[0])
        break;
      found++;
    }
    if (k == 0)
      *members = found;
    else if (found != *members)
      result = 0; /* dropping properties never changes which are members */
  }
  free(padded);
  return result;
#else
  (void)in;
  (void)len;
  (void)members;
  return -1;
#endif
}
