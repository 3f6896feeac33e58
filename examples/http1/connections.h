/* The sockets of the example HTTP/1.1 server: a listening socket on
 * 127.0.0.1, one thread per connection reading requests one after the
 * other (keep-alive), and a clean stop on SIGTERM or SIGINT. */
#ifndef STP_EXAMPLES_HTTP1_CONNECTIONS_H
#define STP_EXAMPLES_HTTP1_CONNECTIONS_H

#include "message.h"

#define HTTP1_MAX_CONNECTIONS 64 /* at once; more are closed at accept */
#define HTTP1_IDLE_SECONDS 10    /* silence before a connection is closed */

/* Answers one request on fd (with http1_respond). Returns 0 to read the
 * next request of the connection, -1 to close it. Called on the
 * connection's thread, so concurrently for different connections. */
typedef int (*conn_answer_fn)(void *user, int fd, const http1_request *r);

typedef struct conn_options {
  int port;              /* 0 picks a free one */
  const char *port_file; /* receives the port once listening, or NULL */
  const char *name;      /* for the log lines on stderr */
  conn_answer_fn answer;
  void *user;
} conn_options;

/* Serves until SIGTERM or SIGINT. Returns 0 then (every connection closed
 * and its thread finished, everything freed), or 1 when it could not
 * start. A malformed request is answered with its error status (see
 * http1_read_request) and its connection closed. */
int conn_serve(const conn_options *o);

#endif /* STP_EXAMPLES_HTTP1_CONNECTIONS_H */
