/* sentry-trace and W3C traceparent (SPEC sections 2 and 3). */
#include "internal.h"

/* Both ids decoded: neither may be zero. Records the decision. */
STP__INLINE int set_decision(stp_trace_header *out, stp_sampled sampled) {
  if (stp__all_zero(out->trace_id.bytes, 16) ||
      stp__all_zero(out->span_id.bytes, 8))
    return STP_ERR_ZERO_ID;
  out->sampled = sampled;
  out->trace_flags = sampled == STP_SAMPLED_YES ? 1 : 0;
  return STP_OK;
}

/* One trimmed, non-empty element: TRACE "-" SPAN [ "-" [FLAG] ]. */
static int parse_sentry_element(stp_trace_header *out, const char *s,
                                size_t n) {
  const char *dash = memchr(s, '-', n);
  if (!dash || dash == s)
    return STP_ERR_MALFORMED; /* no dashes, or no trace id */
  if (dash - s != STP_TRACE_ID_HEX_LEN ||
      !stp__hex_digits(out->trace_id.bytes, s, 16))
    return STP_ERR_TRACE_ID;

  const char *span = dash + 1, *end = s + n;
  const char *dash2 = memchr(span, '-', (size_t)(end - span));
  const char *span_end = dash2 ? dash2 : end;
  if (span_end == span)
    return STP_ERR_MALFORMED; /* no span id */
  if (span_end - span != STP_SPAN_ID_HEX_LEN ||
      !stp__hex_digits(out->span_id.bytes, span, 8))
    return STP_ERR_SPAN_ID;

  stp_sampled sampled = STP_SAMPLED_DEFERRED;
  if (dash2) {
    const char *flag = dash2 + 1;
    size_t flag_len = (size_t)(end - flag);
    if (flag_len == 1 && (flag[0] == '0' || flag[0] == '1'))
      sampled = flag[0] == '1' ? STP_SAMPLED_YES : STP_SAMPLED_NO;
    else if (flag_len > 1 && (flag[0] == '0' || flag[0] == '1'))
      return STP_ERR_MALFORMED; /* trailing bytes after the flag */
    else if (flag_len != 0)
      return STP_ERR_SAMPLED_FLAG;
  }
  return set_decision(out, sampled);
}

/* The usual value, all of it checked at fixed places: 32 hex digits, '-',
 * 16 hex digits, then nothing or "-0" / "-1", and neither id zero. Any
 * other value, valid or not, is left to the element-by-element parse,
 * which also names what is wrong. */
static bool parse_usual(stp_trace_header *out, const char *s, size_t n) {
  if (n != 49 && !(n == 51 && s[49] == '-' && (s[50] == '0' || s[50] == '1')))
    return false;
  if (s[32] != '-' || !stp__hex_digits(out->trace_id.bytes, s, 16) ||
      !stp__hex_digits(out->span_id.bytes, s + 33, 8))
    return false;
  return set_decision(out, n == 49        ? STP_SAMPLED_DEFERRED
                           : s[50] == '1' ? STP_SAMPLED_YES
                                          : STP_SAMPLED_NO) == STP_OK;
}

STP__HOT int stp_sentry_trace_parse(stp_trace_header *out, const char *value,
                                    size_t len) {
  if (!out || (!value && len))
    return STP_ERR_INVALID_ARGUMENT;
  if (len == 0) {
    memset(out, 0, sizeof *out);
    out->sampled = STP_SAMPLED_DEFERRED;
    return STP_ERR_EMPTY;
  }
  if (parse_usual(out, value, len))
    return STP_OK;

  bool cut = len > STP_SENTRY_TRACE_SCAN_MAX;
  const char *p = value, *end = value + (cut ? STP_SENTRY_TRACE_SCAN_MAX : len);
  int first_err = STP_ERR_EMPTY;

  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *e = comma ? comma : end;
    const char *s = p;
    size_t n = (size_t)(e - p);
    stp__trim(&s, &n);
    if (n > 0) {
      int err;
      if (!comma && cut)
        err = STP_ERR_TOO_LONG; /* the element runs past the scan bound */
      else if ((err = parse_sentry_element(out, s, n)) == STP_OK)
        return STP_OK;
      else if (stp__has_ctl(s, n))
        err = STP_ERR_CONTROL_CHAR;
      if (first_err == STP_ERR_EMPTY)
        first_err = err;
    }
    if (!comma)
      break;
    p = comma + 1;
  }
  memset(out, 0, sizeof *out);
  out->sampled = STP_SAMPLED_DEFERRED;
  return first_err;
}

