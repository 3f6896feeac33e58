/* A gRPC server (core C API, raw byte-buffer messages) that continues the
 * caller's trace for every call and answers with it.
 *
 *   grpc_server [--port N] [--port-file FILE] [--spans FILE]
 *               [--dsn DSN] [--release R] [--environment E]
 *               [--sample-rate X] [--org-id N] [--strict] [--traceparent]
 *               [--third-party] [--exec 'PROGRAM ARG...']
 *               [--max-calls N] [--call-timeout MS]
 *
 * What stp asks of a gRPC server: wrap it in an stp_grpc_server with the
 * Sentry server interceptor, request calls through it, and take each
 * call's context from stp_grpc_call_context (main and handle, below;
 * call_pool.c requests and accepts the calls).
 *
 * Listens on 127.0.0.1:N (N = 0, the default, picks a free port; FILE then
 * receives the number). Any method is accepted: the server reads the
 * request messages, prints the continued context, and answers one message
 * with `key=value` lines (trace_id, span_id, parent_span_id, sampled,
 * sample_rand, continued, sentry-trace, baggage, then one `dsc.KEY=VALUE`
 * per DSC entry, the key without `sentry-` and the value decoded and
 * escaped) and status OK. A `grpc.server` span record is printed when each
 * call ends, and appended to the span log with --spans.
 *
 * --exec runs PROGRAM during each call with the trace in its environment
 * (downstream.c); its exit status and output are added to the answer
 * after a `downstream_exit=N` line. Up to --max-calls calls (8) are served
 * at once, each on a thread of its own; a call not ended --call-timeout
 * ms (10000) after it began is cancelled, its program killed. SIGTERM or
 * SIGINT stops the server cleanly (exit 0). */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc_security.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_pool.h"
#include "common.h"
#include "downstream.h"
#include "examples/common/cli.h"

static atomic_int stopping;

static void on_signal(int sig) {
  (void)sig;
  atomic_store(&stopping, 1);
}

/* The continued context as `key=value` lines. */
static size_t describe(stp_grpc_call *call, char *buf, size_t cap) {
  stp_context *ctx = stp_grpc_call_context(call);
  const stp_span *span = stp_context_span(ctx);
  span_log_ids ids;
  span_log_ids_format(&ids, span);
  int status = stp_context_status(ctx);

  /* What a handler does: make the call's context current while it runs,
   * so that the implicit API (and outgoing calls) see it. */
  stp_token tok = stp_attach(ctx);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1] = "",
                                     bag[STP_BAGGAGE_MAX_BYTES + 1] = "";
  size_t len;
  stp_get_sentry_trace(st, sizeof st, &len);
  stp_get_baggage(bag, sizeof bag, &len);
  stp_detach(tok);

  size_t n = append(buf, 0, cap,
                    "trace_id=%s\nspan_id=%s\nparent_span_id=%s\nsampled=%s\n"
                    "sample_rand=%.6f\ncontinued=%s\nsentry-trace=%s\n"
                    "baggage=%s\n",
                    ids.trace, ids.span, span->has_parent ? ids.parent : "-",
                    sampled_str(span->sampled), stp_context_sample_rand(ctx),
                    status == 0 ? "yes" : stp_error_name(status), st, bag);
  for (size_t i = 0; i < stp_context_member_count(ctx); i++) {
    stp_baggage_member m;
    bool is_sentry;
    char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t vlen;
    if (stp_context_member(ctx, &m, &is_sentry, i) == STP_OK && is_sentry &&
        stp_baggage_decode(value, sizeof value, &vlen, m.value, m.value_len) ==
            STP_OK) {
      n = append(buf, n, cap, "dsc.%.*s=", (int)(m.key_len - 7), m.key + 7);
      n = append_escaped(buf, n, cap, value, vlen);
      n = append(buf, n, cap, "\n");
    }
  }
  return n;
}

/* The trace metadata the call arrived with, for its span record: entries
 * of headers (cap of them) pointing into the call's metadata. */
static size_t trace_metadata(stp_grpc_call *call, span_log_header *headers,
                             size_t cap) {
  size_t n = 0, n_md;
  const stp_grpc_md *md = stp_grpc_call_request_metadata(call, &n_md);
  for (size_t i = 0; i < n_md && n < cap; i++)
    if (span_log_trace_header(md[i].key, md[i].key_len))
      headers[n++] = (span_log_header){md[i].key, md[i].key_len, md[i].value,
                                       md[i].value_len};
  return n;
}

/* One call, from its accepted state to its end (on a worker of the
 * pool, several at once). */
