/* Calls: their state in the call arena, what can be read from them, and
 * their batches through the interceptors. */

#include <string.h>

#include "internal.h"

/* Items the first metadata batch has room for past the user's: what the
 * Sentry interceptor adds (sentry-trace, baggage, traceparent). More grow
 * the array in the arena (metadata.c). */
#define MD_ROOM 3

/* The items of a first metadata batch of up to this many are on the
 * stack of start_batch: grpc_call_start_batch takes its own copy of the
 * metadata (references to the values, copies of the keys) before it
 * returns, so the array needs no life past it. Larger ones go to the
 * arena. */
#define MD_ON_STACK 16

int stp__grpc_ic_list_add(stp__grpc_ic_list *l,
                          const stp_grpc_interceptor *ic) {
  if (!ic)
    return STP_ERR_INVALID_ARGUMENT;
  if (l->n == STP_GRPC_MAX_INTERCEPTORS)
    return STP_ERR_LIMIT;
  l->items[l->n++] = *ic;
  return STP_OK;
}

/* Where the call data of the interceptors start in a call's block: after
 * the call state and the copies of the n interceptors. */
static size_t data_start(size_t n) {
  return STP__GRPC_ALIGN16(sizeof(stp_grpc_call)) +
         STP__GRPC_ALIGN16(n * sizeof(stp_grpc_interceptor));
}

/* Interceptor i's call data, or NULL when it asked for none. */
static inline void *call_data(const stp_grpc_call *c, size_t i) {
  if (!c->ics[i].call_data_size)
    return NULL;
  size_t off = data_start(c->n_ics);
  for (size_t j = 0; j < i; j++)
    off += STP__GRPC_ALIGN16(c->ics[j].call_data_size);
  return (char *)c + off;
}

/* One arena allocation per call: the call state, the interceptors' call
 * data and the strings. */
stp_grpc_call *stp__grpc_call_alloc(grpc_call *gc, const stp__grpc_ic_list *l,
                                    size_t extra, char **strings) {
  size_t ics_off = STP__GRPC_ALIGN16(sizeof(stp_grpc_call));
  size_t size = data_start(l->n);
  size_t data_off[STP_GRPC_MAX_INTERCEPTORS];
  bool md_hooks = false;
  for (size_t i = 0; i < l->n; i++) {
    data_off[i] = size;
    size += STP__GRPC_ALIGN16(l->items[i].call_data_size);
    md_hooks = md_hooks || l->items[i].send_initial_metadata;
  }
  size_t str_off = size;
  size += extra;
  char *base = grpc_call_arena_alloc(gc, size);
  /* Zero the call state and the call data but raw blocks, in runs
   * between them; the strings are written before they are read. */
  size_t zero_from = 0;
  for (size_t i = 0; i < l->n; i++)
    if (l->items[i].call_data_raw) {
      memset(base + zero_from, 0, data_off[i] - zero_from);
      zero_from = data_off[i] + STP__GRPC_ALIGN16(l->items[i].call_data_size);
    }
  memset(base + zero_from, 0, str_off - zero_from);
  stp_grpc_call *c = (stp_grpc_call *)base;
  c->md_hooks = md_hooks;
  c->call = gc;
  c->n_ics = (uint8_t)l->n;
  stp_grpc_interceptor *ics = (stp_grpc_interceptor *)(base + ics_off);
  memcpy(ics, l->items, l->n * sizeof *ics);
  c->ics = ics;
  c->status = GRPC_STATUS_UNKNOWN;
  c->start_ns = stp_time_now_ns();
  c->arena_bytes = size;
  *strings = base + str_off;
  return c;
}

void stp__grpc_run_start(stp_grpc_call *c) {
  for (size_t i = 0; i < c->n_ics; i++)
    if (c->ics[i].start)
      c->ics[i].start(c->ics[i].user, c, call_data(c, i));
}

/* ---- calls ------------------------------------------------------------- */

