/* A minimal HTTP/1.1 client that carries the trace: one GET, with
 * `sentry-trace` and `baggage` written by stp_context_inject into the
 * request's header list through a carrier of its own.
 *
 *   http1_client [-H 'name: value']... [--env] [--dsn DSN] [--sample-rate X]
 *                [--release R] [--environment E] [--org-id N] [--strict]
 *                [--traceparent] [--third-party] [--target REGEX]...
 *                [--spans FILE] http://HOST[:PORT][/PATH]
 *
 * The trace comes from SENTRY_TRACE / SENTRY_BAGGAGE with --env, else from
 * -H 'sentry-trace: ...' / -H 'baggage: ...', else a new trace starts here.
 * With --target the trace is sent only when one of the patterns is found
 * in the URL (trace_propagation_targets). Prints the request headers sent
 * (`> `), the status line and response headers (`< `), a blank line and
 * the body. With --spans, an `http.client` span record is appended to the
 * span log. Exits 0 when a response arrived. Gives up after 10 seconds of
 * silence. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "examples/common/cli.h"
#include "examples/common/span_log.h"
#include "examples/common/url.h"
#include "stp/stp.h"

#define MAX_HEADERS 32
#define MAX_TARGETS 8
#define TIMEOUT_SECONDS 10

/* The request's header list: names and values owned. */
typedef struct header_list {
  struct {
    char *name, *value;
  } h[MAX_HEADERS + 3];
  size_t n;
} header_list;

static char *copy(const char *s, size_t len) {
  char *p = malloc(len + 1);
  if (p) {
    memcpy(p, s, len);
    p[len] = '\0';
  }
  return p;
}

static int list_add(header_list *l, const char *name, size_t name_len,
                    const char *value, size_t value_len) {
  if (l->n == sizeof l->h / sizeof l->h[0])
    return STP_ERR_LIMIT;
  char *n = copy(name, name_len), *v = copy(value, value_len);
  if (!n || !v) {
    free(n);
    free(v);
    return STP_ERR_NOMEM;
  }
  l->h[l->n].name = n;
  l->h[l->n++].value = v;
  return STP_OK;
}

/* The carrier: foreach for the baggage the request already has, set to
 * write the trace headers (replacing, never adding a second one). */
static int list_foreach(void *user, stp_header_fn fn, void *arg) {
  header_list *l = user;
  for (size_t i = 0; i < l->n; i++) {
    int rc = fn(arg, l->h[i].name, strlen(l->h[i].name), l->h[i].value,
                strlen(l->h[i].value));
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int list_set(void *user, const char *name, size_t name_len,
                    const char *value, size_t value_len) {
  header_list *l = user;
  size_t kept = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (stp_header_name_equal(l->h[i].name, strlen(l->h[i].name), name,
                              name_len)) {
      free(l->h[i].name);
      free(l->h[i].value);
    } else {
      l->h[kept++] = l->h[i];
    }
  }
  l->n = kept;
  return value ? list_add(l, name, name_len, value, value_len) : STP_OK;
}

static void list_free(header_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->h[i].name);
    free(l->h[i].value);
  }
  l->n = 0;
}

/* Sends the request; prints it with `> `. Returns 0 or -1. */
static int send_request(int fd, const char *authority, const char *path,
                        const header_list *l) {
  size_t cap = 256 + strlen(authority) + strlen(path), len = 0;
  for (size_t i = 0; i < l->n; i++)
    cap += strlen(l->h[i].name) + strlen(l->h[i].value) + 4;
  char *req = malloc(cap);
  if (!req)
    return -1;
  len += (size_t)snprintf(req + len, cap - len,
                          "GET %s HTTP/1.1\r\nHost: %s\r\n"
                          "Connection: close\r\n",
                          path, authority);
  for (size_t i = 0; i < l->n; i++) {
    printf("> %s: %s\n", l->h[i].name, l->h[i].value);
    len += (size_t)snprintf(req + len, cap - len, "%s: %s\r\n", l->h[i].name,
                            l->h[i].value);
  }
  len += (size_t)snprintf(req + len, cap - len, "\r\n");
  fflush(stdout);
  int rc = 0;
  for (size_t off = 0; off < len && rc == 0;) {
    ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
    rc = n > 0 ? 0 : -1;
    off += n > 0 ? (size_t)n : 0;
  }
  free(req);
  return rc;
}

/* Reads the response to its end (the server closes: Connection: close)
 * and prints it, the head with `< ` before each line. Returns the status
 * code, or 0 when no status line came. */
