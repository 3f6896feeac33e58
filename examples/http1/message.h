/* HTTP/1.1 messages for the example server and client: a request head read
 * from a socket and checked line by line, and a response written back.
 *
 * Only what the examples need: requests without a body, heads of at most
 * HTTP1_HEAD_MAX bytes and HTTP1_HEADERS_MAX fields. Anything else gets a
 * status code to answer with, never a guess: obs-fold lines, control bytes
 * in a field (a CR or LF that is not a line end, NUL, DEL), names that are
 * not tokens, a body. So no byte of a request can end up in a header the
 * server writes. */
#ifndef STP_EXAMPLES_HTTP1_MESSAGE_H
#define STP_EXAMPLES_HTTP1_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP1_HEAD_MAX 16384  /* request line and header fields */
#define HTTP1_HEADERS_MAX 100 /* header fields */

/* A slice of the connection's buffer. */
typedef struct http1_slice {
  const char *p;
  size_t len;
} http1_slice;

typedef struct http1_field {
  http1_slice name, value; /* value without the spaces around it */
} http1_field;

typedef struct http1_request {
  http1_slice method, target; /* target: path and query, as sent */
  http1_slice path;           /* target up to a `?` */
  bool keep_alive;            /* HTTP/1.1 without `Connection: close` */
  http1_field fields[HTTP1_HEADERS_MAX];
  size_t n_fields;
} http1_request;

/* One connection's input: a request head, and the bytes after it (the next
 * pipelined request). */
typedef struct http1_conn {
  int fd;
  char buf[HTTP1_HEAD_MAX];
  size_t len;  /* bytes in buf */
  size_t head; /* bytes of the request last read, dropped by the next read */
} http1_conn;

#define HTTP1_CLOSED 0 /* http1_read_request: no request, the peer went */

/* Reads the next request head from c->fd (blocking; the socket's own
 * timeout bounds the wait) into *r, whose slices point into c->buf and
 * stay valid until the next call. Returns 200 for a request to answer,
 * HTTP1_CLOSED when the peer closed or went silent before a request
 * began, or the error status to answer with before closing: 400 (a
 * malformed or cut head), 413 (a body), 431 (too long, too many fields),
 * 505 (not HTTP/1.x). */
int http1_read_request(http1_conn *c, http1_request *r);

/* The value of the first field called name (any case), or NULL. */
const http1_slice *http1_field_get(const http1_request *r, const char *name);

/* Writes a response: the status line, `extra` (whole `Name: value\r\n`
 * lines, or NULL), Content-Type when type is not NULL, Content-Length,
 * Connection: close unless keep_alive, then body[0, len). Returns 0, or -1
 * when the peer is gone. */
int http1_respond(int fd, int status, const char *extra, const char *type,
                  const char *body, size_t len, bool keep_alive);

#endif /* STP_EXAMPLES_HTTP1_MESSAGE_H */
