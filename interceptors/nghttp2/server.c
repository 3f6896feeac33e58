/* Incoming streams: the request header block of one stream, fed header by
 * header into the core's incremental continuation. */
#include <stddef.h>
#include <string.h>

#include "internal.h"

enum { STREAM_IDLE, STREAM_FEEDING, STREAM_DONE, STREAM_CLOSED };

enum { METHOD_MAX = 16, PATH_MAX_KEPT = 256 };

/* The private layout of stp_nghttp2_stream. */
typedef struct stream {
  int32_t stream_id; /* read for every header: kept next to the */
  int state;         /* context's own fields, not 9 KiB after them */
  stp_context ctx;
  /* For the span record, kept only when the config has a record sink. */
  uint64_t start_ns;
  int status; /* the :status sent, 0 until then */
  bool records;
  uint8_t method_len;
  uint16_t path_len;
  char method[METHOD_MAX];
  char path[PATH_MAX_KEPT];
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
  s->records = stp_config_record_sink(cfg, NULL) != NULL;
  s->status = 0;
  s->method_len = 0;
  s->path_len = 0;
  if (s->records)
    s->start_ns = stp_time_now_ns();
  return STP_OK;
}

/* The request's own header block: not trailers, not a push promise, not
 * another stream's frame. */
static bool is_request_headers(const stream *s, const nghttp2_frame *frame) {
  return frame->hd.type == NGHTTP2_HEADERS &&
         frame->hd.stream_id == s->stream_id &&
         frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

/* Copies what fits of value into a field of the record. */
static size_t keep(char *dst, size_t cap, const uint8_t *value, size_t len) {
  if (len > cap)
    len = cap;
  memcpy(dst, value, len);
  return len;
}

/* :method and :path of the request, for the span record. */
static void note_pseudo(stream *s, const nghttp2_frame *frame,
                        const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen) {
  if (s->state != STREAM_FEEDING || !is_request_headers(s, frame))
    return;
  if (namelen == 7 && memcmp(name, ":method", 7) == 0)
    s->method_len = (uint8_t)keep(s->method, METHOD_MAX, value, valuelen);
  else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
    s->path_len = (uint16_t)keep(s->path, PATH_MAX_KEPT, value, valuelen);
}

int stp_nghttp2_stream_on_header(stp_nghttp2_stream *st,
                                 const nghttp2_frame *frame,
                                 const uint8_t *name, size_t namelen,
                                 const uint8_t *value, size_t valuelen) {
  if (!st || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  stream *s = stream_of(st);
  if (s->records && namelen && name[0] == ':') {
    note_pseudo(s, frame, name, namelen, value, valuelen);
    return STP_OK;
  }
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
  return s && s->state >= STREAM_DONE ? &s->ctx : NULL;
}

void stp_nghttp2_stream_on_frame_send(stp_nghttp2_stream *st,
                                      const nghttp2_frame *frame) {
  stream *s = stream_of(st);
  if (!s || !frame || !s->records || frame->hd.type != NGHTTP2_HEADERS ||
      frame->hd.stream_id != s->stream_id)
    return;
  for (size_t i = 0; i < frame->headers.nvlen; i++) {
    const nghttp2_nv *nv = &frame->headers.nva[i];
    if (nv->namelen == 7 && memcmp(nv->name, ":status", 7) == 0) {
      int status = stp__h2_status_value(nv->value, nv->valuelen);
      if (status)
        s->status = status;
    }
  }
}

int stp_nghttp2_stream_on_close(stp_nghttp2_stream *st, uint32_t error_code) {
  stream *s = stream_of(st);
  if (!s)
    return STP_ERR_INVALID_ARGUMENT;
  if (s->state != STREAM_DONE)
    return STP_ERR_STATE;
  s->state = STREAM_CLOSED;
  if (!s->records)
    return STP_OK;
  char description[METHOD_MAX + PATH_MAX_KEPT + 2];
  stp__h2_slice none = {"", 0};
  size_t len = stp__h2_describe(description, sizeof description,
                                (stp__h2_slice){s->method, s->method_len}, none,
                                none, (stp__h2_slice){s->path, s->path_len});
  stp_span_record rec = {
      .span = *stp_context_span(&s->ctx),
      .op = "http.server",
      .description = description,
      .description_len = len,
      .status = s->status ? stp_span_status_http(s->status)
                          : stp__h2_error_status(error_code),
      .code = s->status ? s->status : -1,
      .start_ns = s->start_ns,
      .end_ns = stp_time_now_ns(),
      .local_root = true,
      .continue_status = stp_context_status(&s->ctx),
      .ctx = &s->ctx,
      .source = "url",
  };
  stp_config_emit(stp_context_config(&s->ctx), &rec);
  return STP_OK;
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
