/* What the server loop's files share: its connections and the loop
 * itself (server_loop.c), and the limits that guard them (guard.c). */
#ifndef STP_EXAMPLES_H2_LOOP_INTERNAL_H
#define STP_EXAMPLES_H2_LOOP_INTERNAL_H

#include "server_loop.h"

typedef struct loop loop;

typedef struct conn {
  int fd;
  int dead;
  int handshaken; /* the peer's first frame (its SETTINGS) came */
  int closing;    /* GOAWAY submitted: closed at close_ms at the latest */
  uint64_t idle_since_ms; /* accepted, or its last stream closed */
  uint64_t close_ms;
  nghttp2_session *session;
  void *user;             /* the handler's conn_open gave it */
  h2_stream *head, *tail; /* every stream we serve, oldest first */
  size_t n_streams;
  uint8_t *out; /* bytes the socket has not taken yet */
  size_t out_len, out_off, out_cap;
  loop *lp;
} conn;

struct loop {
  const h2_loop_options *o;
  h2_loop_limits lim; /* in effect */
  nghttp2_session_callbacks *cbs;
  conn **conns;
  size_t n_conns, cap_conns;
  size_t live_streams; /* at most lim.max_streams */
  int accept_paused;   /* accept() failed: wait a while */
  uint64_t now_ms;     /* CLOCK_MONOTONIC, read after each poll() */
  uint64_t next_sweep_ms;
};

/* Takes the stream out of its connection's list and the counts, and
 * hands it to the close handler. nghttp2 is not told. */
void loop_stream_close(conn *c, h2_stream *s);

/* Hands nghttp2's output to the socket as far as it takes it; marks the
 * connection dead when that fails. */
void loop_conn_flush(conn *c);

/* Closes and frees lp->conns[i] (with its streams), keeping the order of
 * the others. */
void loop_conn_drop(loop *lp, size_t i);

/* ---- guard.c ------------------------------------------------------------- */

/* A request opens a stream on c: returns 1 when it may (a stream of
 * another connection may have been reset to make room), 0 when it is to
 * be refused. */
int guard_admit_stream(conn *c);

/* A connection was accepted and lp holds lim.max_conns: closes the one
 * idle the longest (or still in its handshake) and returns 1, or returns
 * 0 when every connection has a stream open. */
int guard_make_room(loop *lp);

/* Applies the timeouts when lp->next_sweep_ms has come: resets streams
 * past their deadline, marks connections dead or sends them GOAWAY; then
 * sets the next sweep, a fraction of the shortest timeout later. */
void guard_sweep(loop *lp);

#endif /* STP_EXAMPLES_H2_LOOP_INTERNAL_H */
