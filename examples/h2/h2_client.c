/* A minimal HTTP/2 client that carries the trace: one GET over cleartext
 * HTTP/2 (prior knowledge), with `sentry-trace` and `baggage` added by
 * stp_nghttp2_inject.
 *
 *   h2_client [-H 'name: value']... [--env] [--dsn DSN] [--sample-rate X]
 *             [--release R] [--environment E] [--org-id N] [--strict]
 *             [--traceparent] [--third-party] [--spans FILE]
 *             http://HOST[:PORT][/PATH]
 *
 * The trace comes from SENTRY_TRACE / SENTRY_BAGGAGE with --env, else from
 * -H 'sentry-trace: ...' / -H 'baggage: ...', else a new trace starts here.
 * Prints the request headers sent (`> `), the response headers (`< `), a
 * blank line and the body. With --spans, an `http.client` span record (the
 * context's span, which the request announces, with the trace headers
 * sent) is appended to the span log. Exits 0 when a response arrived.
 * Gives up after 10 seconds of silence. */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "examples/common/cli.h"
#include "examples/common/span_log.h"
#include "examples/common/url.h"
#include "stp/nghttp2.h"

#define MAX_HEADERS 32
#define TIMEOUT_SECONDS 10

typedef struct {
  int fd;
  int32_t stream_id;
  int answered;
  int done;
  int status;               /* the response's :status, 0 until seen */
  stp_nghttp2_request *req; /* the request's span */
} client;

static nghttp2_nv make_nv(const char *name, const char *value) {
  nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name),
                   strlen(value), NGHTTP2_NV_FLAG_NONE};
  return nv;
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data,
                       size_t len, int flags, void *user) {
  (void)session;
  (void)flags;
  client *c = user;
  ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
  return n < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : n;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user) {
  (void)session;
  (void)flags;
  client *c = user;
  if (frame->hd.stream_id == c->stream_id) {
    printf("< %.*s: %.*s\n", (int)namelen, name, (int)valuelen, value);
    c->answered = 1;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen == 3)
      c->status = atoi((const char *)value);
    stp_nghttp2_request_on_header(c->req, frame, name, namelen, value,
                                  valuelen);
  }
  return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                   const uint8_t *data, size_t len, void *user) {
  (void)session;
  (void)flags;
  client *c = user;
  if (stream_id == c->stream_id)
    fwrite(data, 1, len, stdout);
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user) {
  (void)session;
  client *c = user;
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->hd.stream_id == c->stream_id &&
      frame->headers.cat == NGHTTP2_HCAT_RESPONSE)
    printf("\n"); /* end of the response headers */
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user) {
  client *c = user;
  if (stream_id != c->stream_id)
    return 0;
  if (error_code != NGHTTP2_NO_ERROR)
    fprintf(stderr, "stream closed: %s\n", nghttp2_http2_strerror(error_code));
  c->done = 1;
  return nghttp2_session_terminate_session(session, NGHTTP2_NO_ERROR);
}

/* The `http.client` span record of the request: the context's span, which
 * the request announced, with the trace headers exactly as sent. */
static void log_span(const char *path, const char *url, const nghttp2_nv *nva,
                     size_t nvlen, const stp_context *ctx, int status,
                     uint64_t start_ns) {
  if (!path)
    return;
  span_log_header sent[STP_NGHTTP2_NV_EXTRA];
  size_t n_sent = 0;
  for (size_t i = 0; i < nvlen && n_sent < STP_NGHTTP2_NV_EXTRA; i++) {
    const char *name = (const char *)nva[i].name;
    if (span_log_trace_header(name, nva[i].namelen))
      sent[n_sent++] = (span_log_header){
          name, nva[i].namelen, (const char *)nva[i].value, nva[i].valuelen};
  }
  span_log_client_get(path, "h2_client", url, stp_context_span(ctx), status,
                      start_ns, sent, n_sent);
}

