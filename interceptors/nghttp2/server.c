/* Incoming streams. A connection's session feeds the request header block
 * of one stream at a time (HTTP/2 sends a block's frames back to back)
 * into a whole context; when the block is complete, the stream gets its
 * own state in one allocation: its record fields and a compact copy of
 * the decided context, sized by what the request brought. */
#include <stddef.h>
#include <string.h>

#include "internal.h"

enum { METHOD_MAX = 16, PATH_MAX_KEPT = 256 };

struct stp_nghttp2_session {
  stp_allocator alloc;
  const stp_config *cfg;
  bool records;      /* the config has a record sink */
  bool feeding;      /* a request header block is being fed */
  int32_t stream_id; /* whose */
  uint64_t start_ns;
  uint8_t method_len;
  uint16_t path_len;
  char method[METHOD_MAX];
  char path[PATH_MAX_KEPT];
  stp_context ctx; /* last: large, written only as far as it is used */
};

/* One block: this, then the context's compact copy, then the method and
 * path for the record. */
struct stp_nghttp2_stream {
  stp_allocator alloc;
  stp_context *ctx;
  uint64_t start_ns;
  int32_t stream_id;
  int status; /* the :status sent, 0 until then */
  bool records;
  bool closed;
  uint8_t method_len;
  uint16_t path_len;
  uint16_t ctx_bytes; /* the compact copy's room in the block */
  const char *method; /* in the block, after the context */
  const char *path;
};

/* ---- sessions ------------------------------------------------------------ */

int stp_nghttp2_session_new(stp_nghttp2_session **out, const stp_config *cfg,
                            const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  if (!alloc)
    alloc = stp_allocator_default();
  stp_nghttp2_session *s = alloc->malloc(sizeof *s, alloc->user_data);
  if (!s)
    return STP_ERR_NOMEM;
  s->alloc = *alloc;
  s->cfg = cfg;
  s->records = stp_config_record_sink(cfg, NULL) != NULL;
  s->feeding = false;
  *out = s;
  return STP_OK;
}

void stp_nghttp2_session_del(stp_nghttp2_session *s) {
  if (s)
    s->alloc.free(s, s->alloc.user_data);
}

/* The block being fed: this stream's request headers, not trailers, not a
 * push promise. */