/* PREFIX TRACE "-" SPAN SUFFIX, the prefix and suffix at most 3 bytes. */
STP__INLINE int format_ids(char *buf, size_t cap, size_t *out_len,
                           const stp_trace_id *trace_id,
                           const stp_span_id *span_id, const char *prefix,
                           size_t pre, const char *suffix, size_t suf) {
  size_t need = pre + 32 + 1 + 16 + suf;
  if (!buf && cap)
    return STP_ERR_INVALID_ARGUMENT;
  if (cap < need + 1) {
    if (out_len)
      *out_len = need + 1;
    return STP_ERR_BUFFER_TOO_SMALL;
  }
  char *p = buf;
  for (size_t i = 0; i < pre; i++) /* at most 3 bytes: no call */
    *p++ = prefix[i];
  p = stp__hex_put(p, trace_id->bytes, 16);
  *p++ = '-';
  p = stp__hex_put(p, span_id->bytes, 8);
  for (size_t i = 0; i < suf; i++)
    *p++ = suffix[i];
  *p = '\0';
  if (out_len)
    *out_len = need;
  return STP_OK;
}

STP__HOT int stp_sentry_trace_format(char *buf, size_t cap, size_t *out_len,
                                     const stp_trace_id *trace_id,
                                     const stp_span_id *span_id,
                                     stp_sampled sampled) {
  if (!trace_id || !span_id)
    return STP_ERR_INVALID_ARGUMENT;
  if (sampled != STP_SAMPLED_DEFERRED && sampled != STP_SAMPLED_YES &&
      sampled != STP_SAMPLED_NO)
    return STP_ERR_INVALID_ARGUMENT;
  const char *suffix = sampled == STP_SAMPLED_YES ? "-1" : "-0";
  return format_ids(buf, cap, out_len, trace_id, span_id, "", 0, suffix,
                    sampled == STP_SAMPLED_DEFERRED ? 0 : 2);
}

int stp_traceparent_format(char *buf, size_t cap, size_t *out_len,
                           const stp_trace_id *trace_id,
                           const stp_span_id *span_id, stp_sampled sampled) {
  if (!trace_id || !span_id)
    return STP_ERR_INVALID_ARGUMENT;
  return format_ids(buf, cap, out_len, trace_id, span_id, "00-", 3,
                    sampled == STP_SAMPLED_YES ? "-01" : "-00", 3);
}

/* Lowercase hex only; the error names the part. */
static int tp_hex(uint8_t *out, const char *s, size_t nbytes, int err) {
  uint8_t bits = stp__hex_decode(out, s, nbytes, true);
  if (!(bits & STP__HEX_DIGIT))
    return err;
  return bits & STP__HEX_UPPER ? STP_ERR_UPPERCASE : STP_OK;
}

static int parse_traceparent(stp_trace_header *out, const char *s, size_t n) {
  uint8_t version, flags;
  int err;
  if (n < 2)
    return STP_ERR_MALFORMED;
  if ((err = tp_hex(&version, s, 1, STP_ERR_VERSION)) != STP_OK)
    return err;
  if (version == 0xff)
    return STP_ERR_VERSION;
  if (n < STP_TRACEPARENT_LEN)
    return STP_ERR_MALFORMED;
  if (version == 0 && n > STP_TRACEPARENT_LEN)
    return STP_ERR_TOO_LONG;
  if (n > STP_TRACEPARENT_LEN && s[STP_TRACEPARENT_LEN] != '-')
    return STP_ERR_MALFORMED;
  if (s[2] != '-' || s[35] != '-' || s[52] != '-')
    return STP_ERR_MALFORMED;
  if ((err = tp_hex(out->trace_id.bytes, s + 3, 16, STP_ERR_TRACE_ID)) ||
      (err = tp_hex(out->span_id.bytes, s + 36, 8, STP_ERR_SPAN_ID)) ||
      (err = tp_hex(&flags, s + 53, 1, STP_ERR_FLAGS)))
    return err;
  if (stp__all_zero(out->trace_id.bytes, 16) ||
      stp__all_zero(out->span_id.bytes, 8))
    return STP_ERR_ZERO_ID;
  out->trace_flags = flags;
  /* Only a set sampled bit is a decision: OpenTelemetry sends 00 for
   * undecided spans too. */
  out->sampled = (flags & 1) ? STP_SAMPLED_YES : STP_SAMPLED_DEFERRED;
  return STP_OK;
}

int stp_traceparent_parse(stp_trace_header *out, const char *value,
                          size_t len) {
  if (!out || (!value && len))
    return STP_ERR_INVALID_ARGUMENT;
  const char *s = value;
  size_t n = len;
  int err;
  if (len > STP_SENTRY_TRACE_SCAN_MAX) {
    err = STP_ERR_TOO_LONG; /* not looked at past the bound */
    n = STP_SENTRY_TRACE_SCAN_MAX;
  } else {
    stp__trim(&s, &n);
    err = n == 0 ? STP_ERR_EMPTY : parse_traceparent(out, s, n);
    if (err == STP_OK)
      return STP_OK;
  }
  if (err != STP_ERR_EMPTY && stp__has_ctl(s, n))
    err = STP_ERR_CONTROL_CHAR;
  memset(out, 0, sizeof *out);
  out->sampled = STP_SAMPLED_DEFERRED;
  return err;
}