grpc_call *stp_grpc_call_get(const stp_grpc_call *call) {
  return call ? call->call : NULL;
}

bool stp_grpc_call_is_server(const stp_grpc_call *call) {
  return call && call->is_server;
}

const char *stp_grpc_call_method(const stp_grpc_call *call, size_t *out_len) {
  *out_len = call->target_len - call->authority_len;
  return call->target + call->authority_len;
}

const char *stp_grpc_call_authority(const stp_grpc_call *call,
                                    size_t *out_len) {
  *out_len = call->authority_len;
  return call->target;
}

const char *stp_grpc_call_target(const stp_grpc_call *call, size_t *out_len) {
  *out_len = call->target_len;
  return call->target;
}

void *stp_grpc_call_arena_alloc(stp_grpc_call *call, size_t size) {
  if (!call)
    return NULL;
  call->arena_bytes += size;
  return grpc_call_arena_alloc(call->call, size);
}

size_t stp_grpc_call_arena_bytes(const stp_grpc_call *call) {
  return call ? call->arena_bytes : 0;
}

stp_context *stp_grpc_call_context(const stp_grpc_call *call) {
  return call ? call->ctx : NULL;
}

const stp_span *stp_grpc_call_span(const stp_grpc_call *call) {
  return call ? call->span : NULL;
}

void stp_grpc_call_set_context(stp_grpc_call *call, stp_context *ctx,
                               const stp_span *span) {
  call->ctx = ctx;
  call->span = span;
}

stp_context *stp_grpc_call_parent(const stp_grpc_call *call) {
  return call ? call->parent : NULL;
}

const stp_grpc_md *stp_grpc_call_request_metadata(const stp_grpc_call *call,
                                                  size_t *out_count) {
  *out_count = call ? call->req_md_count : 0;
  return call ? call->req_md : NULL;
}

bool stp_grpc_call_status(const stp_grpc_call *call, grpc_status_code *out) {
  if (call->status_override) {
    *out = call->status;
    return true;
  }
  if (call->is_server && call->end_out.cancelled && *call->end_out.cancelled) {
    *out = GRPC_STATUS_CANCELLED;
    return true;
  }
  if (call->status_set) {
    *out = call->status;
    return true;
  }
  if (!call->is_server && call->end_out.status) {
    *out = *call->end_out.status;
    return true;
  }
  *out = GRPC_STATUS_UNKNOWN;
  return false;
}

void stp_grpc_call_set_status(stp_grpc_call *call, grpc_status_code status) {
  call->status = status;
  call->status_override = true;
}

uint64_t stp_grpc_call_start_ns(const stp_grpc_call *call) {
  return call->start_ns;
}

uint64_t stp_grpc_call_end_ns(const stp_grpc_call *call) {
  return call->end_ns;
}

void stp_grpc_call_unref(stp_grpc_call *call) {
  if (!call)
    return;
  grpc_call *gc = call->call;
  if (!call->ended) {
    call->ended = true;
    call->end_ns = stp_time_now_ns();
    for (size_t i = 0; i < call->n_ics; i++)
      if (call->ics[i].end)
        call->ics[i].end(call->ics[i].user, call, call_data(call, i));
  }
  grpc_call_unref(gc); /* frees the arena, and call with it */
}

/* ---- batches ------------------------------------------------------------ */

/* A batch holds at most one op of each type. */
#define MAX_OPS 8

/* The batch to gRPC; the first SEND_INITIAL_METADATA (ops[send_md]) goes
 * through the interceptors' hooks. */
