/*
 * stp/grpc.h: interceptors for the gRPC core C API (grpc/grpc.h).
 *
 * gRPC core has no interceptor mechanism, so this header adds a small one,
 * and the Sentry trace propagation interceptors are its first members.
 * Everything else stays ordinary gRPC core code: completion queues, grpc_op
 * batches, grpc_call_cancel, your own threads.
 *
 * Client side, in place of the plain calls:
 *
 *   grpc_channel_create_call  ->  stp_grpc_channel_create_call (through a
 *                                 channel handle that holds the
 *                                 interceptors)
 *   grpc_call_start_batch     ->  stp_grpc_call_start_batch
 *   grpc_call_unref           ->  stp_grpc_call_unref
 *   anything else             ->  on stp_grpc_call_get(call)
 *
 * Server side:
 *
 *   grpc_server_request_call      ->  stp_grpc_server_request_call
 *   grpc_server_request_registered_call
 *                                 ->  stp_grpc_server_request_registered_call
 *   (the tag comes back, success) ->  stp_grpc_server_accept
 *   grpc_call_start_batch, _unref ->  stp_grpc_call_start_batch, _unref
 *
 * Sentry propagation, client:
 *
 *   static stp_grpc_sentry sentry;       (outlives the channel)
 *   sentry.cfg = cfg;
 *   (records go to the config's sink, stp_options.on_record)
 *   stp_grpc_channel *ch;
 *   stp_grpc_channel_new(&ch, channel, NULL);
 *   stp_grpc_interceptor ic;
 *   stp_grpc_sentry_client(&ic, &sentry);
 *   stp_grpc_channel_add(ch, &ic);
 *   ...
 *   stp_grpc_call *call;
 *   stp_grpc_channel_create_call(ch, &call, NULL, cq, "/pkg.Svc/Method",
 * deadline); stp_grpc_call_start_batch(call, ops, nops, tag);  // headers added
 * here
 *   ...
 *   stp_grpc_call_unref(call);                        // span record here
 *
 * Server, per accepted call:
 *
 *   stp_grpc_call *call;
 *   stp_grpc_server_accept(srv, &call, &req);
 *   stp_token tok = stp_attach(stp_grpc_call_context(call));
 *   ... handler: outgoing calls made here become children ...
 *   stp_detach(tok);
 *
 * Memory: a call's state (this layer's, each interceptor's, the Sentry
 * context) lives in the call's arena (grpc_call_arena_alloc) and goes away
 * with the call, whatever way the call ends (status, cancel, deadline,
 * failure). The metadata the interceptors add is built on the stack, up
 * to 16 entries a batch (in the arena past that): grpc_call_start_batch
 * copies the keys and takes its own references to the values before it
 * returns. The channel and server handles are the only heap allocations
 * of this layer (gRPC's own copy of a call's method or host is on the heap
 * when longer than 23 bytes, and stp_config_should_propagate copies a
 * target of 512 bytes or more).
 *
 * Threads: a channel or server handle is shared freely once its
 * interceptors are added. A call follows gRPC's own rule for
 * grpc_call_start_batch (send batches and receive batches may run
 * concurrently with each other, not with themselves).
 *
 * Errors and parameter order follow the API convention of stp/stp.h:
 * functions returning int give 0 or a negative stp_error.
 * Interceptors cannot fail a call: whatever they find, the call proceeds.
 */
#ifndef STP_GRPC_H
#define STP_GRPC_H

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stp/stp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Calls (client and server).                                               */

/* One intercepted call. Lives in the call's arena: valid from create /
 * accept until stp_grpc_call_unref. */
typedef struct stp_grpc_call stp_grpc_call;

/* The wrapped grpc_call, for every other gRPC function (cancel, peer, ...).
 * Owned by the stp_grpc_call: do not grpc_call_unref it yourself. */
grpc_call *stp_grpc_call_get(const stp_grpc_call *call);

bool stp_grpc_call_is_server(const stp_grpc_call *call);

/* The method path ("/pkg.Service/Method"), the authority ("host:port") and
 * the two joined ("host:port/pkg.Service/Method", what propagation targets
 * are matched against). Not NUL-terminated; length in *out_len. Stored in
 * the arena: valid as long as the call. The authority may be empty. */
const char *stp_grpc_call_method(const stp_grpc_call *call, size_t *out_len);
const char *stp_grpc_call_authority(const stp_grpc_call *call, size_t *out_len);
const char *stp_grpc_call_target(const stp_grpc_call *call, size_t *out_len);

