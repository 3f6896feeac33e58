/* Shared checks for the fuzz targets. */
#ifndef STP_FUZZ_COMMON_H
#define STP_FUZZ_COMMON_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stp/stp.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* What every emitted header or metadata value must satisfy: printable
 * ASCII only (HTTP/2 and gRPC both accept it), so no CR, LF, NUL. */
static inline void check_header_value(const char *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    CHECK(v[i] >= 0x20 && v[i] < 0x7f);
}

/* Emitted baggage: within the output limits, every member valid. */
static inline void check_baggage_out(const char *v, size_t n) {
  check_header_value(v, n);
  CHECK(n <= STP_BAGGAGE_MAX_BYTES);
  stp_baggage_iter it;
  stp_baggage_member m;
  size_t members = 0;
  stp_baggage_iter_init(&it, v, n);
  while (stp_baggage_iter_next(&it, &m))
    members++;
  CHECK(it.skipped == 0);
  CHECK(members <= STP_BAGGAGE_MAX_MEMBERS);
  CHECK(n == 0 || members > 0);
}

/* Valid UTF-8 (what the decoder promises). */
static inline void check_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t k = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    CHECK(c < 0x80 || (c >= 0xc2 && c <= 0xf4));
    CHECK(i + k < n || k == 0);
    for (size_t j = 1; j <= k; j++)
      CHECK((s[i + j] & 0xc0) == 0x80);
    i += k + 1;
  }
}

/* FUZZ_* bits: the options a fuzz input picks. */
enum { FUZZ_STRICT = 1, FUZZ_TRACEPARENT = 2, FUZZ_THIRD_PARTY = 4 };

/* The config for those options, made once for each combination (they live
 * as long as the fuzzer). */
static inline stp_config *fuzz_config(unsigned bits) {
  static stp_config *configs[8];
  bits &= 7;
  if (!configs[bits]) {
    stp_options o;
    stp_options_init(&o);
    o.dsn =
        "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5";
    o.has_sample_rate = true;
    o.sample_rate = 0.25;
    o.strict_trace_continuation = bits & FUZZ_STRICT;
    o.propagate_traceparent = bits & FUZZ_TRACEPARENT;
    o.propagate_third_party_baggage = bits & FUZZ_THIRD_PARTY;
    CHECK(stp_config_new(&configs[bits], &o, NULL) == STP_OK);
  }
  return configs[bits];
}

/* A header list carrier over fuzzer-owned memory. */
typedef struct {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} fuzz_header;

typedef struct {
  fuzz_header h[64];
  size_t n;
  /* Copies of values set by inject. */
  char store[3][STP_BAGGAGE_MAX_BYTES + 64];
} fuzz_headers;

static inline int fuzz_foreach(void *user, stp_header_fn fn, void *arg) {
  fuzz_headers *hs = user;
  for (size_t i = 0; i < hs->n; i++) {
    int rc = fn(arg, hs->h[i].name, hs->h[i].name_len, hs->h[i].value,
                hs->h[i].value_len);
    if (rc)
      return rc;
  }
  return 0;
}

static inline int fuzz_set(void *user, const char *name, size_t name_len,
                           const char *value, size_t value_len) {
  fuzz_headers *hs = user;
  static const char *const names[3] = {"sentry-trace", "baggage",
                                       "traceparent"};
  int slot = -1;
  for (int i = 0; i < 3; i++)
    if (strlen(names[i]) == name_len && !memcmp(names[i], name, name_len))
      slot = i;
  CHECK(slot >= 0); /* only these three names are ever set */
  size_t w = 0;
  for (size_t i = 0; i < hs->n; i++) /* remove every value of the name */
    if (!(hs->h[i].name_len == name_len &&
          !strncasecmp(hs->h[i].name, name, name_len)))
      hs->h[w++] = hs->h[i];
  hs->n = w;
  if (!value)
    return 0;
  CHECK(value_len < sizeof hs->store[slot]);
  check_header_value(value, value_len);
  memcpy(hs->store[slot], value, value_len);
  if (hs->n == 64)
    return STP_ERR_LIMIT;
  hs->h[hs->n++] =
      (fuzz_header){names[slot], name_len, hs->store[slot], value_len};
  return 0;
}

/* Split the fuzzer input into headers: each header is one name selector
 * byte and a value ended by 0xff (or the end). */
static inline void fuzz_split(fuzz_headers *hs, const unsigned char *data,
                              size_t size) {
  static const char *const names[] = {"sentry-trace", "baggage", "traceparent",
                                      "Sentry-Trace", "BAGGAGE", "x-other"};
  hs->n = 0;
  size_t i = 0;
  while (i < size && hs->n < 64) {
    const char *name = names[data[i++] % 6];
    size_t start = i;
    while (i < size && data[i] != 0xff)
      i++;
    hs->h[hs->n++] = (fuzz_header){name, strlen(name),
                                   (const char *)data + start, i - start};
    if (i < size)
      i++;
  }
}

#endif
