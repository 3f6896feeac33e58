/* What the two gRPC examples share: their text output (escaped, one line
 * per record), the span records of the interceptors, and raw messages. */
#ifndef STP_EXAMPLES_GRPC_COMMON_H
#define STP_EXAMPLES_GRPC_COMMON_H

#include <grpc/byte_buffer.h>
#include <stdio.h>

#include "examples/common/span_log.h"
#include "stp/grpc.h"

/* "true", "false" or "deferred". */
const char *sampled_str(stp_sampled s);

/* The span line the examples print: `WHAT trace_id=... span_id=...
 * parent_span_id=...|- sampled=...`, without its newline. */
void print_span(FILE *f, const char *what, const stp_span *span);

/* s[0, n) to f with every byte outside printable ASCII, and the
 * backslash, as \xNN: a value from the wire never starts a line of its
 * own. */
void print_escaped(FILE *f, const char *s, size_t n);

/* Appends printf-style text to buf (len bytes used of cap, cap > 0),
 * cut to fit; returns the new length. buf stays NUL-terminated. */
size_t append(char *buf, size_t len, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends s[0, n) escaped as print_escaped does, as far as it fits. */
size_t append_escaped(char *buf, size_t len, size_t cap, const char *s,
                      size_t n);

/* Where the interceptors' span records go (stp_grpc_sentry.on_record =
 * print_record, .record_user = the recorder): a line on `out`, the span
 * log at `log_path` (when not NULL) with the trace headers of the hop,
 * which the program sets with print_record_headers before the span ends,
 * and the record sink of `cfg` (an exporter, say). Records of calls on
 * several threads at once do not mix. */
typedef struct example_recorder {
  FILE *out;
  const char *log_path;
  const char *process;
  const stp_config *cfg;
} example_recorder;

void print_record(void *user, const stp_span_record *r);

/* The trace headers for the records this thread prints next (a call's
 * record comes on the thread that unrefs it), or NULL, 0 for none. They
 * must stay valid until then. */
void print_record_headers(const span_log_header *headers, size_t n);

/* A message holding a copy of s[0, len). */
grpc_byte_buffer *message_new(const char *s, size_t len);

/* The message into buf, NUL-terminated, cut to cap - 1 bytes (empty for
 * NULL). Returns its length. */
size_t message_read(grpc_byte_buffer *bb, char *buf, size_t cap);

#endif /* STP_EXAMPLES_GRPC_COMMON_H */
