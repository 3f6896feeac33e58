/* The client of the memory benchmark (bench/streams_rss.sh): holds HTTP/2
 * streams open against a server, so that its memory per in-flight stream
 * can be read. C connections to 127.0.0.1:PORT (cleartext, prior
 * knowledge), each with S requests whose HEADERS do not end the stream (a
 * POST whose body never comes): the server keeps every one of them open,
 * with whatever it holds per request.
 *
 *   h2_hold --port N [--conns C] [--streams S] [-H 'name: value']...
 *           [--pause] [--hold-ms MS]
 *
 * 1. Connects C times (1), exchanges SETTINGS and a PING on each. When the
 *    server allows fewer than S concurrent streams per connection, says so
 *    and exits 1. With --pause, prints "connected C" and waits for a line
 *    on stdin: the server now holds the connections and no stream.
 * 2. Opens S streams (100) on each connection, with the -H headers, then
 *    PINGs every connection twice and waits for the ACKs: the server has
 *    then read every HEADERS, and any stream it refused or reset has been
 *    seen. Prints "ready C S".
 * 3. Holds everything until stdin closes, SIGTERM or SIGINT, or MS
 *    milliseconds after the start (600000), then exits by itself.
 *
 * Exits 0 when it was ready and no stream or connection was lost, 1 when
 * something was (with the reason on stderr), 2 for a bad command line. */
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

#include <nghttp2/nghttp2.h>

#include "bench/hold_stdin.h"
#include "examples/common/cli.h"

#define MAX_HEADERS 16

typedef struct hold_conn {
  int fd;
  nghttp2_session *session;
  int settings;  /* the server's SETTINGS came */
  int pings_due; /* PING ACKs not back yet */
  int lost;      /* a stream or the connection itself is gone */
} hold_conn;

/* What the program does next. */
enum step { CONNECTING, PAUSED, OPENING, FENCING, HOLDING };

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
  (void)sig;
  stop_signal = 1;
}

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data,
                       size_t len, int flags, void *user) {
  (void)session;
  (void)flags;
  hold_conn *c = user;
  ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
  if (n >= 0)
    return n;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
             ? NGHTTP2_ERR_WOULDBLOCK
             : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *user) {
  (void)session;
  hold_conn *c = user;
  if (frame->hd.type == NGHTTP2_SETTINGS &&
      !(frame->hd.flags & NGHTTP2_FLAG_ACK))
    c->settings = 1;
  else if (frame->hd.type == NGHTTP2_PING &&
           (frame->hd.flags & NGHTTP2_FLAG_ACK))
    c->pings_due--;
  else if (frame->hd.type == NGHTTP2_GOAWAY) {
    fprintf(stderr, "h2_hold: GOAWAY from the server: %s\n",
            nghttp2_http2_strerror(frame->goaway.error_code));
    c->lost = 1;
  }
  return 0;
}

/* Streams end only when the server ends them: an answer, a refusal, a
 * reset by its limits. Any of these spoils the measurement. */
static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *user) {
  (void)session;
  hold_conn *c = user;
  if (!c->lost) /* the first one of the connection says enough */
    fprintf(stderr, "h2_hold: stream %d closed by the server: %s\n",
            (int)stream_id, nghttp2_http2_strerror(error_code));
  c->lost = 1;
  return 0;
}

/* ---- connections --------------------------------------------------------- */

/* A non-blocking socket connected to 127.0.0.1:port, or -1. The connect
 * itself blocks: on loopback the kernel completes it from the listen
 * backlog, whether or not the server has called accept() yet. */
static int connect_loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("h2_hold: connect");
    if (fd >= 0)
      close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int fl = fcntl(fd, F_GETFL, 0);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
    perror("h2_hold: fcntl");
    close(fd);
    return -1;
  }
  return fd;
}

/* Connects c and queues the preface: our SETTINGS, then a PING. */
static int conn_open(hold_conn *c, int port,
                     const nghttp2_session_callbacks *cbs) {
  memset(c, 0, sizeof *c);
  c->fd = connect_loopback(port);
  if (c->fd < 0 || nghttp2_session_client_new(&c->session, cbs, c) != 0)
    return -1;
  nghttp2_settings_entry push = {NGHTTP2_SETTINGS_ENABLE_PUSH, 0};
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, &push, 1);
  c->pings_due = 1;
  return nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
}

static void conn_close(hold_conn *c) {
  nghttp2_session_del(c->session);
  if (c->fd >= 0)
    close(c->fd);
}

