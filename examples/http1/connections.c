#define _POSIX_C_SOURCE 200809L

#include "connections.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "examples/common/cli.h"
#include "examples/common/listen.h"

/* The live connections, so that a stop can wake their threads. */
typedef struct registry {
  pthread_mutex_t lock;
  pthread_cond_t idle; /* signalled when a connection ends */
  int fds[HTTP1_MAX_CONNECTIONS];
  size_t n;
} registry;

typedef struct conn {
  const conn_options *o;
  registry *reg;
  http1_conn io;
} conn;

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void unregister(registry *reg, int fd) {
  pthread_mutex_lock(&reg->lock);
  for (size_t i = 0; i < reg->n; i++)
    if (reg->fds[i] == fd) {
      reg->fds[i] = reg->fds[--reg->n];
      break;
    }
  close(fd);
  pthread_cond_signal(&reg->idle);
  pthread_mutex_unlock(&reg->lock);
}

/* After an error answer: stop sending, then read what the peer is still
 * sending (at most 64 KiB, for at most a second) before the close, so that
 * unread input does not make the close a reset that destroys the answer
 * before the peer reads it (a "lingering close"). */
static void linger(int fd) {
  struct timeval tv = {1, 0};
  char sink[4096];
  shutdown(fd, SHUT_WR);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, 0) > 0; i++) {
  }
}

/* A connection's thread: requests until the peer goes, an error, or a
 * request that asks to close. */
static void *serve_conn(void *arg) {
  conn *c = arg;
  http1_request *r = malloc(sizeof *r);
  for (int status; r && (status = http1_read_request(&c->io, r)) != 0;) {
    if (status != 200) {
      if (http1_respond(c->io.fd, status, NULL, NULL, NULL, 0, false) == 0)
        linger(c->io.fd);
      break;
    }
    if (c->o->answer(c->o->user, c->io.fd, r) != 0)
      break;
  }
  free(r);
  registry *reg = c->reg;
  int fd = c->io.fd;
  free(c); /* before the stop can see the connection gone */
  unregister(reg, fd);
  return NULL;
}

/* Starts the thread of a new connection, or closes it when there are too
 * many or no memory. */
static void start_conn(const conn_options *o, registry *reg, int fd) {
  struct timeval tv = {HTTP1_IDLE_SECONDS, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  conn *c = malloc(sizeof *c);
  pthread_mutex_lock(&reg->lock);
  pthread_attr_t attr;
  pthread_t t;
  bool started = false;
  if (c && reg->n < HTTP1_MAX_CONNECTIONS) {
    *c = (conn){o, reg, {.fd = fd}};
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&t, &attr, serve_conn, c) == 0;
    pthread_attr_destroy(&attr);
  }
  if (started)
    reg->fds[reg->n++] = fd;
  pthread_mutex_unlock(&reg->lock);
  if (!started) {
    free(c);
    close(fd);
  }
}

/* Wakes every connection's thread (their reads fail at once) and waits
 * until all have ended. */
static void stop_all(registry *reg) {
  pthread_mutex_lock(&reg->lock);
  for (size_t i = 0; i < reg->n; i++)
    shutdown(reg->fds[i], SHUT_RDWR);
  while (reg->n > 0)
    pthread_cond_wait(&reg->idle, &reg->lock);
  pthread_mutex_unlock(&reg->lock);
}

int conn_serve(const conn_options *o) {
  int bound, lfd;
  catch_stop_signals(on_signal);
  if ((lfd = listen_loopback(o->port, 128, &bound)) < 0)
    return 1;
  if (o->port_file && cli_write_port_file(o->port_file, bound) != 0) {
    perror(o->port_file);
    close(lfd);
    return 1;
  }
  fprintf(stderr, "%s: listening on 127.0.0.1:%d\n", o->name, bound);
  registry reg = {.n = 0};
  pthread_mutex_init(&reg.lock, NULL);
  pthread_cond_init(&reg.idle, NULL);
  /* The stop flag is looked at every 200 ms, so no wake-up pipe. */
  while (!stopping) {
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0)
      start_conn(o, &reg, fd);
    else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
      poll(NULL, 0, 100); /* out of descriptors: let connections end */
  }
  close(lfd);
  stop_all(&reg);
  pthread_cond_destroy(&reg.idle);
  pthread_mutex_destroy(&reg.lock);
  fprintf(stderr, "%s: stopped\n", o->name);
  return 0;
}