static int usage(void) {
  fprintf(stderr, "usage: h2_client [-H 'name: value']... [--env] "
                  "[--dsn DSN] [--sample-rate X]\n"
                  "                 [--release R] [--environment E] "
                  "[--org-id N] [--strict]\n"
                  "                 [--traceparent] [--third-party] "
                  "[--spans FILE] http://HOST[:PORT][/PATH]\n");
  return 2;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 0, 0);
  int from_env = 0;
  const char *url = NULL;
  uint64_t start_ns = span_log_now_ns();
  nghttp2_nv extra[MAX_HEADERS];
  size_t n_extra = 0;

  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r < 0)
      return usage();
    if (r == 1)
      continue;
    if (strcmp(argv[i], "-H") == 0 && i + 1 < argc) {
      /* "Name: value": HTTP/2 wants the name in lowercase. */
      char *h = argv[++i];
      size_t name_len;
      const char *value;
      if (n_extra == MAX_HEADERS || cli_header(h, &name_len, &value) != 0)
        return usage();
      for (size_t k = 0; k < name_len; k++)
        h[k] = (char)tolower((unsigned char)h[k]);
      extra[n_extra++] = (nghttp2_nv){(uint8_t *)h, (uint8_t *)value, name_len,
                                      strlen(value), NGHTTP2_NV_FLAG_NONE};
    } else if (strcmp(argv[i], "--env") == 0) {
      from_env = 1;
    } else if (argv[i][0] != '-' && !url) {
      url = argv[i];
    } else {
      return usage();
    }
  }
  char url_buf[512];
  const char *host, *port, *authority, *path;
  if (!url || url_parse(url, url_buf, sizeof url_buf, &host, &port, &authority,
                        &path) != 0) {
    if (url && strncmp(url, "https://", 8) == 0)
      fprintf(stderr, "https is not supported by this example\n");
    return usage();
  }

  /* 1. The trace: continue one, or start a new one. */
  stp_config *cfg;
  if (cli_config(&cfg, &o, "h2_client") != STP_OK)
    return 2;
  int err;
  stp_context ctx;
  if (from_env) {
    err = stp_context_continue_env(&ctx, cfg);
  } else {
    stp_context_begin(&ctx, cfg);
    for (size_t i = 0; i < n_extra; i++)
      stp_context_feed(&ctx, (const char *)extra[i].name, extra[i].namelen,
                       (const char *)extra[i].value, extra[i].valuelen);
    err = stp_context_finish(&ctx);
  }
  if (err != STP_OK && err != STP_ERR_ABSENT)
    fprintf(stderr, "not continued (%s): new trace\n", stp_strerror(err));

  /* 2. The request headers: ours, the -H ones, then the trace. */
  nghttp2_nv nva[4 + MAX_HEADERS + STP_NGHTTP2_NV_EXTRA];
  size_t nvlen = 0;
  nva[nvlen++] = make_nv(":method", "GET");
  nva[nvlen++] = make_nv(":scheme", "http");
  nva[nvlen++] = make_nv(":authority", authority);
  nva[nvlen++] = make_nv(":path", path);
  for (size_t i = 0; i < n_extra; i++)
    nva[nvlen++] = extra[i];
  stp_nghttp2_headers trace_headers; /* must outlive submit_request */
  /* The request is this program's unit of work: it announces, and its
   * span record reports, the context's own span. */
  stp_nghttp2_request req;
  err = stp_nghttp2_request_begin(&req, &ctx, &trace_headers, nva,
                                  sizeof nva / sizeof nva[0], &nvlen,
                                  stp_context_span(&ctx), NULL, 0);
  if (err != STP_OK)
    fprintf(stderr, "inject: %s\n", stp_strerror(err));
  for (size_t i = 0; i < nvlen; i++)
    printf("> %.*s: %.*s\n", (int)nva[i].namelen, nva[i].name,
           (int)nva[i].valuelen, nva[i].value);
  fflush(stdout);

  /* 3. One connection, one stream. */
  int rc = 1;
  client c = {-1, 0, 0, 0, 0, &req};
  nghttp2_session *session = NULL;
  c.fd = url_connect(host, port, TIMEOUT_SECONDS);
  if (c.fd < 0)
    goto out;
  nghttp2_session_callbacks *cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  err = nghttp2_session_client_new(&session, cbs, &c);
  nghttp2_session_callbacks_del(cbs);
  if (err != 0)
    goto out;
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, NULL, 0);
  c.stream_id = nghttp2_submit_request(session, NULL, nva, nvlen, NULL, NULL);
  if (c.stream_id < 0) {
    fprintf(stderr, "submit: %s\n", nghttp2_strerror(c.stream_id));
    goto out;
  }

  /* Blocking loop: write what nghttp2 has, then read what the server sent.
   * The socket timeouts bound every wait. */
  while (nghttp2_session_want_read(session) ||
         nghttp2_session_want_write(session)) {
    if (nghttp2_session_send(session) != 0)
      break;
    if (!nghttp2_session_want_read(session))
      break;
    uint8_t buf[16384];
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (n < 0)
        perror("recv"); /* a timeout reads "Resource temporarily unavailable" */
      else if (!c.done)
        fprintf(stderr, "connection closed\n");
      break;
    }
    if (nghttp2_session_mem_recv(session, buf, (size_t)n) < 0)
      break;
  }
  rc = c.done && c.answered ? 0 : 1;

out:
  log_span(o.spans, url, nva, nvlen, &ctx, c.status, start_ns);
  stp_nghttp2_request_end(&req,
                          c.done ? NGHTTP2_NO_ERROR : NGHTTP2_REFUSED_STREAM);
  nghttp2_session_del(session);
  if (c.fd >= 0)
    close(c.fd);
  cli_config_del(&o, cfg);
  return rc;
}
