/* Propagation written by hand with the checks docs/SPEC.md asks for, and
 * nothing of stp: the yardstick of h2_bench_server --mode checked, for
 * what those checks cost when written plainly (byte loops over a class
 * table, no SIMD).
 *
 * It takes in the trace headers of a service with the default options:
 * `sentry-trace` (section 2: OWS, folded values, the first valid one,
 * upper case hex, all-zero ids) and `baggage` (section 4: the member and
 * property grammar, OWS, the member and byte bounds, a repeated Sentry
 * key's first occurrence). Continuing (section 5), it keeps the Sentry
 * members, without their properties, as the DSC to pass on as received;
 * it reuses a valid `sentry-sample_rand` (a plain decimal in [0, 1)) or
 * draws one, in the range the decision and `sentry-sample_rate` give. It
 * leaves out what the reference request never meets and the default
 * options never do: `traceparent`, a configured org id, third-party
 * members (not passed on by default), a head's DSC from options, and a
 * sample_rand readable only once percent-decoded. */
#ifndef STP_BENCH_CHECKED_H
#define STP_BENCH_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The bounds of docs/SPEC.md, as stp sets them (stp.h). */
enum {
  CHECKED_BAGGAGE_MAX = 8192, /* DSC bytes kept and sent */
  CHECKED_MEMBERS_MAX = 64,   /* DSC members kept and sent */
  CHECKED_SCAN_BYTES = 32768, /* baggage bytes examined */
  CHECKED_SCAN_MEMBERS = 512, /* baggage members examined, valid or not */
  CHECKED_TRACE_SCAN = 1024,  /* bytes of a sentry-trace value examined */
  CHECKED_TRACE_VALUES = 16,  /* sentry-trace values examined */
};

typedef struct checked {
  bool have_trace;
  uint8_t trace_values;
  char flag; /* '1', '0', or 0: deferred */
  char trace_id[32], parent_id[16];
  /* The DSC: Sentry members as received, "key=value" joined by ','. */
  uint16_t n_dsc, examined;
  uint16_t key_at[CHECKED_MEMBERS_MAX], key_len[CHECKED_MEMBERS_MAX];
  size_t dsc_len, bytes_seen;
  char dsc[CHECKED_BAGGAGE_MAX];
  /* The outgoing `sentry-trace` of a child span. */
  char sentry_trace[51 + 1];
} checked;

/* The class table; once, before any other call. */
void checked_init(void);

void checked_begin(checked *c);

/* One request header (lowercase name, as HTTP/2 gives it). */
void checked_header(checked *c, const uint8_t *name, size_t namelen,
                    const uint8_t *value, size_t valuelen);

/* After the headers: decides, and writes the child's `sentry-trace`
 * (c->sentry_trace) and the outgoing baggage (c->dsc, c->dsc_len). A
 * request without a valid trace starts a new one, with only a
 * `sentry-trace_id` and `sentry-sample_rand` in its DSC. *rng is the
 * caller's xorshift state for ids and draws. */
void checked_finish(checked *c, uint64_t *rng);

#endif /* STP_BENCH_CHECKED_H */
