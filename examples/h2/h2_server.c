/* An HTTP/2 server (cleartext, prior knowledge) that continues the trace of
 * every request and answers with a JSON description of it: the continued
 * context, its DSC, and the `sentry-trace` and `baggage` a call made from
 * here would carry.
 *
 *   h2_server [--port N|0] [--port-file FILE] [--spans FILE]
 *             [--dsn DSN] [--sample-rate X] [--release R] [--environment E]
 *             [--org-id N] [--strict] [--traceparent] [--third-party]
 *             [the limits of server_loop.h: --conn-streams N ...]
 *
 * What stp asks of an nghttp2 server is in the handlers below: an
 * stp_nghttp2_session per connection, fed every request header, and each
 * stream's state, with its stp_context, once its headers are complete. The
 * sockets, the poll() loop and the limits and timeouts that keep the server up
 * against hostile peers are in server_loop.c and guard.c. Listens on 127.0.0.1
 * (port 0 picks a free port, written to --port-file); SIGTERM or SIGINT frees
 * everything and exits 0. --spans appends an `http.server` span record per
 * request to the span log, with the trace headers the request carried (at most
 * 8 KiB of them: span_log_keep). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common/cli.h"
#include "examples/common/json.h"
#include "examples/common/span_log.h"
#include "examples/common/trace_json.h"
#include "server_loop.h"
#include "stp/nghttp2.h"

typedef struct request {
  h2_stream base;              /* first: the loop's part */
  stp_nghttp2_session *traces; /* its connection's */
  stp_nghttp2_stream *trace;   /* once its headers are complete */
  json_buf answer;
  /* With --spans only: what the span record shows. */
  uint64_t start_ns;
  char description[256]; /* "METHOD PATH", cut to fit */
  span_log_kept headers;
} request;

typedef struct server {
  stp_config *cfg;
  const char *spans; /* the span log, or NULL */
} server;

/* ---- the handlers ---------------------------------------------------------
 */

/* Each connection feeds its streams' request headers into a session. */
static void *on_conn_open(void *user) {
  server *srv = user;
  stp_nghttp2_session *traces;
  return stp_nghttp2_session_new(&traces, srv->cfg, NULL) == 0 ? traces : NULL;
}

static void on_conn_close(void *user, void *conn) {
  (void)user;
  stp_nghttp2_session_del(conn);
}

static h2_stream *on_open(void *user, void *conn, nghttp2_session *session,
                          const nghttp2_frame *frame) {
  (void)user;
  request *r = malloc(sizeof *r);
  if (!r)
    return NULL;
  h2_stream_init(&r->base, session, frame->hd.stream_id);
  r->traces = conn;
  r->trace = NULL;
  stp_nghttp2_session_on_begin_headers(r->traces, frame);
  r->answer = (json_buf){0};
  r->start_ns = span_log_now_ns();
  r->description[0] = '\0';
  r->headers = (span_log_kept){0};
  return &r->base;
}

/* With --spans: keeps what the span record of the request shows. */
static void note_header(request *r, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen) {
  if (span_log_keep(&r->headers, (const char *)name, namelen,
                    (const char *)value, valuelen))
    return;
  if ((namelen == 7 && memcmp(name, ":method", 7) == 0) ||
      (namelen == 5 && memcmp(name, ":path", 5) == 0)) {
    size_t len = strlen(r->description);
    snprintf(r->description + len, sizeof r->description - len, "%s%.*s",
             len ? " " : "", (int)valuelen, (const char *)value);
  }
}

static void on_header(void *user, h2_stream *s, const nghttp2_frame *frame,
                      const uint8_t *name, size_t namelen, const uint8_t *value,
                      size_t valuelen) {
  server *srv = user;
  request *r = (request *)s;
  stp_nghttp2_session_on_header(r->traces, frame, name, namelen, value,
                                valuelen);
  if (srv->spans)
    note_header(r, name, namelen, value, valuelen);
}

static int on_frame(void *user, h2_stream *s, const nghttp2_frame *frame) {
  (void)user;
  request *r = (request *)s;
  if (!r->trace &&
      stp_nghttp2_session_on_frame_recv(r->traces, &r->trace, frame) != 0)
    return h2_stream_reset(s) == 0 ? 0 : -1; /* no memory for its trace */
  /* Answer once the request is complete (a GET: its HEADERS frame). */
  stp_context *ctx = stp_nghttp2_stream_context(r->trace);
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) || !ctx || s->body)
    return 0;
  trace_json_describe(&r->answer, ctx);
  int err = r->answer.failed ? h2_stream_reset(s)
                             : h2_stream_respond(s, "application/json",
                                                 r->answer.buf, r->answer.len);
  return err == 0 ? 0 : -1;
}

/* The :status the stream sent, for its span record. */
static void on_sent(void *user, h2_stream *s, const nghttp2_frame *frame) {
  (void)user;
  stp_nghttp2_stream_on_frame_send(((request *)s)->trace, frame);
}

static void on_close(void *user, h2_stream *s) {
  server *srv = user;
  request *r = (request *)s;
  stp_nghttp2_stream_on_close(r->trace, s->error_code); /* its record */
  stp_context *ctx = stp_nghttp2_stream_context(r->trace);
  if (srv->spans && ctx && s->body) {
    span_log_entry e = {.process = "h2_server",
                        .op = "http.server",
                        .description = r->description,
                        .description_len = strlen(r->description),
                        .span = stp_context_span(ctx),
                        .status =
                            s->body_sent == s->body_len ? "ok" : "cancelled",
                        .start_ns = r->start_ns,
                        .end_ns = span_log_now_ns(),
                        .headers = r->headers.headers,
                        .n_headers = r->headers.n_headers};
    if (span_log_write(srv->spans, &e) != 0)
      perror(srv->spans);
  }
  span_log_kept_free(&r->headers);
  stp_nghttp2_stream_del(r->trace);
  free(r->answer.buf);
  free(r);
}

/* ---- main ---------------------------------------------------------------- */

/* The usage text to f (stdout for --help); returns the exit status. */
static int usage(FILE *f, int rc) {
  fprintf(f, "usage: h2_server [--port N|0] [--port-file FILE] [--spans FILE]\n"
             "                 [--dsn DSN] [--sample-rate X] [--release R] "
             "[--environment E]\n"
             "                 [--org-id N] [--strict] [--traceparent] "
             "[--third-party]\n"
             "                 [LIMITS]\n"
             "LIMITS, against peers that would hold the server "
             "(defaults):\n" H2_LOOP_USAGE);
  return rc;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 8080);
  static const h2_stream_handler handler = {
      on_open, on_header,    on_frame,     on_close,
      on_sent, on_conn_open, on_conn_close};
  server srv = {NULL, NULL};
  h2_loop_options lo = {0, NULL, "h2_server", &handler, &srv, {0}};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0)
      return usage(stdout, 0);
    int r = cli_option(&o, argc, argv, &i);
    if (r == 0)
      r = h2_loop_option(&lo.limits, argc, argv, &i);
    if (r != 1)
      return usage(stderr, 2);
  }

  srv.spans = o.spans;
  if (cli_config(&srv.cfg, &o, "h2_server") != STP_OK)
    return 2;
  lo.port = o.port;
  lo.port_file = o.port_file;
  int rc = h2_loop_run(&lo);
  cli_config_del(&o, srv.cfg);
  return rc;
}
