/* The HTTP/2 server of the benchmarks (bench/h2_ab.sh, instructions.sh,
 * profile.sh): the example server's loop (examples/h2/server_loop.c), every
 * request answered with the same 22-byte body, and one of four ways of
 * handling the trace headers:
 *
 *   --mode stp   continue each request's trace (stp_nghttp2_session) and
 *                compute the `sentry-trace` and `baggage` of a call made
 *                from here: the work of a propagating server (A);
 *   --mode off   no stp code at all (B);
 *   --mode hand  the work of `stp` written by hand with no checks at all
 *                (it trusts every byte it is sent, and draws no
 *                `sentry-sample_rand`): the floor any propagation code
 *                reaches in this server (H), not a propagation;
 *   --mode checked  the work of `stp` written by hand with the checks of
 *                docs/SPEC.md, and no stp code (bench/checked.h): what
 *                those checks cost when written plainly (K).
 *
 *   h2_bench_server --mode stp|off|hand|checked [--port N|0]
 *                   [--port-file FILE]
 *                   [the stp options of examples/common/cli.h]
 *                   [the limits of examples/h2/server_loop.h]
 *
 * Requests (about 8 KiB, the room of --mode hand) freed by closed streams
 * are kept for the next ones, as a busy server would; so are the states
 * of --mode checked (about 8.4 KiB each), and the stream states of --mode
 * stp, through the allocator its sessions are given: blocks of
 * STATE_BLOCK bytes, which the reference request's state (752 bytes,
 * tests/h2/nghttp2_server_test.cc) fits with the block's head (larger
 * ones come from malloc). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/checked.h"
#include "examples/common/cli.h"
#include "examples/h2/server_loop.h"
#include "stp/nghttp2.h"

enum mode { MODE_UNSET, MODE_STP, MODE_OFF, MODE_HAND, MODE_CHECKED };

/* --mode hand: the incoming trace id and flag, the `sentry-*` members of
 * the incoming baggage as they came, and the outgoing `sentry-trace`. */
typedef struct hand {
  char trace[STP_TRACE_ID_HEX_LEN + 1]; /* 32 hex digits, then the flag */
  char sentry_trace[STP_TRACE_ID_HEX_LEN + STP_SPAN_ID_HEX_LEN + 3];
  size_t bag_len;
  char bag[STP_BAGGAGE_MAX_BYTES];
} hand;

typedef struct request {
  h2_stream base;
  union {
    struct {
      stp_nghttp2_session *traces; /* its connection's */
      stp_nghttp2_stream *trace;   /* once its headers are complete */
    } stp;            /* --mode stp */
    hand hand;        /* --mode hand */
    checked *checked; /* --mode checked: from the server's pool */
  } u;
} request;

enum { POOL_MAX = 200 }; /* twice what a connection opens by default */
enum { STATE_BLOCK = 768, STATE_HEAD = 16 }; /* STATE_HEAD keeps malloc's
                                                 alignment */

/* A stream state's block: its head says whether it is a pooled one. */
typedef union state_block {
  union state_block *next; /* in the pool */
  size_t pooled;
  unsigned char head[STATE_HEAD];
} state_block;

typedef struct server {
  enum mode mode;
  stp_config *cfg;
  uint64_t rng; /* --mode hand and checked: their ids (xorshift) */
  request *free[POOL_MAX];
  size_t n_free;
  checked *free_checked[POOL_MAX]; /* --mode checked */
  size_t n_free_checked;
  state_block *states; /* pooled stream states, STATE_BLOCK bytes each */
  size_t n_states;
  stp_allocator alloc; /* the sessions' */
} server;

static const char kBody[] = "{\"answer\":\"the same\"}\n";

/* --mode hand: a request header. Keeps the trace id and flag of a
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

/* --mode hand: the outgoing `sentry-trace` of a child span, written next
 * to the outgoing baggage (h->bag, ready as it is). */
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

/* --mode stp: the propagation work of a handler that calls on, a child
 * span and the two headers it would send. Returns 0 or -1. */
static int stp_child(stp_nghttp2_stream *trace) {
  stp_context *ctx = stp_nghttp2_stream_context(trace);
  stp_span child;
  char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t st_len, bag_len;
  if (!ctx)
    return -1;
  stp_context_child_span(ctx, &child);
  return stp_context_sentry_trace(ctx, st, sizeof st, &st_len, &child) == 0 &&
                 stp_context_baggage(ctx, bag, sizeof bag, &bag_len, NULL, 0) ==
                     0
             ? 0
             : -1;
}

/* --mode stp: stream states from the pool when they fit a block. */
static void *state_alloc(size_t size, void *user) {
  server *srv = user;
  bool fits = size <= STATE_BLOCK - STATE_HEAD;
  state_block *b = fits && srv->states ? srv->states : NULL;
  if (b) {
    srv->states = b->next;
    srv->n_states--;
  } else {
    b = malloc(fits ? STATE_BLOCK : STATE_HEAD + size);
    if (!b)
      return NULL;
  }
  b->pooled = fits;
  return b->head + STATE_HEAD;
}

static void state_free(void *p, void *user) {
  server *srv = user;
  state_block *b = (state_block *)(void *)((unsigned char *)p - STATE_HEAD);
  if (b->pooled && srv->n_states < POOL_MAX) {
    b->next = srv->states;
    srv->states = b;
    srv->n_states++;
  } else {
    free(b);
  }
}

/* --mode stp: a session per connection; the others need nothing, but a
 * connection given NULL is refused. */
