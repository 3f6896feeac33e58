#define _POSIX_C_SOURCE 200809L

#include "span_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

uint64_t span_log_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void span_log_ids_format(span_log_ids *out, const stp_span *span) {
  stp_trace_id_format(&span->trace_id, out->trace);
  stp_span_id_format(&span->span_id, out->span);
  out->parent[0] = '\0';
  if (span->has_parent)
    stp_span_id_format(&span->parent_span_id, out->parent);
}

const char *span_log_trace_header(const char *name, size_t len) {
  static const char *const names[] = {"sentry-trace", "baggage", "traceparent"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (len == strlen(names[i]) && memcmp(name, names[i], len) == 0)
      return names[i];
  return NULL;
}

int span_log_keep(span_log_kept *k, const char *name, size_t name_len,
                  const char *value, size_t value_len) {
  const char *kept = span_log_trace_header(name, name_len);
  size_t room = SPAN_LOG_KEPT_BYTES - k->bytes;
  if (!kept || k->n_headers == SPAN_LOG_KEPT_HEADERS)
    return 0;
  size_t n = value_len < room ? value_len : room;
  char *v = malloc(n ? n : 1);
  if (!v)
    return 0;
  memcpy(v, value, n);
  k->headers[k->n_headers++] = (span_log_header){kept, name_len, v, n};
  k->bytes += n;
  return 1;
}

void span_log_kept_free(span_log_kept *k) {
  for (size_t i = 0; i < k->n_headers; i++)
    free((char *)k->headers[i].value);
  k->n_headers = 0;
  k->bytes = 0;
}

/* `"key":"value",` with a NUL-terminated value. */
static void field(json_buf *j, const char *key, const char *value) {
  json_key(j, key);
  json_str(j, value, strlen(value));
  json_lit(j, ",");
}

/* `"key":N,` */
static void number(json_buf *j, const char *key, uint64_t n) {
  char num[32];
  snprintf(num, sizeof num, "%llu,", (unsigned long long)n);
  json_key(j, key);
  json_lit(j, num);
}

void span_log_json_span(json_buf *j, const stp_span *span) {
  span_log_ids ids;
  span_log_ids_format(&ids, span);
  field(j, "trace_id", ids.trace);
  field(j, "span_id", ids.span);
  json_key(j, "parent_span_id");
  if (span->has_parent)
    json_str(j, ids.parent, STP_SPAN_ID_HEX_LEN);
  else
    json_lit(j, "null");
  json_lit(j, ",");
  json_key(j, "sampled");
  json_lit(j, span->sampled == STP_SAMPLED_YES  ? "true,"
              : span->sampled == STP_SAMPLED_NO ? "false,"
                                                : "null,");
}

static void record(json_buf *j, const span_log_entry *e) {
  json_lit(j, "{");
  field(j, "process", e->process);
  field(j, "op", e->op);
  json_key(j, "description");
  json_str(j, e->description, e->description_len);
  json_lit(j, ",");
  span_log_json_span(j, e->span);
  field(j, "status", e->status);
  number(j, "start_us", e->start_ns / 1000);
  number(j, "duration_us",
         e->end_ns > e->start_ns ? (e->end_ns - e->start_ns) / 1000 : 0);
  json_key(j, "headers");
  json_lit(j, "[");
  for (size_t i = 0; i < e->n_headers; i++) {
    const span_log_header *h = &e->headers[i];
    json_lit(j, i ? ",[" : "[");
    json_str(j, h->name, h->name_len);
    json_lit(j, ",");
    json_str(j, h->value, h->value_len);
    json_lit(j, "]");
  }
  json_lit(j, "]}\n");
}

int span_log_write(const char *path, const span_log_entry *e) {
  if (!path)
    return 0;
  json_buf j = {0};
  record(&j, e);
  int rc = -1;
  if (j.failed) {
    errno = ENOMEM;
  } else {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ssize_t n = write(fd, j.buf, j.len);
      rc = n == (ssize_t)j.len ? 0 : -1;
      if (close(fd) != 0)
        rc = -1;
    }
  }
  free(j.buf);
  return rc;
}

void span_log_client_get(const char *path, const char *process, const char *url,
                         const stp_span *span, int status, uint64_t start_ns,
                         const span_log_header *sent, size_t n_sent) {
  if (!path)
    return;
  char description[600];
  if (snprintf(description, sizeof description, "GET %s", url) < 0)
    description[0] = '\0';
  span_log_entry e = {.process = process,
                      .op = "http.client",
                      .description = description,
                      .description_len = strlen(description),
                      .span = span,
                      .status =
                          status ? stp_span_status_http(status) : "unavailable",
                      .start_ns = start_ns,
                      .end_ns = span_log_now_ns(),
                      .headers = sent,
                      .n_headers = n_sent};
  if (span_log_write(path, &e) != 0)
    perror(path);
}
