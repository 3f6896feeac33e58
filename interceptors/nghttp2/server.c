/* Incoming streams: the request header block of one stream, fed header by
 * header into the core's incremental continuation. */
#include <stdlib.h>

#include "stp/nghttp2.h"

enum { STREAM_IDLE, STREAM_FEEDING, STREAM_DONE };

void stp_nghttp2_stream_begin(stp_nghttp2_stream *st, const stp_config *cfg,
                              int32_t stream_id) {
  if (!st)
    return;
  stp_context_begin(&st->ctx, cfg);
  st->stream_id = stream_id;
  st->state = cfg ? STREAM_FEEDING : STREAM_IDLE;
}

/* The request's own header block: not trailers, not a push promise, not
 * another stream's frame. */
static bool is_request_headers(const stp_nghttp2_stream *st,
                               const nghttp2_frame *frame) {
  return frame->hd.type == NGHTTP2_HEADERS &&
         frame->hd.stream_id == st->stream_id &&
         frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

int stp_nghttp2_stream_on_header(stp_nghttp2_stream *st,
                                 const nghttp2_frame *frame,
                                 const uint8_t *name, size_t namelen,
                                 const uint8_t *value, size_t valuelen) {
  if (!st || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  /* Most headers are not trace headers: they leave first. */
  if (!stp_header_is_candidate((const char *)name, namelen) ||
      st->state != STREAM_FEEDING || !is_request_headers(st, frame))
    return STP_OK;
  /* Only a NULL pointer with a length can fail here: treat it as absent. */
  stp_context_feed(&st->ctx, (const char *)name, namelen, (const char *)value,
                   valuelen);
  return STP_OK;
}

stp_context *stp_nghttp2_stream_on_frame_recv(stp_nghttp2_stream *st,
                                              const nghttp2_frame *frame) {
  /* nghttp2 reports a HEADERS frame only once its whole block (with any
   * CONTINUATION frames) has arrived. */
  if (!st || !frame || st->state != STREAM_FEEDING ||
      !is_request_headers(st, frame))
    return NULL;
  stp_context_finish(&st->ctx); /* the outcome is in stp_context_status */
  st->state = STREAM_DONE;
  return &st->ctx;
}

stp_context *stp_nghttp2_stream_context(stp_nghttp2_stream *st) {
  return st && st->state == STREAM_DONE ? &st->ctx : NULL;
}

int stp_nghttp2_stream_new(stp_nghttp2_stream **out, const stp_config *cfg,
                           int32_t stream_id, const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  stp_nghttp2_stream *st =
      alloc ? alloc->malloc(sizeof *st, alloc->user_data) : malloc(sizeof *st);
  if (!st)
    return STP_ERR_NOMEM;
  stp_nghttp2_stream_begin(st, cfg, stream_id);
  *out = st;
  return STP_OK;
}

void stp_nghttp2_stream_del(stp_nghttp2_stream *st,
                            const stp_allocator *alloc) {
  if (!st)
    return;
  if (alloc)
    alloc->free(st, alloc->user_data);
  else
    free(st);
}
