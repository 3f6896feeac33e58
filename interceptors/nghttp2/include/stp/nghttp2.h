/*
 * stp for nghttp2: carry the trace on raw HTTP/2 requests.
 *
 * Client side: stp_nghttp2_inject() adds `sentry-trace`, `baggage` (and
 * `traceparent` when the config propagates it) to the nghttp2_nv array of
 * a request. Server side: an stp_nghttp2_session per connection is fed
 * from nghttp2's header callback and yields each stream's state, with its
 * stp_context, once the stream's request headers are complete.
 *
 * Span records (stp.h) go to the record sink of the context's config
 * (stp_options.on_record): one `http.client` record per request begun with
 * stp_nghttp2_request_begin, one `http.server` record per stream closed
 * with stp_nghttp2_stream_on_close.
 *
 * Nothing here allocates except stp_nghttp2_session_new and
 * stp_nghttp2_session_on_frame_recv (and, through
 * stp_config_should_propagate, stp_nghttp2_inject for a URL of 512 bytes or
 * more when the config has propagation targets). The API convention is
 * that of stp/stp.h.
 */
#ifndef STP_NGHTTP2_H
#define STP_NGHTTP2_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "stp/stp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Client: outgoing requests.                                               */

/* Entries stp_nghttp2_inject may add: sentry-trace, baggage, traceparent. */
#define STP_NGHTTP2_NV_EXTRA 3

/* Longest URL stp_nghttp2_inject composes from the pseudo-headers when it
 * is given no URL (terminator included). */
#define STP_NGHTTP2_URL_MAX 8192

/* Storage for the values of the entries stp_nghttp2_inject adds (about
 * 8.3 KiB; it may live on the stack). Plain data, fields private.
 *
 * Lifetime rule: the added entries point into this struct, with flags
 * NGHTTP2_NV_FLAG_NONE, so nghttp2_submit_request() (or _submit_headers)
 * copies them: the struct must stay valid and unchanged until that call
 * returns, and may be reused or freed right after. If you set
 * NGHTTP2_NV_FLAG_NO_COPY_VALUE on those entries yourself, it must instead
 * live until nghttp2's on_frame_send_callback or
 * on_frame_not_send_callback has been called for that HEADERS frame. */
typedef struct stp_nghttp2_headers {
  char sentry_trace[STP_SENTRY_TRACE_MAX_LEN + 1];
  char traceparent[STP_TRACEPARENT_LEN + 1];
  char baggage[STP_BAGGAGE_MAX_BYTES + 1];
} stp_nghttp2_headers;

/* Put the trace of `ctx` into a request's header array.
 *
 * nva holds *nvlen entries (the caller's request, pseudo-headers first)
 * and has room for nvcap. On success the array is rewritten in place:
 * every `sentry-trace` entry (any case) is removed and one is appended;
 * every `baggage` entry is removed and one merged `baggage` is appended
 * (the caller's non-Sentry members, then the DSC; SPEC section 6), or none
 * when there is nothing to send; `traceparent` likewise when the config
 * has propagate_traceparent. Other entries keep their order. Added names
 * are lowercase literals; added values are valid HTTP/2 field values
 * (printable ASCII, no CR, LF or NUL) stored in *hb (see its lifetime
 * rule). *nvlen is updated. The caller's removed entries are only read.
 *
 * span selects the span to announce (NULL: the context's own span; an
 * outgoing call usually gets one from stp_context_child_span).
 *
 * Propagation targets: when the config has targets, the request URL is
 * checked with stp_config_should_propagate. url/url_len give it; with
 * url == NULL it is composed as `scheme://authority/path` from the
 * :scheme, :authority (or `host`) and :path entries of nva. When it does
 * not match, nothing is changed and 0 is returned (*nvlen is then
 * unchanged). Without targets the URL is neither composed nor looked at.
 *
 * Returns 0, STP_ERR_INVALID_ARGUMENT, STP_ERR_BUFFER_TOO_SMALL when nvcap
 * is less than the entries kept plus 2 (3 with propagate_traceparent;
 * nvcap >= *nvlen + STP_NGHTTP2_NV_EXTRA always suffices; the entries
 * replaced count as room, wherever they are), STP_ERR_TOO_LONG when the
 * config has targets, url is NULL and the composed URL exceeds
 * STP_NGHTTP2_URL_MAX (a URL too long to check is not matched on part of
 * it), STP_ERR_NOMEM from the target check, or an error of
 * stp_context_inject. On any error nva and *nvlen are unchanged.
 * Freezes the DSC. Uses about 25 KiB of stack, and no heap but that of
 * stp_config_should_propagate. */
