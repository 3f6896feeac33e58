#define _POSIX_C_SOURCE 200809L

#include "call_pool.h"

#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/common/cli.h"
#include "examples/grpc/grpc_util.h"

/* A worker waiting for its call's batch looks at the stop flag this
 * often; so does the main thread waiting for a stop. */
#define CHECK_MS 100

typedef struct worker {
  call_pool *pool;
  grpc_completion_queue *cq;
  pthread_t thread;
  int started;
} worker;

struct call_pool {
  call_pool_options o; /* limits with the defaults in */
  grpc_server *server;
  grpc_completion_queue *shutdown_cq;
  worker *workers; /* o.limits.max_calls of them */
};

int call_pool_option(call_pool_limits *l, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  int calls = strcmp(a, "--max-calls") == 0;
  if (!calls && strcmp(a, "--call-timeout") != 0)
    return 0;
  int n =
      *i + 1 < argc ? cli_number(argv[++*i], 1, calls ? 256 : 0x7fffffff) : -1;
  if (n < 0)
    return -1;
  *(calls ? &l->max_calls : &l->call_timeout_ms) = (uint32_t)n;
  return 1;
}

static gpr_timespec after_ms(int64_t ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int pool_call_left_ms(const pool_call *pc) {
  gpr_timespec left = gpr_time_sub(pc->deadline, gpr_now(GPR_CLOCK_MONOTONIC));
  int64_t ms = gpr_time_to_millis(left);
  return ms < 0 ? 0 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int pool_call_run(pool_call *pc, const grpc_op *ops, size_t n) {
  int tag;
  if (stp_grpc_call_start_batch(pc->call, ops, n, &tag) != GRPC_CALL_OK)
    return 0;
  for (;;) {
    gpr_timespec wake = gpr_time_min(after_ms(CHECK_MS), pc->deadline);
    grpc_event ev = grpc_completion_queue_next(pc->cq, wake, NULL);
    if (ev.type == GRPC_OP_COMPLETE && ev.tag == &tag)
      return pc->cancelled ? 0 : ev.success;
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      return 0;
    int late = gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), pc->deadline) >= 0;
    if (pc->cancelled || !(late || atomic_load(pc->stopping)))
      continue;
    /* The batch then ends soon, without success. */
    pc->cancelled = 1;
    if (late)
      fprintf(stderr, "grpc_server: call past its deadline, cancelled\n");
    grpc_status_code status =
        late ? GRPC_STATUS_DEADLINE_EXCEEDED : GRPC_STATUS_UNAVAILABLE;
    /* The span record says why, not just "cancelled". */
    stp_grpc_call_set_status(pc->call, status);
    grpc_call_cancel_with_status(stp_grpc_call_get(pc->call), status,
                                 late ? "call timeout" : "server stopping",
                                 NULL);
  }
}

/* One worker: a call requested, accepted and served at a time, until the
 * server shuts down (a request then comes back without success). */
static void *work(void *arg) {
  worker *w = arg;
  call_pool *p = w->pool;
  for (;;) {
    stp_grpc_request req;
    if (stp_grpc_server_request_call(p->o.srv, &req, w->cq, w->cq, &req) !=
        GRPC_CALL_OK)
      break;
    grpc_event ev = grpc_completion_queue_next(
        w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    pool_call pc = {.cq = w->cq, .stopping = p->o.stopping};
    if (ev.type != GRPC_OP_COMPLETE || !ev.success ||
        stp_grpc_server_accept(p->o.srv, &pc.call, &req) != STP_OK) {
      stp_grpc_request_destroy(&req);
      if (ev.type != GRPC_OP_COMPLETE || !ev.success)
        break;
      continue;
    }
    pc.deadline = after_ms(p->o.limits.call_timeout_ms);
    p->o.handle(p->o.user, &pc);
  }
  return NULL;
}

int call_pool_new(call_pool **out, const call_pool_options *o) {
  call_pool *p = calloc(1, sizeof *p);
  *out = p;
  if (!p)
    return -1;
  p->o = *o;
  if (!p->o.limits.max_calls)
    p->o.limits.max_calls = 8;
  if (!p->o.limits.call_timeout_ms)
    p->o.limits.call_timeout_ms = 10000;
  p->server = stp_grpc_server_get(o->srv);
  p->workers = calloc(p->o.limits.max_calls, sizeof *p->workers);
  if (!p->workers) {
    free(p);
    *out = NULL;
    return -1;
  }
  p->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(p->server, p->shutdown_cq, NULL);
  for (uint32_t i = 0; i < p->o.limits.max_calls; i++) {
    p->workers[i].pool = p;
    p->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(p->server, p->workers[i].cq, NULL);
  }
  return 0;
}

int call_pool_serve(call_pool *p) {
  size_t started = 0;
  for (uint32_t i = 0; i < p->o.limits.max_calls; i++) {
    worker *w = &p->workers[i];
    w->started = pthread_create(&w->thread, NULL, work, w) == 0;
    started += (size_t)w->started;
  }
  if (!started)
    return -1;
  const struct timespec check = {0, CHECK_MS * 1000000L};
  while (!atomic_load(p->o.stopping))
    nanosleep(&check, NULL);
  return 0;
}

void call_pool_del(call_pool *p) {
  if (!p)
    return;
  /* Pending requests come back without success (the workers stop), the
   * calls under way are cancelled (their batches end). */
  int tag;
  grpc_server_shutdown_and_notify(p->server, p->shutdown_cq, &tag);
  grpc_server_cancel_all_calls(p->server);
  grpc_completion_queue_next(p->shutdown_cq,
                             gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
  for (uint32_t i = 0; i < p->o.limits.max_calls; i++) {
    if (p->workers[i].started)
      pthread_join(p->workers[i].thread, NULL);
    cq_drain(p->workers[i].cq);
  }
  cq_drain(p->shutdown_cq);
  free(p->workers);
  free(p);
}
