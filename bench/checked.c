/* Propagation by hand with the checks of docs/SPEC.md (checked.h). */
#include "bench/checked.h"

#include <stdlib.h>
#include <string.h>

enum { TCHAR = 1, BOCTET = 2, OWS = 4, HEX = 8 };

static uint8_t cls[256];

void checked_init(void) {
  for (int c = 0; c < 256; c++) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z');
    if (alnum || (c && strchr("!#$%&'*+-.^_`|~", c)))
      cls[c] |= TCHAR;
    if (c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\')
      cls[c] |= BOCTET;
    if (c == ' ' || c == '\t')
      cls[c] |= OWS;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
        (c >= 'A' && c <= 'F'))
      cls[c] |= HEX;
  }
}

static const uint8_t *skip(const uint8_t *p, const uint8_t *end, uint8_t in) {
  while (p < end && (cls[*p] & in))
    p++;
  return p;
}

void checked_begin(checked *c) {
  c->have_trace = false;
  c->trace_values = 0;
  c->n_dsc = 0;
  c->examined = 0;
  c->dsc_len = 0;
  c->bytes_seen = 0;
}

/* ---- sentry-trace ------------------------------------------------------ */

/* n hex digits at v, lowercased into out; false when one is not hex or
 * all are zero. */
static bool hex_id(char *out, const uint8_t *v, size_t n) {
  uint8_t any = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(cls[v[i]] & HEX))
      return false;
    out[i] = (char)(v[i] | 0x20); /* digits have the bit already */
    any |= v[i] ^ '0';
  }
  return any != 0;
}

/* One element, OWS trimmed: T-S, T-S- or T-S-F. */
static bool trace_element(checked *c, const uint8_t *v, size_t n) {
  if (n < 49 || n > 51 || v[32] != '-' || (n >= 50 && v[49] != '-'))
    return false;
  char flag = n == 51 ? (char)v[50] : 0;
  if (n == 51 && flag != '0' && flag != '1')
    return false;
  if (!hex_id(c->trace_id, v, 32) || !hex_id(c->parent_id, v + 33, 16))
    return false;
  c->flag = flag;
  return true;
}

/* The first valid element of a value, in its first CHECKED_TRACE_SCAN
 * bytes (an element the bound cuts is not). */
static void trace_header(checked *c, const uint8_t *v, size_t n) {
  if (c->have_trace || c->trace_values == CHECKED_TRACE_VALUES)
    return;
  c->trace_values++;
  bool cut = n > CHECKED_TRACE_SCAN;
  const uint8_t *end = v + (cut ? CHECKED_TRACE_SCAN : n);
  while (!c->have_trace && v <= end) {
    const uint8_t *comma = memchr(v, ',', (size_t)(end - v));
    if (!comma && cut)
      break;
    const uint8_t *stop = comma ? comma : end;
    const uint8_t *a = skip(v, stop, OWS), *b = stop;
    while (b > a && (cls[b[-1]] & OWS))
      b--;
    c->have_trace = trace_element(c, a, (size_t)(b - a));
    if (!comma)
      break;
    v = comma + 1;
  }
}

/* ---- baggage ----------------------------------------------------------- */

/* The end of the member at p (its properties included) by the W3C grammar:
 * at ',' or end; NULL when malformed. Sets its key and value. */
static const uint8_t *member(const uint8_t *p, const uint8_t *end,
                             const uint8_t **key, size_t *klen,
                             const uint8_t **val, size_t *vlen) {
  *key = p;
  p = skip(p, end, TCHAR);
  *klen = (size_t)(p - *key);
  p = skip(p, end, OWS);
  if (*klen == 0 || p == end || *p != '=')
    return NULL;
  *val = p = skip(p + 1, end, OWS);
  p = skip(p, end, BOCTET);
  *vlen = (size_t)(p - *val);
  p = skip(p, end, OWS);
  while (p < end && *p == ';') {
    const uint8_t *name = p = skip(p + 1, end, OWS);
    p = skip(p, end, TCHAR);
    if (p == name)
      return NULL;
    p = skip(p, end, OWS);
    if (p < end && *p == '=')
      p = skip(skip(skip(p + 1, end, OWS), end, BOCTET), end, OWS);
  }
  return p == end || *p == ',' ? p : NULL;
}

