/* The JSON view of `stp continue` and `stp new` (schema: stp continue
 * --help). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "trace.h"

/* Whether member i repeats the key of an earlier DSC member. */
static bool repeats_earlier(const stp_context *ctx, const stp_baggage_member *m,
                            size_t i) {
  for (size_t j = 0; j < i; j++) {
    stp_baggage_member o;
    bool o_sentry = false;
    if (stp_context_member(ctx, &o, &o_sentry, j) == STP_OK && o_sentry &&
        o.key_len == m->key_len && memcmp(o.key, m->key, m->key_len) == 0)
      return true;
  }
  return false;
}

/* The context's baggage members: the DSC as an object (first of repeated
 * keys wins) or the third-party ones as an array. */
static int print_members(json *j, const stp_context *ctx, bool dsc, char *dec,
                         size_t dec_cap) {
  size_t n = stp_context_member_count(ctx);
  json_open(j, dsc ? '{' : '[');
  for (size_t i = 0; i < n; i++) {
    stp_baggage_member m;
    bool is_sentry = false;
    int rc = stp_context_member(ctx, &m, &is_sentry, i);
    if (rc != STP_OK)
      return rc;
    if (is_sentry != dsc)
      continue;
    if (m.value_len + 1 > dec_cap)
      return STP_ERR_BUFFER_TOO_SMALL;
    if (dsc) {
      if (repeats_earlier(ctx, &m, i))
        continue;
      if (is_sentry_key(m.key, m.key_len))
        json_key_str(j, m.key + SENTRY_PREFIX_LEN,
                     m.key_len - SENTRY_PREFIX_LEN);
      else
        json_key_str(j, m.key, m.key_len);
      rc = json_decoded(j, dec, dec_cap, m.value, m.value_len);
    } else {
      json_open(j, '{');
      json_key(j, "key");
      json_str(j, m.key, m.key_len);
      json_key(j, "value");
      rc = json_decoded(j, dec, dec_cap, m.value, m.value_len);
      json_key(j, "properties");
      json_str(j, m.props, m.props_len);
      json_close(j, '}');
    }
    if (rc != STP_OK)
      return rc;
  }
  json_close(j, dsc ? '}' : ']');
  return STP_OK;
}

static void span_id(json *j, const stp_span_id *id) {
  char sid[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(id, sid);
  json_cstr(j, sid);
}

int trace_json(const trace_report *r, bool pretty) {
  char *dec = malloc(STP_BAGGAGE_MAX_BYTES + 1);
  if (dec == NULL)
    return STP_ERR_NOMEM;
  char tid[STP_TRACE_ID_HEX_LEN + 1];
  json j;
  json_init(&j, stdout, pretty);
  json_open(&j, '{');
  json_key(&j, "continued");
  json_bool(&j, r->continued);
  json_key(&j, "status");
  if (r->status == STP_OK)
    json_raw(&j, "null");
  else
    json_cstr(&j, stp_error_name(r->status));
  stp_trace_id_format(&r->span.trace_id, tid);
  json_key(&j, "trace_id");
  json_cstr(&j, tid);
  json_key(&j, "span_id");
  span_id(&j, &r->span.span_id);
  json_key(&j, "parent_span_id");
  if (r->span.has_parent)
    span_id(&j, &r->span.parent_span_id);
  else
    json_raw(&j, "null");
  json_key(&j, "sampled");
  json_sampled(&j, r->span.sampled);
  json_key(&j, "sample_rand");
  json_fraction(&j, r->sample_rand);
  json_key(&j, "frozen");
  json_bool(&j, r->frozen);
  json_key(&j, "dsc");
  int rc = print_members(&j, r->ctx, true, dec, STP_BAGGAGE_MAX_BYTES + 1);
  if (rc == STP_OK) {
    json_key(&j, "third_party");
    rc = print_members(&j, r->ctx, false, dec, STP_BAGGAGE_MAX_BYTES + 1);
  }
  free(dec);
  if (rc != STP_OK) {
    putchar('\n');
    return rc;
  }
  json_key(&j, "skipped");
  json_size(&j, stp_context_baggage_skipped(r->ctx));
  json_key(&j, "dropped");
  json_size(&j, stp_context_baggage_dropped(r->ctx));
  json_key(&j, "sentry-trace");
  json_str(&j, r->trace, r->trace_len);
  json_key(&j, "baggage");
  if (r->baggage_len > 0)
    json_str(&j, r->baggage, r->baggage_len);
  else
    json_raw(&j, "null");
  if (r->args->opts.propagate_traceparent) {
    json_key(&j, "traceparent");
    json_str(&j, r->traceparent, r->traceparent_len);
  }
  if (r->args->meta) {
    json_key(&j, "meta");
    json_str(&j, r->meta, r->meta_len);
  }
  if (r->args->url != NULL) {
    json_key(&j, "propagate");
    json_bool(&j, r->propagate);
  }
  json_close(&j, '}');
  json_end(&j);
  return STP_OK;
}
