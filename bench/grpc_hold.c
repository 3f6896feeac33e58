/* The gRPC client of the memory benchmark (bench/streams_rss.sh): holds
 * calls open against a gRPC server, so that its memory per in-flight call
 * can be read. Plain gRPC core, no stp: the trace metadata, when wanted,
 * is given with -H as it would come from a caller.
 *
 *   grpc_hold --target HOST:PORT [--calls N] [-H 'name: value']...
 *             [--pause] [--hold-ms MS]
 *
 * 1. Connects (one channel, so one HTTP/2 connection) and waits until it
 *    is ready. With --pause, prints "connected" and waits for a line on
 *    stdin: the server now holds the connection and no call.
 * 2. Starts N calls (100) of /bench.Hold/Call, each sending its initial
 *    metadata (with the -H entries) and never a message nor its close, so
 *    a handler that reads the request waits for the rest of it. Waits
 *    until every call has the server's initial metadata, which
 *    examples/grpc/grpc_server sends once it has accepted the call and
 *    continued its trace; prints "ready N".
 * 3. Holds the calls until stdin closes, SIGTERM or SIGINT, or MS
 *    milliseconds after the start (600000); then cancels them and exits.
 *
 * Exits 0 when it was ready and no call ended meanwhile, 1 when a call
 * ended (the server cancelled or refused it: its status on stderr) or not
 * every call was accepted before the hold ended, 2 for a bad command
 * line. */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hold_stdin.h"
#include "examples/common/cli.h"
#include "examples/grpc/grpc_util.h"

#define MAX_HEADERS 16
#define CONNECT_MS 10000

/* One held call and what its two batches fill in. */
typedef struct held {
  grpc_call *call;
  grpc_metadata_array initial, trailing;
  grpc_status_code status;
  grpc_slice details;
  int batches; /* started and not completed */
} held;

/* The two batches of call i, as completion queue tags. */
enum batch { ANSWER, END };
#define TAG(i, b) ((void *)(uintptr_t)(2 * (i) + (b) + 1))
#define TAG_INDEX(t) (((uintptr_t)(t)-1) / 2)
#define TAG_BATCH(t) ((enum batch)(((uintptr_t)(t)-1) % 2))
#define WATCH_TAG ((void *)(uintptr_t)-1)

typedef struct hold {
  grpc_channel *channel;
  grpc_completion_queue *cq;
  held *calls;
  size_t n_calls, started, answered;
  const grpc_metadata *md;
  size_t n_md;
  int lost; /* a call ended before the hold did */
} hold;

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
  (void)sig;
  stop_signal = 1;
}

