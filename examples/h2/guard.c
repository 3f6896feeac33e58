/* The limits of server_loop.h applied: which stream may open, which
 * connection makes room for a new one, and the timeouts. */
#define _POSIX_C_SOURCE 200809L

#include "loop_internal.h"

/* A connection sent GOAWAY for idling is closed this long after at the
 * latest, also when its peer reads nothing. */
#define CLOSE_GRACE_MS 1000

/* Resets a stream that nghttp2 still has, and frees ours at once: its
 * memory and its place in the counts go now, whether or not the peer
 * ever reads the RST_STREAM. (The loop finds no stream for its id
 * afterwards, so nothing reads the freed stream's body.) */
static void drop_stream(conn *c, h2_stream *s, uint32_t code) {
  nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, code);
  nghttp2_session_set_stream_user_data(c->session, s->id, NULL);
  s->error_code = code; /* for its record */
  loop_stream_close(c, s);
}

static conn *largest(loop *lp) {
  conn *big = lp->conns[0];
  for (size_t i = 1; i < lp->n_conns; i++)
    if (lp->conns[i]->n_streams > big->n_streams)
      big = lp->conns[i];
  return big;
}

int guard_admit_stream(conn *c) {
  loop *lp = c->lp;
  if (c->n_streams >= lp->lim.conn_streams)
    return 0;
  if (lp->live_streams < lp->lim.max_streams)
    return 1;
  /* All taken. A connection under its share takes the oldest stream of
   * the one holding the most, which is then over its share: a few peers
   * holding every stream cannot keep the others out. */
  size_t share = lp->lim.max_streams / lp->n_conns;
  if (c->n_streams >= (share ? share : 1))
    return 0;
  conn *hog = largest(lp);
  if (hog->n_streams <= c->n_streams + 1)
    return 0;
  drop_stream(hog, hog->head, NGHTTP2_ENHANCE_YOUR_CALM);
  loop_conn_flush(hog);
  return 1;
}

int guard_make_room(loop *lp) {
  size_t pick = lp->n_conns;
  for (size_t i = 0; i < lp->n_conns; i++) {
    conn *c = lp->conns[i];
    if (c->dead) {
      pick = i;
      break;
    }
    if (c->n_streams == 0 &&
        (pick == lp->n_conns ||
         c->idle_since_ms < lp->conns[pick]->idle_since_ms))
      pick = i;
  }
  if (pick == lp->n_conns)
    return 0;
  conn *c = lp->conns[pick];
  if (c->handshaken && !c->dead) {
    nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
    loop_conn_flush(c); /* as far as the socket takes it */
  }
  loop_conn_drop(lp, pick);
  return 1;
}

/* Sweeps are a quarter of the shortest timeout apart (so a timeout fires
 * at most that late), and 10 ms to 1 s. */
static uint64_t sweep_interval_ms(const h2_loop_limits *l) {
  uint32_t t = l->stream_timeout_ms;
  if (l->idle_timeout_ms < t)
    t = l->idle_timeout_ms;
  if (l->handshake_timeout_ms < t)
    t = l->handshake_timeout_ms;
  t /= 4;
  return t < 10 ? 10 : t > 1000 ? 1000 : t;
}

/* The timeouts of one connection. */
static void sweep_conn(conn *c, uint64_t now) {
  const h2_loop_limits *l = &c->lp->lim;
  while (c->head && c->head->deadline_ms <= now)
    drop_stream(c, c->head, NGHTTP2_CANCEL); /* oldest first */
  if (!c->handshaken) {
    if (now - c->idle_since_ms >= l->handshake_timeout_ms)
      c->dead = 1;
  } else if (c->closing) {
    if (now >= c->close_ms)
      c->dead = 1; /* its peer did not take the GOAWAY */
  } else if (c->n_streams == 0 &&
             now - c->idle_since_ms >= l->idle_timeout_ms) {
    nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
    c->closing = 1;
    c->close_ms = now + CLOSE_GRACE_MS;
  }
}

void guard_sweep(loop *lp) {
  if (lp->now_ms < lp->next_sweep_ms)
    return;
  for (size_t i = 0; i < lp->n_conns; i++)
    if (!lp->conns[i]->dead)
      sweep_conn(lp->conns[i], lp->now_ms);
  lp->next_sweep_ms = lp->now_ms + sweep_interval_ms(&lp->lim);
}
