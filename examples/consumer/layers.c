/* The interceptor layers from outside stp, built with find_package(stp)
 * and with pkg-config (scripts/consumers.sh): the nghttp2 helpers inject
 * a trace into a request's header array, and the gRPC layer makes its
 * Sentry interceptors. Exits 1 on an unexpected result. */
#include <stdio.h>
#include <string.h>

#include <stp/grpc.h>
#include <stp/nghttp2.h>

#define NV(n, v)                                                               \
  {                                                                            \
    (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,              \
        NGHTTP2_NV_FLAG_NONE                                                   \
  }

int main(void) {
  stp_options opts;
  stp_options_init(&opts);
  stp_config *cfg = NULL;
  if (stp_config_new(&cfg, &opts, NULL) != STP_OK)
    return 1;
  static stp_context ctx;
  stp_context_init(&ctx, cfg);

  nghttp2_nv nva[3 + STP_NGHTTP2_NV_EXTRA] = {
      NV(":method", "GET"), NV(":scheme", "http"), NV(":path", "/")};
  size_t nvlen = 3;
  static stp_nghttp2_headers hb;
  int rc = stp_nghttp2_inject(&ctx, &hb, nva, sizeof nva / sizeof nva[0],
                              &nvlen, NULL, NULL, 0);
  int ok = rc == STP_OK && nvlen == 5 &&
           memcmp(nva[3].name, "sentry-trace", 12) == 0;

  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  stp_grpc_interceptor ic;
  stp_grpc_sentry_client(&ic, &sentry);
  ok = ok && ic.start != NULL && ic.send_initial_metadata != NULL;

  printf("nghttp2: %s, grpc: %s\n", rc == STP_OK ? "injected" : "failed",
         ic.start ? "interceptor made" : "none");
  stp_config_del(cfg);
  return ok ? 0 : 1;
}