static bool is_sentry(const uint8_t *k, size_t n) {
  return n >= 7 && memcmp(k, "sentry-", 7) == 0;
}

static int find_dsc(const checked *c, const void *key, size_t n) {
  for (int i = 0; i < c->n_dsc; i++)
    if (c->key_len[i] == n && memcmp(c->dsc + c->key_at[i], key, n) == 0)
      return i;
  return -1;
}

static void add_dsc(checked *c, const uint8_t *key, size_t klen,
                    const uint8_t *val, size_t vlen) {
  size_t need = (c->dsc_len ? 1 : 0) + klen + 1 + vlen;
  if (find_dsc(c, key, klen) >= 0 || c->n_dsc == CHECKED_MEMBERS_MAX ||
      c->dsc_len + need > CHECKED_BAGGAGE_MAX)
    return; /* the first wins; no room */
  char *o = c->dsc + c->dsc_len;
  if (c->dsc_len)
    *o++ = ',';
  c->key_at[c->n_dsc] = (uint16_t)(o - c->dsc);
  c->key_len[c->n_dsc++] = (uint16_t)klen;
  memcpy(o, key, klen);
  o[klen] = '=';
  memcpy(o + klen + 1, val, vlen);
  c->dsc_len += need;
}

static void baggage_header(checked *c, const uint8_t *v, size_t n) {
  size_t room = CHECKED_SCAN_BYTES - c->bytes_seen;
  bool cut = n > room;
  const uint8_t *p = v, *end = v + (cut ? room : n);
  c->bytes_seen += (size_t)(end - v);
  while (p < end && c->examined < CHECKED_SCAN_MEMBERS) {
    p = skip(p, end, OWS);
    if (p == end || *p == ',') { /* an empty list element */
      p += p < end;
      continue;
    }
    c->examined++;
    const uint8_t *key, *val;
    size_t klen, vlen;
    const uint8_t *stop = member(p, end, &key, &klen, &val, &vlen);
    if (!stop) { /* malformed: skipped */
      const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
      p = comma ? comma + 1 : end;
      continue;
    }
    if (cut && stop == end)
      break; /* perhaps cut short */
    if (is_sentry(key, klen))
      add_dsc(c, key, klen, val, vlen);
    p = stop + (stop < end);
  }
}

void checked_header(checked *c, const uint8_t *name, size_t namelen,
                    const uint8_t *value, size_t valuelen) {
  if (namelen == 12 && memcmp(name, "sentry-trace", 12) == 0)
    trace_header(c, value, valuelen);
  else if (namelen == 7 && memcmp(name, "baggage", 7) == 0)
    baggage_header(c, value, valuelen);
}

/* ---- deciding ---------------------------------------------------------- */

static uint64_t next(uint64_t *rng) {
  uint64_t x = *rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *rng = x;
}

static void hex64(char *out, uint64_t x) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, x >>= 4)
    out[i] = digits[x & 15];
}

/* The index of the DSC member with this key (a string literal), or -1;
 * *v and *len get its value. */
#define DSC_VALUE(c, key, v, len) dsc_value(c, key, sizeof key - 1, v, len)
static int dsc_value(const checked *c, const char *key, size_t klen,
                     const char **v, size_t *len) {
  int i = find_dsc(c, key, klen);
  if (i < 0)
    return -1;
  *v = c->dsc + c->key_at[i] + klen + 1;
  const char *comma = memchr(*v, ',', c->dsc_len - (size_t)(*v - c->dsc));
  *len = comma ? (size_t)(comma - *v) : c->dsc_len - (size_t)(*v - c->dsc);
  return i;
}

/* A plain decimal (digits, one optional '.', an optional exponent; no
 * sign): its value, or -1. "0.ddd", up to nine digits, is exact. */
static double decimal(const char *s, size_t n) {
  if (n >= 3 && n <= 11 && s[0] == '0' && s[1] == '.') {
    uint32_t k = 0, scale = 1;
    size_t i = 2;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale *= 10)
      k = k * 10 + (uint32_t)(s[i] - '0');
    if (i == n)
      return (double)k / scale;
  }
  size_t i = 0, digits = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
    digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      digits++;
  if (digits && i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = ++i < n && (s[i] == '+' || s[i] == '-') ? ++i : i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == e)
      return -1;
  }
  char buf[64];
  if (!digits || i != n || n >= sizeof buf)
    return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return strtod(buf, NULL);
}

