/* An HTTP/2 server (cleartext, prior knowledge) that continues the trace of
 * every request and answers with a JSON description of it.
 *
 *   h2_server [--port N|0] [--port-file FILE] [--no-propagation]
 *             [--fixed-answer] [--hand-written] [--spans FILE] [--sndbuf N]
 *             [--dsn DSN] [--sample-rate X] [--release R] [--environment E]
 *             [--org-id N] [--strict] [--traceparent] [--third-party]
 *
 * One thread, one poll() loop, any number of connections and concurrent
 * streams. Listens on 127.0.0.1; port 0 picks a free port, written to
 * --port-file. SIGTERM or SIGINT frees everything and exits 0.
 *
 * Per stream it keeps one stp_nghttp2_stream (about 9 KiB), fed by the
 * header callback and given back when the stream closes or its connection
 * goes; freed ones are kept for reuse (an stp_allocator over a free list).
 * For measuring what propagation costs, two switches answer the same fixed
 * 22-byte body: --no-propagation runs no stp code at all, --fixed-answer
 * still continues every request's trace and computes the `sentry-trace`
 * and `baggage` a downstream call would carry (the work a propagating
 * server does), but does not describe them in the answer.
 * --hand-written, a measuring aid only, does the work of --fixed-answer
 * without stp, written by hand with no checks at all (it trusts every
 * byte it is sent): the floor any propagation code reaches in this server.
 *
 * --spans appends an `http.server` span record per answered request to
 * the span log, with the trace headers the request carried. --sndbuf sets
 * the send buffer of every connection (SO_SNDBUF): a small one makes the
 * server's sends stop short sooner, as the tests want. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "examples/common/span_log.h"
#include "stp/nghttp2.h"

#define MAX_CONCURRENT_STREAMS 100
/* Streams open at once over all connections (their states are about
 * 9 KiB each): past it a new stream is reset, so that peers that open
 * streams and never finish them cannot take all memory. */
#define MAX_LIVE_STREAMS 4096
/* After accept() fails for want of descriptors or memory, the listening
 * socket is left alone this long (it stays readable: polling it at once
 * again would spin). */
#define ACCEPT_PAUSE_MS 100

/* With --hand-written: the incoming trace id and flag, the `sentry-*`
 * members of the incoming baggage as they came, and the outgoing
 * `sentry-trace`. */
typedef struct hand {
  char trace[STP_TRACE_ID_HEX_LEN + 1]; /* 32 hex digits, then the flag */
  char sentry_trace[STP_TRACE_ID_HEX_LEN + STP_SPAN_ID_HEX_LEN + 3];
  size_t bag_len;
  char bag[STP_BAGGAGE_MAX_BYTES];
} hand;

typedef struct stream {
  struct stream *prev, *next;
  int32_t id;
  stp_nghttp2_stream *trace; /* NULL with --no-propagation */
  hand *hand;                /* with --hand-written only */
  char *body;                /* owned, or the static fixed body */
  size_t body_len, body_sent;
  /* With --spans only: what the span record shows. */
  uint64_t start_ns;
  char *description; /* "METHOD PATH", owned */
  span_log_header headers[3];
  size_t n_headers; /* their names are literals, values owned */
} stream;

typedef struct conn {
  int fd;
  int dead;
  nghttp2_session *session;
  stream *streams; /* every stream nghttp2 still knows about */
  uint8_t *out;    /* bytes the socket has not taken yet */
  size_t out_len, out_off, out_cap;
  struct server *srv;
} conn;

/* Stream states (about 9 KiB each: a stp_nghttp2_stream, or with
 * --hand-written a `hand`; one kind per run, so all of one size) freed by
 * closed streams are kept for the next ones, as a busy server would: the
 * stp_allocator of every stp_nghttp2_stream. At most POOL_MAX are kept;
 * the rest go back to malloc. */
enum { POOL_MAX = 2 * MAX_CONCURRENT_STREAMS };

typedef struct pool {
  void *free[POOL_MAX];
  size_t n;
} pool;

