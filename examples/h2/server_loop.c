#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "examples/common/cli.h"
#include "examples/common/listen.h"
#include "loop_internal.h"

/* After accept() fails for want of descriptors or memory, the listening
 * socket is left alone this long (it stays readable: polling it at once
 * again would spin). */
#define ACCEPT_PAUSE_MS 100

/* Output is gathered up to this many bytes before it goes to the socket:
 * the frames of every stream answered since the last read leave in one
 * send, not one send per frame. */
#define OUT_BATCH (64 * 1024)

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- streams ------------------------------------------------------------- */

void h2_stream_init(h2_stream *s, nghttp2_session *session, int32_t id) {
  memset(s, 0, sizeof *s);
  s->session = session;
  s->id = id;
}

static h2_stream *stream_of(nghttp2_session *session, int32_t id) {
  return nghttp2_session_get_stream_user_data(session, id);
}

/* The stream is looked up, not taken from source: the limits may have
 * reset and freed it since the answer was submitted. */
static ssize_t read_body(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *source, void *user) {
  (void)source;
  (void)user;
  h2_stream *s = stream_of(session, stream_id);
  if (!s)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = s->body_len - s->body_sent;
  if (n > len)
    n = len;
  memcpy(buf, s->body + s->body_sent, n);
  s->body_sent += n;
  if (s->body_sent == s->body_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

int h2_stream_respond(h2_stream *s, const char *content_type, const char *body,
                      size_t len) {
  char length[24];
  snprintf(length, sizeof length, "%zu", len);
  const nghttp2_nv hdrs[] = {
      {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-type", (uint8_t *)content_type, 12,
       strlen(content_type), NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-length", (uint8_t *)length, 14, strlen(length),
       NGHTTP2_NV_FLAG_NONE},
  };
  s->body = body;
  s->body_len = len;
  s->body_sent = 0;
  nghttp2_data_provider provider = {{.ptr = NULL}, read_body};
  return nghttp2_submit_response(s->session, s->id, hdrs, 3, &provider);
}

int h2_stream_reset(h2_stream *s) {
  return nghttp2_submit_rst_stream(s->session, NGHTTP2_FLAG_NONE, s->id,
                                   NGHTTP2_INTERNAL_ERROR);
}

/* Appends a new stream to its connection's list (oldest first, so the
 * first ones are the first past their deadline) and the counts. */
static void stream_add(conn *c, h2_stream *s) {
  s->deadline_ms = c->lp->now_ms + c->lp->lim.stream_timeout_ms;
  s->next = NULL;
  s->prev = c->tail;
  if (c->tail)
    c->tail->next = s;
  else
    c->head = s;
  c->tail = s;
  c->n_streams++;
  c->lp->live_streams++;
}

void loop_stream_close(conn *c, h2_stream *s) {
  if (s->prev)
    s->prev->next = s->next;
  else
    c->head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    c->tail = s->prev;
  c->lp->live_streams--;
  if (--c->n_streams == 0)
    c->idle_since_ms = c->lp->now_ms;
  c->lp->o->handler->close(c->lp->o->user, s);
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static int on_begin_headers(nghttp2_session *session,
                            const nghttp2_frame *frame, void *user) {
  conn *c = user;
  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  if (!guard_admit_stream(c)) {
    /* Not processed at all, so the peer may try it again later. */
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                              NGHTTP2_REFUSED_STREAM);
    return 0; /* the rest of its frames find no stream */
  }
  const h2_loop_options *o = c->lp->o;
  h2_stream *s = o->handler->open(o->user, c->user, session, frame);
  if (!s)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  stream_add(c, s);
  nghttp2_session_set_stream_user_data(session, s->id, s);
  return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user) {
  (void)flags;
  conn *c = user;
  h2_stream *s = stream_of(session, frame->hd.stream_id);
  if (s)
    c->lp->o->handler->header(c->lp->o->user, s, frame, name, namelen, value,
                              valuelen);
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user) {
  conn *c = user;
  c->handshaken = 1; /* a frame came, so the preface and SETTINGS did */
  h2_stream *s = stream_of(session, frame->hd.stream_id);
  if (s && c->lp->o->handler->frame(c->lp->o->user, s, frame) != 0)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user) {
  conn *c = user;
  h2_stream *s = stream_of(session, frame->hd.stream_id);
  if (s && c->lp->o->handler->sent)
    c->lp->o->handler->sent(c->lp->o->user, s, frame);
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user) {
  h2_stream *s = stream_of(session, stream_id);
  if (s) {
    s->error_code = error_code;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    loop_stream_close(user, s);
  }
  return 0;
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(conn *c) {
  nghttp2_session_del(c->session); /* calls no on_stream_close */
  while (c->head) {
    c->head->error_code = NGHTTP2_CANCEL;
    loop_stream_close(c, c->head);
  }
  if (c->lp->o->handler->conn_close)
    c->lp->o->handler->conn_close(c->lp->o->user, c->user);
  close(c->fd);
  free(c->out);
  free(c);
}

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

void loop_conn_flush(conn *c) {
  if (!c->dead && conn_flush(c) != 0)
    c->dead = 1;
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

/* A new connection on fd: its nghttp2 session, then our SETTINGS. */
static conn *conn_new(loop *lp, int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  conn *c = calloc(1, sizeof *c);
  const h2_stream_handler *h = lp->o->handler;
  if (c && h->conn_open && !(c->user = h->conn_open(lp->o->user))) {
    free(c);
    return NULL;
  }
  if (!c || set_nonblocking(fd) != 0 ||
      nghttp2_session_server_new(&c->session, lp->cbs, c) != 0) {
    if (c && h->conn_close)
      h->conn_close(lp->o->user, c->user);
    free(c);
    return NULL;
  }
  c->fd = fd;
  c->lp = lp;
  c->idle_since_ms = lp->now_ms; /* the handshake's start */
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lp->lim.conn_streams}};
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
  if (conn_flush(c) != 0)
    c->dead = 1;
  return c;
}

static void accept_all(loop *lp, int lfd) {
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)
        lp->accept_paused = 1;
      return;
    }
    if (lp->n_conns >= lp->lim.max_conns && !guard_make_room(lp)) {
      close(fd); /* every connection is busy: this one is told at once */
      continue;
    }
    if (lp->n_conns == lp->cap_conns) {
      size_t cap = lp->cap_conns ? 2 * lp->cap_conns : 16;
      conn **p = realloc(lp->conns, cap * sizeof *p);
      if (p) {
        lp->conns = p;
        lp->cap_conns = cap;
      }
    }
    conn *c = lp->n_conns < lp->cap_conns ? conn_new(lp, fd) : NULL;
    if (c)
      lp->conns[lp->n_conns++] = c;
    else
      close(fd);
  }
}

