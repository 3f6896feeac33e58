/* The plumbing of the example HTTP/2 server (cleartext, prior knowledge),
 * apart from what it does with a request: one thread, one poll() loop,
 * any number of connections and concurrent streams, on 127.0.0.1.
 *
 * It keeps the server up against peers that misbehave (the limits are
 * h2_loop_limits, below):
 * - streams: each connection may have `conn_streams` open (advertised in
 *   SETTINGS_MAX_CONCURRENT_STREAMS; past it a new one is refused), all
 *   connections together `max_streams`. When those are all taken, a
 *   connection holding fewer than its share (max_streams divided by the
 *   number of connections) still gets its stream: the oldest stream of
 *   the connection holding the most is reset for it. So peers that open
 *   streams and never finish them cannot take all memory, nor lock
 *   everyone else out.
 * - time: a stream not closed `stream_timeout_ms` after it opened is
 *   reset; a connection that has not sent its preface and SETTINGS
 *   `handshake_timeout_ms` after it was accepted is closed; one without a
 *   stream for `idle_timeout_ms` is sent GOAWAY and closed.
 * - descriptors: at most `max_conns` connections; for a new one past it
 *   the connection idle the longest (or still in its handshake) is
 *   closed, or, when every connection has a stream open, the new one. The
 *   default cap stays below the descriptor limit, so new clients are
 *   answered or closed, never left waiting. When accept() runs out of
 *   descriptors or memory all the same, the listening socket is left
 *   alone for a while instead of being polled in a busy loop.
 * - output: a peer that does not read its answers holds only its own
 *   connection's output, until its streams time out.
 * SIGTERM or SIGINT ends the loop. */
#ifndef STP_EXAMPLES_H2_SERVER_LOOP_H
#define STP_EXAMPLES_H2_SERVER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

/* One request stream. The server's own stream type embeds it as its first
 * member; the loop keeps it in its connection's list, so that the streams
 * of a dropped connection are closed too. */
typedef struct h2_stream {
  struct h2_stream *prev, *next; /* the loop's: oldest first */
  uint64_t deadline_ms;          /* the loop's: reset past it */
  nghttp2_session *session;
  int32_t id;
  const char *body; /* set by h2_stream_respond; read until the close */
  size_t body_len, body_sent;
  uint32_t error_code; /* at the close: the stream's (NGHTTP2_CANCEL when
                          its connection went, the RST_STREAM's when the
                          limits reset it) */
} h2_stream;

/* What the server does with requests; called from nghttp2's callbacks of
 * the same names (see stp/nghttp2.h for the stp calls in each). `user` is
 * h2_loop_options.user. */
typedef struct h2_stream_handler {
  /* on_begin_headers (a request): the new stream of frame->hd.stream_id,
   * begun with h2_stream_init, or NULL to reset it. conn is what
   * conn_open gave its connection. */
  h2_stream *(*open)(void *user, void *conn, nghttp2_session *session,
                     const nghttp2_frame *frame);
  /* on_header: a header of the stream (its request, or trailers). */
  void (*header)(void *user, h2_stream *s, const nghttp2_frame *frame,
                 const uint8_t *name, size_t namelen, const uint8_t *value,
                 size_t valuelen);
  /* on_frame_recv: a frame of the stream. Returns 0, or -1 to end the
   * connection. */
  int (*frame)(void *user, h2_stream *s, const nghttp2_frame *frame);
  /* on_stream_close, the stream was reset by the limits above, or its
   * connection went: free it. */
  void (*close)(void *user, h2_stream *s);
  /* on_frame_send: a frame of the stream went out. May be NULL. */
  void (*sent)(void *user, h2_stream *s, const nghttp2_frame *frame);
  /* A connection was accepted: what the server keeps for it (NULL refuses
   * it). conn_close frees it, after the connection's streams are closed.
   * Both may be NULL. */
  void *(*conn_open)(void *user);
  void (*conn_close)(void *user, void *conn);
} h2_stream_handler;

/* The limits above. A field left 0 takes its default. */
typedef struct h2_loop_limits {
  uint32_t conn_streams;         /* per connection: 100 */
  uint32_t max_streams;          /* over all connections: 4096 */
  uint32_t max_conns;            /* the descriptor limit less 32 */
  uint32_t handshake_timeout_ms; /* 5000 */
  uint32_t idle_timeout_ms;      /* 30000 */
  uint32_t stream_timeout_ms;    /* 30000 */
} h2_loop_limits;

/* The options that set them, for a program's usage text:
 *   --conn-streams N  --max-streams N  --max-conns N
 *   --handshake-timeout MS  --idle-timeout MS  --stream-timeout MS */
#define H2_LOOP_USAGE                                                          \
  "  --conn-streams N        streams open per connection (100)\n"              \
  "  --max-streams N         streams open over all connections (4096)\n"       \
  "  --max-conns N           connections (the descriptor limit less 32)\n"     \
  "  --handshake-timeout MS  to send the preface and SETTINGS (5000)\n"        \
  "  --idle-timeout MS       a connection without a stream (30000)\n"          \
  "  --stream-timeout MS     a stream, from its HEADERS to its end (30000)\n"

/* Reads argv[*i], and its value (advancing *i), when it is one of the
 * options of H2_LOOP_USAGE. Returns 1 when it was, 0 when it is not one
 * of them, -1 when its value is missing or not a number from 1 to
 * 2^31 - 1 (print the usage). */
int h2_loop_option(h2_loop_limits *l, int argc, char **argv, int *i);

/* The limits in effect: l's, its zero fields replaced by the defaults. */
void h2_loop_limits_resolve(h2_loop_limits *out, const h2_loop_limits *l);

typedef struct h2_loop_options {
  int port;              /* 0 picks a free one */
  const char *port_file; /* receives the port once listening, or NULL */
  const char *name;      /* for the log lines on stderr */
  const h2_stream_handler *handler;
  void *user;
  h2_loop_limits limits; /* zero: the defaults */
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