/* The call's trace context, set by the Sentry interceptors (NULL without
 * them):
 * - server: the context continued from the request metadata. Its span is
 *   the server span. Make it the thread's current context while the
 *   handler runs (stp_attach) so outgoing calls become its children.
 * - client: a frozen copy of the caller's context taken when the call was
 *   created (or a new head when there was none); the client span is
 *   stp_grpc_call_span, not the context's own span.
 * Valid as long as the call; used by one thread at a time. */
stp_context *stp_grpc_call_context(const stp_grpc_call *call);

/* The span of this call: the client span (a child of the caller's span) or
 * the server span. NULL without the Sentry interceptors. */
const stp_span *stp_grpc_call_span(const stp_grpc_call *call);

/* For interceptors: install the call's context and span (both must live as
 * long as the call, normally in the interceptor's call data). */
void stp_grpc_call_set_context(stp_grpc_call *call, stp_context *ctx,
                               const stp_span *span);

/* Client: the context given to stp_grpc_channel_create_call, or the thread's
 * current one at that moment, or NULL. Meant for interceptors' start hook;
 * do not keep it past that hook (the caller owns it). */
stp_context *stp_grpc_call_parent(const stp_grpc_call *call);

/* One entry of a call's request metadata: its key and value, bytes of the
 * call's own (not NUL-terminated). */
typedef struct stp_grpc_md {
  const char *key;
  const char *value;
  size_t key_len;
  size_t value_len;
} stp_grpc_md;

/* Server: the request metadata, in the order received (the bytes owned by
 * the call, the array by its arena; valid as long as the call). NULL with
 * *out_count 0 on the client. */
const stp_grpc_md *stp_grpc_call_request_metadata(const stp_grpc_call *call,
                                                  size_t *out_count);

/* The gRPC status code as far as known: client, the status received by a
 * GRPC_OP_RECV_STATUS_ON_CLIENT batch (read from your grpc_status_code when
 * the call ends); server, the status sent with
 * GRPC_OP_SEND_STATUS_FROM_SERVER, or GRPC_STATUS_CANCELLED when
 * GRPC_OP_RECV_CLOSE_ON_SERVER reported the call cancelled. Returns false
 * (and GRPC_STATUS_UNKNOWN in *out) when no such op was started. */
bool stp_grpc_call_status(const stp_grpc_call *call, grpc_status_code *out);

/* Override the status of the span record (for a call you give up on
 * without a status batch, say): from now on stp_grpc_call_status gives
 * `status`, whatever the status ops say. */
void stp_grpc_call_set_status(stp_grpc_call *call, grpc_status_code status);

/* size bytes in the call's arena, alive as long as the call and freed with
 * it (gRPC aligns them for any type; it aborts rather than fail): for
 * call state sized by what the call carries, such as a compact copy of a
 * context (stp_context_compact). NULL only for a NULL call. */
void *stp_grpc_call_arena_alloc(stp_grpc_call *call, size_t size);

/* The bytes this layer has taken from the call's arena: the call's state,
 * the interceptors' call data, room for metadata, and what the hooks took
 * with stp_grpc_call_arena_alloc. 0 for NULL. */
size_t stp_grpc_call_arena_bytes(const stp_grpc_call *call);

/* Start and end (0 until the call ends) as Unix time in nanoseconds. */
uint64_t stp_grpc_call_start_ns(const stp_grpc_call *call);
uint64_t stp_grpc_call_end_ns(const stp_grpc_call *call);

/* grpc_call_start_batch through the interceptors. With
 * GRPC_OP_SEND_INITIAL_METADATA (the first one of the call) the
 * interceptors edit a copy of your metadata (your array is not modified
 * and need only live through this call, as with gRPC). Notes the status
 * ops for the span record: the grpc_status_code of
 * GRPC_OP_RECV_STATUS_ON_CLIENT and the int of GRPC_OP_RECV_CLOSE_ON_SERVER
 * are set to UNKNOWN / 0 here and read again by stp_grpc_call_unref, so
 * keep them valid until then (gRPC already needs them until the batch
 * completes). A batch gRPC refuses is not noted, and its variables are
 * put back as they were. Returns what grpc_call_start_batch returned. */
grpc_call_error stp_grpc_call_start_batch(stp_grpc_call *call,
                                          const grpc_op *ops, size_t nops,
                                          void *tag);

/* End the call: runs the interceptors' end hooks once (span records are
 * emitted here; end time = now) and then grpc_call_unref. The call and
 * everything in its arena are gone afterwards. NULL does nothing. */
void stp_grpc_call_unref(stp_grpc_call *call);

/* ------------------------------------------------------------------------ */
/* Outgoing initial metadata, as interceptors see it.                       */

/* The metadata of one GRPC_OP_SEND_INITIAL_METADATA being built: your
 * entries first, then what interceptors set. Only valid during the
 * send_initial_metadata hook. */
