#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <grpc/byte_buffer_reader.h>
#include <stdarg.h>
#include <string.h>

const char *sampled_str(stp_sampled s) {
  return s == STP_SAMPLED_YES  ? "true"
         : s == STP_SAMPLED_NO ? "false"
                               : "deferred";
}

void print_span(FILE *f, const char *what, const stp_span *span) {
  span_log_ids ids;
  span_log_ids_format(&ids, span);
  fprintf(f, "%s trace_id=%s span_id=%s parent_span_id=%s sampled=%s", what,
          ids.trace, ids.span, span->has_parent ? ids.parent : "-",
          sampled_str(span->sampled));
}

/* A byte as the examples write it: printable ASCII but the backslash as
 * it is, any other byte as \xNN. Writes 1 or 4 bytes; returns how many. */
static size_t escape_byte(char out[4], unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  if (c >= 0x20 && c < 0x7f && c != '\\') {
    out[0] = (char)c;
    return 1;
  }
  out[0] = '\\';
  out[1] = 'x';
  out[2] = hex[c >> 4];
  out[3] = hex[c & 15];
  return 4;
}

void print_escaped(FILE *f, const char *s, size_t n) {
  char e[4];
  for (size_t i = 0; i < n; i++)
    fwrite(e, 1, escape_byte(e, (unsigned char)s[i]), f);
}

size_t append(char *buf, size_t len, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = len < cap ? vsnprintf(buf + len, cap - len, fmt, ap) : 0;
  va_end(ap);
  len += n < 0 ? 0 : (size_t)n;
  return len < cap ? len : cap - 1;
}

size_t append_escaped(char *buf, size_t len, size_t cap, const char *s,
                      size_t n) {
  for (size_t i = 0; i < n && len + 4 < cap; i++)
    len += escape_byte(buf + len, (unsigned char)s[i]);
  buf[len] = '\0';
  return len;
}

/* Per thread: a server serves several calls at once. */
static _Thread_local const span_log_header *hop_headers;
static _Thread_local size_t hop_n_headers;

void print_record_headers(const span_log_header *headers, size_t n) {
  hop_headers = headers;
  hop_n_headers = n;
}

void print_record(void *user, const stp_span_record *r) {
  example_recorder *rec = user;
  flockfile(rec->out); /* one line, whole */
  fprintf(rec->out, "span op=%s description=", r->op);
  print_escaped(rec->out, r->description, r->description_len);
  print_span(rec->out, "", &r->span);
  fprintf(rec->out, " status=%d duration_us=%llu\n",
          r->code >= 0 ? r->code : GRPC_STATUS_UNKNOWN,
          (unsigned long long)((r->end_ns - r->start_ns) / 1000));
  fflush(rec->out);
  funlockfile(rec->out);

  span_log_entry e = {.process = rec->process,
                      .op = r->op,
                      .description = r->description,
                      .description_len = r->description_len,
                      .span = &r->span,
                      .status = r->status,
                      .start_ns = r->start_ns,
                      .end_ns = r->end_ns,
                      .headers = hop_headers,
                      .n_headers = hop_n_headers};
  if (span_log_write(rec->log_path, &e) != 0)
    perror(rec->log_path);
  stp_config_emit(rec->cfg, r);
}

grpc_byte_buffer *message_new(const char *s, size_t len) {
  grpc_slice slice = grpc_slice_from_copied_buffer(s, len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_slice_unref(slice);
  return bb;
}

size_t message_read(grpc_byte_buffer *bb, char *buf, size_t cap) {
  grpc_byte_buffer_reader reader;
  if (!bb || !grpc_byte_buffer_reader_init(&reader, bb)) {
    buf[0] = '\0';
    return 0;
  }
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  size_t n = GRPC_SLICE_LENGTH(all);
  if (n > cap - 1)
    n = cap - 1;
  memcpy(buf, GRPC_SLICE_START_PTR(all), n);
  buf[n] = '\0';
  grpc_slice_unref(all);
  grpc_byte_buffer_reader_destroy(&reader);
  return n;
}
