/* Baggage iterator and percent-coding: members are slices inside the
 * input and well-formed; both scanner paths (one byte and 16 bytes at a
 * time) find the same members; decoding gives valid UTF-8 within the
 * documented size; encode/decode round-trips. */
#include "fuzz_common.h"

#include "tests/scan_agree.h"

static unsigned char dec[3 * 4096 + 1], enc[3 * 3 * 4096 + 1],
    back[3 * 4096 + 1];

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  const char *in = (const char *)data;
  size_t found;
  CHECK(stp_test_scans_agree(in, size, &found) != 0); /* 0: they differ */
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, in, size);
  while (stp_baggage_iter_next(&it, &m)) {
    CHECK(m.key >= in && m.key + m.key_len <= in + size && m.key_len > 0);
    CHECK(m.value >= in && m.value + m.value_len <= in + size);
    CHECK(m.props >= in && m.props + m.props_len <= in + size);
    check_header_value(m.value, m.value_len);
    for (size_t i = 0; i < m.props_len; i++) /* raw: OWS tabs allowed */
      CHECK(m.props[i] == '\t' || (m.props[i] >= 0x20 && m.props[i] < 0x7f));
    CHECK(!memchr(m.value, ',', m.value_len) &&
          !memchr(m.value, ';', m.value_len));
    size_t n;
    CHECK(stp_baggage_decode((char *)dec, m.value_len + 1, &n, m.value,
                             m.value_len) == STP_OK); /* ASCII: len + 1 */
    check_utf8(dec, n);
  }
  if (size > 4096)
    return 0;
  /* Arbitrary bytes: decode within 3 * len, valid UTF-8; encoding that
   * decodes back to the same bytes. */
  size_t n, e, b;
  CHECK(stp_baggage_decode((char *)dec, 3 * size + 1, &n, in, size) == STP_OK);
  check_utf8(dec, n);
  CHECK(stp_baggage_encode((char *)enc, sizeof enc, &e, (const char *)dec, n) ==
        STP_OK);
  check_header_value((const char *)enc, e);
  CHECK(stp_baggage_decode((char *)back, sizeof back, &b, (const char *)enc,
                           e) == STP_OK);
  CHECK(b == n && !memcmp(back, dec, n));
  return 0;
}
