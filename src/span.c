/* Your own spans: timed by the caller, reported to the config's sink. */
#define _POSIX_C_SOURCE 200809L

#include <time.h>

#include "internal.h"

uint64_t stp_time_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int start(stp_local_span *sp, const stp_context *ctx, const char *op,
                 const char *name, size_t name_len) {
  if (!sp || (!name && name_len))
    return STP_ERR_INVALID_ARGUMENT;
  if (!ctx && !(ctx = stp_current()))
    return STP_ERR_NO_CONTEXT;
  if (!stp_context_config(ctx))
    return STP_ERR_INVALID_ARGUMENT;
  sp->ctx = ctx;
  sp->op = op ? op : "function";
  sp->name = name;
  sp->name_len = name_len;
  sp->status = "ok";
  sp->code = -1;
  sp->local_root = false;
  sp->finished = false;
  return STP_OK;
}

int stp_local_span_start(stp_local_span *sp, const stp_context *ctx,
                         const stp_span *parent, const char *op,
                         const char *name, size_t name_len) {
  int err = start(sp, ctx, op, name, name_len);
  if (err != STP_OK)
    return err;
  const stp_span *own = stp_context_span(sp->ctx);
  if (!parent)
    parent = own;
  if (memcmp(&parent->trace_id, &own->trace_id, sizeof own->trace_id) != 0)
    return STP_ERR_INVALID_ARGUMENT;
  sp->span.trace_id = parent->trace_id;
  stp_span_id_random(&sp->span.span_id);
  sp->span.parent_span_id = parent->span_id;
  sp->span.has_parent = true;
  sp->span.sampled = own->sampled;
  sp->start_ns = stp_time_now_ns();
  return STP_OK;
}

int stp_local_span_start_root(stp_local_span *sp, const stp_context *ctx,
                              const char *op, const char *name,
                              size_t name_len) {
  int err = start(sp, ctx, op, name, name_len);
  if (err != STP_OK)
    return err;
  sp->span = *stp_context_span(sp->ctx);
  sp->local_root = true;
  sp->start_ns = stp_time_now_ns();
  return STP_OK;
}

void stp_local_span_set_status(stp_local_span *sp, const char *status) {
  if (sp && status)
    sp->status = status;
}

void stp_local_span_set_http_status(stp_local_span *sp, int code) {
  if (!sp)
    return;
  sp->code = code;
  sp->status = stp_span_status_http(code);
}

void stp_local_span_set_grpc_status(stp_local_span *sp, int code) {
  if (!sp)
    return;
  sp->code = code;
  sp->status = stp_span_status_grpc(code);
}

int stp_local_span_finish(stp_local_span *sp) {
  if (!sp || !sp->ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (sp->finished)
    return STP_ERR_STATE;
  sp->finished = true;
  stp_span_record rec = {
      .span = sp->span,
      .op = sp->op,
      .description = sp->name ? sp->name : "",
      .description_len = sp->name_len,
      .status = sp->status,
      .code = sp->code,
      .start_ns = sp->start_ns,
      .end_ns = stp_time_now_ns(),
      .local_root = sp->local_root,
      .continue_status = sp->local_root ? stp_context_status(sp->ctx) : 0,
      .ctx = sp->ctx,
      .source = sp->local_root ? "custom" : NULL,
  };
  stp_config_emit(stp_context_config(sp->ctx), &rec);
  return STP_OK;
}
