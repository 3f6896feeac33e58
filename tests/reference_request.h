/* The reference request of the tests and benchmarks: a sampled
 * `sentry-trace` and a 321-byte `baggage` of 8 `sentry-*` members and 2
 * third-party members with properties. bench/common.sh holds the same
 * values for the shell scripts. */
#ifndef STP_TESTS_REFERENCE_REQUEST_H
#define STP_TESTS_REFERENCE_REQUEST_H

#define STP_REF_SENTRY_TRACE                                                   \
  "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1"

#define STP_REF_BAGGAGE                                                        \
  "sentry-trace_id=771a43a4192642f0b136d5159a501700,"                          \
  "sentry-public_key=49d0f7386ad645858ae85020e393bef3,"                        \
  "sentry-sample_rate=0.25,sentry-sampled=true,"                               \
  "sentry-release=backend%401.2.3,sentry-environment=production,"              \
  "sentry-transaction=GET%20%2Fapi%2Fusers,sentry-sample_rand=0.123456,"       \
  "vendor-a=a;prop1=1;prop2,vendor-b=beta%20two;p=x"

#define STP_REF_BAGGAGE_LEN 321
#ifdef __cplusplus
static_assert
#else
_Static_assert
#endif
    (sizeof STP_REF_BAGGAGE - 1 == STP_REF_BAGGAGE_LEN,
     "the reference baggage is 321 bytes");

#endif /* STP_TESTS_REFERENCE_REQUEST_H */
