/* Outgoing requests as spans: inject, time, and report each. */
#include <string.h>

#include "internal.h"

static stp__h2_slice field(const nghttp2_nv *nva, size_t nvlen,
                           const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < nvlen; i++)
    if (nva[i].namelen == len && memcmp(nva[i].name, name, len) == 0)
      return (stp__h2_slice){(const char *)nva[i].value, nva[i].valuelen};
  return (stp__h2_slice){"", 0};
}

static bool carries(const nghttp2_nv *nva, size_t nvlen,
                    const stp_nghttp2_headers *hb) {
  for (size_t i = 0; i < nvlen; i++)
    if (nva[i].value == (const uint8_t *)hb->sentry_trace)
      return true;
  return false;
}

int stp_nghttp2_request_begin(stp_nghttp2_request *req, stp_context *ctx,
                              stp_nghttp2_headers *hb, nghttp2_nv *nva,
                              size_t nvcap, size_t *nvlen, const stp_span *span,
                              const char *url, size_t url_len) {
  if (!req || !ctx || !stp_context_config(ctx))
    return STP_ERR_INVALID_ARGUMENT;
  memset(req, 0, offsetof(stp_nghttp2_request, description));
  req->ctx = ctx;
  req->start_ns = stp_time_now_ns();
  if (span)
    req->span = *span;
  else
    stp_context_child_span(ctx, &req->span);
  const stp_span *own = stp_context_span(ctx);
  req->local_root =
      memcmp(&req->span.span_id, &own->span_id, sizeof own->span_id) == 0;
  int err =
      stp_nghttp2_inject(ctx, hb, nva, nvcap, nvlen, &req->span, url, url_len);
  size_t n = nvlen && (nva || !*nvlen) ? *nvlen : 0;
  req->injected = err == STP_OK && hb && carries(nva, n, hb);
  stp__h2_slice authority = field(nva, n, ":authority");
  if (authority.n == 0)
    authority = field(nva, n, "host");
  req->description_len = stp__h2_describe(
      req->description, sizeof req->description, field(nva, n, ":method"),
      field(nva, n, ":scheme"), authority, field(nva, n, ":path"));
  return err;
}

void stp_nghttp2_request_on_header(stp_nghttp2_request *req,
                                   const nghttp2_frame *frame,
                                   const uint8_t *name, size_t namelen,
                                   const uint8_t *value, size_t valuelen) {
  if (!req || !frame || frame->hd.type != NGHTTP2_HEADERS || namelen != 7 ||
      memcmp(name, ":status", 7) != 0)
    return;
  int status = stp__h2_status_value(value, valuelen);
  if (status)
    req->status = status;
}

int stp_nghttp2_request_end(stp_nghttp2_request *req, uint32_t error_code) {
  if (!req || !req->ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (req->ended)
    return STP_ERR_STATE;
  req->ended = true;
  const stp_config *cfg = stp_context_config(req->ctx);
  if (!stp_config_record_sink(cfg, NULL))
    return STP_OK;
  stp_span_record rec = {
      .span = req->span,
      .op = "http.client",
      .description = req->description,
      .description_len = req->description_len,
      .status = req->status ? stp_span_status_http(req->status)
                            : stp__h2_error_status(error_code),
      .code = req->status ? req->status : -1,
      .start_ns = req->start_ns,
      .end_ns = stp_time_now_ns(),
      .local_root = req->local_root,
      .injected = req->injected,
      .ctx = req->ctx,
      .source = "url",
  };
  stp_config_emit(cfg, &rec);
  return STP_OK;
}
