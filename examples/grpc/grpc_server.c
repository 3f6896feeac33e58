/* A gRPC server (core C API, raw byte-buffer messages) that continues the
 * caller's trace for every call and answers with it.
 *
 *   grpc_server [--port N] [--port-file FILE] [--dsn DSN] [--release R]
 *               [--sample-rate X]
 *
 * Listens on 127.0.0.1:N (N = 0, the default, picks a free port; FILE then
 * receives the number). Any method is accepted: the server reads the
 * request messages, prints the continued context, and answers one message
 * with `key=value` lines (trace_id, span_id, parent_span_id, sampled,
 * continued, sentry-trace, baggage) and status OK. A `grpc.server` span
 * record is printed when each call ends. SIGTERM or SIGINT stops it
 * cleanly (exit 0). */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static gpr_timespec soon(void) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(200, GPR_TIMESPAN));
}

/* Waits for `tag` on cq (the only operation outstanding on it) and returns
 * the event's success (0 on shutdown). On a stop signal: with `call`, the
 * call is cancelled so that the wait ends soon; without, returns -1 at
 * once (the operation stays outstanding). */
static int wait_for(grpc_completion_queue *cq, void *tag, grpc_call *call) {
  int cancelled = 0;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(cq, soon(), NULL);
    if (ev.type == GRPC_OP_COMPLETE && ev.tag == tag)
      return ev.success;
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      return 0;
    if (stopping && !call)
      return -1;
    if (stopping && !cancelled) {
      grpc_call_cancel(call, NULL);
      cancelled = 1;
    }
  }
}

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
  char trace[STP_TRACE_ID_HEX_LEN + 1], id[STP_SPAN_ID_HEX_LEN + 1],
      parent[STP_SPAN_ID_HEX_LEN + 1] = "-";
  stp_trace_id_format(trace, &span->trace_id);
  stp_span_id_format(id, &span->span_id);
  if (span->has_parent)
    stp_span_id_format(parent, &span->parent_span_id);
  int status = stp_context_status(ctx);

  /* What a handler does: make the call's context current while it runs,
   * so that the implicit API (and outgoing calls) see it. */
  stp_token tok = stp_attach(ctx);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1] = "",
                                     bag[STP_BAGGAGE_MAX_BYTES + 1] = "";
  size_t len;
  stp_get_traceparent(st, sizeof st, &len);
  stp_get_baggage(bag, sizeof bag, &len);
  stp_detach(tok);

  int n = snprintf(buf, cap,
                   "trace_id=%s\nspan_id=%s\nparent_span_id=%s\nsampled=%s\n"
                   "continued=%s\nsentry-trace=%s\nbaggage=%s\n",
                   trace, id, parent, sampled_str(span->sampled),
                   status == 0 ? "yes" : stp_error_name(status), st, bag);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void handle(stp_grpc_call *call, grpc_completion_queue *cq) {
  size_t mlen;
  const char *method = stp_grpc_call_method(call, &mlen);
  static char body[STP_BAGGAGE_MAX_BYTES + 512];
  size_t blen = describe(call, body, sizeof body);
  printf("call %.*s\n%s", (int)mlen, method, body);
  fflush(stdout);

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
  stp_grpc_call_unref(call); /* prints the span record; reads `cancelled` */
}

int main(int argc, char **argv) {
  const char *port = "0", *port_file = NULL;
  example_options eo = {0};
  for (int i = 1; i < argc; i++) {
    int r = example_option(&eo, argc, argv, &i);
    if (r == 1)
      continue;
    if (r == 0 && strcmp(argv[i], "--port") == 0 && i + 1 < argc)
      port = argv[++i];
    else if (r == 0 && strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
      port_file = argv[++i];
    else {
      fprintf(stderr,
              "usage: grpc_server [--port N] [--port-file FILE] [--dsn DSN] "
              "[--release R] [--sample-rate X]\n");
      return 2;
    }
  }
  stp_config *cfg;
  int err = example_config(&cfg, &eo);
  if (err) {
    fprintf(stderr, "grpc_server: %s\n", stp_strerror(err));
    return 2;
  }

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
  snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int bound = grpc_server_add_http2_port(server, addr, creds);
  grpc_server_credentials_release(creds);
  if (bound <= 0) {
    fprintf(stderr, "grpc_server: cannot listen on %s\n", addr);
    return 1;
  }

  /* The interceptor layer: the Sentry server interceptor, records printed
   * to stdout. */
  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = print_record;
  sentry.record_user = stdout;
  stp_grpc_server *srv;
  stp_grpc_interceptor ic;
  stp_grpc_server_new(&srv, server);
  stp_grpc_sentry_server(&ic, &sentry);
  stp_grpc_server_add(srv, &ic);
  grpc_server_start(server);

  printf("listening on 127.0.0.1:%d\n", bound);
  fflush(stdout);
  if (port_file) {
    FILE *f = fopen(port_file, "w");
    if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) != 0) {
      fprintf(stderr, "grpc_server: cannot write %s\n", port_file);
      return 1;
    }
  }

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
    if (ok && stp_grpc_server_accept(srv, &req, &call) == STP_OK)
      handle(call, cq);
    else
      stp_grpc_request_destroy(&req);
  }

  int shutdown_tag;
  grpc_server_shutdown_and_notify(server, cq, &shutdown_tag);
  grpc_server_cancel_all_calls(server);
  for (int down = 0; !down || pending;) {
    grpc_event ev = grpc_completion_queue_next(
        cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE)
      break;
    if (ev.tag == &req && pending) {
      pending = 0;
      stp_grpc_request_destroy(&req);
    }
    if (ev.tag == &shutdown_tag)
      down = 1;
  }
  grpc_completion_queue_shutdown(cq);
  while (
      grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
          .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_server_destroy(server);
  grpc_completion_queue_destroy(cq);
  stp_grpc_server_del(srv);
  stp_config_del(cfg);
  grpc_shutdown_blocking();
  printf("stopped\n");
  return 0;
}