static void *pool_get(size_t size, void *user) {
  pool *p = user;
  return p->n > 0 ? p->free[--p->n] : malloc(size);
}

static void pool_put(void *ptr, void *user) {
  pool *p = user;
  if (p->n < POOL_MAX)
    p->free[p->n++] = ptr;
  else
    free(ptr);
}

static void pool_clear(pool *p) {
  while (p->n > 0)
    free(p->free[--p->n]);
}

typedef struct server {
  const stp_config *cfg; /* NULL with --no-propagation */
  stp_allocator alloc;   /* stream states, from `states` */
  pool states;
  int traceparent;   /* also show the outgoing traceparent */
  int fixed_answer;  /* --fixed-answer */
  int hand_written;  /* --hand-written */
  uint64_t rng;      /* its span ids (xorshift) */
  const char *spans; /* --spans: the span log, or NULL */
  int sndbuf;        /* --sndbuf, or 0 */
  nghttp2_session_callbacks *cbs;
  conn **conns;
  size_t n_conns, cap_conns;
  size_t live_streams; /* at most MAX_LIVE_STREAMS */
  int accept_paused;   /* accept() failed: wait ACCEPT_PAUSE_MS */
} server;

static char kFixedBody[] = "{\"answer\":\"the same\"}\n";

/* ---- JSON into a bounded buffer ------------------------------------------ */

typedef struct {
  char *p;
  size_t len, cap;
  int overflow;
} jbuf;

static void j_raw(jbuf *j, const char *s, size_t n) {
  if (j->overflow || n > j->cap - j->len) {
    j->overflow = 1;
    return;
  }
  memcpy(j->p + j->len, s, n);
  j->len += n;
}

