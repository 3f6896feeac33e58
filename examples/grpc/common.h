/* Small helpers shared by the gRPC examples. */
#ifndef STP_EXAMPLES_GRPC_COMMON_H
#define STP_EXAMPLES_GRPC_COMMON_H

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common/span_log.h"
#include "stp/grpc.h"

static inline const char *sampled_str(stp_sampled s) {
  return s == STP_SAMPLED_YES  ? "true"
         : s == STP_SAMPLED_NO ? "false"
                               : "deferred";
}

/* Where span records go: printed as a line of key=value pairs on `out`,
 * and appended to the span log at `log_path` (when not NULL) with the trace
 * headers of the hop. */
typedef struct example_recorder {
  FILE *out;
  const char *log_path;
  const char *process;
  const span_log_header *headers;
  size_t n_headers;
} example_recorder;

/* A byte as the examples write it into their text output: printable
 * ASCII but the backslash as it is, any other byte as \xNN, so that a
 * value from the wire never starts a line of its own. Writes 1 or 4 bytes
 * to out and returns how many. */
static inline size_t escape_byte(char out[4], unsigned char c) {
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

/* s[0, n) escaped (escape_byte) to f. */
static inline void print_escaped(FILE *f, const char *s, size_t n) {
  char e[4];
  for (size_t i = 0; i < n; i++)
    fwrite(e, 1, escape_byte(e, (unsigned char)s[i]), f);
}

static inline void print_record(void *user, const stp_span_record *r) {
  example_recorder *rec = user;
  char trace[STP_TRACE_ID_HEX_LEN + 1], span[STP_SPAN_ID_HEX_LEN + 1],
      parent[STP_SPAN_ID_HEX_LEN + 1] = "-";
  stp_trace_id_format(&r->span.trace_id, trace);
  stp_span_id_format(&r->span.span_id, span);
  if (r->span.has_parent)
    stp_span_id_format(&r->span.parent_span_id, parent);
  fprintf(rec->out, "span op=%s description=", r->op);
  print_escaped(rec->out, r->description, r->description_len);
  fprintf(rec->out,
          " trace_id=%s span_id=%s parent_span_id=%s sampled=%s status=%d "
          "duration_us=%llu\n",
          trace, span, parent, sampled_str(r->span.sampled),
          r->code >= 0 ? r->code : GRPC_STATUS_UNKNOWN,
          (unsigned long long)((r->end_ns - r->start_ns) / 1000));
  fflush(rec->out);

  span_log_entry e = {.process = rec->process,
                      .op = r->op,
                      .description = r->description,
                      .description_len = r->description_len,
                      .span = &r->span,
                      .status = r->status,
                      .start_ns = r->start_ns,
                      .end_ns = r->end_ns,
                      .headers = rec->headers,
                      .n_headers = rec->n_headers};
  if (span_log_write(rec->log_path, &e) != 0)
    perror(rec->log_path);
}

static inline grpc_byte_buffer *message_new(const char *s, size_t len) {
  grpc_slice slice = grpc_slice_from_copied_buffer(s, len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_slice_unref(slice);
  return bb;
}

/* Writes the message into buf (cut to cap - 1 bytes), NUL-terminated. */
static inline size_t message_read(grpc_byte_buffer *bb, char *buf, size_t cap) {
  grpc_byte_buffer_reader reader;
  size_t n = 0;
  if (!bb || !grpc_byte_buffer_reader_init(&reader, bb)) {
    buf[0] = '\0';
    return 0;
  }
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  n = GRPC_SLICE_LENGTH(all);
  if (n > cap - 1)
    n = cap - 1;
  memcpy(buf, GRPC_SLICE_START_PTR(all), n);
  buf[n] = '\0';
  grpc_slice_unref(all);
  grpc_byte_buffer_reader_destroy(&reader);
  return n;
}

/* Options both examples take; NULL when not given. */
typedef struct example_options {
  const char *dsn;
  const char *release;
  const char *sample_rate;
  const char *environment;
  const char *spans; /* span log path (--spans FILE) */
  int traceparent;
} example_options;

/* Consumes argv[*i] (and its value) when it is one of the shared options.
 * Returns 1 when consumed, 0 when not ours, -1 on a missing value. */
static inline int example_option(example_options *o, int argc, char **argv,
                                 int *i) {
  const char *a = argv[*i];
  const char **slot = strcmp(a, "--dsn") == 0           ? &o->dsn
                      : strcmp(a, "--release") == 0     ? &o->release
                      : strcmp(a, "--sample-rate") == 0 ? &o->sample_rate
                      : strcmp(a, "--environment") == 0 ? &o->environment
                      : strcmp(a, "--spans") == 0       ? &o->spans
                                                        : NULL;
  if (strcmp(a, "--traceparent") == 0) {
    o->traceparent = 1;
    return 1;
  }
  if (!slot)
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *slot = argv[++*i];
  return 1;
}

static inline int example_config(stp_config **cfg, const example_options *o) {
  stp_options opts;
  stp_options_init(&opts);
  opts.dsn = o->dsn;
  opts.release = o->release;
  opts.environment = o->environment;
  opts.propagate_traceparent = o->traceparent != 0;
  if (o->sample_rate) {
    char *end;
    opts.has_sample_rate = true;
    opts.sample_rate = strtod(o->sample_rate, &end);
    if (*o->sample_rate == '\0' || *end)
      return STP_ERR_SAMPLE_RATE;
  }
  return stp_config_new(cfg, &opts, NULL);
}

#endif /* STP_EXAMPLES_GRPC_COMMON_H */