static void *on_conn_open(void *user) {
  server *srv = user;
  stp_nghttp2_session *traces = NULL;
  if (srv->mode != MODE_STP)
    return srv;
  return stp_nghttp2_session_new(&traces, srv->cfg, &srv->alloc) == 0 ? traces
                                                                       : NULL;
}

static void on_conn_close(void *user, void *conn) {
  server *srv = user;
  if (srv->mode == MODE_STP)
    stp_nghttp2_session_del(conn);
}

static h2_stream *on_open(void *user, void *conn, nghttp2_session *session,
                          const nghttp2_frame *frame) {
  server *srv = user;
  request *r = srv->n_free ? srv->free[--srv->n_free] : malloc(sizeof *r);
  if (!r)
    return NULL;
  h2_stream_init(&r->base, session, frame->hd.stream_id);
  if (srv->mode == MODE_STP) {
    r->u.stp.traces = conn;
    r->u.stp.trace = NULL;
    stp_nghttp2_session_on_begin_headers(conn, frame);
  } else if (srv->mode == MODE_HAND) {
    r->u.hand.trace[STP_TRACE_ID_HEX_LEN] = '-'; /* none seen */
    r->u.hand.bag_len = 0;
  } else if (srv->mode == MODE_CHECKED) {
    r->u.checked = srv->n_free_checked
                       ? srv->free_checked[--srv->n_free_checked]
                       : malloc(sizeof *r->u.checked);
    if (!r->u.checked) {
      free(r);
      return NULL;
    }
    checked_begin(r->u.checked);
  }
  return &r->base;
}

static void on_header(void *user, h2_stream *s, const nghttp2_frame *frame,
                      const uint8_t *name, size_t namelen, const uint8_t *value,
                      size_t valuelen) {
  server *srv = user;
  request *r = (request *)s;
  if (srv->mode == MODE_STP)
    stp_nghttp2_session_on_header(r->u.stp.traces, frame, name, namelen,
                                  value, valuelen);
  else if (srv->mode == MODE_HAND)
    hand_header(&r->u.hand, name, namelen, value, valuelen);
  else if (srv->mode == MODE_CHECKED)
    checked_header(r->u.checked, name, namelen, value, valuelen);
}

static int on_frame(void *user, h2_stream *s, const nghttp2_frame *frame) {
  server *srv = user;
  request *r = (request *)s;
  if (srv->mode == MODE_STP && !r->u.stp.trace &&
      stp_nghttp2_session_on_frame_recv(r->u.stp.traces, &r->u.stp.trace,
                                        frame) != 0)
    return h2_stream_reset(s) == 0 ? 0 : -1;
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) || s->body)
    return 0;
  int err = 0;
  if (srv->mode == MODE_STP)
    err = stp_child(r->u.stp.trace);
  else if (srv->mode == MODE_HAND)
    hand_child(srv, &r->u.hand);
  else if (srv->mode == MODE_CHECKED)
    checked_finish(r->u.checked, &srv->rng);
  err = err ? h2_stream_reset(s)
            : h2_stream_respond(s, "application/json", kBody, sizeof kBody - 1);
  return err == 0 ? 0 : -1;
}

static void on_close(void *user, h2_stream *s) {
  server *srv = user;
  request *r = (request *)s;
  if (srv->mode == MODE_STP)
    stp_nghttp2_stream_del(r->u.stp.trace);
  if (srv->mode == MODE_CHECKED) {
    if (srv->n_free_checked < POOL_MAX)
      srv->free_checked[srv->n_free_checked++] = r->u.checked;
    else
      free(r->u.checked);
  }
  if (srv->n_free < POOL_MAX)
    srv->free[srv->n_free++] = r;
  else
    free(r);
}

static int usage(void) {
  fprintf(stderr, "usage: h2_bench_server --mode stp|off|hand|checked "
                  "[--port N|0] [--port-file FILE]\n"
                  "                       [the options of h2_server]\n");
  return 2;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 0);
  static server srv; /* its pool is 1.6 KiB */
  static const h2_stream_handler handler = {
      on_open, on_header, on_frame, on_close, NULL, on_conn_open,
      on_conn_close};
  h2_loop_options lo = {0, NULL, "h2_bench_server", &handler, &srv, {0}};
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r == 0)
      r = h2_loop_option(&lo.limits, argc, argv, &i);
    if (r == 1)
      continue;
    if (r < 0 || strcmp(argv[i], "--mode") != 0 || i + 1 == argc)
      return usage();
    const char *v = argv[++i];
    srv.mode = strcmp(v, "stp") == 0       ? MODE_STP
               : strcmp(v, "off") == 0     ? MODE_OFF
               : strcmp(v, "hand") == 0    ? MODE_HAND
               : strcmp(v, "checked") == 0 ? MODE_CHECKED
                                           : MODE_UNSET;
  }
  if (srv.mode == MODE_UNSET)
    return usage();
  if (cli_config(&srv.cfg, &o, "h2_bench_server") != STP_OK)
    return 2;
  srv.rng = 0x9e3779b97f4a7c15u;
  checked_init();
  srv.alloc = (stp_allocator){state_alloc, state_free, &srv};
  lo.port = o.port;
  lo.port_file = o.port_file;
  int rc = h2_loop_run(&lo);
  while (srv.n_free)
    free(srv.free[--srv.n_free]);
  while (srv.n_free_checked)
    free(srv.free_checked[--srv.n_free_checked]);
  while (srv.states) {
    state_block *next = srv.states->next;
    free(srv.states);
    srv.states = next;
  }
  stp_config_del(srv.cfg);
  return rc;
}