int stp_nghttp2_inject(stp_context *ctx, stp_nghttp2_headers *hb,
                       nghttp2_nv *nva, size_t nvcap, size_t *nvlen,
                       const stp_span *span, const char *url, size_t url_len);

/* Compose `scheme://authority/path` from the :scheme, :authority (or
 * `host`, when :authority is missing or empty) and :path entries of nva,
 * NUL-terminated; a missing part is left empty. Buffer rules of
 * stp/stp.h. */
int stp_nghttp2_request_url(char *buf, size_t cap, size_t *out_len,
                            const nghttp2_nv *nva, size_t nvlen);

/* ------------------------------------------------------------------------ */
/* Client: one span record per request.                                     */

/* Bytes of a record's description ("GET http://host/path") kept; a longer
 * one is cut (the query is never kept). */
#define STP_NGHTTP2_DESCRIPTION_MAX 256

/* One outgoing request's span. Plain data on your storage (your stream
 * object, the stack of a blocking client), owning no memory; fields are
 * read-only. */
typedef struct stp_nghttp2_request {
  stp_span span; /* the span the request announced */
  const stp_context *ctx;
  uint64_t start_ns;
  int status; /* the response's :status, 0 until one arrived */
  bool local_root;
  bool injected; /* the trace headers were added */
  bool ended;
  size_t description_len;
  char description[STP_NGHTTP2_DESCRIPTION_MAX];
} stp_nghttp2_request;

/* stp_nghttp2_inject for a request you then time: call it in place of
 * stp_nghttp2_inject (same arguments and result) before
 * nghttp2_submit_request. `span` is the span the request announces: NULL
 * makes a child of the context's span (an outgoing call within a unit of
 * work); stp_context_span(ctx) when the request is the unit of work itself
 * (a client program), whose record is then a local root. The description
 * is `METHOD scheme://authority/path` from nva (without the query). req is
 * begun whatever inject returns, except STP_ERR_INVALID_ARGUMENT for a
 * NULL req or ctx; ctx must outlive req until stp_nghttp2_request_end. */
int stp_nghttp2_request_begin(stp_nghttp2_request *req, stp_context *ctx,
                              stp_nghttp2_headers *hb, nghttp2_nv *nva,
                              size_t nvcap, size_t *nvlen, const stp_span *span,
                              const char *url, size_t url_len);

/* From on_header_callback for this request's stream: notes the response's
 * :status (the last one, so a final answer after 1xx). */
void stp_nghttp2_request_on_header(stp_nghttp2_request *req,
                                   const nghttp2_frame *frame,
                                   const uint8_t *name, size_t namelen,
                                   const uint8_t *value, size_t valuelen);

/* From on_stream_close_callback (or when you give up on the request): the
 * `http.client` record, its status from :status, else from error_code
 * (NGHTTP2_CANCEL: "cancelled"; another error or none: "unknown_error").
 * Returns 0, STP_ERR_INVALID_ARGUMENT, or STP_ERR_STATE when it ended
 * already. */
int stp_nghttp2_request_end(stp_nghttp2_request *req, uint32_t error_code);

/* ------------------------------------------------------------------------ */
/* Server: incoming streams.                                                */

/* A connection's session feeds each stream's request headers into one
 * whole context (STP_CONTEXT_SIZE, about 9 KiB, per connection: HTTP/2
 * sends the frames of one header block back to back, so one block is fed
 * at a time). When a stream's block is complete, the stream gets its own
 * state, one allocation sized by what the request brought: its record
 * fields and a compact copy of its context (stp_context_compact), under
 * 1 KiB for usual trace headers. Hostile headers (a huge baggage,
 * thousands of members, junk bytes) cost no more than a whole context
 * per stream: the context keeps at most STP_BAGGAGE_MAX_MEMBERS members
 * in STP_BAGGAGE_MAX_BYTES and examines at most
 * STP_BAGGAGE_SCAN_MAX_BYTES of baggage per stream.
 *
 * Use, in the nghttp2 server callbacks:
 *   per connection: stp_nghttp2_session_new() with the nghttp2 session,
 *       stp_nghttp2_session_del() with it;
 *   on_begin_headers_callback: stp_nghttp2_session_on_begin_headers();
 *   on_header_callback:        stp_nghttp2_session_on_header();
 *   on_frame_recv_callback:    stp_nghttp2_session_on_frame_recv() gives
 *       the stream's state when its request headers are complete: keep it
 *       with your stream object;
 *   on_frame_send_callback:    stp_nghttp2_stream_on_frame_send() (for the
 *       :status of the span record);
 *   on_stream_close_callback:  stp_nghttp2_stream_on_close() (the span
 *       record), then stp_nghttp2_stream_del().
 * nghttp2_session_del() does not call on_stream_close_callback for the
 * streams still open: when a connection is dropped, delete the stream
 * states it still holds yourself (keep them in a per-connection list). */
