/* Small helpers shared by the core. */
#include "internal.h"

bool stp_header_name_equal(const char *a, size_t a_len, const char *b,
                           size_t b_len) {
  if (a_len != b_len)
    return false;
  for (size_t i = 0; i < a_len; i++)
    if (stp__lower((unsigned char)a[i]) != stp__lower((unsigned char)b[i]))
      return false;
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

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The form "0.dddddd" that stp and the Python SDK write for sample_rand,
 * read as one 8-byte word: its first byte is the word's lowest. */
static bool six_decimals(double *out, const char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  if ((w & 0xffff) != 0x2e30) /* "0." */
    return false;
  w = (w & ~(uint64_t)0xffff) | 0x3030; /* now "00dddddd" */
  const uint64_t high = 0xf0f0f0f0f0f0f0f0u;
  /* A byte is a digit when its high nibble is 3, and still is once 6 is
   * added (0x3a and up become 0x40 and up). The lowest byte that is not
   * a digit fails whatever the bytes above it carry. */
  if (((w & high) | (((w + 0x0606060606060606u) & high) >> 4)) !=
      0x3333333333333333u)
    return false;
  uint64_t v = w - 0x3030303030303030u; /* digit values, first lowest */
  v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffu;   /* 4 pairs of digits */
  v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffu; /* 2 groups of four */
  uint64_t k = (v & 0xffff) * 10000 + (v >> 32);
  *out = (double)k / 1e6; /* both exact: one correctly rounded division */
  return true;
}
#endif

STP__HOT int stp__parse_decimal(double *out, const char *s, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (len == 8 && six_decimals(out, s))
    return STP_OK;
#endif
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
