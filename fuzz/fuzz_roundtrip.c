/* Continue, inject, continue again from what was injected: the second hop
 * has the same trace, the first hop's span as parent, the same decision,
 * sample_rand and DSC; no Sentry member goes out with properties. */
#include "fuzz_common.h"

static stp_config *cfg;
static stp_context a, b;
static fuzz_headers in, out;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (!cfg) {
    stp_options o;
    stp_options_init(&o);
    o.release = "fuzz@1";
    CHECK(stp_config_new(&cfg, &o, NULL) == STP_OK);
  }
  fuzz_split(&in, data, size);
  stp_carrier cin = {fuzz_foreach, NULL, &in};
  stp_context_continue(&a, cfg, &cin);
  out.n = 0;
  stp_carrier cout = {fuzz_foreach, fuzz_set, &out};
  CHECK(stp_context_inject(&a, &cout, NULL) == STP_OK);
  for (size_t i = 0; i < out.n; i++) {
    if (out.h[i].name_len != 7) /* baggage */
      continue;
    stp_baggage_iter it;
    stp_baggage_member m;
    stp_baggage_iter_init(&it, out.h[i].value, out.h[i].value_len);
    while (stp_baggage_iter_next(&it, &m))
      CHECK(m.key_len < 7 || memcmp(m.key, "sentry-", 7) != 0 ||
            m.props_len == 0);
  }
  stp_carrier cback = {fuzz_foreach, NULL, &out};
  CHECK(stp_context_continue(&b, cfg, &cback) == STP_OK);

  const stp_span *sa = stp_context_span(&a), *sb = stp_context_span(&b);
  CHECK(!memcmp(&sa->trace_id, &sb->trace_id, sizeof sa->trace_id));
  CHECK(!memcmp(&sa->span_id, &sb->parent_span_id, sizeof sa->span_id));
  CHECK(sa->sampled == sb->sampled);
  CHECK(stp_context_sample_rand(&a) == stp_context_sample_rand(&b));

  /* Same DSC, member by member, in the same order after trace_id. */
  size_t na = 0, nb = 0;
  for (size_t i = 0; i < stp_context_member_count(&a); i++) {
    stp_baggage_member m;
    bool s;
    stp_context_member(&a, &m, &s, i);
    if (!s)
      continue;
    na++;
    char va[STP_BAGGAGE_MAX_BYTES], vb[STP_BAGGAGE_MAX_BYTES];
    size_t la, lb;
    CHECK(stp_context_dsc_get(&a, va, sizeof va, &la, m.key, m.key_len) ==
          STP_OK);
    CHECK(stp_context_dsc_get(&b, vb, sizeof vb, &lb, m.key, m.key_len) ==
          STP_OK);
    CHECK(la == lb && !memcmp(va, vb, la));
  }
  for (size_t i = 0; i < stp_context_member_count(&b); i++) {
    stp_baggage_member m;
    bool s;
    stp_context_member(&b, &m, &s, i);
    nb += s;
  }
  CHECK(na == nb);
  return 0;
}