static void handle(void *user, pool_call *pc) {
  const downstream *exec = user;
  stp_grpc_call *call = pc->call;
  enum { BODY_MAX = STP_BAGGAGE_MAX_BYTES + 80 * 1024 };
  char *body = malloc(BODY_MAX);
  size_t blen = body ? describe(call, body, BODY_MAX) : 0;
  size_t mlen;
  const char *method = stp_grpc_call_method(call, &mlen);
  flockfile(stdout); /* the lines of one call together */
  fputs("call ", stdout);
  print_escaped(stdout, method, mlen);
  printf("\n%s", body ? body : "(no memory)\n");
  fflush(stdout);
  funlockfile(stdout);

  span_log_header headers[8];
  print_record_headers(headers, trace_metadata(call, headers, 8));
  if (body && exec->command)
    blen = downstream_run(exec, stp_grpc_call_context(call),
                          pool_call_left_ms(pc), body, blen, BODY_MAX);

  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  grpc_byte_buffer *in = NULL;
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_RECV_MESSAGE;
  ops[1].data.recv_message.recv_message = &in;
  int ok = pool_call_run(pc, ops, 2);
  while (ok && in) { /* read the client's stream to its end */
    grpc_byte_buffer_destroy(in);
    in = NULL;
    ok = pool_call_run(pc, &ops[1], 1);
  }
  if (in)
    grpc_byte_buffer_destroy(in);

  int cancelled = 0;
  grpc_byte_buffer *out = message_new(body ? body : "", blen);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_MESSAGE;
  ops[0].data.send_message.send_message = out;
  ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[1].data.send_status_from_server.status =
      body ? GRPC_STATUS_OK : GRPC_STATUS_RESOURCE_EXHAUSTED;
  ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[2].data.recv_close_on_server.cancelled = &cancelled;
  pool_call_run(pc, ops, 3);
  grpc_byte_buffer_destroy(out);
  free(body);
  stp_grpc_call_unref(call); /* records the span; reads `cancelled` */
  print_record_headers(NULL, 0);
}

/* The usage text to f (stdout for --help); returns the exit status. */
static int usage(FILE *f, int rc) {
  fprintf(
      f,
      "usage: grpc_server [--port N] [--port-file FILE] [--spans FILE]\n"
      "                   [--dsn DSN] [--release R] [--environment E]\n"
      "                   [--sample-rate X] [--org-id N] [--strict] "
      "[--traceparent]\n"
      "                   [--third-party] [--exec 'PROGRAM ARG...']\n"
      "                   [--max-calls N] [--call-timeout MS]\n"
      "against calls that would hold the server (defaults):\n" CALL_POOL_USAGE);
  return rc;
}

/* Listens, serves until a stop signal, and shuts the server down.
 * Returns 0, or 1 when it could not start. */
static int serve(const cli_options *o, const stp_config *cfg,
                 call_pool_options *po) {
  grpc_server *server = grpc_server_create(NULL, NULL);
  /* The interceptor layer: the Sentry server interceptor, its span
   * records printed to stdout and appended to the span log. */
  static example_recorder recorder;
  recorder = (example_recorder){stdout, o->spans, "grpc_server", cfg};
  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = print_record;
  sentry.record_user = &recorder;
  stp_grpc_server *srv = NULL;
  stp_grpc_interceptor ic;
  call_pool *pool = NULL;
  if (stp_grpc_server_new(&srv, server) == STP_OK) {
    stp_grpc_sentry_server(&ic, &sentry);
    stp_grpc_server_add(srv, &ic);
    po->srv = srv;
    call_pool_new(&pool, po); /* its queues, registered before the start */
  }

  int rc = 1, bound = 0;
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", o->port);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  if (pool)
    bound = grpc_server_add_http2_port(server, addr, creds);
  grpc_server_credentials_release(creds);
  if (bound <= 0)
    fprintf(stderr, "grpc_server: cannot listen on %s\n", addr);
  else if (o->port_file && cli_write_port_file(o->port_file, bound) != 0)
    fprintf(stderr, "grpc_server: cannot write %s\n", o->port_file);
  else {
    grpc_server_start(server);
    printf("listening on 127.0.0.1:%d\n", bound);
    fflush(stdout);
    rc = call_pool_serve(pool) == 0 ? 0 : 1;
  }
  call_pool_del(pool); /* shuts the server down */
  grpc_server_destroy(server);
  stp_grpc_server_del(srv);
  return rc;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 0);
  static downstream exec = {.stopping = &stopping};
  call_pool_options po = {
      .handle = handle, .user = &exec, .stopping = &stopping};
  for (int i = 1; i < argc; i++) {
    int r = strcmp(argv[i], "--help") == 0 ? 2 : cli_option(&o, argc, argv, &i);
    if (r == 0)
      r = call_pool_option(&po.limits, argc, argv, &i);
    if (r == 0 && strcmp(argv[i], "--exec") == 0 && i + 1 < argc &&
        !exec.command)
      r = downstream_init(&exec, argv[++i]) == 0 ? 1 : -1;
    if (r != 1) {
      downstream_free(&exec);
      return r == 2 ? usage(stdout, 0) : usage(stderr, 2);
    }
  }
  exec.spans = o.spans;
  stp_config *cfg;
  if (cli_config(&cfg, &o, "grpc_server") != STP_OK) {
    downstream_free(&exec);
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  grpc_init();
  int rc = serve(&o, cfg, &po);
  cli_config_del(&o, cfg);
  grpc_shutdown_blocking();
  downstream_free(&exec);
  if (rc == 0)
    printf("stopped\n");
  return rc;
}
