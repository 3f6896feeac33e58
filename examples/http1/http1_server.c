/* An HTTP/1.1 server built on stp, for browsers and for peers that speak
 * no HTTP/2: it continues the trace of every request and answers
 *
 *   GET /page         an HTML page whose <head> carries stp's meta tags
 *                     (stp_context_meta) for the request's trace: the
 *                     --page FILE with its `<!--stp-meta-->` replaced by
 *                     them, or a small page of its own;
 *   GET /static/PATH  the file PATH under --static DIR (a browser SDK's
 *                     modules, say), as it is;
 *   GET anything else the JSON the HTTP/2 example server answers: the
 *                     continued trace, its DSC, what a call made from here
 *                     would carry (examples/common/trace_json.h);
 *   OPTIONS           the CORS preflight of a browser's cross-origin call
 *                     that carries `sentry-trace` and `baggage`.
 *
 *   http1_server [--port N|0] [--port-file FILE] [--page FILE]
 *                [--static DIR] [--dsn DSN] [--sample-rate X] [--release R]
 *                [--environment E] [--org-id N] [--strict] [--traceparent]
 *                [--third-party]
 *
 * Every answer allows any origin: a test server for pages on other local
 * ports. Listens on 127.0.0.1 (port 0 picks a free port, written to
 * --port-file), one thread per connection, at most HTTP1_MAX_CONNECTIONS
 * at once, each closed after 10 s of silence; SIGTERM or SIGINT closes
 * them, frees everything and exits 0. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connections.h"
#include "examples/common/cli.h"
#include "examples/common/json.h"
#include "examples/common/trace_json.h"
#include "files.h"
#include "message.h"

#define META_MARKER "<!--stp-meta-->"

static const char default_page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n" META_MARKER
    "\n<title>stp</title></head>\n<body><p>This page continues the trace "
    "of its request.</p></body></html>\n";

typedef struct server {
  stp_config *cfg;
  const char *page; /* the template, with META_MARKER once */
  size_t page_len;
  char *page_owned; /* read from --page, or NULL */
  const char *static_dir;
} server;

static const char cors[] = "Access-Control-Allow-Origin: *\r\n"
                           "Cache-Control: no-store\r\n";

static bool slice_is(const http1_slice *s, const char *text) {
  return s->len == strlen(text) && memcmp(s->p, text, s->len) == 0;
}

/* Continues the request's trace into ctx: every field fed to stp, which
 * picks the trace headers out (the others cost it a length check). */
static void continue_request(stp_context *ctx, const stp_config *cfg,
                             const http1_request *r) {
  stp_context_begin(ctx, cfg);
  for (size_t i = 0; i < r->n_fields; i++)
    stp_context_feed(ctx, r->fields[i].name.p, r->fields[i].name.len,
                     r->fields[i].value.p, r->fields[i].value.len);
  stp_context_finish(ctx);
}

/* The page, with the trace's meta tags where the marker was. */
static int answer_page(const server *srv, int fd, const http1_request *r) {
  stp_context ctx;
  continue_request(&ctx, srv->cfg, r);
  const char *at = strstr(srv->page, META_MARKER);
  size_t before = (size_t)(at - srv->page), marker = strlen(META_MARKER);
  size_t after = srv->page_len - before - marker;
  char *body = malloc(srv->page_len + STP_META_MAX_LEN + 1);
  size_t meta_len = 0;
  if (!body || stp_context_meta(&ctx, body + before, STP_META_MAX_LEN + 1,
                                &meta_len) != STP_OK) {
    free(body);
    return http1_respond(fd, 500, cors, NULL, NULL, 0, false);
  }
  memcpy(body, srv->page, before);
  memcpy(body + before + meta_len, at + marker, after);
  int rc = http1_respond(fd, 200, cors, "text/html; charset=utf-8", body,
                         before + meta_len + after, r->keep_alive);
  free(body);
  return rc;
}

