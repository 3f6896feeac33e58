/* A minimal HTTP/2 client that carries the trace: one GET over cleartext
 * HTTP/2 (prior knowledge), with `sentry-trace` and `baggage` added by
 * stp_nghttp2_inject.
 *
 *   h2_client [-H 'name: value']... [--env] [--dsn DSN] [--sample-rate X]
 *             [--release R] [--environment E] [--spans FILE]
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
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "examples/common/span_log.h"
#include "stp/nghttp2.h"

#define MAX_HEADERS 32
#define TIMEOUT_SECONDS 10

typedef struct {
  int fd;
  int32_t stream_id;
  int answered;
  int done;
  int status; /* the response's :status, 0 until seen */
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

/* ---- helpers ------------------------------------------------------------- */

/* http://host[:port][/path] into its parts (host and port NUL-terminated in
 * `buf`). Returns 0 or -1. */
static int parse_url(const char *url, char *buf, size_t cap, const char **host,
                     const char **port, const char **authority,
                     const char **path) {
  static const char prefix[] = "http://";
  if (strncmp(url, prefix, sizeof prefix - 1) != 0)
    return -1;
  const char *auth = url + sizeof prefix - 1;
  const char *slash = strchr(auth, '/');
  size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
  if (alen == 0 || alen >= cap / 2)
    return -1;
  char *a = buf, *h = buf + cap / 2;
  memcpy(a, auth, alen);
  a[alen] = '\0';
  memcpy(h, auth, alen + 1);
  h[alen] = '\0';
  char *colon = strrchr(h, ':');
  *port = "80";
  if (colon && !strchr(colon, ']')) {
    *colon = '\0';
    *port = colon + 1;
  }
  if (h[0] == '[') { /* [::1]:8080 */
    h++;
    char *end = strchr(h, ']');
    if (end)
      *end = '\0';
  }
  *host = h;
  *authority = a;
  *path = slash ? slash : "/";
  return 0;
}

static int connect_to(const char *host, const char *port) {
  struct addrinfo hints = {0}, *res, *ai;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
      continue;
    /* Bounds connect, send and recv alike. */
    struct timeval tv = {TIMEOUT_SECONDS, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    perror("connect");
  return fd;
}

static int usage(void) {
  fprintf(stderr, "usage: h2_client [-H 'name: value']... [--env] "
                  "[--dsn DSN] [--sample-rate X]\n"
                  "                 [--release R] [--environment E] "
                  "[--spans FILE] http://HOST[:PORT][/PATH]\n");
  return 2;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
  stp_options opts;
  stp_options_init(&opts);
  int from_env = 0;
  const char *url = NULL, *spans = NULL;
  uint64_t start_ns = span_log_now_ns();
  nghttp2_nv extra[MAX_HEADERS];
  size_t n_extra = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-H") == 0 && i + 1 < argc) {
      /* "Name: value": the name lowercased in place, spaces skipped. */
      char *h = argv[++i], *colon = strchr(h, ':');
      if (n_extra == MAX_HEADERS || !colon || colon == h)
        return usage();
      for (char *p = h; p < colon; p++)
        *p = (char)tolower((unsigned char)*p);
      char *value = colon + 1;
      while (*value == ' ' || *value == '\t')
        value++;
      extra[n_extra++] =
          (nghttp2_nv){(uint8_t *)h, (uint8_t *)value, (size_t)(colon - h),
                       strlen(value), NGHTTP2_NV_FLAG_NONE};
    } else if (strcmp(a, "--env") == 0) {
      from_env = 1;
    } else if (strcmp(a, "--dsn") == 0 && i + 1 < argc) {
      opts.dsn = argv[++i];
    } else if (strcmp(a, "--release") == 0 && i + 1 < argc) {
      opts.release = argv[++i];
    } else if (strcmp(a, "--environment") == 0 && i + 1 < argc) {
      opts.environment = argv[++i];
    } else if (strcmp(a, "--spans") == 0 && i + 1 < argc) {
      spans = argv[++i];
    } else if (strcmp(a, "--sample-rate") == 0 && i + 1 < argc) {
      const char *v = argv[++i];
      char *end;
      opts.has_sample_rate = true;
      opts.sample_rate = strtod(v, &end); /* the range: stp_config_new */
      if (*v == '\0' || *end != '\0')
        return usage();
    } else if (a[0] != '-' && !url) {
      url = a;
    } else {
      return usage();
    }
  }
  char url_buf[512];
  const char *host, *port, *authority, *path;
  if (!url || parse_url(url, url_buf, sizeof url_buf, &host, &port, &authority,
                        &path) != 0) {
    if (url && strncmp(url, "https://", 8) == 0)
      fprintf(stderr, "https is not supported by this example\n");
    return usage();
  }

  /* 1. The trace: continue one, or start a new one. */
  stp_config *cfg;
  int err = stp_config_new(&cfg, &opts, NULL);
  if (err != STP_OK) {
    fprintf(stderr, "config: %s\n", stp_strerror(err));
    return 2;
  }
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
  err = stp_nghttp2_inject(&ctx, &trace_headers, nva,
                           sizeof nva / sizeof nva[0], &nvlen, NULL, NULL, 0);
  if (err != STP_OK)
    fprintf(stderr, "inject: %s\n", stp_strerror(err));
  for (size_t i = 0; i < nvlen; i++)
    printf("> %.*s: %.*s\n", (int)nva[i].namelen, nva[i].name,
           (int)nva[i].valuelen, nva[i].value);
  fflush(stdout);

  /* 3. One connection, one stream. */
  int rc = 1;
  client c = {-1, 0, 0, 0, 0};
  nghttp2_session *session = NULL;
  c.fd = connect_to(host, port);
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
  if (spans) {
    /* The trace headers this request carried, exactly as sent. */
    span_log_header sent[STP_NGHTTP2_NV_EXTRA];
    size_t n_sent = 0;
    for (size_t i = 0; i < nvlen && n_sent < STP_NGHTTP2_NV_EXTRA; i++) {
      const char *name = (const char *)nva[i].name;
      size_t len = nva[i].namelen;
      if ((len == 12 && memcmp(name, "sentry-trace", 12) == 0) ||
          (len == 7 && memcmp(name, "baggage", 7) == 0) ||
          (len == 11 && memcmp(name, "traceparent", 11) == 0))
        sent[n_sent++] = (span_log_header){
            name, nva[i].namelen, (const char *)nva[i].value, nva[i].valuelen};
    }
    char description[600];
    int dlen = snprintf(description, sizeof description, "GET %s", url);
    size_t description_len = dlen < 0 ? 0
                             : (size_t)dlen < sizeof description
                                 ? (size_t)dlen
                                 : sizeof description - 1;
    span_log_entry e = {.process = "h2_client",
                        .op = "http.client",
                        .description = description,
                        .description_len = description_len,
                        .span = stp_context_span(&ctx),
                        .status = c.status ? stp_span_status_http(c.status)
                                           : "unavailable",
                        .start_ns = start_ns,
                        .end_ns = span_log_now_ns(),
                        .headers = sent,
                        .n_headers = n_sent};
    if (span_log_write(spans, &e) != 0)
      perror(spans);
  }
  nghttp2_session_del(session);
  if (c.fd >= 0)
    close(c.fd);
  stp_config_del(cfg);
  return rc;
}