/* Opens n streams on c: HEADERS without END_STREAM, so each waits for a
 * body. nghttp2 would queue streams past the server's limit instead of
 * sending them, so the limit is checked first (check_limit). */
static int conn_open_streams(hold_conn *c, const nghttp2_nv *nva, size_t nvlen,
                             size_t n) {
  for (size_t i = 0; i < n; i++) {
    int32_t id = nghttp2_submit_headers(c->session, NGHTTP2_FLAG_NONE, -1, NULL,
                                        nva, nvlen, NULL);
    if (id < 0) {
      fprintf(stderr, "h2_hold: submit: %s\n", nghttp2_strerror(id));
      return -1;
    }
  }
  return 0;
}

static int conn_ping(hold_conn *c) {
  c->pings_due++;
  return nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
}

/* Reads what the socket has; returns -1 when the server closed it or the
 * bytes are not HTTP/2. */
static int conn_read(hold_conn *c) {
  uint8_t buf[16384];
  ssize_t n = recv(c->fd, buf, sizeof buf, 0);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  if (n == 0 || nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0)
    return -1;
  return 0;
}

/* ---- the steps ----------------------------------------------------------- */

typedef struct hold {
  hold_conn *conns;
  size_t n_conns;
  size_t streams; /* per connection */
  const nghttp2_nv *nva;
  size_t nvlen;
  int pause;
  enum step step;
} hold;

/* Every connection has the server's SETTINGS and all its PING ACKs. */
static int all_synced(const hold *h) {
  for (size_t i = 0; i < h->n_conns; i++)
    if (!h->conns[i].settings || h->conns[i].pings_due > 0)
      return 0;
  return 1;
}

static int any_lost(const hold *h) {
  for (size_t i = 0; i < h->n_conns; i++)
    if (h->conns[i].lost)
      return 1;
  return 0;
}

/* The server's SETTINGS_MAX_CONCURRENT_STREAMS on each connection is at
 * least the streams asked for. */
static int check_limit(const hold *h) {
  for (size_t i = 0; i < h->n_conns; i++) {
    uint32_t max = nghttp2_session_get_remote_settings(
        h->conns[i].session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    if (max < h->streams) {
      fprintf(stderr,
              "h2_hold: the server allows %u concurrent streams per "
              "connection, %zu asked for\n",
              (unsigned)max, h->streams);
      return -1;
    }
  }
  return 0;
}

static int open_all(hold *h) {
  for (size_t i = 0; i < h->n_conns; i++)
    if (conn_open_streams(&h->conns[i], h->nva, h->nvlen, h->streams) != 0 ||
        conn_ping(&h->conns[i]) != 0)
      return -1;
  return 0;
}

static int ping_all(hold *h) {
  for (size_t i = 0; i < h->n_conns; i++)
    if (conn_ping(&h->conns[i]) != 0)
      return -1;
  return 0;
}

/* Moves on once every connection is synced. The second round of PINGs
 * (FENCING) is there because the server sends a PING ACK ahead of frames
 * it queued before it (nghttp2 sends control frames first): a stream it
 * refused while reading the first round may be reported after that ACK,
 * never after the next one. Returns -1 on failure. */
static int advance(hold *h, int *go) {
  if (!all_synced(h))
    return 0;
  switch (h->step) {
  case CONNECTING:
    if (check_limit(h) != 0)
      return -1;
    if (h->pause) {
      printf("connected %zu\n", h->n_conns);
      fflush(stdout);
    }
    h->step = PAUSED;
    return 0;
  case PAUSED:
    if (h->pause && !*go)
      return 0;
    h->step = OPENING;
    return open_all(h);
  case OPENING:
    h->step = FENCING;
    return ping_all(h);
  case FENCING:
    printf("ready %zu %zu\n", h->n_conns, h->streams);
    fflush(stdout);
    h->step = HOLDING;
    return 0;
  case HOLDING:
    return 0;
  }
  return 0;
}

/* Polls stdin and the connections until the hold ends. Returns 0 when it
 * ended after "ready" with nothing lost, else -1. */
static int run(hold *h, uint64_t until_ms) {
  struct pollfd *pfds = calloc(h->n_conns + 1, sizeof *pfds);
  int go = 0, stdin_open = 1, rc = -1;
  if (!pfds)
    return -1;
  while (!stop_signal && monotonic_ms() < until_ms) {
    for (size_t i = 0; i < h->n_conns; i++)
      if (nghttp2_session_send(h->conns[i].session) != 0)
        h->conns[i].lost = 1;
    if (any_lost(h) || advance(h, &go) != 0)
      break;
    pfds[0] = (struct pollfd){STDIN_FILENO, stdin_open ? POLLIN : 0, 0};
    for (size_t i = 0; i < h->n_conns; i++) {
      short ev = nghttp2_session_want_write(h->conns[i].session)
                     ? POLLIN | POLLOUT
                     : POLLIN;
      pfds[1 + i] = (struct pollfd){h->conns[i].fd, ev, 0};
    }
    /* A short timeout: the stop signal and the deadline are looked at
     * between polls. */
    if (poll(pfds, h->n_conns + 1, 100) < 0 && errno != EINTR)
      break;
    if (pfds[0].revents && hold_read_stdin(&go)) {
      stdin_open = 0;
      break;
    }
    for (size_t i = 0; i < h->n_conns; i++)
      if ((pfds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) &&
          conn_read(&h->conns[i]) != 0) {
        fprintf(stderr, "h2_hold: connection %zu closed by the server\n", i);
        h->conns[i].lost = 1;
      }
  }
  if (h->step == HOLDING && !any_lost(h))
    rc = 0;
  else if (h->step != HOLDING && !any_lost(h))
    fprintf(stderr, "h2_hold: stopped before all streams were open\n");
  free(pfds);
  return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
  fprintf(stderr, "usage: h2_hold --port N [--conns C] [--streams S] "
                  "[-H 'name: value']...\n"
                  "               [--pause] [--hold-ms MS]\n");
  return 2;
}

static nghttp2_nv make_nv(const char *name, size_t namelen, const char *value) {
  nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, namelen, strlen(value),
                   NGHTTP2_NV_FLAG_NONE};
  return nv;
}

