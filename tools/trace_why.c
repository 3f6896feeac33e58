/* Why a trace was continued or not, sampled or not, and what became of
 * each incoming baggage member. */
#include "trace_why.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define NAME(s) s, sizeof s - 1

void incoming_init(incoming *in, const trace_report *r) {
  const trace_args *a = r->args;
  in->h = a->headers;
  in->n = a->n_headers;
  if (!a->env)
    return;
  static const char *const vars[2] = {"SENTRY_TRACE", "SENTRY_BAGGAGE"};
  static const char *const names[2] = {"sentry-trace", "baggage"};
  in->n = 0;
  for (int i = 0; i < 2; i++) {
    const char *v = getenv(vars[i]);
    if (v != NULL)
      in->env[in->n++] = (header){names[i], strlen(names[i]), v, strlen(v)};
  }
  in->h = in->env;
}

static bool named(const header *h, const char *name, size_t len) {
  return stp_header_name_equal(h->name, h->name_len, name, len);
}

/* The first header of this name, or NULL. */
static const header *first_named(const incoming *in, const char *name,
                                 size_t len) {
  for (size_t i = 0; i < in->n; i++)
    if (named(&in->h[i], name, len))
      return &in->h[i];
  return NULL;
}

/* The trace header the context continued from: the first valid one of
 * the first 16 sentry-trace values, else the first traceparent when it
 * is accepted. Its name, or NULL. */
static const char *continued_from(const trace_report *r, const incoming *in,
                                  stp_trace_header *out) {
  size_t seen = 0;
  for (size_t i = 0; i < in->n && seen < 16; i++) {
    const header *h = &in->h[i];
    if (!named(h, NAME("sentry-trace")))
      continue;
    seen++;
    if (stp_sentry_trace_parse(out, h->value, h->value_len) == STP_OK)
      return "sentry-trace";
  }
  const header *tp = first_named(in, NAME("traceparent"));
  if (tp && stp_config_accept_traceparent(r->cfg) &&
      stp_traceparent_parse(out, tp->value, tp->value_len) == STP_OK)
    return "traceparent";
  return NULL;
}

/* The first valid incoming baggage member with this key, decoded into buf
 * (cap bytes; cut when longer). False when there is none. */
static bool incoming_dsc(const incoming *in, const char *key, size_t key_len,
                         char *buf, size_t cap) {
  for (size_t i = 0; i < in->n; i++) {
    if (!named(&in->h[i], NAME("baggage")))
      continue;
    stp_baggage_iter it;
    stp_baggage_member m;
    stp_baggage_iter_init(&it, in->h[i].value, in->h[i].value_len);
    while (stp_baggage_iter_next(&it, &m)) {
      if (m.key_len != key_len || memcmp(m.key, key, key_len) != 0)
        continue;
      size_t n = 0;
      if (stp_baggage_decode(buf, cap, &n, m.value, m.value_len) != STP_OK)
        buf[0] = '\0';
      return true;
    }
  }
  return false;
}

static void org_mismatch(char *buf, size_t cap, const trace_report *r,
                         const incoming *in) {
  const char *ours = stp_config_org_id(r->cfg);
  char theirs[64];
  bool has = incoming_dsc(in, NAME("sentry-org_id"), theirs, sizeof theirs);
  if (has && ours)
    snprintf(buf, cap,
             "org_mismatch: the incoming org id is '%s', ours is '%s' "
             "(--org-id or the DSN)",
             theirs, ours);
  else if (ours)
    snprintf(buf, cap,
             "org_mismatch: the incoming baggage has no org id, ours is "
             "'%s', and --strict refuses a trace from no known org",
             ours);
  else
    snprintf(buf, cap,
             "org_mismatch: the incoming org id is '%s', we have none "
             "(--org-id or --dsn), and --strict refuses that",
             theirs);
}

void why_not_continued(char *buf, size_t cap, const trace_report *r,
                       const incoming *in) {
  int status = r->status;
  const header *st = first_named(in, NAME("sentry-trace"));
  const header *tp = first_named(in, NAME("traceparent"));
  if (status == STP_ERR_ORG_MISMATCH) {
    org_mismatch(buf, cap, r, in);
  } else if (status == STP_ERR_DISABLED) {
    const char *v = getenv("SENTRY_USE_ENVIRONMENT");
    snprintf(buf, cap,
             "disabled: SENTRY_USE_ENVIRONMENT=%s turns the "
             "environment off",
             v ? v : "");
  } else if (status == STP_ERR_ABSENT && r->args->env) {
    snprintf(buf, cap, "absent: SENTRY_TRACE is not set");
  } else if (status == STP_ERR_ABSENT && tp != NULL) {
    snprintf(buf, cap,
             "absent: no sentry-trace came in, and "
             "--no-accept-traceparent ignores the traceparent that did");
  } else if (status == STP_ERR_ABSENT) {
    snprintf(buf, cap,
             "absent: no sentry-trace or traceparent header came "
             "in");
  } else if (st != NULL || tp != NULL) {
    const header *h = st ? st : tp;
    const char *name;
    size_t name_len;
    char msg[200];
    if (starts_with_header_name(h->value, h->value_len, &name, &name_len))
      header_name_reason(msg, sizeof msg, name, name_len);
    else
      snprintf(msg, sizeof msg, "%s", stp_strerror(status));
    snprintf(buf, cap, "%s: the incoming %s is invalid: %s",
             stp_error_name(status), st ? "sentry-trace" : "traceparent", msg);
  } else {
    snprintf(buf, cap, "%s: %s", stp_error_name(status), stp_strerror(status));
  }
}