/* Removes the DSC member i (an invalid sample_rand, to be replaced). */
static void remove_dsc(checked *c, int i) {
  size_t from = c->key_at[i], to = c->dsc_len;
  if (i + 1 < c->n_dsc)
    to = c->key_at[i + 1];
  else if (from)
    from--; /* the last one: its leading comma */
  size_t gone = to - from;
  memmove(c->dsc + from, c->dsc + to, c->dsc_len - to);
  c->dsc_len -= gone;
  for (int j = i; j + 1 < c->n_dsc; j++) {
    c->key_at[j] = (uint16_t)(c->key_at[j + 1] - gone);
    c->key_len[j] = c->key_len[j + 1];
  }
  c->n_dsc--;
}

/* Appends a sentry-sample_rand drawn in [lo, hi), at six decimals. */
static void draw_rand(checked *c, uint64_t *rng, double lo, double hi) {
  uint64_t a = (uint64_t)(lo * 1e6), b = (uint64_t)(hi * 1e6);
  if (a < lo * 1e6)
    a++;
  if (b < hi * 1e6)
    b++;
  if (a >= b)
    a = 0, b = 1000000;
  uint64_t k = a + next(rng) % (b - a);
  static const char key[] = "sentry-sample_rand";
  const size_t klen = sizeof key - 1;
  if (c->n_dsc == CHECKED_MEMBERS_MAX ||
      c->dsc_len + 1 + klen + 9 > CHECKED_BAGGAGE_MAX)
    return; /* no room: the members received stay */
  char *o = c->dsc + c->dsc_len;
  if (c->dsc_len)
    *o++ = ',';
  c->key_at[c->n_dsc] = (uint16_t)(o - c->dsc);
  c->key_len[c->n_dsc++] = (uint16_t)klen;
  memcpy(o, key, klen);
  memcpy(o + klen, "=0.", 3);
  for (int i = 5; i >= 0; i--, k /= 10)
    o[klen + 3 + i] = (char)('0' + k % 10);
  c->dsc_len = (size_t)(o + klen + 9 - c->dsc);
}

void checked_finish(checked *c, uint64_t *rng) {
  if (!c->have_trace) { /* a new trace: its own DSC */
    hex64(c->trace_id, next(rng));
    hex64(c->trace_id + 16, next(rng));
    c->flag = 0;
    memcpy(c->dsc, "sentry-trace_id=", 16);
    memcpy(c->dsc + 16, c->trace_id, 32);
    c->key_at[0] = 0;
    c->key_len[0] = 15;
    c->n_dsc = 1;
    c->dsc_len = 48;
    draw_rand(c, rng, 0, 1);
  } else {
    const char *v;
    size_t n;
    /* Without the flag, a sentry-sampled of the DSC decides. */
    if (!c->flag && DSC_VALUE(c, "sentry-sampled", &v, &n) >= 0)
      c->flag = n == 4 && memcmp(v, "true", 4) == 0    ? '1'
                : n == 5 && memcmp(v, "false", 5) == 0 ? '0'
                                                       : 0;
    int at = DSC_VALUE(c, "sentry-sample_rand", &v, &n);
    double r = at >= 0 ? decimal(v, n) : -1;
    if (!(r >= 0 && r < 1)) {
      if (at >= 0)
        remove_dsc(c, at);
      double p =
          DSC_VALUE(c, "sentry-sample_rate", &v, &n) >= 0 ? decimal(v, n) : -1;
      bool known = c->flag && p >= 0 && p <= 1;
      draw_rand(c, rng, known && c->flag == '0' ? p : 0,
                known && c->flag == '1' ? p : 1);
    }
  }
  uint64_t span;
  do
    span = next(rng);
  while (!span);
  char *o = c->sentry_trace;
  memcpy(o, c->trace_id, 32);
  o[32] = '-';
  hex64(o + 33, span);
  o[49] = '\0';
  if (c->flag) {
    o[49] = '-';
    o[50] = c->flag;
    o[51] = '\0';
  }
}
