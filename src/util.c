/* Small helpers shared by the core. */
#include "internal.h"

bool stp__name_eq_folded(const char *name, const char *lower, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c + ('a' - 'A'));
    if (c != (unsigned char)lower[i])
      return false;
  }
  return true;
}

bool stp__has_ctl(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (stp__is_ctl((unsigned char)s[i]))
      return true;
  return false;
}

static double pow10_of(int e) {
  /* Powers up to 1e22 are exact doubles. */
  static const double exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  double r = 1.0;
  while (e > 22) {
    r *= 1e22;
    e -= 22;
  }
  return r * exact[e];
}

int stp__parse_decimal(double *out, const char *s, size_t len) {
  size_t i = 0;
  uint64_t mant = 0;
  int digits = 0, exp10 = 0;
  bool any = false;

  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, any = true) {
    if (digits < 19) {
      mant = mant * 10 + (uint64_t)(s[i] - '0');
      if (mant != 0)
        digits++;
    } else {
      exp10++; /* digits past 19 only scale */
    }
  }
  if (i < len && s[i] == '.') {
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, any = true) {
      if (digits < 19) {
        mant = mant * 10 + (uint64_t)(s[i] - '0');
        if (mant != 0)
          digits++;
        exp10--;
      }
    }
  }
  if (!any)
    return STP_ERR_MALFORMED;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    bool neg = false, edig = false;
    int e = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      neg = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, edig = true)
      if (e < 10000)
        e = e * 10 + (s[i] - '0');
    if (!edig)
      return STP_ERR_MALFORMED;
    exp10 += neg ? -e : e;
  }
  if (i != len)
    return STP_ERR_MALFORMED;

  double v = (double)mant;
  if (mant == 0)
    v = 0.0;
  else if (exp10 >= 0)
    v = exp10 > 400 ? v * 1e308 * 1e308 : v * pow10_of(exp10);
  else
    v = -exp10 > 400 ? 0.0 : v / pow10_of(-exp10);
  *out = v;
  return STP_OK;
}

int stp__finish(stp__buf *b, size_t *out_len) {
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