static const char *sampled_word(stp_sampled s) {
  return s == STP_SAMPLED_YES ? "yes" : s == STP_SAMPLED_NO ? "no" : "deferred";
}

/* "sample_rand R < the sample rate X" (or >=). */
static void by_rate(char *buf, size_t cap, const trace_report *r,
                    const char *lead) {
  double rate = 0;
  char rand[64];
  stp_config_sample_rate(r->cfg, &rate);
  format_fraction(rand, sizeof rand, r->sample_rand);
  snprintf(buf, cap, "%s: %ssample_rand %s %s the sample rate %g",
           sampled_word(r->span.sampled), lead, rand,
           r->sample_rand < rate ? "<" : ">=", rate);
}

void why_sampled(char *buf, size_t cap, const trace_report *r,
                 const incoming *in) {
  double rate = 0;
  bool has_rate = stp_config_sample_rate(r->cfg, &rate);
  if (!r->continued) {
    if (has_rate)
      by_rate(buf, cap, r, "");
    else
      snprintf(buf, cap,
               "deferred: there is no --sample-rate, so the "
               "decision is left to the services after this one");
    return;
  }
  stp_trace_header h;
  const char *from = continued_from(r, in, &h);
  char dsc[16];
  size_t n = 0;
  if (from && h.sampled != STP_SAMPLED_DEFERRED) {
    if (strcmp(from, "sentry-trace") == 0)
      snprintf(buf, cap, "%s: the incoming sentry-trace says so (flag %d)",
               sampled_word(r->span.sampled), h.sampled == STP_SAMPLED_YES);
    else
      snprintf(buf, cap,
               "%s: the incoming traceparent's sampled flag is set "
               "(flags %02x)",
               sampled_word(r->span.sampled), (unsigned)h.trace_flags);
  } else if (r->span.sampled != STP_SAMPLED_DEFERRED &&
             stp_context_dsc_get(r->ctx, dsc, sizeof dsc, &n,
                                 NAME("sampled")) == STP_OK &&
             strcmp(dsc, r->span.sampled == STP_SAMPLED_YES ? "true"
                                                            : "false") == 0) {
    snprintf(buf, cap,
             "%s: the incoming %s leaves it open, and the incoming "
             "baggage has sentry-sampled=%s",
             sampled_word(r->span.sampled), from ? from : "trace header", dsc);
  } else if (has_rate) {
    by_rate(buf, cap, r, "no decision came in; ");
  } else {
    snprintf(buf, cap,
             "deferred: no decision came in, and there is no "
             "--sample-rate to make one");
  }
}

void why_sample_rand(char *buf, size_t cap, const trace_report *r,
                     const incoming *in) {
  char rand[64], theirs[64], ours[64];
  size_t n = 0;
  format_fraction(rand, sizeof rand, r->sample_rand);
  if (!r->continued) {
    snprintf(buf, cap, "%s  (drawn here)", rand);
  } else if (!incoming_dsc(in, NAME("sentry-sample_rand"), theirs,
                           sizeof theirs)) {
    snprintf(buf, cap,
             "%s  (drawn here: none came in; it agrees with the "
             "decision)",
             rand);
  } else if (stp_context_dsc_get(r->ctx, ours, sizeof ours, &n,
                                 NAME("sample_rand")) == STP_OK &&
             strcmp(ours, theirs) == 0) {
    snprintf(buf, cap, "%s  (from the incoming baggage)", rand);
  } else {
    snprintf(buf, cap,
             "%s  (drawn here: the incoming '%s' is not a number "
             "in [0, 1))",
             rand, theirs);
  }
}

/* ---- the incoming baggage members ---------------------------------------- */

/* Marks the rows past the byte bound on what a context examines (across
 * every baggage value, stp.h) DROPPED, and notes those past its member
 * bound: whether the library took one of them is told by the context
 * (match_context), as a run of malformed members is skipped in one step.
 * rows[from..] came from a value of len bytes; *bytes and *members count
 * what went before. */
