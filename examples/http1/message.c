#define _POSIX_C_SOURCE 200809L

#include "message.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "stp/stp.h"

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_token(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!is_tchar((unsigned char)p[i]))
      return false;
  return len > 0;
}

/* A control byte other than a tab: never allowed inside a line. */
static bool has_control(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)p[i];
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
      return true;
  }
  return false;
}

static http1_slice trim(const char *p, size_t len) {
  while (len && (p[0] == ' ' || p[0] == '\t'))
    p++, len--;
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  return (http1_slice){p, len};
}

static bool slice_is(const http1_slice *s, const char *text) {
  return stp_header_name_equal(s->p, s->len, text, strlen(text));
}

/* `METHOD SP TARGET SP HTTP/1.x`. Returns 200, 400 or 505. */
static int parse_request_line(http1_request *r, const char *p, size_t len) {
  const char *sp1 = memchr(p, ' ', len);
  const char *sp2 =
      sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p)) : NULL;
  if (!sp2)
    return 400;
  r->method = (http1_slice){p, (size_t)(sp1 - p)};
  r->target = (http1_slice){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
  http1_slice version = {sp2 + 1, len - (size_t)(sp2 + 1 - p)};
  if (!is_token(r->method.p, r->method.len) || r->target.len == 0 ||
      r->target.p[0] != '/' || memchr(r->target.p, '\t', r->target.len))
    return 400;
  if (version.len != 8 || memcmp(version.p, "HTTP/1.", 7) != 0)
    return version.len >= 5 && memcmp(version.p, "HTTP/", 5) == 0 ? 505 : 400;
  if (version.p[7] != '0' && version.p[7] != '1')
    return 505;
  r->keep_alive = version.p[7] == '1';
  const char *q = memchr(r->target.p, '?', r->target.len);
  r->path =
      (http1_slice){r->target.p, q ? (size_t)(q - r->target.p) : r->target.len};
  return 200;
}

/* `name ":" OWS value OWS`. Returns 200, 400 or 431. */
static int parse_field(http1_request *r, const char *p, size_t len) {
  if (p[0] == ' ' || p[0] == '\t')
    return 400; /* obs-fold: a value continued on a second line */
  const char *colon = memchr(p, ':', len);
  if (!colon || !is_token(p, (size_t)(colon - p)))
    return 400;
  if (r->n_fields == HTTP1_HEADERS_MAX)
    return 431;
  http1_field *f = &r->fields[r->n_fields++];
  f->name = (http1_slice){p, (size_t)(colon - p)};
  f->value = trim(colon + 1, len - (size_t)(colon + 1 - p));
  return 200;
}

/* What the fields say about the connection and a body. */
static int check_fields(http1_request *r) {
  const http1_slice *cl = http1_field_get(r, "content-length");
  if (http1_field_get(r, "transfer-encoding") ||
      (cl && !(cl->len == 1 && cl->p[0] == '0')))
    return 413;
  const http1_slice *conn = http1_field_get(r, "connection");
  if (conn && slice_is(conn, "close"))
    r->keep_alive = false;
  return 200;
}

/* Parses the head c->buf[0, end): lines ending in LF (a CR before it is
 * dropped), the empty line included. */
static int parse_head(http1_request *r, const char *buf, size_t end) {
  size_t pos = 0;
  while (pos < end && (buf[pos] == '\r' || buf[pos] == '\n'))
    pos++; /* empty lines before a request (RFC 9112 section 2.2) */
  bool first = true;
  while (pos < end) {
    const char *line = buf + pos;
    const char *lf = memchr(line, '\n', end - pos);
    size_t len = (size_t)(lf - line);
    pos += len + 1;
    if (len && line[len - 1] == '\r')
      len--;
    if (len == 0)
      break;
    if (has_control(line, len))
      return 400;
    int status =
        first ? parse_request_line(r, line, len) : parse_field(r, line, len);
    if (status != 200)
      return status;
    first = false;
  }
  return first ? 400 : check_fields(r);
}

/* The length of the head in buf[0, len) up to its empty line, or 0 when
 * it has not all arrived. */
static size_t head_end(const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != '\n')
      continue;
    if (i + 1 < len && buf[i + 1] == '\n')
      return i + 2;
    if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

int http1_read_request(http1_conn *c, http1_request *r) {
  memmove(c->buf, c->buf + c->head, c->len - c->head);
  c->len -= c->head;
  c->head = 0;
  memset(r, 0, sizeof *r);
  size_t end;
  while ((end = head_end(c->buf, c->len)) == 0) {
    if (c->len == sizeof c->buf)
      return 431;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n <= 0)
      return c->len == 0 ? HTTP1_CLOSED : 400;
    c->len += (size_t)n;
  }
  c->head = end;
  return parse_head(r, c->buf, end);
}

const http1_slice *http1_field_get(const http1_request *r, const char *name) {
  for (size_t i = 0; i < r->n_fields; i++)
    if (slice_is(&r->fields[i].name, name))
      return &r->fields[i].value;
  return NULL;
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Content Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Unknown";
  }
}

static int send_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int http1_respond(int fd, int status, const char *extra, const char *type,
                  const char *body, size_t len, bool keep_alive) {
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\n%s%s%s%sContent-Length: %zu\r\n%s\r\n",
                   status, reason(status), extra ? extra : "",
                   type ? "Content-Type: " : "", type ? type : "",
                   type ? "\r\n" : "", len,
                   keep_alive ? "" : "Connection: close\r\n");
  if (n < 0 || (size_t)n >= sizeof head)
    return -1;
  if (send_all(fd, head, (size_t)n) != 0)
    return -1;
  return len ? send_all(fd, body, len) : 0;
}