void loop_conn_drop(loop *lp, size_t i) {
  conn_free(lp->conns[i]);
  memmove(lp->conns + i, lp->conns + i + 1,
          (lp->n_conns - i - 1) * sizeof *lp->conns);
  lp->n_conns--;
}

/* Reads and writes what poll() said each connection is ready for, then
 * frees the connections that ended. */
static void serve_conns(loop *lp, const struct pollfd *pfds, size_t n) {
  for (size_t i = 0; i < n; i++) {
    conn *c = lp->conns[i];
    if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) && conn_read(c) != 0)
      c->dead = 1;
    if (!c->dead && conn_flush(c) != 0)
      c->dead = 1;
    if (!c->dead && !nghttp2_session_want_read(c->session) &&
        !nghttp2_session_want_write(c->session) && c->out_len == 0)
      c->dead = 1; /* GOAWAY exchanged, nothing left to say */
  }
  size_t kept = 0;
  for (size_t i = 0; i < lp->n_conns; i++) {
    if (lp->conns[i]->dead)
      conn_free(lp->conns[i]);
    else
      lp->conns[kept++] = lp->conns[i];
  }
  lp->n_conns = kept;
}

/* ---- the loop ------------------------------------------------------------ */

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  (void)sig;
  int saved = errno;
  if (write(stop_pipe[1], "x", 1) < 0) {
    /* the pipe is full: a stop is already pending */
  }
  errno = saved;
}

