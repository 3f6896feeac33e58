/* The Sentry propagation interceptors: continue on the server, inject on
 * the client, one span record per call. */
#include <string.h>

#include "internal.h"

/* Each call keeps a compact copy of its context in the call's arena,
 * sized by what it holds: a few hundred bytes for usual trace headers,
 * where a whole context is STP_CONTEXT_SIZE. The whole context that is
 * decided first lives on the stack of the start hook. */

typedef struct client_data {
  stp_context *ctx; /* a copy of the caller's context, or a new head */
  stp_span span;    /* the client span */
  bool injected;
} client_data;

typedef struct server_data {
  stp_context *ctx;
} server_data;

/* A compact copy of a decided context in the call's arena, or NULL when
 * ctx is not decided (a parent between begin and finish: its room in the
 * arena then goes unused until the call ends). */
static stp_context *keep(stp_grpc_call *call, const stp_context *ctx) {
  size_t size = stp_context_compact_size(ctx);
  stp_context *copy = NULL;
  stp_context_compact(&copy, stp_grpc_call_arena_alloc(call, size), size, ctx);
  return copy;
}

static void emit(const stp_grpc_sentry *s, stp_grpc_call *call,
                 const stp_context *ctx, const stp_span *span, bool server,
                 bool injected) {
  void *user = s->record_user;
  stp_span_record_fn fn = s->on_record;
  if (!fn)
    fn = stp_config_record_sink(s->cfg, &user);
  if (!fn || !span)
    return;
  grpc_status_code code;
  bool known = stp_grpc_call_status(call, &code);
  stp_span_record rec = {
      .span = *span,
      .op = server ? "grpc.server" : "grpc.client",
      .status = known ? stp_span_status_grpc((int)code) : "unknown",
      .code = known ? (int)code : -1,
      .start_ns = stp_grpc_call_start_ns(call),
      .end_ns = stp_grpc_call_end_ns(call),
      /* A client span is a root when the call started a new trace: it is
       * then the context's own span. */
      .local_root = server || !span->has_parent,
      .continue_status = server ? stp_context_status(ctx) : 0,
      .injected = injected,
      .ctx = ctx,
      .source = "route", /* the method path: a name of few values */
  };
  rec.description = stp_grpc_call_method(call, &rec.description_len);
  fn(user, &rec);
}

/* ---- client ------------------------------------------------------------- */

static void client_start(void *user, stp_grpc_call *call, void *data) {
  const stp_grpc_sentry *s = user;
  client_data *cd = data;
  stp_context *parent = stp_grpc_call_parent(call);
  /* The DSC leaves the process with this call: freeze it in the parent
   * too, so that every call of the unit of work carries the same one. */
  if (parent)
    stp_context_freeze(parent);
  if (parent && (cd->ctx = keep(call, parent)) != NULL) {
    stp_context_child_span(cd->ctx, &cd->span);
  } else { /* no parent, or one not decided: a new trace of its own */
    stp_context head;
    if (stp_context_init(&head, s->cfg) != STP_OK)
      return;
    stp_context_freeze(&head); /* its DSC goes out with the call */
    cd->ctx = keep(call, &head);
    cd->span = *stp_context_span(cd->ctx);
  }
  stp_grpc_call_set_context(call, cd->ctx, &cd->span);
}

static void client_send_md(void *user, stp_grpc_call *call, void *data,
                           stp_grpc_metadata *md) {
  const stp_grpc_sentry *s = user;
  client_data *cd = data;
  if (!stp_grpc_call_context(call))
    return;
  size_t len;
  const char *target = stp_grpc_call_target(call, &len);
  bool match;
  if (stp_config_should_propagate(s->cfg, &match, target, len) != STP_OK ||
      !match)
    return;
  stp_carrier carrier;
  stp__grpc_trace_carrier(md, &carrier);
  cd->injected = stp_context_inject(cd->ctx, &carrier, &cd->span) == STP_OK;
}

static void client_end(void *user, stp_grpc_call *call, void *data) {
  client_data *cd = data;
  if (stp_grpc_call_context(call))
    emit(user, call, cd->ctx, &cd->span, false, cd->injected);
}

void stp_grpc_sentry_client(stp_grpc_interceptor *out,
                            const stp_grpc_sentry *sentry) {
  memset(out, 0, sizeof *out);
  out->call_data_size = sizeof(client_data);
  out->start = client_start;
  out->send_initial_metadata = client_send_md;
  out->end = client_end;
  out->user = (void *)sentry;
}

/* ---- server ------------------------------------------------------------- */

static void server_start(void *user, stp_grpc_call *call, void *data) {
  const stp_grpc_sentry *s = user;
  server_data *sd = data;
  size_t n;
  const stp_grpc_md *md = stp_grpc_call_request_metadata(call, &n);
  stp_context whole;
  stp_context_begin(&whole, s->cfg);
  /* A binary ("-bin") key is never a trace header's name: the core
   * ignores it like any other. */
  for (size_t i = 0; i < n; i++)
    stp_context_feed(&whole, md[i].key, md[i].key_len, md[i].value,
                     md[i].value_len);
  /* A new head: this call is its transaction, named by the method path
   * (the grpc++ server names it so too). Its copy keeps room for the
   * handler to name it otherwise. */
  if (stp_context_finish(&whole) != STP_OK) {
    size_t len;
    const char *method = stp_grpc_call_method(call, &len);
    stp_context_set_transaction(&whole, method, len);
  }
  sd->ctx = keep(call, &whole);
  stp_grpc_call_set_context(call, sd->ctx, stp_context_span(sd->ctx));
}

static void server_end(void *user, stp_grpc_call *call, void *data) {
  server_data *sd = data;
  if (sd->ctx)
    emit(user, call, sd->ctx, stp_context_span(sd->ctx), true, false);
}

void stp_grpc_sentry_server(stp_grpc_interceptor *out,
                            const stp_grpc_sentry *sentry) {
  memset(out, 0, sizeof *out);
  out->call_data_size = sizeof(server_data);
  out->start = server_start;
  out->end = server_end;
  out->user = (void *)sentry;
}
