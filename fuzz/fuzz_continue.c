/* Continue from a carrier of fuzzer-made headers (repeated, mixed case),
 * then inject into an outgoing carrier that already holds some of them:
 * every emitted value is printable, within limits, and announces the
 * context's trace; a compact copy of the context sends the same baggage. The
 * first byte picks the options, and whether the headers come again and again
 * (up to 64 of them), so that short inputs reach the bounds of the context's
 * store and of the scan too. */
#include "fuzz_common.h"
#include "src/internal.h"

static stp_context ctx;
static fuzz_headers in, out;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (size < 2)
    return 0;
  stp_config *cfg = fuzz_config(data[0] & 7);
  size_t half = data[1] % (size - 1);
  fuzz_split(&in, data + 2, size - 2);
  if (data[0] & 8)
    for (size_t i = 0, n = in.n; n > 0 && in.n < 64; i = (i + 1) % n)
      in.h[in.n++] = in.h[i];
  stp_carrier cin = {fuzz_foreach, NULL, &in};
  int rc = stp_context_continue(&ctx, cfg, &cin);
  CHECK(rc <= 0);
  CHECK(stp_context_continued(&ctx) == (rc == STP_OK));
  CHECK(stp_context_member_count(&ctx) <= STP_BAGGAGE_MAX_MEMBERS);
  size_t stored;
  stp__context_store(&ctx, &stored);
  CHECK(stored <= STP_BAGGAGE_MAX_BYTES);

  /* A compact copy, in storage of exactly its size (a read past it is
   * caught), sends on what the whole context sends. */
  size_t compact = stp_context_compact_size(&ctx);
  CHECK(compact > 0 && compact <= sizeof ctx);
  void *mem = malloc(compact);
  stp_context *copy;
  CHECK(mem && stp_context_compact(&copy, mem, compact, &ctx) == STP_OK);
  static char whole_bag[STP_BAGGAGE_MAX_BYTES + 1],
      copy_bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t whole_len, copy_len;
  CHECK(stp_context_baggage(&ctx, whole_bag, sizeof whole_bag, &whole_len, NULL,
                            0) == STP_OK);
  CHECK(stp_context_baggage(copy, copy_bag, sizeof copy_bag, &copy_len, NULL,
                            0) == STP_OK);
  CHECK(whole_len == copy_len && !memcmp(whole_bag, copy_bag, whole_len));
  free(mem);

  /* The outgoing request already carries part of the input. */
  fuzz_split(&out, data + 2, half);
  stp_carrier cout = {fuzz_foreach, fuzz_set, &out};
  stp_span child;
  stp_context_child_span(&ctx, &child);
  CHECK(stp_context_inject(&ctx, &cout, &child) == STP_OK);

  /* inject replaced every value of its names (whatever their case), so
   * what remains under those names is what it wrote. */
  size_t traces = 0, baggages = 0;
  for (size_t i = 0; i < out.n; i++) {
    const fuzz_header *h = &out.h[i];
    if (h->name_len == 12 && !strncasecmp(h->name, "sentry-trace", 12)) {
      stp_trace_header t;
      CHECK(stp_sentry_trace_parse(&t, h->value, h->value_len) == STP_OK);
      CHECK(!memcmp(&t.trace_id, &child.trace_id, sizeof t.trace_id));
      CHECK(!memcmp(&t.span_id, &child.span_id, sizeof t.span_id));
      traces++;
    } else if (h->name_len == 7 && !strncasecmp(h->name, "baggage", 7)) {
      check_baggage_out(h->value, h->value_len);
      baggages++;
    } else if ((data[0] & 2) && h->name_len == 11 &&
               !strncasecmp(h->name, "traceparent", 11)) {
      check_header_value(h->value, h->value_len);
    }
  }
  CHECK(traces == 1 && baggages <= 1);
  (void)half;

  char meta[STP_META_MAX_LEN + 1];
  size_t n;
  CHECK(stp_context_meta(&ctx, meta, sizeof meta, &n) == STP_OK);
  for (size_t i = 0; i < n; i++)
    CHECK(meta[i] != '\n' && meta[i] != '\r' && meta[i] != '\0');
  return 0;
}
