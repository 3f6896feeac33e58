/* stp's bytes in the gRPC call arena per call, for the memory benchmark
 * (bench/streams_rss.sh): what the interceptor layer and the Sentry
 * interceptors take with grpc_call_arena_alloc, counted by a wrapper put
 * in at link time (-Wl,--wrap, so only stp's own calls to it are counted,
 * not gRPC's). That memory lives as long as the call: it is stp's state
 * per in-flight call, whatever else the server keeps.
 *
 *   grpc_arena [-H 'name: value']...
 *
 * One process: a server on 127.0.0.1 (port 0) with the Sentry server
 * interceptor, and a channel to it. Four calls, one at a time, each
 * accepted and then cancelled: from a plain gRPC client with the -H
 * entries as metadata (the reference trace metadata, say), from one with
 * none, and through the Sentry client interceptor continuing the trace of
 * the -H entries, and starting a new one. Prints, per call, the bytes stp
 * took on the client (creating the call and sending its metadata) and on
 * the server (accepting it). */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/grpc/grpc_util.h"
#include "stp/grpc.h"

#define MAX_HEADERS 16

/* ---- the count ----------------------------------------------------------- */

void *__real_grpc_call_arena_alloc(grpc_call *call, size_t size);
void *__wrap_grpc_call_arena_alloc(grpc_call *call, size_t size);

/* Every call to it comes from stp's code on the main thread. */
static size_t arena_bytes, arena_allocs;

void *__wrap_grpc_call_arena_alloc(grpc_call *call, size_t size) {
  arena_bytes += size;
  arena_allocs++;
  return __real_grpc_call_arena_alloc(call, size);
}

typedef struct count {
  size_t bytes, allocs;
} count;

static void count_start(void) {
  arena_bytes = arena_allocs = 0;
}

static count count_now(void) {
  return (count){arena_bytes, arena_allocs};
}

/* ---- one call ------------------------------------------------------------ */

typedef struct bench {
  grpc_server *server;
  stp_grpc_server *srv;
  grpc_completion_queue *scq; /* the server's: requests */
  grpc_channel *channel;
  stp_grpc_channel *traced;   /* the Sentry client interceptor on channel */
  grpc_completion_queue *ccq; /* the client's: its calls' batches */
} bench;

static grpc_op op(grpc_op_type type) {
  grpc_op o;
  memset(&o, 0, sizeof o);
  o.op = type;
  return o;
}

/* The client's part of a call: created and its initial metadata sent,
 * through the Sentry client interceptor when through_stp is set (with
 * `parent`, NULL for a new trace), else with gRPC core alone. *raw is
 * the call, and *stp_call its stp handle or NULL. */
static int client_call(bench *b, int through_stp, stp_context *parent,
                       const grpc_metadata *md, size_t n_md,
                       stp_grpc_call **stp_call, grpc_call **raw, count *n) {
  static const char method[] = "/bench.Arena/Call";
  gpr_timespec forever = gpr_inf_future(GPR_CLOCK_REALTIME);
  grpc_op send = op(GRPC_OP_SEND_INITIAL_METADATA);
  send.data.send_initial_metadata.count = n_md;
  send.data.send_initial_metadata.metadata = (grpc_metadata *)md;
  grpc_call_error err;
  count_start();
  if (through_stp) {
    if (stp_grpc_channel_create_call(b->traced, stp_call, parent, b->ccq,
                                     method, forever) != STP_OK)
      return -1;
    *raw = stp_grpc_call_get(*stp_call);
    err = stp_grpc_call_start_batch(*stp_call, &send, 1, b);
  } else {
    *stp_call = NULL;
    *raw = grpc_channel_create_call(
        b->channel, NULL, GRPC_PROPAGATE_DEFAULTS, b->ccq,
        grpc_slice_from_static_string(method), NULL, forever, NULL);
    if (!*raw)
      return -1;
    err = grpc_call_start_batch(*raw, &send, 1, b, NULL);
  }
  *n = count_now();
  return err == GRPC_CALL_OK ? 0 : -1;
}

