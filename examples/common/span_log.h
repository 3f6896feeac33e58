/* Span records of the examples, one JSON object per line, appended to a
 * file that every process of a demo run shares:
 *
 *   {"process":"grpc_server","op":"grpc.server",
 *    "description":"/demo.Shop/Checkout","trace_id":"<32 hex>",
 *    "span_id":"<16 hex>","parent_span_id":"<16 hex>"|null,
 *    "sampled":true|false|null,"status":"ok","start_us":<Unix time, us>,
 *    "duration_us":<us>,"headers":[["sentry-trace","..."],...]}
 *
 * "headers" are the trace headers of the hop as the span saw them: what a
 * server received, what a client sent, the environment handed to a child
 * process. Strings are JSON-escaped, so hostile header values cannot break
 * a line. Each record is written with one write(2) on an O_APPEND file
 * descriptor, so records of concurrent processes do not interleave. */
#ifndef STP_EXAMPLES_SPAN_LOG_H
#define STP_EXAMPLES_SPAN_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "examples/common/json.h"
#include "stp/stp.h"

typedef struct span_log_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} span_log_header;

typedef struct span_log_entry {
  const char *process;     /* the program, e.g. "h2_client" */
  const char *op;          /* e.g. "http.client" */
  const char *description; /* not NUL-terminated */
  size_t description_len;
  const stp_span *span; /* ids and sampling decision */
  const char *status;   /* Sentry's span status, e.g. "ok" */
  uint64_t start_ns;    /* Unix time */
  uint64_t end_ns;
  const span_log_header *headers;
  size_t n_headers;
} span_log_entry;

/* Unix time in nanoseconds. */
uint64_t span_log_now_ns(void);

/* The ids of a span as hex text, NUL-terminated; `parent` is empty when
 * the span has none. */
typedef struct span_log_ids {
  char trace[STP_TRACE_ID_HEX_LEN + 1];
  char span[STP_SPAN_ID_HEX_LEN + 1];
  char parent[STP_SPAN_ID_HEX_LEN + 1];
} span_log_ids;

void span_log_ids_format(span_log_ids *out, const stp_span *span);

/* Appends the span's fields, as the span log and the HTTP/2 example's
 * answer show them, each followed by a comma: `"trace_id":"<32 hex>",
 * "span_id":"<16 hex>","parent_span_id":"<16 hex>"|null,
 * "sampled":true|false|null,`. */
void span_log_json_span(json_buf *j, const stp_span *span);

/* When name[0, len) is a trace header a record shows (`sentry-trace`,
 * `baggage` or `traceparent`, lowercase as HTTP/2 and gRPC carry them):
 * that name as a static string. Otherwise NULL. */
const char *span_log_trace_header(const char *name, size_t len);

/* The trace headers of one hop, copied for a record written later (a
 * server keeps those of each request until its stream closes): at most
 * SPAN_LOG_KEPT_HEADERS of them, and SPAN_LOG_KEPT_BYTES of their values
 * in all (the longest `baggage` the W3C limits allow), so that what a
 * request holds does not grow with what a peer sends; a value past that
 * is cut. Starts zeroed. */
#define SPAN_LOG_KEPT_HEADERS 3
#define SPAN_LOG_KEPT_BYTES 8192

typedef struct span_log_kept {
  span_log_header headers[SPAN_LOG_KEPT_HEADERS]; /* values owned */
  size_t n_headers;
  size_t bytes; /* of values, at most SPAN_LOG_KEPT_BYTES */
} span_log_kept;

/* Copies the header into k when name[0, name_len) is a trace header (see
 * span_log_trace_header) and k has room left, cut to what is left of
 * SPAN_LOG_KEPT_BYTES. Returns 1 when kept, 0 when not (not a trace
 * header, no room, no memory). */
int span_log_keep(span_log_kept *k, const char *name, size_t name_len,
                  const char *value, size_t value_len);

/* Frees the values k holds and empties it. */
void span_log_kept_free(span_log_kept *k);

/* Appends the record to the file at path (created when missing). A NULL
 * path does nothing. Returns 0, or -1 with errno set. */
int span_log_write(const char *path, const span_log_entry *e);

/* Appends the `http.client` record of a GET a client made: `GET url`, the
 * :status it got (0: none, "unavailable"), the trace headers it sent. A
 * failure to write is reported on stderr; a NULL path does nothing. */
void span_log_client_get(const char *path, const char *process, const char *url,
                         const stp_span *span, int status, uint64_t start_ns,
                         const span_log_header *sent, size_t n_sent);

#endif /* STP_EXAMPLES_SPAN_LOG_H */
