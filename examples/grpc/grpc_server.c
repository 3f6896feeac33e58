/* A gRPC server (core C API, raw byte-buffer messages) that continues the
 * caller's trace for every call and answers with it.
 *
 *   grpc_server [--port N] [--port-file FILE] [--spans FILE]
 *               [--dsn DSN] [--release R] [--environment E]
 *               [--sample-rate X] [--org-id N] [--strict] [--traceparent]
 *               [--third-party] [--exec 'PROGRAM ARG...']
 *
 * What stp asks of a gRPC server: wrap it in an stp_grpc_server with the
 * Sentry server interceptor, request calls through it, and take each
 * call's context from stp_grpc_call_context (main and handle, below).
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
 * after a `downstream_exit=N` line. The server serves one call at a time;
 * a call that does not end within 10 seconds of its last step is
 * cancelled. SIGTERM or SIGINT stops the server cleanly (exit 0). */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "downstream.h"
#include "examples/common/cli.h"

#define CALL_STEP_TIMEOUT_MS 10000

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* Waits for `tag` on cq (the only operation outstanding on it) and returns
 * the event's success (0 on shutdown). On a stop signal: with `call`, the
 * call is cancelled so that the wait ends soon; without, returns -1 at
 * once (the operation stays outstanding). With `call`, the call is also
 * cancelled when the step takes CALL_STEP_TIMEOUT_MS: one stalled peer
 * does not hold the server. */
static int wait_for(grpc_completion_queue *cq, void *tag, grpc_call *call) {
  gpr_timespec limit =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(CALL_STEP_TIMEOUT_MS, GPR_TIMESPAN));
  for (int cancelled = 0;;) {
    gpr_timespec soon = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                     gpr_time_from_millis(200, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_next(cq, soon, NULL);
    if (ev.type == GRPC_OP_COMPLETE && ev.tag == tag)
      return ev.success;
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      return 0;
    if (stopping && !call)
      return -1;
    bool late = call && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), limit) > 0;
    if ((stopping || late) && !cancelled) {
      if (late)
        fprintf(stderr, "grpc_server: call stalled, cancelled\n");
      grpc_call_cancel(call, NULL);
      cancelled = 1;
    }
  }
}

/* Starts a batch on the call and waits for it; returns its success. */
static int run(stp_grpc_call *call, grpc_completion_queue *cq, grpc_op *ops,
               size_t n) {
  int tag;
  if (stp_grpc_call_start_batch(call, ops, n, &tag) != GRPC_CALL_OK)
    return 0;
  return wait_for(cq, &tag, stp_grpc_call_get(call));
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
    static char value[STP_BAGGAGE_MAX_BYTES + 1];
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
  const grpc_metadata *md = stp_grpc_call_request_metadata(call, &n_md);
  for (size_t i = 0; i < n_md && n < cap; i++) {
    const char *name = (const char *)GRPC_SLICE_START_PTR(md[i].key);
    size_t name_len = GRPC_SLICE_LENGTH(md[i].key);
    if (span_log_trace_header(name, name_len))
      headers[n++] = (span_log_header){
          name, name_len, (const char *)GRPC_SLICE_START_PTR(md[i].value),
          GRPC_SLICE_LENGTH(md[i].value)};
  }
  return n;
}

/* One call, from its accepted state to its end. */
static void handle(stp_grpc_call *call, grpc_completion_queue *cq,
                   example_recorder *recorder, const downstream *exec) {
  size_t mlen;
  const char *method = stp_grpc_call_method(call, &mlen);
  static char body[STP_BAGGAGE_MAX_BYTES + 80 * 1024];
  size_t blen = describe(call, body, sizeof body);
  fputs("call ", stdout);
  print_escaped(stdout, method, mlen);
  printf("\n%s", body);
  fflush(stdout);

  span_log_header headers[8];
  recorder->headers = headers;
  recorder->n_headers = trace_metadata(call, headers, 8);
  if (exec->command)
    blen = downstream_run(exec, stp_grpc_call_context(call), body, blen,
                          sizeof body);

  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  grpc_byte_buffer *in = NULL;
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_RECV_MESSAGE;
  ops[1].data.recv_message.recv_message = &in;
  int ok = run(call, cq, ops, 2);
  while (ok && in) { /* read the client's stream to its end */
    grpc_byte_buffer_destroy(in);
    in = NULL;
    ok = run(call, cq, &ops[1], 1);
  }

  int cancelled = 0;
  grpc_byte_buffer *out = message_new(body, blen);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_MESSAGE;
  ops[0].data.send_message.send_message = out;
  ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[1].data.send_status_from_server.status = GRPC_STATUS_OK;
  ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[2].data.recv_close_on_server.cancelled = &cancelled;
  run(call, cq, ops, 3);
  grpc_byte_buffer_destroy(out);
  stp_grpc_call_unref(call); /* records the span; reads `cancelled` */
  recorder->headers = NULL;
  recorder->n_headers = 0;
}

