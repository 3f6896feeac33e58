/* Server side: the server handle that holds the interceptors, requests
 * for calls, and accepting them. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct stp_grpc_server {
  grpc_server *server;
  stp__grpc_ic_list ics;
};

int stp_grpc_server_new(stp_grpc_server **out, grpc_server *server) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!server)
    return STP_ERR_INVALID_ARGUMENT;
  stp_grpc_server *srv = calloc(1, sizeof *srv);
  if (!srv)
    return STP_ERR_NOMEM;
  srv->server = server;
  *out = srv;
  return STP_OK;
}

void stp_grpc_server_del(stp_grpc_server *srv) {
  free(srv);
}

grpc_server *stp_grpc_server_get(const stp_grpc_server *srv) {
  return srv ? srv->server : NULL;
}

int stp_grpc_server_add(stp_grpc_server *srv, const stp_grpc_interceptor *ic) {
  if (!srv)
    return STP_ERR_INVALID_ARGUMENT;
  return stp__grpc_ic_list_add(&srv->ics, ic);
}

static void request_init(stp_grpc_request *req) {
  memset(req, 0, sizeof *req);
  grpc_call_details_init(&req->details);
  grpc_metadata_array_init(&req->metadata);
}

grpc_call_error
stp_grpc_server_request_call(stp_grpc_server *srv, stp_grpc_request *req,
                             grpc_completion_queue *cq_bound_to_call,
                             grpc_completion_queue *cq_for_notification,
                             void *tag) {
  if (!srv || !req)
    return GRPC_CALL_ERROR;
  request_init(req);
  return grpc_server_request_call(srv->server, &req->call, &req->details,
                                  &req->metadata, cq_bound_to_call,
                                  cq_for_notification, tag);
}

grpc_call_error stp_grpc_server_request_registered_call(
    stp_grpc_server *srv, stp_grpc_request *req, void *registered_method,
    const char *method,
    grpc_server_register_method_payload_handling payload_handling,
    grpc_completion_queue *cq_bound_to_call,
    grpc_completion_queue *cq_for_notification, void *tag) {
  if (!srv || !req)
    return GRPC_CALL_ERROR;
  request_init(req);
  req->method = method;
  return grpc_server_request_registered_call(
      srv->server, registered_method, &req->call, &req->deadline,
      &req->metadata,
      payload_handling == GRPC_SRM_PAYLOAD_NONE ? NULL : &req->payload,
      cq_bound_to_call, cq_for_notification, tag);
}

void stp_grpc_request_destroy(stp_grpc_request *req) {
  if (!req)
    return;
  grpc_call_details_destroy(&req->details);
  grpc_metadata_array_destroy(&req->metadata);
  grpc_call_details_init(&req->details);
  grpc_metadata_array_init(&req->metadata);
  if (req->call)
    grpc_call_unref(req->call);
  req->call = NULL;
}

/* The bytes of a request metadata slice without a refcount are inlined in
 * the slice itself, inside gRPC's array, which goes before the call ends:
 * the call keeps a copy of those. Other slices' bytes are the call's. */
static size_t inlined_len(grpc_slice s) {
  return s.refcount ? 0 : GRPC_SLICE_LENGTH(s);
}

static const char *call_bytes(grpc_slice s, char **copies) {
  if (s.refcount)
    return (const char *)s.data.refcounted.bytes;
  size_t len = s.data.inlined.length;
  if (!len)
    return ""; /* not a pointer into s, a copy that goes on return */
  char *copy = *copies;
  memcpy(copy, s.data.inlined.bytes, len);
  *copies += len;
  return copy;
}

int stp_grpc_server_accept(stp_grpc_server *srv, stp_grpc_call **out,
                           stp_grpc_request *req) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!srv || !req || !req->call)
    return STP_ERR_INVALID_ARGUMENT;

  const char *method, *auth;
  size_t method_len, auth_len;
  if (req->method) {
    method = req->method;
    method_len = strlen(method);
    auth = "";
    auth_len = 0;
  } else {
    method = (const char *)GRPC_SLICE_START_PTR(req->details.method);
    method_len = GRPC_SLICE_LENGTH(req->details.method);
    auth = (const char *)GRPC_SLICE_START_PTR(req->details.host);
    auth_len = GRPC_SLICE_LENGTH(req->details.host);
  }
  size_t n = req->metadata.count;
  const grpc_metadata *in = req->metadata.metadata;
  size_t md_size = STP__GRPC_ALIGN16(n * sizeof(stp_grpc_md));
  size_t copied = 0;
  for (size_t i = 0; i < n; i++)
    copied += inlined_len(in[i].key) + inlined_len(in[i].value);
  char *strings;
  stp_grpc_call *c = stp__grpc_call_alloc(
      req->call, &srv->ics, md_size + copied + auth_len + method_len + 1,
      &strings);
  c->is_server = true;
  char *copies = strings + md_size;
  if (n) {
    stp_grpc_md *md = (stp_grpc_md *)(void *)strings;
    for (size_t i = 0; i < n; i++)
      md[i] = (stp_grpc_md){
          call_bytes(in[i].key, &copies), call_bytes(in[i].value, &copies),
          GRPC_SLICE_LENGTH(in[i].key), GRPC_SLICE_LENGTH(in[i].value)};
    c->req_md = md;
    c->req_md_count = n;
  }
  char *t = copies;
  if (auth_len)
    memcpy(t, auth, auth_len);
  if (method_len)
    memcpy(t + auth_len, method, method_len);
  t[auth_len + method_len] = '\0';
  c->target = t;
  c->authority_len = auth_len;
  c->target_len = auth_len + method_len;

  /* The call now belongs to c; the arrays are no longer needed (the
   * metadata's keys and values belong to the call). */
  req->call = NULL;
  stp_grpc_request_destroy(req);
  stp__grpc_run_start(c);
  *out = c;
  return STP_OK;
}