static bool is_fed_block(const stp_nghttp2_session *s,
                         const nghttp2_frame *frame) {
  return s->feeding && frame->hd.type == NGHTTP2_HEADERS &&
         frame->hd.stream_id == s->stream_id &&
         frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

int stp_nghttp2_session_on_begin_headers(stp_nghttp2_session *s,
                                         const nghttp2_frame *frame) {
  if (!s || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return STP_OK; /* trailers and responses carry no request's trace */
  /* A block begun before and never completed (its connection failed it)
   * is dropped: only one block is fed at a time. */
  stp_context_begin(&s->ctx, s->cfg);
  s->feeding = true;
  s->stream_id = frame->hd.stream_id;
  s->method_len = 0;
  s->path_len = 0;
  if (s->records)
    s->start_ns = stp_time_now_ns();
  return STP_OK;
}

/* Copies what fits of value into a field of the record. */
static size_t keep(char *dst, size_t cap, const uint8_t *value, size_t len) {
  if (len > cap)
    len = cap;
  memcpy(dst, value, len);
  return len;
}

/* :method and :path of the request, for the span record. */
static void note_pseudo(stp_nghttp2_session *s, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen) {
  if (namelen == 7 && memcmp(name, ":method", 7) == 0)
    s->method_len = (uint8_t)keep(s->method, METHOD_MAX, value, valuelen);
  else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
    s->path_len = (uint16_t)keep(s->path, PATH_MAX_KEPT, value, valuelen);
}

int stp_nghttp2_session_on_header(stp_nghttp2_session *s,
                                  const nghttp2_frame *frame,
                                  const uint8_t *name, size_t namelen,
                                  const uint8_t *value, size_t valuelen) {
  if (!s || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  if (s->records && namelen && name[0] == ':') {
    if (is_fed_block(s, frame))
      note_pseudo(s, name, namelen, value, valuelen);
    return STP_OK;
  }
  /* Most headers are not trace headers: they leave first. */
  if (!stp_header_is_candidate((const char *)name, namelen) ||
      !is_fed_block(s, frame))
    return STP_OK;
  /* Only a NULL pointer with a length can fail here: treat it as absent. */
  stp_context_feed(&s->ctx, (const char *)name, namelen, (const char *)value,
                   valuelen);
  return STP_OK;
}

/* The stream's block: its state, the context's compact copy, and the
 * method and path (only when records are kept). */
static stp_nghttp2_stream *stream_alloc(const stp_nghttp2_session *s) {
  size_t ctx_off = (sizeof(stp_nghttp2_stream) + STP_CONTEXT_ALIGN - 1) &
                   ~(size_t)(STP_CONTEXT_ALIGN - 1);
  size_t ctx_size = stp_context_compact_size(&s->ctx);
  size_t text = s->records ? (size_t)s->method_len + s->path_len : 0;
  char *block = s->alloc.malloc(ctx_off + ctx_size + text, s->alloc.user_data);
  if (!block)
    return NULL;
  /* The copy refuses a block not aligned as malloc's, before any field of
   * the state is written through a misaligned pointer. */
  stp_context *ctx;
  if (stp_context_compact(&ctx, block + ctx_off, ctx_size, &s->ctx) != STP_OK) {
    s->alloc.free(block, s->alloc.user_data);
    return NULL;
  }
  stp_nghttp2_stream *st = (stp_nghttp2_stream *)(void *)block;
  st->ctx = ctx;
  st->alloc = s->alloc;
  st->ctx_bytes = (uint16_t)ctx_size;
  char *tail = block + ctx_off + ctx_size;
  st->method = tail;
  st->path = tail + s->method_len;
  if (text) {
    memcpy(tail, s->method, s->method_len);
    memcpy(tail + s->method_len, s->path, s->path_len);
  }
  return st;
}

int stp_nghttp2_session_on_frame_recv(stp_nghttp2_session *s,
                                      stp_nghttp2_stream **out,
                                      const nghttp2_frame *frame) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!s || !frame)
    return STP_ERR_INVALID_ARGUMENT;
  /* nghttp2 reports a HEADERS frame only once its whole block (with any
   * CONTINUATION frames) has arrived. */
  if (!is_fed_block(s, frame))
    return STP_OK;
  s->feeding = false;
  stp_context_finish(&s->ctx); /* the outcome is in stp_context_status */
  stp_nghttp2_stream *st = stream_alloc(s);
  if (!st)
    return STP_ERR_NOMEM;
  st->start_ns = s->start_ns;
  st->stream_id = s->stream_id;
  st->status = 0;
  st->records = s->records;
  st->closed = false;
  st->method_len = s->records ? s->method_len : 0;
  st->path_len = s->records ? s->path_len : 0;
  *out = st;
  return STP_OK;
}

/* ---- streams ------------------------------------------------------------- */

stp_context *stp_nghttp2_stream_context(stp_nghttp2_stream *st) {
  return st ? st->ctx : NULL;
}

size_t stp_nghttp2_stream_bytes(const stp_nghttp2_stream *st) {
  if (!st)
    return 0;
  size_t ctx_off = (size_t)((const char *)st->ctx - (const char *)st);
  return ctx_off + st->ctx_bytes + st->method_len + st->path_len;
}

void stp_nghttp2_stream_on_frame_send(stp_nghttp2_stream *st,
                                      const nghttp2_frame *frame) {
  if (!st || !frame || !st->records || frame->hd.type != NGHTTP2_HEADERS ||
      frame->hd.stream_id != st->stream_id)
    return;
  for (size_t i = 0; i < frame->headers.nvlen; i++) {
    const nghttp2_nv *nv = &frame->headers.nva[i];
    if (nv->namelen == 7 && memcmp(nv->name, ":status", 7) == 0) {
      int status = stp__h2_status_value(nv->value, nv->valuelen);
      if (status)
        st->status = status;
    }
  }
}

int stp_nghttp2_stream_on_close(stp_nghttp2_stream *st, uint32_t error_code) {
  if (!st)
    return STP_ERR_INVALID_ARGUMENT;
  if (st->closed)
    return STP_ERR_STATE;
  st->closed = true;
  if (!st->records)
    return STP_OK;
  char description[METHOD_MAX + PATH_MAX_KEPT + 2];
  stp__h2_slice none = {"", 0};
  size_t len =
      stp__h2_describe(description, sizeof description,
                       (stp__h2_slice){st->method, st->method_len}, none, none,
                       (stp__h2_slice){st->path, st->path_len});
  stp_span_record rec = {
      .span = *stp_context_span(st->ctx),
      .op = "http.server",
      .description = description,
      .description_len = len,
      .status = st->status ? stp_span_status_http(st->status)
                           : stp__h2_error_status(error_code),
      .code = st->status ? st->status : -1,
      .start_ns = st->start_ns,
      .end_ns = stp_time_now_ns(),
      .local_root = true,
      .continue_status = stp_context_status(st->ctx),
      .ctx = st->ctx,
      .source = "url",
  };
  stp_config_emit(stp_context_config(st->ctx), &rec);
  return STP_OK;
}

void stp_nghttp2_stream_del(stp_nghttp2_stream *st) {
  if (st)
    st->alloc.free(st, st->alloc.user_data);
}