static void j_lit(jbuf *j, const char *s) {
  j_raw(j, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void j_str(jbuf *j, const char *s, size_t n) {
  j_raw(j, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      j_raw(j, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      j_raw(j, esc, 6);
    } else {
      j_raw(j, (const char *)&s[i], 1);
    }
  }
  j_raw(j, "\"", 1);
}

static void j_key(jbuf *j, const char *key) {
  j_str(j, key, strlen(key));
  j_raw(j, ":", 1);
}

/* The answer for one continued request. */
static void describe(jbuf *j, stp_context *ctx, int traceparent) {
  const stp_span *span = stp_context_span(ctx);
  char trace[STP_TRACE_ID_HEX_LEN + 1], id[STP_SPAN_ID_HEX_LEN + 1];
  char num[32];

  j_lit(j, "{");
  stp_trace_id_format(&span->trace_id, trace);
  j_key(j, "trace_id");
  j_str(j, trace, STP_TRACE_ID_HEX_LEN);
  j_lit(j, ",");
  j_key(j, "parent_span_id");
  if (span->has_parent) {
    stp_span_id_format(&span->parent_span_id, id);
    j_str(j, id, STP_SPAN_ID_HEX_LEN);
  } else {
    j_lit(j, "null");
  }
  j_lit(j, ",");
  stp_span_id_format(&span->span_id, id);
  j_key(j, "span_id");
  j_str(j, id, STP_SPAN_ID_HEX_LEN);
  j_lit(j, ",");
  j_key(j, "sampled");
  j_lit(j, span->sampled == STP_SAMPLED_YES  ? "true"
           : span->sampled == STP_SAMPLED_NO ? "false"
                                             : "null");
  j_lit(j, ",");
  j_key(j, "sample_rand");
  snprintf(num, sizeof num, "%.6f", stp_context_sample_rand(ctx));
  j_lit(j, num);
  j_lit(j, ",");
  j_key(j, "continued");
  j_lit(j, stp_context_continued(ctx) ? "true" : "false");
  j_lit(j, ",");
  j_key(j, "status");
  j_lit(j, "\"");
  j_lit(j, stp_error_name(stp_context_status(ctx)));
  j_lit(j, "\",");

  /* The DSC, keys without their `sentry-` prefix, values decoded. */
  j_key(j, "dsc");
  j_lit(j, "{");
  int first = 1;
  for (size_t i = 0; i < stp_context_member_count(ctx); i++) {
    stp_baggage_member m;
    bool is_sentry;
    char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t vlen;
    if (stp_context_member(ctx, &m, &is_sentry, i) != STP_OK || !is_sentry ||
        stp_baggage_decode(value, sizeof value, &vlen, m.value, m.value_len) !=
            STP_OK)
      continue;
    if (!first)
      j_lit(j, ",");
    first = 0;
    j_str(j, m.key + 7, m.key_len - 7);
    j_lit(j, ":");
    j_str(j, value, vlen);
  }
  j_lit(j, "},");

  /* What a call made from here would carry: a child span of ours. */
  stp_span child;
  stp_context_child_span(ctx, &child);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t st_len = 0, bag_len = 0;
  stp_context_sentry_trace(ctx, st, sizeof st, &st_len, &child);
  stp_context_baggage(ctx, bag, sizeof bag, &bag_len, NULL, 0);
  j_key(j, "outgoing");
  j_lit(j, "{");
  j_key(j, "sentry-trace");
  j_str(j, st, st_len);
  j_lit(j, ",");
  j_key(j, "baggage");
  if (bag_len)
    j_str(j, bag, bag_len);
  else
    j_lit(j, "null");
  if (traceparent) {
    char tp[STP_TRACEPARENT_LEN + 1];
    size_t tp_len = 0;
    stp_context_traceparent(ctx, tp, sizeof tp, &tp_len, &child);
    j_lit(j, ",");
    j_key(j, "traceparent");
    j_str(j, tp, tp_len);
  }
  j_lit(j, "}}\n");
}

/* ---- streams ------------------------------------------------------------- */

static void stream_free(conn *c, stream *s) {
  c->srv->live_streams--;
  if (s->prev)
    s->prev->next = s->next;
  else
    c->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  if (c->srv->spans && s->trace && s->body) {
    stp_context *ctx = stp_nghttp2_stream_context(s->trace);
    const char *d = s->description ? s->description : "";
    span_log_entry e = {.process = "h2_server",
                        .op = "http.server",
                        .description = d,
                        .description_len = strlen(d),
                        .span = stp_context_span(ctx),
                        .status =
                            s->body_sent == s->body_len ? "ok" : "cancelled",
                        .start_ns = s->start_ns,
                        .end_ns = span_log_now_ns(),
                        .headers = s->headers,
                        .n_headers = s->n_headers};
    if (span_log_write(c->srv->spans, &e) != 0)
      perror(c->srv->spans);
  }
  for (size_t i = 0; i < s->n_headers; i++)
    free((char *)s->headers[i].value);
  free(s->description);
  stp_nghttp2_stream_del(s->trace);
  if (s->hand)
    c->srv->alloc.free(s->hand, c->srv->alloc.user_data);
  if (s->body != kFixedBody)
    free(s->body);
  free(s);
}

/* With --spans: keeps what the span record of the stream shows. */
static void note_header(stream *s, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen) {
  static const char *const kept[] = {"sentry-trace", "baggage", "traceparent",
                                     ":method", ":path"};
  for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++) {
    if (namelen != strlen(kept[k]) || memcmp(name, kept[k], namelen) != 0)
      continue;
    if (k >= 3) { /* ":method" then ":path" make the description */
      size_t old = s->description ? strlen(s->description) : 0;
      char *d = realloc(s->description, old + valuelen + 2);
      if (!d)
        return;
      if (old)
        d[old++] = ' ';
      memcpy(d + old, value, valuelen);
      d[old + valuelen] = '\0';
      s->description = d;
    } else if (s->n_headers < 3) {
      char *v = malloc(valuelen ? valuelen : 1);
      if (!v)
        return;
      memcpy(v, value, valuelen);
      s->headers[s->n_headers++] =
          (span_log_header){kept[k], namelen, v, valuelen};
    }
    return;
  }
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *source, void *user) {
  (void)session;
  (void)stream_id;
  (void)user;
  stream *s = source->ptr;
  size_t n = s->body_len - s->body_sent;
  if (n > len)
    n = len;
  memcpy(buf, s->body + s->body_sent, n);
  s->body_sent += n;
  if (s->body_sent == s->body_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

/* --hand-written: a request header. Keeps the trace id and flag of a
 * `sentry-trace` and the `sentry-*` members of a `baggage`, unchecked. */
static void hand_header(hand *h, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen) {
  if (namelen == 12 && memcmp(name, "sentry-trace", 12) == 0 &&
      valuelen >= 51) {
    memcpy(h->trace, value, STP_TRACE_ID_HEX_LEN);
    h->trace[STP_TRACE_ID_HEX_LEN] = (char)value[50];
  } else if (namelen == 7 && memcmp(name, "baggage", 7) == 0) {
    const uint8_t *p = value, *end = value + valuelen;
    while (p < end) {
      const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
      const uint8_t *stop = comma ? comma : end;
      size_t n = (size_t)(stop - p);
      if (n > 7 && memcmp(p, "sentry-", 7) == 0 &&
          h->bag_len + n + 1 <= sizeof h->bag) {
        if (h->bag_len)
          h->bag[h->bag_len++] = ',';
        memcpy(h->bag + h->bag_len, p, n);
        h->bag_len += n;
      }
      p = stop + 1;
    }
  }
}

/* --hand-written: the outgoing `sentry-trace` of a child span, written
 * next to the outgoing baggage (h->bag, ready as it is). */
static void hand_child(server *srv, hand *h) {
  static const char hex[] = "0123456789abcdef";
  uint64_t x = srv->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  srv->rng = x;
  char *p = h->sentry_trace;
  memcpy(p, h->trace, STP_TRACE_ID_HEX_LEN);
  p[STP_TRACE_ID_HEX_LEN] = '-';
  for (int i = 0; i < STP_SPAN_ID_HEX_LEN; i++)
    p[STP_TRACE_ID_HEX_LEN + 1 + i] = hex[(x >> (4 * i)) & 15];
  p[STP_TRACE_ID_HEX_LEN + 1 + STP_SPAN_ID_HEX_LEN] = '-';
  p[STP_TRACE_ID_HEX_LEN + 2 + STP_SPAN_ID_HEX_LEN] = h->trace[32];
}

static int respond(conn *c, stream *s) {
  static char scratch[128 * 1024]; /* one thread: one request at a time */
  if (s->hand)
    hand_child(c->srv, s->hand);
  if (!s->trace) {
    s->body = kFixedBody;
    s->body_len = sizeof kFixedBody - 1;
  } else if (c->srv->fixed_answer) {
    /* The propagation work of a handler that calls on: a child span and
     * the two headers it would send. */
    stp_context *ctx = stp_nghttp2_stream_context(s->trace);
    stp_span child;
    char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
    size_t st_len, bag_len;
    stp_context_child_span(ctx, &child);
    if (stp_context_sentry_trace(ctx, st, sizeof st, &st_len, &child) != 0 ||
        stp_context_baggage(ctx, bag, sizeof bag, &bag_len, NULL, 0) != 0)
      return nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                       NGHTTP2_INTERNAL_ERROR);
    s->body = kFixedBody;
    s->body_len = sizeof kFixedBody - 1;
  } else {
    jbuf j = {scratch, 0, sizeof scratch, 0};
    describe(&j, stp_nghttp2_stream_context(s->trace), c->srv->traceparent);
    if (j.overflow || !(s->body = malloc(j.len)))
      return nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                       NGHTTP2_INTERNAL_ERROR);
    memcpy(s->body, scratch, j.len);
    s->body_len = j.len;
  }
  char length[24];
  snprintf(length, sizeof length, "%zu", s->body_len);
  const nghttp2_nv hdrs[] = {
      {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-type", (uint8_t *)"application/json", 12, 16,
       NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-length", (uint8_t *)length, 14, strlen(length),
       NGHTTP2_NV_FLAG_NONE},
  };
  nghttp2_data_provider body = {{.ptr = s}, read_body};
  return nghttp2_submit_response(c->session, s->id, hdrs, 3, &body);
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static int on_begin_headers(nghttp2_session *session,
                            const nghttp2_frame *frame, void *user) {
  conn *c = user;
  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  if (c->srv->live_streams >= MAX_LIVE_STREAMS)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  stream *s = calloc(1, sizeof *s);
  if (!s)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  s->id = frame->hd.stream_id;
  if (c->srv->spans)
    s->start_ns = span_log_now_ns();
  if (c->srv->cfg && stp_nghttp2_stream_new(&s->trace, c->srv->cfg, s->id,
                                            &c->srv->alloc) != STP_OK) {
    free(s);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (c->srv->hand_written) {
    s->hand = c->srv->alloc.malloc(sizeof *s->hand, c->srv->alloc.user_data);
    if (!s->hand) {
      free(s);
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    s->hand->trace[STP_TRACE_ID_HEX_LEN] = '-'; /* none seen */
    s->hand->bag_len = 0;
  }
  s->next = c->streams;
  if (c->streams)
    c->streams->prev = s;
  c->streams = s;
  c->srv->live_streams++;
  nghttp2_session_set_stream_user_data(session, s->id, s);
  return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user) {
  (void)flags;
  conn *c = user;
  stream *s =
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (s && s->trace)
    stp_nghttp2_stream_on_header(s->trace, frame, name, namelen, value,
                                 valuelen);
  if (s && s->hand)
    hand_header(s->hand, name, namelen, value, valuelen);
  if (s && c->srv->spans)
    note_header(s, name, namelen, value, valuelen);
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user) {
  conn *c = user;
  stream *s =
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (!s)
    return 0;
  if (s->trace)
    stp_nghttp2_stream_on_frame_recv(s->trace, frame);
  /* Answer once the request is complete (GET: its HEADERS frame). */
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->body &&
      (!s->trace || stp_nghttp2_stream_context(s->trace)))
    return respond(c, s) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user) {
  (void)error_code;
  stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
  if (s) {
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    stream_free(user, s);
  }
  return 0;
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(conn *c) {
  nghttp2_session_del(c->session);
  while (c->streams) /* streams of a dropped connection */
    stream_free(c, c->streams);
  close(c->fd);
  free(c->out);
  free(c);
}

/* Output is gathered up to this many bytes before it goes to the socket:
 * the frames of every stream answered since the last read leave in one
 * send, not one send per frame. */
enum { OUT_BATCH = 64 * 1024 };

/* Appends nghttp2's pending frames to c->out, up to OUT_BATCH bytes
 * (nghttp2 hands over one frame or so per call; `data` is valid until the
 * next call). */
static int conn_gather(conn *c) {
  if (c->out_off > 0) { /* what the socket took last time */
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  while (c->out_len < OUT_BATCH) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->session, &data);
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if (c->out_len + (size_t)n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 16384;
      while (cap < c->out_len + (size_t)n)
        cap *= 2;
      uint8_t *p = realloc(c->out, cap);
      if (!p)
        return -1;
      c->out = p;
      c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, (size_t)n);
    c->out_len += (size_t)n;
  }
  return 0;
}

/* Hands nghttp2's output to the socket until either has no more; keeps
 * what the socket does not take. */
static int conn_flush(conn *c) {
  for (;;) {
    if (conn_gather(c) != 0)
      return -1;
    if (c->out_len == 0)
      return 0;
    while (c->out_off < c->out_len) {
      ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                       MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
                                                                         : -1;
      c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
  }
}

static int conn_read(conn *c) {
  uint8_t buf[16384];
  ssize_t n = recv(c->fd, buf, sizeof buf, 0);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  if (n == 0)
    return -1; /* peer gone, maybe mid-request */
  return nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0 ? -1 : 0;
}

static int set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL, 0);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void accept_all(server *srv, int lfd) {
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)
        srv->accept_paused = 1;
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (srv->sndbuf > 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &srv->sndbuf, sizeof srv->sndbuf);
    conn *c = calloc(1, sizeof *c);
    if (srv->n_conns == srv->cap_conns) {
      size_t cap = srv->cap_conns ? 2 * srv->cap_conns : 16;
      conn **p = realloc(srv->conns, cap * sizeof *p);
      if (p) {
        srv->conns = p;
        srv->cap_conns = cap;
      }
    }
    if (!c || srv->n_conns == srv->cap_conns || set_nonblocking(fd) != 0 ||
        nghttp2_session_server_new(&c->session, srv->cbs, c) != 0) {
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    c->srv = srv;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
    srv->conns[srv->n_conns++] = c;
    if (conn_flush(c) != 0)
      c->dead = 1;
  }
}

/* ---- main ---------------------------------------------------------------- */

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  (void)sig;
  int saved = errno;
  if (write(stop_pipe[1], "x", 1) < 0) {
    /* the pipe is full: a stop is already pending */
  }
  errno = saved;
}

static int listen_on(int port, int *bound_port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 512) != 0 ||
      set_nonblocking(fd) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("listen");
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *bound_port = ntohs(a.sin_port);
  return fd;
}

