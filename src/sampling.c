/* sample_rand: drawing it so that it agrees with a decision, and storing
 * it in the DSC (SPEC section 5). */
#include "context.h"

/* The smallest k with k / 1e6 >= rate: draws below it are sampled. */
static uint32_t rate_cut(double rate) {
  if (!(rate > 0))
    return 0;
  if (rate >= 1)
    return STP__RAND_SCALE;
  uint32_t k = (uint32_t)(rate * STP__RAND_SCALE);
  while (k > 0 && (double)(k - 1) / STP__RAND_SCALE >= rate)
    k--;
  while ((double)k / STP__RAND_SCALE < rate)
    k++;
  return k;
}

uint32_t stp__draw_rand(stp_sampled sampled, bool has_rate, double rate) {
  if (has_rate && sampled != STP_SAMPLED_DEFERRED) {
    uint32_t cut = rate_cut(rate);
    if (sampled == STP_SAMPLED_YES && cut > 0)
      return stp__random_range(0, cut);
    if (sampled == STP_SAMPLED_NO && cut < STP__RAND_SCALE)
      return stp__random_range(cut, STP__RAND_SCALE);
  }
  return stp__random_range(0, STP__RAND_SCALE);
}

int stp__add_sample_rand(stp__ctx *ctx, uint32_t k) {
  char txt[8] = {'0', '.'};
  for (int i = 7; i >= 2; i--) {
    txt[i] = (char)('0' + k % 10);
    k /= 10;
  }
  return stp__member_add(ctx, STP__KEY("sentry-sample_rand"), txt, 8, true);
}
