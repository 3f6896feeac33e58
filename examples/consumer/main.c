/* A program outside stp, built against it by Bazel (@stp//:stp), CMake
 * (find_package) and pkg-config (scripts/consumers.sh): it
 * continues a trace from a `sentry-trace` header and checks the result. */
#include <stdio.h>
#include <string.h>

#include <stp/stp.h>

static const char kTraceId[] = "771a43a4192642f0b136d5159a501700";

/* A read-only carrier over one header. */
static int one_header(void *user, stp_header_fn fn, void *arg) {
  const char *value = user;
  return fn(arg, "sentry-trace", strlen("sentry-trace"), value, strlen(value));
}

int main(void) {
  const char *incoming = "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1";

  stp_trace_header h;
  int rc = stp_sentry_trace_parse(&h, incoming, strlen(incoming));
  if (rc != STP_OK) {
    fprintf(stderr, "parse: %s\n", stp_strerror(rc));
    return 1;
  }

  stp_options opts;
  stp_options_init(&opts);
  stp_config *cfg = NULL;
  rc = stp_config_new(&cfg, &opts, NULL);
  if (rc != STP_OK) {
    fprintf(stderr, "config: %s\n", stp_strerror(rc));
    return 1;
  }

  static stp_context ctx; /* about 9 KiB: fine on the stack too */
  stp_carrier carrier = {one_header, NULL, (void *)incoming};
  rc = stp_context_continue(&ctx, cfg, &carrier);

  char parsed[STP_TRACE_ID_HEX_LEN + 1];
  char continued[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&h.trace_id, parsed);
  stp_trace_id_format(&stp_context_span(&ctx)->trace_id, continued);
  int ok = rc == STP_OK && stp_context_continued(&ctx) &&
           h.sampled == STP_SAMPLED_YES && strcmp(parsed, kTraceId) == 0 &&
           strcmp(continued, kTraceId) == 0 &&
           stp_context_span(&ctx)->sampled == STP_SAMPLED_YES;
  stp_config_del(cfg);

  printf("trace_id %s\n", continued);
  if (!ok) {
    fprintf(stderr, "unexpected result: continue returned %s (%d)\n",
            stp_error_name(rc), rc);
    return 1;
  }
  return 0;
}
