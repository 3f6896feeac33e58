/* stp_nghttp2_inject over a fuzzer-made request header array (repeated
 * trace headers in any case, pseudo-headers, others) with fuzzer-chosen
 * room: on success the other entries are kept in order and the trace
 * headers are there once each with valid values; it fails for want of
 * room exactly when the entries kept plus the ones added exceed the room;
 * on any error the array is as it was. The first byte picks the options
 * and the room, the second whether a URL is given. */
#include "fuzz_common.h"
#include "stp/nghttp2.h"

enum { MAX_NV = 48 };

/* 0 sentry-trace, 1 baggage, 2 traceparent (any case), -1 another name. */
static int trace_name(const nghttp2_nv *nv) {
  static const char *const names[3] = {"sentry-trace", "baggage",
                                       "traceparent"};
  for (int k = 0; k < 3; k++)
    if (nv->namelen == strlen(names[k]) &&
        !strncasecmp((const char *)nv->name, names[k], nv->namelen))
      return k;
  return -1;
}

static nghttp2_nv nva[MAX_NV + 4], before[MAX_NV + 4];
static stp_nghttp2_headers hb;
static stp_context ctx;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static const char *const names[] = {
      "sentry-trace", "baggage",    "traceparent", "Sentry-Trace", "BAGGAGE",
      ":scheme",      ":authority", ":path",       "host",         "x-other"};
  static const char kTrace[] =
      "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1";
  static const char kBaggage[] =
      "sentry-trace_id=771a43a4192642f0b136d5159a501700,"
      "sentry-sample_rand=0.5,vendor=1";
  if (size < 2)
    return 0;
  unsigned bits = (data[0] & 3) * FUZZ_TRACEPARENT; /* and FUZZ_THIRD_PARTY */
  size_t room = (data[0] >> 2) % 5; /* beyond the entries given */
  const stp_config *cfg = fuzz_config(bits);
  stp_context_begin(&ctx, cfg);
  stp_context_feed(&ctx, "sentry-trace", 12, kTrace, sizeof kTrace - 1);
  stp_context_feed(&ctx, "baggage", 7, kBaggage, sizeof kBaggage - 1);
  CHECK(stp_context_finish(&ctx) == STP_OK);

  /* Entries: a name selector byte, then the value up to 0xff or the end. */
  size_t n = 0, i = 2;
  while (i < size && n < MAX_NV) {
    const char *name = names[data[i++] % (sizeof names / sizeof names[0])];
    size_t start = i;
    while (i < size && data[i] != 0xff)
      i++;
    nva[n++] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)data + start,
                            strlen(name), i - start, NGHTTP2_NV_FLAG_NONE};
    if (i < size)
      i++;
  }
  size_t cap = n + room, len = n;
  memcpy(before, nva, n * sizeof *nva);

  static const char url[] = "https://api.example.com/x";
  bool given = data[1] & 1;
  int rc = stp_nghttp2_inject(&ctx, &hb, nva, cap, &len, NULL,
                              given ? url : NULL, given ? sizeof url - 1 : 0);
  CHECK(rc <= 0);
  if (rc != STP_OK) { /* the array is as it was */
    CHECK(len == n);
    CHECK(!memcmp(nva, before, n * sizeof *nva));
  }

  /* The entries kept: those of no name inject sets. */
  size_t sets = (bits & FUZZ_TRACEPARENT) ? 3 : 2, kept = 0;
  for (size_t j = 0; j < n; j++) {
    int k = trace_name(&before[j]);
    if (k < 0 || (size_t)k >= sets)
      kept++;
  }
  bool fits = kept + sets <= cap;
  if (rc == STP_ERR_BUFFER_TOO_SMALL)
    CHECK(!fits);
  if (rc != STP_OK)
    return 0;
  CHECK(len <= cap);
  CHECK(fits); /* the config propagates to every URL */

  /* The kept entries first, in their order, then one of each name set. */
  size_t w = 0;
  for (size_t j = 0; j < n; j++) {
    int k = trace_name(&before[j]);
    if (k < 0 || (size_t)k >= sets) {
      CHECK(w < len);
      CHECK(!memcmp(&nva[w], &before[j], sizeof *nva));
      w++;
    }
  }
  CHECK(w == kept);
  size_t counts[3] = {0, 0, 0};
  for (; w < len; w++) {
    int k = trace_name(&nva[w]);
    CHECK(k >= 0 && (size_t)k < sets);
    CHECK(nva[w].flags == NGHTTP2_NV_FLAG_NONE);
    counts[k]++;
    const char *v = (const char *)nva[w].value;
    if (k == 1)
      check_baggage_out(v, nva[w].valuelen);
    else
      check_header_value(v, nva[w].valuelen);
    CHECK(nva[w].valuelen > 0);
  }
  CHECK(counts[0] == 1 && counts[1] <= 1);
  CHECK(counts[2] == ((bits & FUZZ_TRACEPARENT) ? 1u : 0u));
  return 0;
}