static gpr_timespec after_ms(int64_t ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static grpc_op op(grpc_op_type type) {
  grpc_op o;
  memset(&o, 0, sizeof o);
  o.op = type;
  return o;
}

/* ---- calls --------------------------------------------------------------- */

/* Starts call i: its initial metadata, nothing more; one batch waits for
 * the server's initial metadata (ANSWER), one for the call's end (END). */
static int call_start(hold *h, size_t i) {
  held *c = &h->calls[i];
  grpc_metadata_array_init(&c->initial);
  grpc_metadata_array_init(&c->trailing);
  c->details = grpc_empty_slice();
  c->call = grpc_channel_create_call(
      h->channel, NULL, GRPC_PROPAGATE_DEFAULTS, h->cq,
      grpc_slice_from_static_string("/bench.Hold/Call"), NULL,
      gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  if (!c->call)
    return -1;
  grpc_op answer[2] = {op(GRPC_OP_SEND_INITIAL_METADATA),
                       op(GRPC_OP_RECV_INITIAL_METADATA)};
  answer[0].data.send_initial_metadata.count = h->n_md;
  answer[0].data.send_initial_metadata.metadata = (grpc_metadata *)h->md;
  answer[1].data.recv_initial_metadata.recv_initial_metadata = &c->initial;
  grpc_op end = op(GRPC_OP_RECV_STATUS_ON_CLIENT);
  end.data.recv_status_on_client.trailing_metadata = &c->trailing;
  end.data.recv_status_on_client.status = &c->status;
  end.data.recv_status_on_client.status_details = &c->details;
  if (grpc_call_start_batch(c->call, answer, 2, TAG(i, ANSWER), NULL) !=
      GRPC_CALL_OK)
    return -1;
  c->batches++;
  if (grpc_call_start_batch(c->call, &end, 1, TAG(i, END), NULL) !=
      GRPC_CALL_OK)
    return -1;
  c->batches++;
  return 0;
}

/* A batch of a call completed. */
static void call_event(hold *h, const grpc_event *ev) {
  size_t i = TAG_INDEX(ev->tag);
  held *c = &h->calls[i];
  c->batches--;
  if (TAG_BATCH(ev->tag) == ANSWER) {
    h->answered += (size_t)ev->success;
  } else if (!h->lost) {
    fprintf(stderr, "grpc_hold: call %zu ended by the server: status %d %.*s\n",
            i, (int)c->status, (int)GRPC_SLICE_LENGTH(c->details),
            (const char *)GRPC_SLICE_START_PTR(c->details));
    h->lost = 1;
  }
}

/* Cancels every call and waits for their batches, then frees them. */
static void calls_end(hold *h) {
  for (size_t i = 0; i < h->started; i++)
    if (h->calls[i].call)
      grpc_call_cancel(h->calls[i].call, NULL);
  h->lost = 1; /* the cancelled calls' ends are not news */
  for (size_t i = 0; i < h->started; i++)
    while (h->calls[i].batches > 0) {
      grpc_event ev = grpc_completion_queue_next(
          h->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
      if (ev.type == GRPC_OP_COMPLETE && ev.tag != WATCH_TAG)
        call_event(h, &ev);
    }
  for (size_t i = 0; i < h->started; i++) {
    held *c = &h->calls[i];
    if (c->call)
      grpc_call_unref(c->call);
    grpc_metadata_array_destroy(&c->initial);
    grpc_metadata_array_destroy(&c->trailing);
    grpc_slice_unref(c->details);
  }
}

/* ---- the steps ----------------------------------------------------------- */

/* Waits until the channel is connected. Returns 0, or -1 after
 * CONNECT_MS. */
static int connect_channel(hold *h) {
  gpr_timespec give_up = after_ms(CONNECT_MS);
  grpc_connectivity_state st;
  while ((st = grpc_channel_check_connectivity_state(h->channel, 1)) !=
         GRPC_CHANNEL_READY) {
    if (gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), give_up) >= 0 ||
        stop_signal) {
      fprintf(stderr, "grpc_hold: not connected\n");
      return -1;
    }
    grpc_channel_watch_connectivity_state(h->channel, st, after_ms(500), h->cq,
                                          WATCH_TAG);
    grpc_completion_queue_next(h->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                               NULL);
  }
  return 0;
}

/* The pause, the calls and the hold, until stdin closes, a stop signal or
 * until_ms. Returns 0 when every call was held to the end, else -1. */
static int run(hold *h, int pause, gpr_timespec until) {
  int go = !pause, ready = 0;
  if (pause) {
    printf("connected\n");
    fflush(stdout);
  }
  while (!stop_signal &&
         gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), until) < 0) {
    if (hold_read_stdin(&go))
      break;
    while (go && h->started < h->n_calls)
      if (call_start(h, h->started++) != 0) {
        fprintf(stderr, "grpc_hold: cannot start call %zu\n", h->started - 1);
        return -1;
      }
    if (!ready && go && h->answered == h->n_calls) {
      printf("ready %zu\n", h->n_calls);
      fflush(stdout);
      ready = 1;
    }
    /* A short wait: stdin, the stop signal and the deadline are looked
     * at between waits. */
    grpc_event ev = grpc_completion_queue_next(h->cq, after_ms(100), NULL);
    if (ev.type == GRPC_OP_COMPLETE && ev.tag != WATCH_TAG)
      call_event(h, &ev);
    if (h->lost)
      return -1;
  }
  if (!ready)
    fprintf(stderr,
            "grpc_hold: %zu of %zu calls accepted when the hold ended\n",
            h->answered, h->n_calls);
  return ready ? 0 : -1;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
  fprintf(stderr, "usage: grpc_hold --target HOST:PORT [--calls N] "
                  "[-H 'name: value']...\n"
                  "                 [--pause] [--hold-ms MS]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *target = NULL;
  int calls = 100, hold_ms = 600000, pause = 0;
  grpc_metadata md[MAX_HEADERS];
  size_t n_md = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--pause") == 0) {
      pause = 1;
      continue;
    }
    if (i + 1 == argc)
      return usage();
    char *v = argv[++i];
    if (strcmp(a, "--target") == 0)
      target = v;
    else if (strcmp(a, "--calls") == 0)
      calls = cli_number(v, 1, 1000000);
    else if (strcmp(a, "--hold-ms") == 0)
      hold_ms = cli_number(v, 1, 0x7fffffff);
    else if (strcmp(a, "-H") != 0 || n_md == MAX_HEADERS ||
             metadata_from_header(v, &md[n_md++]) != 0)
      return usage();
  }
  if (!target || calls < 0 || hold_ms < 0)
    return usage();

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  gpr_timespec until = after_ms(hold_ms);

  grpc_init();
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  hold h = {grpc_channel_create(target, creds, NULL),
            grpc_completion_queue_create_for_next(NULL),
            calloc((size_t)calls, sizeof(held)),
            (size_t)calls,
            0,
            0,
            md,
            n_md,
            0};
  grpc_channel_credentials_release(creds);
  int rc = 1;
  if (h.calls && connect_channel(&h) == 0)
    rc = run(&h, pause, until) == 0 ? 0 : 1;
  calls_end(&h);
  free(h.calls);
  cq_drain(h.cq);
  grpc_channel_destroy(h.channel);
  grpc_shutdown_blocking();
  return rc;
}
