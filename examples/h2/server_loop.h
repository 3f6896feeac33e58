/* The plumbing of the example HTTP/2 server (cleartext, prior knowledge),
 * apart from what it does with a request: one thread, one poll() loop,
 * any number of connections and concurrent streams, on 127.0.0.1.
 *
 * It keeps the server up against peers that misbehave: at most
 * H2_LOOP_MAX_LIVE_STREAMS streams open over all connections (past it a
 * new stream is reset), so that peers that open streams and never finish
 * them cannot take all memory; when accept() runs out of descriptors or
 * memory, the listening socket is left alone for a while instead of being
 * polled in a busy loop; a peer that does not read its answers holds only
 * its own connection's output. SIGTERM or SIGINT ends the loop. */
#ifndef STP_EXAMPLES_H2_SERVER_LOOP_H
#define STP_EXAMPLES_H2_SERVER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#define H2_LOOP_MAX_CONCURRENT_STREAMS 100 /* per connection (SETTINGS) */
#define H2_LOOP_MAX_LIVE_STREAMS 4096      /* over all connections */

/* One request stream. The server's own stream type embeds it as its first
 * member; the loop keeps it in its connection's list, so that the streams
 * of a dropped connection are closed too. */
typedef struct h2_stream {
  struct h2_stream *prev, *next; /* the loop's */
  nghttp2_session *session;
  int32_t id;
  const char *body; /* set by h2_stream_respond; read until the close */
  size_t body_len, body_sent;
  uint32_t error_code; /* at the close: the stream's (NGHTTP2_CANCEL when
                          its connection went) */
} h2_stream;

/* What the server does with requests; called from nghttp2's callbacks of
 * the same names (see stp/nghttp2.h for the stp calls in each). `user` is
 * h2_loop_options.user. */
typedef struct h2_stream_handler {
  /* on_begin_headers (a request): the new stream, begun with
   * h2_stream_init, or NULL to reset it. */
  h2_stream *(*open)(void *user, nghttp2_session *session, int32_t id);
  /* on_header: a header of the stream (its request, or trailers). */
  void (*header)(void *user, h2_stream *s, const nghttp2_frame *frame,
                 const uint8_t *name, size_t namelen, const uint8_t *value,
                 size_t valuelen);
  /* on_frame_recv: a frame of the stream. Returns 0, or -1 to end the
   * connection. */
  int (*frame)(void *user, h2_stream *s, const nghttp2_frame *frame);
  /* on_stream_close, or the stream's connection went: free it. */
  void (*close)(void *user, h2_stream *s);
  /* on_frame_send: a frame of the stream went out. May be NULL. */
  void (*sent)(void *user, h2_stream *s, const nghttp2_frame *frame);
} h2_stream_handler;

typedef struct h2_loop_options {
  int port;              /* 0 picks a free one */
  const char *port_file; /* receives the port once listening, or NULL */
  const char *name;      /* for the log lines on stderr */
  const h2_stream_handler *handler;
  void *user;
} h2_loop_options;

/* Serves until SIGTERM or SIGINT. Returns 0 then (every stream closed,
 * everything freed), or 1 when it could not start or failed. */
int h2_loop_run(const h2_loop_options *o);

/* Fills the loop's part of a stream that `open` made. */
void h2_stream_init(h2_stream *s, nghttp2_session *session, int32_t id);

/* Answers the stream: status 200, content-type, content-length, then
 * body[0, len), which must stay valid until the stream closes (the close
 * handler frees it). Returns 0 or an nghttp2 error. */
int h2_stream_respond(h2_stream *s, const char *content_type, const char *body,
                      size_t len);

/* Resets the stream (RST_STREAM, INTERNAL_ERROR). Returns 0 or an nghttp2
 * error. */
int h2_stream_reset(h2_stream *s);

#endif /* STP_EXAMPLES_H2_SERVER_LOOP_H */