typedef struct stp_grpc_metadata stp_grpc_metadata;

size_t stp_grpc_metadata_count(const stp_grpc_metadata *md);

/* Entry i (0 <= i < count); slices owned by the builder or by the caller of
 * start_batch, valid during the hook. NULL past the end. */
const grpc_metadata *stp_grpc_metadata_at(const stp_grpc_metadata *md,
                                          size_t i);

/* Remove every entry named `key` (ASCII case-insensitive), then, when value
 * is not NULL, append `key: value` (both copied). The key must pass
 * grpc_header_key_is_legal (lowercase [a-z0-9-_.]) and, unless it ends in
 * `-bin`, the value grpc_header_nonbin_value_is_legal (printable ASCII).
 * Returns 0, STP_ERR_HEADER_NAME for an illegal key, STP_ERR_CONTROL_CHAR
 * for an illegal value (nothing changed then) or STP_ERR_INVALID_ARGUMENT
 * (md or key NULL, a NULL value with a length). */
int stp_grpc_metadata_set(stp_grpc_metadata *md, const char *key,
                          size_t key_len, const char *value, size_t value_len);

/* A carrier over the builder (foreach + set as above), for
 * stp_context_inject or any other carrier user. Valid during the hook. */
void stp_grpc_metadata_carrier(stp_grpc_metadata *md, stp_carrier *out);

/* ------------------------------------------------------------------------ */
/* Interceptors.                                                            */

/* A set of hooks; any of them may be NULL. `user` is passed back as is and
 * must outlive every channel or server the interceptor is added to.
 * call_data is call_data_size bytes in the call's arena (zeroed unless
 * call_data_raw, 16-byte aligned; NULL when the size is 0), private to this
 * interceptor and alive as long as the call. Hooks run in the order the
 * interceptors were added, end hooks too. */
typedef struct stp_grpc_interceptor {
  size_t call_data_size;
  /* true: call_data is left as the arena gives it, not zeroed; the start
   * hook (which every call runs) must set what the other hooks read. */
  bool call_data_raw;
  /* Client: the call was created (parent context available). Server: the
   * call was accepted (request metadata available). */
  void (*start)(void *user, stp_grpc_call *call, void *call_data);
  /* The first GRPC_OP_SEND_INITIAL_METADATA batch is starting. */
  void (*send_initial_metadata)(void *user, stp_grpc_call *call,
                                void *call_data, stp_grpc_metadata *md);
  /* stp_grpc_call_unref: the call ends (status and times known). */
  void (*end)(void *user, stp_grpc_call *call, void *call_data);
  void *user;
} stp_grpc_interceptor;

/* Interceptors per channel or server. */
#define STP_GRPC_MAX_INTERCEPTORS 8

/* ------------------------------------------------------------------------ */
/* Client: the channel handle.                                              */

typedef struct stp_grpc_channel stp_grpc_channel;

/* Wrap `channel` (not owned: destroy it yourself after
 * stp_grpc_channel_del and after its calls ended). `authority` (NUL-
 * terminated, copied) is what propagation targets see before the method;
 * NULL takes the channel's target without its scheme
 * ("dns:///api:443" -> "api:443"). STP_ERR_NOMEM or
 * STP_ERR_INVALID_ARGUMENT on failure (*out NULL). */
int stp_grpc_channel_new(stp_grpc_channel **out, grpc_channel *channel,
                         const char *authority);
void stp_grpc_channel_del(stp_grpc_channel *ch);

grpc_channel *stp_grpc_channel_get(const stp_grpc_channel *ch);

/* Append an interceptor (the struct is copied). Add them all before the
 * first call. STP_ERR_LIMIT past STP_GRPC_MAX_INTERCEPTORS. */
int stp_grpc_channel_add(stp_grpc_channel *ch, const stp_grpc_interceptor *ic);

/* grpc_channel_create_call (no parent call, default propagation) for
 * `method` ("/pkg.Service/Method", NUL-terminated; copied, so it need only
 * live through this call), then the interceptors' start hooks. `parent`:
 * the caller's context; NULL takes the thread's current context
 * (stp_current), and with neither the Sentry interceptor starts a new
 * trace. *out is valid until stp_grpc_call_unref. Returns 0,
 * STP_ERR_INVALID_ARGUMENT, or STP_ERR_GRPC when gRPC did not create the
 * call. */
int stp_grpc_channel_create_call(stp_grpc_channel *ch, stp_grpc_call **out,
                                 stp_context *parent, grpc_completion_queue *cq,
                                 const char *method, gpr_timespec deadline);

/* The same with every grpc_channel_create_call argument: a server-side
 * parent call, its propagation mask and a host (NULL: the channel's;
 * when given, it is also the authority propagation targets see; copied
 * like the method). */