static void past_bounds(member_rows *rows, size_t from, size_t len,
                        size_t *bytes, size_t *members) {
  size_t room = *bytes < STP_BAGGAGE_SCAN_MAX_BYTES
                    ? STP_BAGGAGE_SCAN_MAX_BYTES - *bytes
                    : 0;
  bool cut = len > room;
  for (size_t i = from; i < rows->n; i++) {
    member_row *row = &rows->v[i];
    /* A member cut by the byte bound is not taken, nor one that ends
     * right at it: the library cannot tell that it is whole. */
    if (room == 0 || (cut && row->end >= room)) {
      row->fate = MEMBER_DROPPED;
      snprintf(row->why, sizeof row->why,
               "past the first %d bytes of baggage the library examines",
               STP_BAGGAGE_SCAN_MAX_BYTES);
      continue;
    }
    row->past_bound = *members >= STP_BAGGAGE_SCAN_MAX_MEMBERS;
    ++*members;
  }
  *bytes += cut ? room : len;
}

static bool same_member(const stp_baggage_member *a,
                        const stp_baggage_member *b) {
  return a->key_len == b->key_len && a->value_len == b->value_len &&
         memcmp(a->key, b->key, a->key_len) == 0 &&
         memcmp(a->value, b->value, a->value_len) == 0;
}

/* Whether the outgoing baggage carries this member. */
static bool sent(const trace_report *r, const stp_baggage_member *m) {
  stp_baggage_iter it;
  stp_baggage_member o;
  stp_baggage_iter_init(&it, r->baggage, r->baggage_len);
  while (stp_baggage_iter_next(&it, &o))
    if (same_member(&o, m))
      return true;
  return false;
}

static void why_kept(member_row *row, const trace_report *r) {
  if (row->sentry)
    snprintf(row->why, sizeof row->why, "in the DSC%s",
             row->m.props_len ? "; its properties are not kept" : "");
  else if (!stp_config_propagate_third_party_baggage(r->cfg))
    snprintf(row->why, sizeof row->why,
             "third-party; not forwarded (--propagate-third-party is off)");
  else if (sent(r, &row->m))
    snprintf(row->why, sizeof row->why, "third-party; forwarded");
  else
    snprintf(row->why, sizeof row->why,
             "third-party; not forwarded: the outgoing baggage was full");
}

static void why_dropped(member_row *row) {
  row->fate = MEMBER_DROPPED;
  if (row->past_bound)
    snprintf(row->why, sizeof row->why,
             "past the first %d members the library examines",
             STP_BAGGAGE_SCAN_MAX_MEMBERS);
  else if (row->m.key_len == 18 &&
           memcmp(row->m.key, "sentry-sample_rand", 18) == 0)
    snprintf(row->why, sizeof row->why,
             "not a number in [0, 1): a new sample_rand was drawn");
  else
    snprintf(row->why, sizeof row->why,
             "no room: a context keeps %d members and %d bytes, Sentry "
             "members first",
             STP_BAGGAGE_MAX_MEMBERS, STP_BAGGAGE_MAX_BYTES);
}

/* Finds each remaining row among the context's members, in order. */
static void match_context(member_rows *rows, const trace_report *r) {
  size_t n = stp_context_member_count(r->ctx), j = 0;
  for (size_t i = 0; i < rows->n; i++) {
    member_row *row = &rows->v[i];
    if (row->fate != MEMBER_KEPT)
      continue;
    size_t k = j;
    for (; k < n; k++) {
      stp_baggage_member m;
      bool sentry = false;
      if (stp_context_member(r->ctx, &m, &sentry, k) == STP_OK &&
          sentry == row->sentry && same_member(&m, &row->m))
        break;
    }
    if (k < n) {
      j = k + 1;
      why_kept(row, r);
    } else {
      why_dropped(row);
    }
  }
}

int incoming_rows(member_rows *rows, const trace_report *r,
                  const incoming *in) {
  size_t bytes = 0, members = 0, values = 0;
  for (size_t i = 0; i < in->n; i++) {
    const header *h = &in->h[i];
    if (!named(h, NAME("baggage")))
      continue;
    size_t from = rows->n;
    int rc = member_rows_add(rows, h->value, h->value_len, values++);
    if (rc != STP_OK)
      return rc;
    past_bounds(rows, from, h->value_len, &bytes, &members);
  }
  int rc = member_rows_drop_repeats(rows);
  if (rc != STP_OK)
    return rc;
  if (r->continued) {
    match_context(rows, r);
    return STP_OK;
  }
  for (size_t i = 0; i < rows->n; i++) {
    member_row *row = &rows->v[i];
    if (row->fate != MEMBER_KEPT)
      continue;
    row->fate = MEMBER_DROPPED;
    snprintf(row->why, sizeof row->why,
             "the trace was not continued, and its baggage goes with it");
  }
  return STP_OK;
}