/* The JSON of the continued trace. */
static int answer_trace(const server *srv, int fd, const http1_request *r) {
  stp_context ctx;
  continue_request(&ctx, srv->cfg, r);
  json_buf j = {0};
  trace_json_describe(&j, &ctx);
  int rc = j.failed ? http1_respond(fd, 500, cors, NULL, NULL, 0, false)
                    : http1_respond(fd, 200, cors, "application/json", j.buf,
                                    j.len, r->keep_alive);
  free(j.buf);
  return rc;
}

static int answer_file(const server *srv, int fd, const http1_request *r) {
  static const char prefix[] = "/static/";
  file_body f;
  int status = srv->static_dir ? files_read(&f, srv->static_dir,
                                            r->path.p + sizeof prefix - 1,
                                            r->path.len - sizeof prefix + 1)
                               : 404;
  if (status != 200)
    return http1_respond(fd, status, cors, NULL, NULL, 0, r->keep_alive);
  int rc = http1_respond(fd, 200, cors, f.type, f.data, f.len, r->keep_alive);
  free(f.data);
  return rc;
}

/* Answers one request. Returns 0 to read the next one on the connection,
 * -1 to close it. */
static int answer(void *user, int fd, const http1_request *r) {
  const server *srv = user;
  static const char preflight[] =
      "Access-Control-Allow-Origin: *\r\n"
      "Access-Control-Allow-Methods: GET\r\n"
      "Access-Control-Allow-Headers: sentry-trace, baggage, traceparent\r\n"
      "Access-Control-Max-Age: 60\r\n";
  int rc;
  if (slice_is(&r->method, "OPTIONS"))
    rc = http1_respond(fd, 204, preflight, NULL, NULL, 0, r->keep_alive);
  else if (!slice_is(&r->method, "GET")) {
    http1_respond(fd, 405, cors, NULL, NULL, 0, false);
    return -1; /* a body may follow, which is not read */
  } else if (slice_is(&r->path, "/page"))
    rc = answer_page(srv, fd, r);
  else if (r->path.len > 8 && memcmp(r->path.p, "/static/", 8) == 0)
    rc = answer_file(srv, fd, r);
  else
    rc = answer_trace(srv, fd, r);
  return rc == 0 && r->keep_alive ? 0 : -1;
}

/* --page FILE into srv, which must hold the marker. Returns 0 or -1 with
 * the reason printed. */
static int load_page(server *srv, const char *path) {
  file_body f;
  if (files_read_whole(&f, path) != 0) {
    perror(path);
    return -1;
  }
  if (memchr(f.data, '\0', f.len) || !strstr(f.data, META_MARKER)) {
    fprintf(stderr, "http1_server: %s has no %s (or holds a NUL byte)\n", path,
            META_MARKER);
    free(f.data);
    return -1;
  }
  srv->page = srv->page_owned = f.data;
  srv->page_len = f.len;
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: http1_server [--port N|0] [--port-file FILE] [--page FILE]\n"
          "                    [--static DIR] [--dsn DSN] [--sample-rate X] "
          "[--release R]\n"
          "                    [--environment E] [--org-id N] [--strict] "
          "[--traceparent]\n"
          "                    [--third-party]\n");
  return 2;
}

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 8080);
  server srv = {NULL, default_page, sizeof default_page - 1, NULL, NULL};
  const char *page = NULL;
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r < 0)
      return usage();
    if (r == 1)
      continue;
    if (strcmp(argv[i], "--page") == 0 && i + 1 < argc)
      page = argv[++i];
    else if (strcmp(argv[i], "--static") == 0 && i + 1 < argc)
      srv.static_dir = argv[++i];
    else
      return usage();
  }
  if (page && load_page(&srv, page) != 0)
    return 2;
  if (cli_config(&srv.cfg, &o, "http1_server") != STP_OK) {
    free(srv.page_owned);
    return 2;
  }
  conn_options co = {o.port, o.port_file, "http1_server", answer, &srv};
  int rc = conn_serve(&co);
  stp_config_del(srv.cfg);
  free(srv.page_owned);
  return rc;
}