/* Written then renamed, so a reader never sees a partial file. */
static int write_port_file(const char *path, int port) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "%d\n", port);
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path);
}

/* The decimal number v in [lo, hi], or -1. */
static int number(const char *v, long lo, long hi) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  return *v && !*end && errno == 0 && n >= lo && n <= hi ? (int)n : -1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: h2_server [--port N|0] [--port-file FILE] "
          "[--no-propagation]\n"
          "                 [--fixed-answer] [--hand-written] [--spans FILE] "
          "[--sndbuf N]\n"
          "                 [--dsn DSN] [--sample-rate X] [--release R] "
          "[--environment E]\n"
          "                 [--org-id N] [--strict] [--traceparent] "
          "[--third-party]\n");
  return 2;
}

int main(int argc, char **argv) {
  stp_options opts;
  stp_options_init(&opts);
  int port = 8080, propagation = 1, fixed_answer = 0, hand_written = 0;
  int sndbuf = 0;
  const char *port_file = NULL, *spans = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int used = 1;
    if (strcmp(a, "--port") == 0 && v) {
      if ((port = number(v, 0, 65535)) < 0)
        return usage();
    } else if (strcmp(a, "--port-file") == 0 && v)
      port_file = v;
    else if (strcmp(a, "--spans") == 0 && v)
      spans = v;
    else if (strcmp(a, "--sndbuf") == 0 && v) {
      if ((sndbuf = number(v, 0, INT_MAX)) < 0)
        return usage();
    } else if (strcmp(a, "--dsn") == 0 && v)
      opts.dsn = v;
    else if (strcmp(a, "--release") == 0 && v)
      opts.release = v;
    else if (strcmp(a, "--environment") == 0 && v)
      opts.environment = v;
    else if (strcmp(a, "--org-id") == 0 && v)
      opts.org_id = v;
    else if (strcmp(a, "--sample-rate") == 0 && v) {
      char *end;
      opts.has_sample_rate = true;
      opts.sample_rate = strtod(v, &end); /* the range: stp_config_new */
      if (*v == '\0' || *end != '\0')
        return usage();
    } else {
      used = 0;
      if (strcmp(a, "--no-propagation") == 0)
        propagation = 0;
      else if (strcmp(a, "--hand-written") == 0)
        hand_written = 1;
      else if (strcmp(a, "--fixed-answer") == 0)
        fixed_answer = 1;
      else if (strcmp(a, "--strict") == 0)
        opts.strict_trace_continuation = true;
      else if (strcmp(a, "--traceparent") == 0)
        opts.propagate_traceparent = true;
      else if (strcmp(a, "--third-party") == 0)
        opts.propagate_third_party_baggage = true;
      else
        return usage();
    }
    i += used;
  }

  stp_config *cfg = NULL;
  int err = stp_config_new(&cfg, &opts, NULL);
  if (err != STP_OK) {
    fprintf(stderr, "config: %s\n", stp_strerror(err));
    return 2;
  }
  static server srv; /* its pool is 1.6 KiB */
  srv.cfg = propagation && !hand_written ? cfg : NULL;
  srv.alloc = (stp_allocator){pool_get, pool_put, &srv.states};
  srv.traceparent = opts.propagate_traceparent;
  srv.fixed_answer = fixed_answer;
  srv.hand_written = hand_written;
  srv.rng = 0x9e3779b97f4a7c15u;
  srv.spans = spans;
  srv.sndbuf = sndbuf;
  int lfd = -1, rc = 1;
  struct pollfd *pfds = NULL;
  if (pipe(stop_pipe) != 0 || set_nonblocking(stop_pipe[0]) != 0 ||
      set_nonblocking(stop_pipe[1]) != 0)
    goto out;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int bound;
  if ((lfd = listen_on(port, &bound)) < 0)
    goto out;
  if (port_file && write_port_file(port_file, bound) != 0) {
    perror(port_file);
    goto out;
  }
  fprintf(stderr, "h2_server: listening on 127.0.0.1:%d%s\n", bound,
          hand_written   ? " (hand-written propagation, no checks)"
          : !propagation ? " (no propagation)"
          : fixed_answer ? " (fixed answer)"
                         : "");

  nghttp2_session_callbacks_new(&srv.cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(srv.cbs,
                                                          on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(srv.cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(srv.cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(srv.cbs,
                                                         on_stream_close);

  size_t cap_pfds = 0;
  for (;;) {
    if (srv.n_conns + 2 > cap_pfds) {
      cap_pfds = 2 * (srv.n_conns + 2);
      struct pollfd *p = realloc(pfds, cap_pfds * sizeof *p);
      if (!p)
        goto out;
      pfds = p;
    }
    pfds[0] = (struct pollfd){stop_pipe[0], POLLIN, 0};
    pfds[1] = (struct pollfd){lfd, srv.accept_paused ? 0 : POLLIN, 0};
    size_t n = srv.n_conns;
    for (size_t i = 0; i < n; i++) {
      conn *c = srv.conns[i];
      short ev = POLLIN;
      if (c->out_off < c->out_len)
        ev |= POLLOUT;
      pfds[2 + i] = (struct pollfd){c->fd, ev, 0};
    }
    int paused = srv.accept_paused;
    srv.accept_paused = 0; /* tried again after this poll */
    if (poll(pfds, n + 2, paused ? ACCEPT_PAUSE_MS : -1) < 0 && errno != EINTR)
      goto out;
    if (pfds[0].revents)
      break; /* SIGTERM / SIGINT */

    for (size_t i = 0; i < n; i++) {
      conn *c = srv.conns[i];
      short re = pfds[2 + i].revents;
      if ((re & (POLLIN | POLLHUP | POLLERR)) && conn_read(c) != 0)
        c->dead = 1;
      if (!c->dead && conn_flush(c) != 0)
        c->dead = 1;
      if (!c->dead && !nghttp2_session_want_read(c->session) &&
          !nghttp2_session_want_write(c->session) && c->out_len == 0)
        c->dead = 1; /* GOAWAY exchanged, nothing left to say */
    }
    size_t kept = 0;
    for (size_t i = 0; i < srv.n_conns; i++) {
      if (srv.conns[i]->dead)
        conn_free(srv.conns[i]);
      else
        srv.conns[kept++] = srv.conns[i];
    }
    srv.n_conns = kept;
    if (pfds[1].revents & POLLIN)
      accept_all(&srv, lfd);
  }
  rc = 0;

out:
  for (size_t i = 0; i < srv.n_conns; i++)
    conn_free(srv.conns[i]);
  free(srv.conns);
  pool_clear(&srv.states);
  free(pfds);
  nghttp2_session_callbacks_del(srv.cbs);
  if (lfd >= 0)
    close(lfd);
  for (int i = 0; i < 2; i++)
    if (stop_pipe[i] >= 0)
      close(stop_pipe[i]);
  stp_config_del(cfg);
  if (rc == 0)
    fprintf(stderr, "h2_server: stopped\n");
  return rc;
}