static int print_response(int fd) {
  char buf[16384];
  int status = 0, in_head = 1, at_line_start = 1;
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      char ch = buf[i];
      if (in_head && ch == '\r')
        continue;
      if (in_head && at_line_start) {
        if (ch == '\n') {
          in_head = 0; /* the empty line */
          putchar('\n');
          continue;
        }
        fputs("< ", stdout);
      }
      putchar(ch);
      at_line_start = ch == '\n';
    }
    if (status == 0 && n >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
      status = atoi(buf + 9);
  }
  if (n < 0)
    perror("recv"); /* a timeout reads "Resource temporarily unavailable" */
  return status;
}

static void log_span(const char *log, const char *url, const header_list *l,
                     const stp_context *ctx, int status, uint64_t start_ns) {
  if (!log)
    return;
  span_log_header sent[3];
  size_t n_sent = 0;
  for (size_t i = 0; i < l->n && n_sent < 3; i++) {
    const char *name =
        span_log_trace_header(l->h[i].name, strlen(l->h[i].name));
    if (name)
      sent[n_sent++] = (span_log_header){name, strlen(name), l->h[i].value,
                                         strlen(l->h[i].value)};
  }
  span_log_client_get(log, "http1_client", url, stp_context_span(ctx), status,
                      start_ns, sent, n_sent);
}

/* Whether s holds a byte that must not reach a request line or header: a
 * control byte (tab aside) or, with no_space, a space or tab too. */
static bool unsafe(const char *s, bool no_space) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f ||
        (no_space && (ch == ' ' || ch == '\t')))
      return true;
  }
  return false;
}

static int usage(void) {
  fprintf(stderr, "usage: http1_client [-H 'name: value']... [--env] "
                  "[--dsn DSN] [--sample-rate X]\n"
                  "                    [--release R] [--environment E] "
                  "[--org-id N] [--strict]\n"
                  "                    [--traceparent] [--third-party] "
                  "[--target REGEX]...\n"
                  "                    [--spans FILE] "
                  "http://HOST[:PORT][/PATH]\n");
  return 2;
}

/* The trace: continued from the environment or the -H headers, or new. */
static void start_trace(stp_context *ctx, const stp_config *cfg, int from_env,
                        const header_list *l) {
  int err;
  if (from_env) {
    err = stp_context_continue_env(ctx, cfg);
  } else {
    stp_carrier in = {list_foreach, NULL, (void *)l};
    err = stp_context_continue(ctx, cfg, &in);
  }
  if (err != STP_OK && err != STP_ERR_ABSENT)
    fprintf(stderr, "not continued (%s): new trace\n", stp_strerror(err));
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 0, 0);
  int from_env = 0;
  const char *url = NULL, *targets[MAX_TARGETS];
  header_list l = {.n = 0};
  uint64_t start_ns = span_log_now_ns();
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    size_t name_len;
    const char *value;
    if (r == 1)
      continue;
    if (r < 0)
      goto bad_usage;
    if (strcmp(argv[i], "-H") == 0 && i + 1 < argc) {
      if (unsafe(argv[++i], false) ||
          cli_header(argv[i], &name_len, &value) != 0 ||
          memchr(argv[i], ' ', name_len) || memchr(argv[i], '\t', name_len) ||
          list_add(&l, argv[i], name_len, value, strlen(value)) != STP_OK)
        goto bad_usage;
    } else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc &&
               o.stp.targets_len < MAX_TARGETS) {
      targets[o.stp.targets_len++] = argv[++i];
      o.stp.targets = targets;
    } else if (strcmp(argv[i], "--env") == 0) {
      from_env = 1;
    } else if (argv[i][0] != '-' && !url) {
      url = argv[i];
    } else {
      goto bad_usage;
    }
  }
  char url_buf[512];
  const char *host, *port, *authority, *path;
  if (!url || unsafe(url, true) ||
      url_parse(url, url_buf, sizeof url_buf, &host, &port, &authority,
                &path) != 0)
    goto bad_usage;
  stp_config *cfg;
  if (cli_config(&cfg, &o, "http1_client") != STP_OK) {
    list_free(&l);
    return 2;
  }

  stp_context ctx;
  start_trace(&ctx, cfg, from_env, &l);
  bool send_trace = false;
  stp_config_should_propagate(cfg, &send_trace, url, strlen(url));
  stp_carrier out = {list_foreach, list_set, &l};
  int err = send_trace ? stp_context_inject(&ctx, &out, NULL) : STP_OK;
  if (err != STP_OK)
    fprintf(stderr, "inject: %s\n", stp_strerror(err));

  int status = 0;
  int fd = url_connect(host, port, TIMEOUT_SECONDS);
  if (fd >= 0 && send_request(fd, authority, path, &l) == 0)
    status = print_response(fd);
  if (fd >= 0)
    close(fd);
  log_span(o.spans, url, &l, &ctx, status, start_ns);
  list_free(&l);
  stp_config_del(cfg);
  return status ? 0 : 1;

bad_usage:
  list_free(&l);
  return usage();
}
