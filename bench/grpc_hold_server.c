/* The gRPC server of the memory benchmark (bench/streams_rss.sh): accepts
 * calls and holds them, answering each with its initial metadata and
 * nothing more, so that its memory per in-flight call can be read for any
 * number of calls (examples/grpc/grpc_server serves each call on a thread
 * of its own, at most 256 at once). One thread, one completion queue.
 *
 *   grpc_hold_server --mode stp|off [--port N|0] [--port-file FILE]
 *                    [the stp options of examples/common/cli.h]
 *
 *   --mode stp  through the interceptor layer with the Sentry server
 *               interceptor: each call's trace is continued and kept (a
 *               compact copy in the call's arena);
 *   --mode off  plain gRPC core, no stp code.
 *
 * SIGTERM or SIGINT cancels the calls, frees everything and exits 0. */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common/cli.h"
#include "examples/common/listen.h"
#include "stp/grpc.h"

enum { SLOTS = 32 }; /* calls asked for at once */

/* One call asked for, then held until its client goes. */
typedef struct held {
  bool accepted;
  int cancelled;             /* RECV_CLOSE_ON_SERVER's */
  stp_grpc_request req;      /* --mode stp */
  stp_grpc_call *call;       /* --mode stp, once accepted */
  grpc_call *plain;          /* --mode off */
  grpc_call_details details; /* --mode off */
  grpc_metadata_array md;    /* --mode off */
} held;

typedef struct server {
  bool stp;
  grpc_server *server;
  stp_grpc_server *srv;
  grpc_completion_queue *cq;
  size_t live; /* calls accepted, not yet gone */
} server;

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* Asks gRPC for one more call. Returns 0 or -1. */
static int ask(server *s) {
  held *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  if (s->stp)
    return stp_grpc_server_request_call(s->srv, &h->req, s->cq, s->cq, h) ==
                   GRPC_CALL_OK
               ? 0
               : -1;
  grpc_call_details_init(&h->details);
  grpc_metadata_array_init(&h->md);
  return grpc_server_request_call(s->server, &h->plain, &h->details, &h->md,
                                  s->cq, s->cq, h) == GRPC_CALL_OK
             ? 0
             : -1;
}

static void held_free(server *s, held *h) {
  if (s->stp) {
    stp_grpc_request_destroy(&h->req);
    stp_grpc_call_unref(h->call);
  } else {
    grpc_call_details_destroy(&h->details);
    grpc_metadata_array_destroy(&h->md);
    if (h->plain)
      grpc_call_unref(h->plain);
  }
  free(h);
}

/* A call came: its initial metadata goes back (the client then knows it
 * was accepted), and the call is held until its client cancels it. */
static void accept_call(server *s, held *h) {
  h->accepted = true;
  grpc_op ops[2];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[1].data.recv_close_on_server.cancelled = &h->cancelled;
  grpc_call_error err;
  if (s->stp)
    err = stp_grpc_server_accept(s->srv, &h->call, &h->req) == STP_OK
              ? stp_grpc_call_start_batch(h->call, ops, 2, h)
              : GRPC_CALL_ERROR;
  else {
    /* Read at the accept, not kept: as stp_grpc_server_accept does. */
    grpc_call_details_destroy(&h->details);
    grpc_metadata_array_destroy(&h->md);
    grpc_call_details_init(&h->details);
    grpc_metadata_array_init(&h->md);
    err = grpc_call_start_batch(h->plain, ops, 2, h, NULL);
  }
  if (err != GRPC_CALL_OK)
    held_free(s, h);
  else
    s->live++;
}

/* Serves until a stop signal; returns 0, or 1 when gRPC failed. */
static int serve(server *s) {
  for (int i = 0; i < SLOTS; i++)
    if (ask(s) != 0)
      return 1;
  while (!stopping) {
    grpc_event ev = grpc_completion_queue_next(
        s->cq,
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis(200, GPR_TIMESPAN)),
        NULL);
    if (ev.type != GRPC_OP_COMPLETE)
      continue;
    held *h = ev.tag;
    if (!h->accepted && ev.success) {
      accept_call(s, h);
      if (ask(s) != 0)
        return 1;
    } else { /* the call went, or the request failed */
      if (h->accepted)
        s->live--;
      held_free(s, h);
    }
  }
  return 0;
}

/* Shuts the queue down and frees what comes out of it. */
static void drain(server *s) {
  grpc_completion_queue_shutdown(s->cq);
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(
        s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      break;
    if (ev.type == GRPC_OP_COMPLETE && ev.tag)
      held_free(s, ev.tag);
  }
}

/* Cancels every call, frees them and what was asked for. */
static void shut_down(server *s) {
  grpc_server_shutdown_and_notify(s->server, s->cq, NULL);
  grpc_server_cancel_all_calls(s->server);
  drain(s);
}

static int usage(void) {
  fprintf(stderr, "usage: grpc_hold_server --mode stp|off [--port N|0] "
                  "[--port-file FILE] [stp options]\n");
  return 2;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 0);
  int mode = -1;
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r == 1)
      continue;
    if (r < 0 || strcmp(argv[i], "--mode") != 0 || i + 1 == argc)
      return usage();
    const char *v = argv[++i];
    mode = strcmp(v, "stp") == 0 ? 1 : strcmp(v, "off") == 0 ? 0 : -1;
  }
  stp_config *cfg;
  if (mode < 0)
    return usage();
  if (cli_config(&cfg, &o, "grpc_hold_server") != STP_OK)
    return 2;
  catch_stop_signals(on_signal);
  grpc_init();
  server s = {.stp = mode == 1};
  s.server = grpc_server_create(NULL, NULL);
  s.cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(s.server, s.cq, NULL);
  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  stp_grpc_interceptor ic;
  int rc = 1;
  bool started = false;
  if (s.stp && stp_grpc_server_new(&s.srv, s.server) == STP_OK) {
    stp_grpc_sentry_server(&ic, &sentry);
    stp_grpc_server_add(s.srv, &ic);
  }
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", o.port);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int bound =
      (!s.stp || s.srv) ? grpc_server_add_http2_port(s.server, addr, creds) : 0;
  grpc_server_credentials_release(creds);
  if (bound <= 0) {
    fprintf(stderr, "grpc_hold_server: cannot listen on %s\n", addr);
  } else if (o.port_file && cli_write_port_file(o.port_file, bound) != 0) {
    fprintf(stderr, "grpc_hold_server: cannot write %s\n", o.port_file);
  } else {
    grpc_server_start(s.server);
    started = true;
    rc = serve(&s);
    shut_down(&s);
  }
  if (!started) /* the queue still needs its shutdown */
    drain(&s);
  grpc_server_destroy(s.server);
  grpc_completion_queue_destroy(s.cq);
  stp_grpc_server_del(s.srv);
  cli_config_del(&o, cfg);
  grpc_shutdown_blocking();
  return rc;
}
