/* One transaction as a Sentry envelope: the envelope header, then one
 * `transaction` item (its header with the payload's length, the payload,
 * a newline). Field order is fixed, so equal input gives equal bytes. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static void comma(stp__buf *b) {
  stp__buf_put(b, ",", 1);
}

static void str_field(stp__buf *b, const char *key, const char *s, size_t n) {
  stp__json_key(b, key);
  stp__json_str(b, s, n);
}

static void cstr_field(stp__buf *b, const char *key, const char *s) {
  str_field(b, key, s, strlen(s));
}

static void id_fields(stp__buf *b, const stp_span *sp) {
  char trace[STP_TRACE_ID_HEX_LEN + 1], id[STP_SPAN_ID_HEX_LEN + 1];
  stp_trace_id_format(&sp->trace_id, trace);
  cstr_field(b, "trace_id", trace);
  comma(b);
  stp_span_id_format(&sp->span_id, id);
  cstr_field(b, "span_id", id);
  if (sp->has_parent) {
    comma(b);
    stp_span_id_format(&sp->parent_span_id, id);
    cstr_field(b, "parent_span_id", id);
  }
}

/* The protocol's status code, under the name Sentry's span data uses. */
static void data_field(stp__buf *b, const stp__xspan *s) {
  const char *key = strncmp(s->op, "grpc.", 5) == 0 ? "rpc.grpc.status_code"
                    : strncmp(s->op, "http.", 5) == 0
                        ? "http.response.status_code"
                        : NULL;
  if (!key || s->code < 0)
    return;
  char num[16];
  int n = snprintf(num, sizeof num, "%d", s->code);
  comma(b);
  stp__json_key(b, "data");
  stp__buf_put(b, "{", 1);
  stp__json_key(b, key);
  stp__buf_put(b, num, (size_t)n);
  stp__buf_put(b, "}", 1);
}

/* The fields a span and the transaction's trace context share. */
static void span_fields(stp__buf *b, const stp__xspan *s) {
  id_fields(b, &s->span);
  comma(b);
  cstr_field(b, "op", s->op);
  comma(b);
  cstr_field(b, "status", s->status);
  data_field(b, s);
}

static void span(stp__buf *b, const stp__xspan *s) {
  stp__buf_put(b, "{", 1);
  span_fields(b, s);
  comma(b);
  str_field(b, "description", s->description, s->description_len);
  comma(b);
  stp__json_key(b, "start_timestamp");
  stp__json_time(b, s->start_ns);
  comma(b);
  stp__json_key(b, "timestamp");
  stp__json_time(b, s->end_ns);
  stp__buf_put(b, "}", 1);
}

static void sdk(stp__buf *b) {
  stp__json_key(b, "sdk");
  stp__buf_lit(b, "{\"name\":\"stp\",\"version\":\"" STP_VERSION "\"}");
}

static const char *source_of(const stp__xspan *root) {
  if (root->source[0])
    return root->source;
  return strcmp(root->op, "http.server") == 0 ? "url" : "custom";
}

static void payload(const stp_exporter *x, stp__buf *b, const stp__xtx *tx,
                    const char *event_id) {
  const stp__xspan *root = tx->root;
  stp__buf_put(b, "{", 1);
  cstr_field(b, "event_id", event_id);
  stp__buf_lit(b, ",\"type\":\"transaction\",\"platform\":\"c\",");
  if (root->description_len)
    str_field(b, "transaction", root->description, root->description_len);
  else
    cstr_field(b, "transaction", root->op);
  stp__buf_lit(b, ",\"transaction_info\":{");
  cstr_field(b, "source", source_of(root));
  stp__buf_lit(b, "},");
  stp__json_key(b, "start_timestamp");
  stp__json_time(b, root->start_ns);
  comma(b);
  stp__json_key(b, "timestamp");
  stp__json_time(b, root->end_ns);
  comma(b);
  if (x->release) {
    cstr_field(b, "release", x->release);
    comma(b);
  }
  if (x->environment) {
    cstr_field(b, "environment", x->environment);
    comma(b);
  }
  sdk(b);
  stp__buf_lit(b, ",\"contexts\":{\"trace\":{");
  span_fields(b, root);
  stp__buf_lit(b, "}},\"spans\":[");
  for (const stp__xspan *s = tx->spans; s; s = s->next) {
    if (s != tx->spans)
      comma(b);
    span(b, s);
  }
  stp__buf_lit(b, "]}");
}

/* The DSC as a JSON object: keys without `sentry-`, values decoded, in
 * the order received; trace_id and public_key added when missing. */
static void dsc(const stp_exporter *x, stp__buf *b, const stp__xtx *tx) {
  bool has_trace = false, has_key = false, first = true;
  stp_baggage_iter it;
  stp_baggage_member m;
  char value[STP_BAGGAGE_MAX_BYTES + 1];
  stp__buf_put(b, "{", 1);
  stp_baggage_iter_init(&it, tx->dsc, tx->dsc_len);
  while (stp_baggage_iter_next(&it, &m)) {
    size_t n;
    if (m.key_len <= 7 || stp_baggage_decode(value, sizeof value, &n, m.value,
                                             m.value_len) != STP_OK)
      continue;
    if (!first)
      comma(b);
    first = false;
    stp__json_str(b, m.key + 7, m.key_len - 7);
    stp__buf_put(b, ":", 1);
    stp__json_str(b, value, n);
    has_trace |= m.key_len == 15 && memcmp(m.key, "sentry-trace_id", 15) == 0;
    has_key |= m.key_len == 17 && memcmp(m.key, "sentry-public_key", 17) == 0;
  }
  if (!has_trace) {
    char trace[STP_TRACE_ID_HEX_LEN + 1];
    stp_trace_id_format(&tx->root->span.trace_id, trace);
    if (!first)
      comma(b);
    first = false;
    cstr_field(b, "trace_id", trace);
  }
  if (!has_key && x->public_key) {
    comma(b);
    cstr_field(b, "public_key", x->public_key);
  }
  stp__buf_put(b, "}", 1);
}

static void sent_at(stp__buf *b, uint64_t ns) {
  time_t secs = (time_t)(ns / 1000000000u);
  struct tm tm;
  char text[40];
  gmtime_r(&secs, &tm);
  size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  n += (size_t)snprintf(text + n, sizeof text - n, ".%06uZ",
                        (unsigned)(ns % 1000000000u / 1000u));
  str_field(b, "sent_at", text, n);
}

void stp__x_envelope(const stp_exporter *x, stp__buf *b, const stp__xtx *tx,
                     const char event_id[33], uint64_t sent_ns) {
  stp__buf item = {.alloc = b->alloc};
  payload(x, &item, tx, event_id);
  stp__buf_put(b, "{", 1);
  cstr_field(b, "event_id", event_id);
  comma(b);
  sent_at(b, sent_ns);
  comma(b);
  if (x->dsn) {
    cstr_field(b, "dsn", x->dsn);
    comma(b);
  }
  sdk(b);
  comma(b);
  stp__json_key(b, "trace");
  dsc(x, b, tx);
  char head[64];
  int n = snprintf(head, sizeof head,
                   "}\n{\"type\":\"transaction\",\"length\":%zu}\n", item.len);
  stp__buf_put(b, head, (size_t)n);
  stp__buf_put(b, item.p, item.len);
  stp__buf_put(b, "\n", 1);
  b->failed |= item.failed;
  stp__buf_free(&item);
}