/* A stop signal writes to a pipe the loop polls. */
static int catch_stops(void) {
  if (pipe(stop_pipe) != 0 || set_nonblocking(stop_pipe[0]) != 0 ||
      set_nonblocking(stop_pipe[1]) != 0)
    return -1;
  catch_stop_signals(on_signal);
  return 0;
}

/* The non-blocking listening socket the loop polls. */
static int listen_on(int port, int *bound_port) {
  int fd = listen_loopback(port, 512, bound_port);
  if (fd >= 0 && set_nonblocking(fd) != 0) {
    perror("listen");
    close(fd);
    return -1;
  }
  return fd;
}

/* How long poll() may wait: until the next sweep of the timeouts while
 * there are connections; ACCEPT_PAUSE_MS at most after accept() failed
 * (the listening socket is not polled then). */
static int poll_timeout(const loop *lp, int paused) {
  int wait = paused ? ACCEPT_PAUSE_MS : -1;
  if (lp->n_conns > 0) {
    uint64_t until =
        lp->next_sweep_ms > lp->now_ms ? lp->next_sweep_ms - lp->now_ms : 0;
    if (wait < 0 || until < (uint64_t)wait)
      wait = (int)until;
  }
  return wait;
}

/* Polls the stop pipe, the listening socket and every connection until a
 * stop signal. Returns 0 then, -1 on failure. */
static int poll_until_stopped(loop *lp, int lfd) {
  struct pollfd *pfds = NULL;
  size_t cap = 0;
  int rc = -1;
  for (;;) {
    if (lp->n_conns + 2 > cap) {
      cap = 2 * (lp->n_conns + 2);
      struct pollfd *p = realloc(pfds, cap * sizeof *p);
      if (!p)
        break;
      pfds = p;
    }
    pfds[0] = (struct pollfd){stop_pipe[0], POLLIN, 0};
    pfds[1] = (struct pollfd){lfd, lp->accept_paused ? 0 : POLLIN, 0};
    size_t n = lp->n_conns;
    for (size_t i = 0; i < n; i++) {
      conn *c = lp->conns[i];
      short ev = c->out_off < c->out_len ? POLLIN | POLLOUT : POLLIN;
      pfds[2 + i] = (struct pollfd){c->fd, ev, 0};
    }
    int paused = lp->accept_paused;
    lp->accept_paused = 0; /* tried again after this poll */
    if (poll(pfds, n + 2, poll_timeout(lp, paused)) < 0 && errno != EINTR)
      break;
    lp->now_ms = monotonic_ms();
    if (pfds[0].revents) {
      rc = 0; /* SIGTERM / SIGINT */
      break;
    }
    guard_sweep(lp);
    serve_conns(lp, pfds + 2, n);
    if (pfds[1].revents & POLLIN)
      accept_all(lp, lfd);
  }
  free(pfds);
  return rc;
}

int h2_loop_run(const h2_loop_options *o) {
  loop lp = {.o = o, .now_ms = monotonic_ms()};
  h2_loop_limits_resolve(&lp.lim, &o->limits);
  int lfd = -1, bound, rc = 1;
  if (catch_stops() != 0 || (lfd = listen_on(o->port, &bound)) < 0)
    goto out;
  if (o->port_file && cli_write_port_file(o->port_file, bound) != 0) {
    perror(o->port_file);
    goto out;
  }
  fprintf(stderr, "%s: listening on 127.0.0.1:%d\n", o->name, bound);

  nghttp2_session_callbacks_new(&lp.cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(lp.cbs,
                                                          on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(lp.cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(lp.cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(lp.cbs, on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(lp.cbs,
                                                         on_stream_close);
  if (poll_until_stopped(&lp, lfd) == 0)
    rc = 0;

out:
  for (size_t i = 0; i < lp.n_conns; i++)
    conn_free(lp.conns[i]);
  free(lp.conns);
  nghttp2_session_callbacks_del(lp.cbs);
  if (lfd >= 0)
    close(lfd);
  for (int i = 0; i < 2; i++)
    if (stop_pipe[i] >= 0)
      close(stop_pipe[i]);
  if (rc == 0)
    fprintf(stderr, "%s: stopped\n", o->name);
  return rc;
}