int stp_grpc_channel_create_call_ex(stp_grpc_channel *ch, stp_grpc_call **out,
                                    stp_context *parent, grpc_call *parent_call,
                                    uint32_t propagation_mask,
                                    grpc_completion_queue *cq,
                                    const char *method, const char *host,
                                    gpr_timespec deadline);

/* ------------------------------------------------------------------------ */
/* Server: the server handle and accepted calls.                            */

typedef struct stp_grpc_server stp_grpc_server;

/* Wrap `server` (not owned). STP_ERR_NOMEM / STP_ERR_INVALID_ARGUMENT. */
int stp_grpc_server_new(stp_grpc_server **out, grpc_server *server);
void stp_grpc_server_del(stp_grpc_server *srv);

grpc_server *stp_grpc_server_get(const stp_grpc_server *srv);

int stp_grpc_server_add(stp_grpc_server *srv, const stp_grpc_interceptor *ic);

/* One outstanding request for a call: caller storage (stack, your per-call
 * struct), which must stay put until the tag comes back. Fields are filled
 * by gRPC; read payload after a registered request with
 * GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER (then yours to destroy). */
typedef struct stp_grpc_request {
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array metadata;
  gpr_timespec deadline;
  grpc_byte_buffer *payload;
  const char *method; /* registered requests: the method name given */
} stp_grpc_request;

/* grpc_server_request_call into *req (initialised here). */
grpc_call_error
stp_grpc_server_request_call(stp_grpc_server *srv, stp_grpc_request *req,
                             grpc_completion_queue *cq_bound_to_call,
                             grpc_completion_queue *cq_for_notification,
                             void *tag);

/* grpc_server_request_registered_call into *req. `method` is the name the
 * method was registered with (NUL-terminated; it must outlive the
 * request), since gRPC reports no method for registered calls.
 * `payload_handling` must be the one the method was registered with: with
 * GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER the first message arrives in
 * req->payload. */
grpc_call_error stp_grpc_server_request_registered_call(
    stp_grpc_server *srv, stp_grpc_request *req, void *registered_method,
    const char *method,
    grpc_server_register_method_payload_handling payload_handling,
    grpc_completion_queue *cq_bound_to_call,
    grpc_completion_queue *cq_for_notification, void *tag);

/* The request's tag came back with success: wrap req->call, run the start
 * hooks (the Sentry server interceptor continues the trace here; malformed
 * metadata gives a new trace and a recorded reason, never an error), and
 * release req's details and metadata array (the metadata stays readable
 * through stp_grpc_call_request_metadata). req may be reused afterwards.
 * Returns 0 or STP_ERR_INVALID_ARGUMENT (req->call NULL): then call
 * stp_grpc_request_destroy. */
int stp_grpc_server_accept(stp_grpc_server *srv, stp_grpc_call **out,
                           stp_grpc_request *req);

/* Release a request that will not be accepted (its tag came back without
 * success, or you reject the call): the arrays, and the call when gRPC
 * made one. Safe on a request already accepted. */
void stp_grpc_request_destroy(stp_grpc_request *req);

/* ------------------------------------------------------------------------ */
/* The Sentry propagation interceptors; their span records (stp.h).        */

/* What the Sentry interceptors need. Caller storage that must outlive the
 * channels and servers using it (a static, or next to the config). */
typedef struct stp_grpc_sentry {
  const stp_config *cfg; /* must not be NULL */
  /* Where this interceptor's span records go instead of the config's
   * record sink (stp_options.on_record); NULL: to that sink. */
  stp_span_record_fn on_record;
  void *record_user;
} stp_grpc_sentry;

/* Client interceptor: per call, a frozen copy of the caller's context (or
 * a new head) and a child span; `sentry-trace`, `baggage` (merged with
 * yours into one entry) and, with propagate_traceparent, `traceparent`
 * added to the initial metadata when the call's target matches the
 * config's propagation targets; a `grpc.client` record at the end (its
 * code is the gRPC status code, description the method path; a local
 * root when the call started a new trace). */
void stp_grpc_sentry_client(stp_grpc_interceptor *out,
                            const stp_grpc_sentry *sentry);

/* Server interceptor: per call, the context continued from the request
 * metadata (first valid `sentry-trace`, all `baggage` entries, then
 * `traceparent`; `-bin` keys ignored), reachable with
 * stp_grpc_call_context; a `grpc.server` record at the end (a local
 * root). */
void stp_grpc_sentry_server(stp_grpc_interceptor *out,
                            const stp_grpc_sentry *sentry);

#ifdef __cplusplus
}
#endif

#endif /* STP_GRPC_H */
