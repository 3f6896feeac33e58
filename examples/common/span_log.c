#define _POSIX_C_SOURCE 200809L

#include "span_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t span_log_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A growing line; `failed` once an allocation failed. */
typedef struct line {
  char *buf;
  size_t len, cap;
  int failed;
} line;

static void put(line *l, const char *s, size_t n) {
  if (l->failed)
    return;
  if (l->len + n > l->cap) {
    size_t cap = l->cap ? l->cap : 512;
    while (cap < l->len + n)
      cap *= 2;
    char *p = realloc(l->buf, cap);
    if (!p) {
      l->failed = 1;
      return;
    }
    l->buf = p;
    l->cap = cap;
  }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void lit(line *l, const char *s) {
  put(l, s, strlen(s));
}

/* A JSON string: quotes, backslashes and every byte outside printable
 * ASCII escaped (bytes >= 0x80 as \u00XX, so the line stays ASCII). */
static void str(line *l, const char *s, size_t n) {
  put(l, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      put(l, esc, 2);
    } else if (c < 0x20 || c >= 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      put(l, esc, 6);
    } else {
      put(l, (const char *)&c, 1);
    }
  }
  put(l, "\"", 1);
}

static void key(line *l, const char *k) {
  str(l, k, strlen(k));
  put(l, ":", 1);
}

int span_log_write(const char *path, const span_log_entry *e) {
  if (!path)
    return 0;
  const stp_span *sp = e->span;
  char trace[STP_TRACE_ID_HEX_LEN + 1], id[STP_SPAN_ID_HEX_LEN + 1];
  char num[32];
  line l = {0};

  lit(&l, "{");
  key(&l, "process");
  str(&l, e->process, strlen(e->process));
  lit(&l, ",");
  key(&l, "op");
  str(&l, e->op, strlen(e->op));
  lit(&l, ",");
  key(&l, "description");
  str(&l, e->description, e->description_len);
  lit(&l, ",");
  stp_trace_id_format(&sp->trace_id, trace);
  key(&l, "trace_id");
  str(&l, trace, STP_TRACE_ID_HEX_LEN);
  lit(&l, ",");
  stp_span_id_format(&sp->span_id, id);
  key(&l, "span_id");
  str(&l, id, STP_SPAN_ID_HEX_LEN);
  lit(&l, ",");
  key(&l, "parent_span_id");
  if (sp->has_parent) {
    stp_span_id_format(&sp->parent_span_id, id);
    str(&l, id, STP_SPAN_ID_HEX_LEN);
  } else {
    lit(&l, "null");
  }
  lit(&l, ",");
  key(&l, "sampled");
  lit(&l, sp->sampled == STP_SAMPLED_YES  ? "true"
          : sp->sampled == STP_SAMPLED_NO ? "false"
                                          : "null");
  lit(&l, ",");
  key(&l, "status");
  str(&l, e->status, strlen(e->status));
  lit(&l, ",");
  key(&l, "start_us");
  snprintf(num, sizeof num, "%llu", (unsigned long long)(e->start_ns / 1000));
  lit(&l, num);
  lit(&l, ",");
  key(&l, "duration_us");
  snprintf(num, sizeof num, "%llu",
           (unsigned long long)(e->end_ns > e->start_ns
                                    ? (e->end_ns - e->start_ns) / 1000
                                    : 0));
  lit(&l, num);
  lit(&l, ",");
  key(&l, "headers");
  lit(&l, "[");
  for (size_t i = 0; i < e->n_headers; i++) {
    const span_log_header *h = &e->headers[i];
    lit(&l, i ? ",[" : "[");
    str(&l, h->name, h->name_len);
    lit(&l, ",");
    str(&l, h->value, h->value_len);
    lit(&l, "]");
  }
  lit(&l, "]}\n");

  int rc = -1;
  if (l.failed) {
    errno = ENOMEM;
  } else {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ssize_t n = write(fd, l.buf, l.len);
      rc = n == (ssize_t)l.len ? 0 : -1;
      if (close(fd) != 0)
        rc = -1;
    }
  }
  free(l.buf);
  return rc;
}
