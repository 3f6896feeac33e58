/* How the gRPC example server serves its calls, apart from what it does
 * with one: a fixed pool of worker threads, each with a completion queue
 * of its own, requesting a call, serving it to its end, requesting the
 * next. So up to `max_calls` calls are served at once, a call that never
 * finishes holds one worker and no more, and every call has its own
 * deadline: one not ended `call_timeout_ms` after it was accepted is
 * cancelled (DEADLINE_EXCEEDED). Calls past max_calls wait in gRPC until
 * a worker is free. */
#ifndef STP_EXAMPLES_GRPC_CALL_POOL_H
#define STP_EXAMPLES_GRPC_CALL_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "stp/grpc.h"

typedef struct call_pool_limits {
  uint32_t max_calls;       /* 8; a field left 0 takes its default */
  uint32_t call_timeout_ms; /* 10000 */
} call_pool_limits;

/* The options that set them, for a program's usage text. */
#define CALL_POOL_USAGE                                                        \
  "  --max-calls N       calls served at once, 1 to 256 (8)\n"                 \
  "  --call-timeout MS   a call, from its start to its end (10000)\n"

/* Reads argv[*i], and its value (advancing *i), when it is one of the
 * options of CALL_POOL_USAGE. Returns 1 when it was, 0 when it is not one
 * of them, -1 when its value is missing or out of range. */
int call_pool_option(call_pool_limits *l, int argc, char **argv, int *i);

/* One call a worker serves. */
typedef struct pool_call {
  stp_grpc_call *call;
  grpc_completion_queue *cq; /* the worker's: the call's batches */
  gpr_timespec deadline;     /* GPR_CLOCK_MONOTONIC */
  const atomic_int *stopping;
  int cancelled; /* past its deadline, or the server stops */
} pool_call;

/* Serves one accepted call to its end and unrefs it (its batches through
 * pool_call_run). Runs on the workers, several at once. */
typedef void (*pool_handler)(void *user, pool_call *pc);

typedef struct call_pool_options {
  stp_grpc_server *srv; /* its interceptors added */
  call_pool_limits limits;
  pool_handler handle;
  void *user;
  const atomic_int *stopping; /* set (by a signal): stop serving */
} call_pool_options;

typedef struct call_pool call_pool;

/* Before grpc_server_start: the pool, its completion queues registered
 * with the server. Returns 0, or -1 without memory. */
int call_pool_new(call_pool **out, const call_pool_options *o);

/* After grpc_server_start: starts the workers and serves until *stopping.
 * Returns 0 then, or -1 when no worker could start. */
int call_pool_serve(call_pool *p);

/* Shuts the server down (calls under way are cancelled), waits for the
 * workers and frees the pool; after it, grpc_server_destroy. Also for a
 * pool that never served (the server did not start). */
void call_pool_del(call_pool *p);

/* Starts a batch on the call and waits for it. Returns the batch's
 * success: 0 also when the call was cancelled meanwhile, for its deadline
 * or because the server stops. */
int pool_call_run(pool_call *pc, const grpc_op *ops, size_t n);

/* Milliseconds left before the call's deadline (0 when past it). */
int pool_call_left_ms(const pool_call *pc);

#endif /* STP_EXAMPLES_GRPC_CALL_POOL_H */