typedef struct stp_nghttp2_session stp_nghttp2_session;
typedef struct stp_nghttp2_stream stp_nghttp2_stream;

/* A session for one connection (one allocation through alloc, NULL for
 * malloc/free, which it remembers: the streams' states come from it too).
 * cfg must outlive the session and its streams. Returns 0,
 * STP_ERR_INVALID_ARGUMENT or STP_ERR_NOMEM (*out is then NULL). */
int stp_nghttp2_session_new(stp_nghttp2_session **out, const stp_config *cfg,
                            const stp_allocator *alloc);
/* Free a session. Its streams' states are separate allocations, freed
 * with stp_nghttp2_stream_del before or after. NULL does nothing. */
void stp_nghttp2_session_del(stp_nghttp2_session *s);

/* From on_begin_headers_callback: a request header block begins (other
 * blocks are ignored). Returns 0 or STP_ERR_INVALID_ARGUMENT. */
int stp_nghttp2_session_on_begin_headers(stp_nghttp2_session *s,
                                         const nghttp2_frame *frame);

/* Feed one header from on_header_callback. Only the request header block
 * begun last is used (trailers and other frames are ignored); repeated
 * headers are handled as SPEC section 1 says. Returns 0, or
 * STP_ERR_INVALID_ARGUMENT for NULL s or frame. Malformed values are
 * recorded in the context, never returned: return 0 from the callback. */
int stp_nghttp2_session_on_header(stp_nghttp2_session *s,
                                  const nghttp2_frame *frame,
                                  const uint8_t *name, size_t namelen,
                                  const uint8_t *value, size_t valuelen);

/* From on_frame_recv_callback. When frame completes the request header
 * block begun, decides (stp_context_finish) and makes *out, the stream's
 * state, with a compact copy of the context: free it with
 * stp_nghttp2_stream_del. Otherwise *out is NULL. Returns 0,
 * STP_ERR_INVALID_ARGUMENT or STP_ERR_NOMEM (no memory, or a block from
 * the allocator not aligned as malloc's; *out NULL: the stream then has
 * no trace, so answer it or reset it as you see fit). */
int stp_nghttp2_session_on_frame_recv(stp_nghttp2_session *s,
                                      stp_nghttp2_stream **out,
                                      const nghttp2_frame *frame);

/* The stream's context, valid as long as st (NULL for NULL). For a new
 * head (no trace came), name it with stp_context_set_transaction once the
 * request is routed: it has room for a name of at least
 * STP_COMPACT_TRANSACTION_ROOM bytes once percent-encoded. */
stp_context *stp_nghttp2_stream_context(stp_nghttp2_stream *st);

/* The bytes of the stream's state (0 for NULL): what stp keeps for it. */
size_t stp_nghttp2_stream_bytes(const stp_nghttp2_stream *st);

/* From on_frame_send_callback: notes the :status of the response
 * HEADERS this stream sent. Other frames are ignored. */
void stp_nghttp2_stream_on_frame_send(stp_nghttp2_stream *st,
                                      const nghttp2_frame *frame);

/* From on_stream_close_callback: the stream's `http.server` record (a
 * local root: `METHOD /path` without the query, the :status sent, else
 * the status of error_code as for requests; the continue status), to the
 * sink of the config. Returns 0, STP_ERR_INVALID_ARGUMENT, or
 * STP_ERR_STATE when the stream was closed already. */
int stp_nghttp2_stream_on_close(stp_nghttp2_stream *st, uint32_t error_code);

/* Free a stream's state. NULL does nothing. */
void stp_nghttp2_stream_del(stp_nghttp2_stream *st);

#ifdef __cplusplus
}
#endif

#endif /* STP_NGHTTP2_H */