/* The command line into the fields of main; -H headers appended to nva
 * (*nvlen entries). Returns 0, or -1 for the usage. */
static int parse(int argc, char **argv, int *port, hold *h, int *hold_ms,
                 nghttp2_nv *nva, size_t *nvlen) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    size_t name_len;
    const char *value;
    int n = 0;
    if (strcmp(a, "--pause") == 0) {
      h->pause = 1;
      continue;
    }
    if (i + 1 == argc)
      return -1;
    char *v = argv[++i];
    if (strcmp(a, "--port") == 0)
      n = *port = cli_number(v, 1, 65535);
    else if (strcmp(a, "--conns") == 0)
      h->n_conns = (size_t)(n = cli_number(v, 1, 100000));
    else if (strcmp(a, "--streams") == 0)
      h->streams = (size_t)(n = cli_number(v, 0, 0x7fffffff));
    else if (strcmp(a, "--hold-ms") == 0)
      n = *hold_ms = cli_number(v, 1, 0x7fffffff);
    else if (strcmp(a, "-H") == 0 && *nvlen < 4 + MAX_HEADERS &&
             cli_header_lower(v, &name_len, &value) == 0) {
      nva[(*nvlen)++] = make_nv(v, name_len, value);
    } else
      return -1;
    if (n < 0)
      return -1;
  }
  return *port > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  int port = 0, hold_ms = 600000;
  char authority[32];
  nghttp2_nv nva[4 + MAX_HEADERS];
  hold h = {NULL, 1, 100, nva, 4, 0, CONNECTING};
  if (parse(argc, argv, &port, &h, &hold_ms, nva, &h.nvlen) != 0)
    return usage();
  snprintf(authority, sizeof authority, "127.0.0.1:%d", port);
  nva[0] = make_nv(":method", 7, "POST");
  nva[1] = make_nv(":scheme", 7, "http");
  nva[2] = make_nv(":authority", 10, authority);
  nva[3] = make_nv(":path", 5, "/api/users");

  uint64_t until_ms = monotonic_ms() + (uint64_t)hold_ms;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0)
    return 1;
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  h.conns = calloc(h.n_conns, sizeof *h.conns);
  int rc = h.conns ? 0 : 1;
  size_t opened = 0;
  for (; rc == 0 && opened < h.n_conns; opened++)
    if (conn_open(&h.conns[opened], port, cbs) != 0)
      rc = 1;
  if (rc == 0)
    rc = run(&h, until_ms) == 0 ? 0 : 1;
  for (size_t i = 0; i < opened; i++)
    conn_close(&h.conns[i]);
  free(h.conns);
  nghttp2_session_callbacks_del(cbs);
  return rc;
}
