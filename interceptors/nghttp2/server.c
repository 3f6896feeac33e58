/* Incoming streams: the request header block of one stream, fed header by
 * header into the core's incremental continuation. */
#include <stddef.h>

#include "stp/nghttp2.h"

enum { STREAM_IDLE, STREAM_FEEDING, STREAM_DONE };

/* The private layout of stp_nghttp2_stream. */
typedef struct stream {
  int32_t stream_id; /* read for every header: kept next to the */
  int state;         /* context's own fields, not 9 KiB after them */
  stp_context ctx;
} stream;

_Static_assert(sizeof(stream) == STP_NGHTTP2_STREAM_SIZE &&
                   _Alignof(stream) <= _Alignof(stp_nghttp2_stream),
               "STP_NGHTTP2_STREAM_SIZE is the size of the private layout");

static stream *stream_of(stp_nghttp2_stream *st) {
  return (stream *)(void *)st;
}

int stp_nghttp2_stream_begin(stp_nghttp2_stream *st, const stp_config *cfg,
                             int32_t stream_id) {
  if (!st || !cfg)
    return STP_ERR_INVALID_ARGUMENT;
  stream *s = stream_of(st);
  stp_context_begin(&s->ctx, cfg);
  s->stream_id = stream_id;
  s->state = STREAM_FEEDING;
  return STP_OK;
}

/* The request's own header block: not trailers, not a push promise, not
 * another stream's frame. */
static bool is_request_headers(const stream *s, const nghttp2_frame *frame) {
  return frame->hd.type == NGHTTP2_HEADERS &&
         frame->hd.stream_id == s->stream_id &&
         frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

int stp_nghttp2_stream_on_header(stp_nghttp2_stream *st,
                                 const nghttp2_frame *frame,
                                 const uint8_t *name, size_t namelen,
                                 const uint8_t *value, size_t valuelen) {
  if (!st || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  stream *s = stream_of(st);
  /* Most headers are not trace headers: they leave first. */
  if (!stp_header_is_candidate((const char *)name, namelen) ||
      s->state != STREAM_FEEDING || !is_request_headers(s, frame))
    return STP_OK;
  /* Only a NULL pointer with a length can fail here: treat it as absent. */
  stp_context_feed(&s->ctx, (const char *)name, namelen, (const char *)value,
                   valuelen);
  return STP_OK;
}

stp_context *stp_nghttp2_stream_on_frame_recv(stp_nghttp2_stream *st,
                                              const nghttp2_frame *frame) {
  /* nghttp2 reports a HEADERS frame only once its whole block (with any
   * CONTINUATION frames) has arrived. */
  stream *s = stream_of(st);
  if (!s || !frame || s->state != STREAM_FEEDING ||
      !is_request_headers(s, frame))
    return NULL;
  stp_context_finish(&s->ctx); /* the outcome is in stp_context_status */
  s->state = STREAM_DONE;
  return &s->ctx;
}

stp_context *stp_nghttp2_stream_context(stp_nghttp2_stream *st) {
  stream *s = stream_of(st);
  return s && s->state == STREAM_DONE ? &s->ctx : NULL;
}

/* ---- heap streams -------------------------------------------------------- */

/* A heap stream and the allocator that made it, in one block. */
typedef struct heap_stream {
  stp_allocator alloc;
  stp_nghttp2_stream st;
} heap_stream;

int stp_nghttp2_stream_new(stp_nghttp2_stream **out, const stp_config *cfg,
                           int32_t stream_id, const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  if (!alloc)
    alloc = stp_allocator_default();
  heap_stream *h = alloc->malloc(sizeof *h, alloc->user_data);
  if (!h)
    return STP_ERR_NOMEM;
  h->alloc = *alloc;
  stp_nghttp2_stream_begin(&h->st, cfg, stream_id);
  *out = &h->st;
  return STP_OK;
}

void stp_nghttp2_stream_del(stp_nghttp2_stream *st) {
  if (!st)
    return;
  heap_stream *h =
      (heap_stream *)(void *)((char *)st - offsetof(heap_stream, st));
  h->alloc.free(h, h->alloc.user_data);
}