/* Stops taking calls, ends those under way, and waits for the request
 * still outstanding (req, when *pending) to come back. */
static void shut_down(grpc_server *server, grpc_completion_queue *cq,
                      stp_grpc_request *req, int pending) {
  int shutdown_tag;
  grpc_server_shutdown_and_notify(server, cq, &shutdown_tag);
  grpc_server_cancel_all_calls(server);
  for (int down = 0; !down || pending;) {
    grpc_event ev = grpc_completion_queue_next(
        cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE)
      break;
    if (ev.tag == req && pending) {
      pending = 0;
      stp_grpc_request_destroy(req);
    }
    if (ev.tag == &shutdown_tag)
      down = 1;
  }
  grpc_completion_queue_shutdown(cq);
  while (
      grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
          .type != GRPC_QUEUE_SHUTDOWN) {
  }
}

static int usage(void) {
  fprintf(stderr,
          "usage: grpc_server [--port N] [--port-file FILE] [--spans FILE]\n"
          "                   [--dsn DSN] [--release R] [--environment E]\n"
          "                   [--sample-rate X] [--org-id N] [--strict] "
          "[--traceparent]\n"
          "                   [--third-party] [--exec 'PROGRAM ARG...']\n");
  return 2;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 0);
  static downstream exec = {.stopping = &stopping};
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r == 1)
      continue;
    if (r < 0 || strcmp(argv[i], "--exec") != 0 || i + 1 == argc ||
        exec.command || downstream_init(&exec, argv[++i]) != 0)
      return usage();
  }
  exec.spans = o.spans;
  stp_config *cfg;
  if (cli_config(&cfg, &o, "grpc_server") != STP_OK)
    return 2;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  grpc_init();
  grpc_server *server = grpc_server_create(NULL, NULL);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(server, cq, NULL);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", o.port);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int bound = grpc_server_add_http2_port(server, addr, creds);
  grpc_server_credentials_release(creds);
  if (bound <= 0) {
    fprintf(stderr, "grpc_server: cannot listen on %s\n", addr);
    return 1;
  }

  /* The interceptor layer: the Sentry server interceptor, its span
   * records printed to stdout and appended to the span log. */
  static example_recorder recorder;
  recorder = (example_recorder){stdout, o.spans, "grpc_server", NULL, 0, cfg};
  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = print_record;
  sentry.record_user = &recorder;
  stp_grpc_server *srv;
  stp_grpc_interceptor ic;
  stp_grpc_server_new(&srv, server);
  stp_grpc_sentry_server(&ic, &sentry);
  stp_grpc_server_add(srv, &ic);
  grpc_server_start(server);

  printf("listening on 127.0.0.1:%d\n", bound);
  fflush(stdout);
  if (o.port_file && cli_write_port_file(o.port_file, bound) != 0) {
    fprintf(stderr, "grpc_server: cannot write %s\n", o.port_file);
    return 1;
  }

  /* One call at a time: request it, accept it, handle it. */
  stp_grpc_request req;
  int pending = 0; /* req is outstanding */
  while (!stopping) {
    if (stp_grpc_server_request_call(srv, &req, cq, cq, &req) != GRPC_CALL_OK)
      break;
    pending = 1;
    int ok = wait_for(cq, &req, NULL);
    if (ok < 0)
      break; /* stopping; req completes during the shutdown below */
    pending = 0;
    stp_grpc_call *call;
    if (ok && stp_grpc_server_accept(srv, &call, &req) == STP_OK)
      handle(call, cq, &recorder, &exec);
    else
      stp_grpc_request_destroy(&req);
  }

  shut_down(server, cq, &req, pending);
  grpc_server_destroy(server);
  grpc_completion_queue_destroy(cq);
  stp_grpc_server_del(srv);
  cli_config_del(&o, cfg);
  grpc_shutdown_blocking();
  downstream_free(&exec);
  printf("stopped\n");
  return 0;
}
