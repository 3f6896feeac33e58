/* A server continues the trace of an incoming request and passes it on to
 * an outgoing call. Headers are plain arrays here; a carrier is two
 * callbacks over whatever holds them. Exits 1 on an unexpected result. */
#include <stdio.h>
#include <string.h>

#include <stp/stp.h>

typedef struct header {
  char name[32];
  char value[STP_BAGGAGE_MAX_BYTES + 1];
} header;

typedef struct headers {
  header *h;
  size_t len, cap;
} headers;

static int headers_foreach(void *user, stp_header_fn fn, void *arg) {
  headers *hs = user;
  for (size_t i = 0; i < hs->len; i++) {
    int rc = fn(arg, hs->h[i].name, strlen(hs->h[i].name), hs->h[i].value,
                strlen(hs->h[i].value));
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Replace every `name` header by one with `value`, or remove them all when
 * value is NULL. name and value are only valid during the call: copy. */
static int headers_set(void *user, const char *name, size_t name_len,
                       const char *value, size_t value_len) {
  headers *hs = user;
  size_t kept = 0;
  for (size_t i = 0; i < hs->len; i++)
    if (strlen(hs->h[i].name) != name_len ||
        memcmp(hs->h[i].name, name, name_len) != 0)
      hs->h[kept++] = hs->h[i];
  hs->len = kept;
  if (value == NULL)
    return 0;
  if (hs->len == hs->cap || name_len >= sizeof hs->h[0].name ||
      value_len >= sizeof hs->h[0].value)
    return STP_ERR_CARRIER;
  header *h = &hs->h[hs->len++];
  memcpy(h->name, name, name_len);
  h->name[name_len] = '\0';
  memcpy(h->value, value, value_len);
  h->value[value_len] = '\0';
  return 0;
}

static header incoming[] = {
    {":path", "/checkout"},
    {"sentry-trace", "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1"},
    {"baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,"
                "sentry-sample_rate=0.25,sentry-sampled=true"},
    {"baggage", "tenant=acme"},
};
static header outgoing[8] = {
    {":path", "/inventory.Stock/Reserve"},
    {"baggage", "vendor=abc"}, /* the call's own baggage is kept */
};

int main(void) {
  /* Once per process: an immutable config, shareable between threads. */
  stp_options opts;
  stp_options_init(&opts);
  opts.dsn =
      "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5";
  opts.release = "checkout@1.4.2";
  opts.has_sample_rate = true;
  opts.sample_rate = 1.0;
  stp_config *cfg = NULL;
  int rc = stp_config_new(&cfg, &opts, NULL); /* once per process */
  if (rc != STP_OK) {
    fprintf(stderr, "config: %s\n", stp_strerror(rc));
    return 1;
  }

  /* Per incoming request: one context, continued from its headers. On
   * failure it is still usable: a new trace starts here. */
  headers in = {incoming, sizeof incoming / sizeof incoming[0], 0};
  stp_carrier in_carrier = {headers_foreach, NULL, &in};
  stp_context ctx; /* per request: fixed size, owns no memory */
  rc = stp_context_continue(&ctx, cfg, &in_carrier);
  printf("continued: %s\n", rc == STP_OK ? "yes" : stp_error_name(rc));

  /* Per outgoing call: a child span, written into the call's headers. */
  const char *url = "https://inventory.internal/inventory.Stock/Reserve";
  headers out = {outgoing, 2, sizeof outgoing / sizeof outgoing[0]};
  stp_carrier out_carrier = {headers_foreach, headers_set, &out};
  stp_span child;
  stp_context_child_span(&ctx, &child);
  bool propagate = false;
  stp_config_should_propagate(cfg, &propagate, url, strlen(url));
  if (propagate) {
    rc = stp_context_inject(&ctx, &out_carrier, &child);
    if (rc != STP_OK)
      fprintf(stderr, "inject: %s\n", stp_strerror(rc));
  }
  for (size_t i = 0; i < out.len; i++)
    printf("%s: %s\n", out.h[i].name, out.h[i].value);

  /* What the outgoing call must carry: the same trace, the child span as
   * parent, the sampling decision, the frozen DSC after its own baggage. */
  char trace[STP_TRACE_ID_HEX_LEN + 1], span[STP_SPAN_ID_HEX_LEN + 1];
  char want_trace[80], want_baggage[96];
  stp_trace_id_format(&child.trace_id, trace);
  stp_span_id_format(&child.span_id, span);
  snprintf(want_trace, sizeof want_trace, "%s-%s-1", trace, span);
  snprintf(want_baggage, sizeof want_baggage, "vendor=abc,sentry-trace_id=%s,",
           trace);
  int ok = rc == STP_OK && stp_context_continued(&ctx) &&
           strcmp(trace, "771a43a4192642f0b136d5159a501700") == 0;
  int n_trace = 0, n_baggage = 0;
  for (size_t i = 0; i < out.len; i++) {
    const char *v = out.h[i].value;
    if (strcmp(out.h[i].name, "sentry-trace") == 0)
      ok &= ++n_trace == 1 && strcmp(v, want_trace) == 0;
    if (strcmp(out.h[i].name, "baggage") == 0) /* no tenant= by default */
      ok &= ++n_baggage == 1 && strstr(v, want_baggage) == v &&
            strstr(v, "tenant=") == NULL;
  }
  ok &= n_trace == 1 && n_baggage == 1;
  stp_config_del(cfg);
  return ok ? 0 : 1;
}