static grpc_call_error start_batch(stp_grpc_call *call, const grpc_op *ops,
                                   size_t nops, void *tag, size_t send_md) {
  if (send_md == nops || call->md_sent || !call->md_hooks) {
    grpc_call_error err =
        grpc_call_start_batch(call->call, ops, nops, tag, NULL);
    if (err == GRPC_CALL_OK && send_md != nops)
      call->md_sent = true;
    return err;
  }

  const struct grpc_op_send_initial_metadata *in =
      &ops[send_md].data.send_initial_metadata;
  stp_grpc_metadata md;
  md.call = call;
  md.owned = md.owned_first;
  md.n_owned = 0;
  md.cap_owned = sizeof md.owned_first / sizeof md.owned_first[0];
  grpc_metadata on_stack[MD_ON_STACK];
  md.cap = in->count + MD_ROOM;
  md.items = md.cap <= MD_ON_STACK
                 ? on_stack
                 : stp_grpc_call_arena_alloc(call, md.cap * sizeof *md.items);
  if (in->count)
    memcpy(md.items, in->metadata, in->count * sizeof *md.items);
  md.count = in->count;

  for (size_t i = 0; i < call->n_ics; i++)
    if (call->ics[i].send_initial_metadata)
      call->ics[i].send_initial_metadata(call->ics[i].user, call,
                                         call_data(call, i), &md);

  grpc_op copy[MAX_OPS];
  memcpy(copy, ops, nops * sizeof *ops);
  copy[send_md].data.send_initial_metadata.count = md.count;
  copy[send_md].data.send_initial_metadata.metadata = md.items;
  grpc_call_error err =
      grpc_call_start_batch(call->call, copy, nops, tag, NULL);
  /* gRPC took its own references during the call. */
  for (size_t i = 0; i < md.n_owned; i++)
    grpc_slice_unref(md.owned[i]);
  if (err == GRPC_CALL_OK)
    call->md_sent = true;
  return err;
}

grpc_call_error stp_grpc_call_start_batch(stp_grpc_call *call,
                                          const grpc_op *ops, size_t nops,
                                          void *tag) {
  if (!call)
    return GRPC_CALL_ERROR;
  if (nops > MAX_OPS)
    return grpc_call_start_batch(call->call, ops, nops, tag, NULL);

  /* The status ops are noted for the span record once gRPC has taken the
   * batch. Their out variables are reset before (the batch may complete
   * on another thread at once), and put back when gRPC refuses it. */
  size_t send_md = nops;
  grpc_status_code *recv_status = NULL, recv_status_was = GRPC_STATUS_OK;
  int *recv_close = NULL, recv_close_was = 0;
  bool sends_status = false;
  grpc_status_code sent = GRPC_STATUS_OK;
  for (size_t i = 0; i < nops; i++) {
    switch (ops[i].op) {
    case GRPC_OP_SEND_INITIAL_METADATA:
      send_md = i;
      break;
    case GRPC_OP_RECV_STATUS_ON_CLIENT:
      recv_status = ops[i].data.recv_status_on_client.status;
      break;
    case GRPC_OP_SEND_STATUS_FROM_SERVER:
      sends_status = true;
      sent = ops[i].data.send_status_from_server.status;
      break;
    case GRPC_OP_RECV_CLOSE_ON_SERVER:
      recv_close = ops[i].data.recv_close_on_server.cancelled;
      break;
    default:
      break;
    }
  }
  if (recv_status) {
    recv_status_was = *recv_status;
    *recv_status = GRPC_STATUS_UNKNOWN;
  }
  if (recv_close) {
    recv_close_was = *recv_close;
    *recv_close = 0;
  }

  grpc_call_error err = start_batch(call, ops, nops, tag, send_md);
  if (err != GRPC_CALL_OK) {
    if (recv_status)
      *recv_status = recv_status_was;
    if (recv_close)
      *recv_close = recv_close_was;
    return err;
  }
  if (!call->status_override) {
    /* gRPC refuses each of these ops on the other side's calls. */
    if (recv_status && !call->is_server)
      call->end_out.status = recv_status;
    if (sends_status) {
      call->status = sent;
      call->status_set = true;
    }
    if (recv_close && call->is_server)
      call->end_out.cancelled = recv_close;
  }
  return err;
}