/* The server's part: the call requested and accepted through stp. */
static int server_accept(bench *b, stp_grpc_call **call, count *n) {
  stp_grpc_request req;
  if (stp_grpc_server_request_call(b->srv, &req, b->scq, b->scq, &req) !=
      GRPC_CALL_OK)
    return -1;
  grpc_event ev = grpc_completion_queue_next(
      b->scq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  count_start();
  if (ev.type != GRPC_OP_COMPLETE || !ev.success ||
      stp_grpc_server_accept(b->srv, call, &req) != STP_OK) {
    stp_grpc_request_destroy(&req);
    return -1;
  }
  *n = count_now();
  return 0;
}

/* One call from the client to the server and its counts; both ends are
 * cancelled and freed afterwards. */
static int one_call(bench *b, int through_stp, stp_context *parent,
                    const grpc_metadata *md, size_t n_md, count *client,
                    count *server) {
  stp_grpc_call *cs = NULL, *ss = NULL;
  grpc_call *raw = NULL;
  int rc = client_call(b, through_stp, parent, md, n_md, &cs, &raw, client);
  if (rc == 0)
    rc = server_accept(b, &ss, server);
  if (ss) {
    grpc_call_cancel(stp_grpc_call_get(ss), NULL);
    stp_grpc_call_unref(ss);
  }
  if (raw) {
    grpc_call_cancel(raw, NULL);
    grpc_completion_queue_pluck(b->ccq, b, gpr_inf_future(GPR_CLOCK_REALTIME),
                                NULL);
  }
  if (cs)
    stp_grpc_call_unref(cs);
  else if (raw)
    grpc_call_unref(raw);
  return rc;
}

/* ---- setup --------------------------------------------------------------- */

static void no_record(void *user, const stp_span_record *r) {
  (void)user;
  (void)r;
}

/* The server with the Sentry server interceptor, on a free port, and a
 * channel to it with and without the Sentry client interceptor. */
static int bench_start(bench *b, const stp_grpc_sentry *sentry) {
  b->server = grpc_server_create(NULL, NULL);
  b->scq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(b->server, b->scq, NULL);
  grpc_server_credentials *sc = grpc_insecure_server_credentials_create();
  int port = grpc_server_add_http2_port(b->server, "127.0.0.1:0", sc);
  grpc_server_credentials_release(sc);
  stp_grpc_interceptor ic;
  if (port <= 0 || stp_grpc_server_new(&b->srv, b->server) != STP_OK)
    return -1;
  stp_grpc_sentry_server(&ic, sentry);
  stp_grpc_server_add(b->srv, &ic);
  grpc_server_start(b->server);

  char target[32];
  snprintf(target, sizeof target, "127.0.0.1:%d", port);
  grpc_channel_credentials *cc = grpc_insecure_credentials_create();
  b->channel = grpc_channel_create(target, cc, NULL);
  grpc_channel_credentials_release(cc);
  if (stp_grpc_channel_new(&b->traced, b->channel, NULL) != STP_OK)
    return -1;
  stp_grpc_sentry_client(&ic, sentry);
  stp_grpc_channel_add(b->traced, &ic);
  b->ccq = grpc_completion_queue_create_for_pluck(NULL);
  return 0;
}

static void bench_stop(bench *b) {
  if (b->server) {
    grpc_server_shutdown_and_notify(b->server, b->scq, b);
    grpc_server_cancel_all_calls(b->server);
    grpc_completion_queue_next(b->scq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                               NULL);
    grpc_server_destroy(b->server);
    cq_drain(b->scq);
  }
  stp_grpc_server_del(b->srv);
  stp_grpc_channel_del(b->traced);
  if (b->channel)
    grpc_channel_destroy(b->channel);
  if (b->ccq) { /* a pluck queue: pluck, not next, sees the shutdown */
    grpc_completion_queue_shutdown(b->ccq);
    grpc_completion_queue_pluck(b->ccq, NULL,
                                gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_completion_queue_destroy(b->ccq);
  }
}

/* ---- main ---------------------------------------------------------------- */

/* The -H argument as a metadata entry, fed to ctx too. Returns 0, or -1
 * when it is not `name: value`. */
static int header(char *arg, grpc_metadata *md, stp_context *ctx) {
  if (metadata_from_header(arg, md) != 0)
    return -1;
  stp_context_feed(ctx, (const char *)GRPC_SLICE_START_PTR(md->key),
                   GRPC_SLICE_LENGTH(md->key),
                   (const char *)GRPC_SLICE_START_PTR(md->value),
                   GRPC_SLICE_LENGTH(md->value));
  return 0;
}

int main(int argc, char **argv) {
  stp_options opts;
  stp_options_init(&opts);
  stp_config *cfg;
  if (stp_config_new(&cfg, &opts, NULL) != STP_OK)
    return 1;
  /* The trace of the -H entries, which the Sentry client continues. */
  static stp_context parent;
  stp_context_begin(&parent, cfg);
  grpc_metadata md[MAX_HEADERS];
  size_t n_md = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-H") != 0 || i + 1 == argc || n_md == MAX_HEADERS ||
        header(argv[++i], &md[n_md++], &parent) != 0) {
      fprintf(stderr, "usage: grpc_arena [-H 'name: value']...\n");
      stp_config_del(cfg);
      return 2;
    }
  int continued = stp_context_finish(&parent) == STP_OK;

  grpc_init();
  stp_grpc_sentry sentry = {cfg, no_record, NULL};
  bench b;
  memset(&b, 0, sizeof b);
  int rc = bench_start(&b, &sentry) == 0 ? 0 : 1;
  static const struct {
    const char *what;
    int through_stp, with_md, with_parent;
  } calls[] = {
      {"plain client, the -H entries as metadata", 0, 1, 0},
      {"plain client, no metadata", 0, 0, 0},
      {"Sentry client, the trace of the -H entries", 1, 0, 1},
      {"Sentry client, a new trace", 1, 0, 0},
  };
  printf("stp's bytes in the gRPC call arena per call (allocations)%s\n",
         continued ? "" : "; the -H entries hold no trace");
  printf("%-44s %14s %14s\n", "call", "client", "server");
  for (size_t i = 0; rc == 0 && i < sizeof calls / sizeof calls[0]; i++) {
    count client, server;
    if (one_call(&b, calls[i].through_stp,
                 calls[i].with_parent && continued ? &parent : NULL, md,
                 calls[i].with_md ? n_md : 0, &client, &server) != 0) {
      fprintf(stderr, "grpc_arena: the call failed\n");
      rc = 1;
      break;
    }
    printf("%-44s %10zu (%zu) %10zu (%zu)\n", calls[i].what, client.bytes,
           client.allocs, server.bytes, server.allocs);
  }
  bench_stop(&b);
  grpc_shutdown_blocking();
  stp_config_del(cfg);
  return rc;
}
