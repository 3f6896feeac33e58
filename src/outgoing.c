/* Outgoing values: `sentry-trace`, `traceparent` and the merged `baggage`
 * of a context (SPEC sections 6 and 8). */
#include "context.h"

/* ---- trace headers ------------------------------------------------------- */

int stp_context_sentry_trace(const stp_context *ctx, char *buf, size_t cap,
                             size_t *out_len, const stp_span *span) {
  if (!ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (!span)
    span = &stp__cctx_of(ctx)->span;
  return stp_sentry_trace_format(buf, cap, out_len, &span->trace_id,
                                 &span->span_id, span->sampled);
}

int stp_context_traceparent(const stp_context *ctx, char *buf, size_t cap,
                            size_t *out_len, const stp_span *span) {
  if (!ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (!span)
    span = &stp__cctx_of(ctx)->span;
  return stp_traceparent_format(buf, cap, out_len, &span->trace_id,
                                &span->span_id, span->sampled);
}

/* ---- baggage ------------------------------------------------------------- */

/* The length of a member's text, "key=value[;props]". */
static size_t text_len(const scanned *m) {
  return stp__text_bytes(m->key_len, m->value_len, m->props_len);
}

static void put_member(stp__buf *b, const scanned *m) {
  if (b->len > 0)
    stp__putc(b, ',');
  if (m->plain) {
    stp__put(b, m->key, text_len(m)); /* one copy */
    return;
  }
  stp__put(b, m->key, m->key_len);
  stp__putc(b, '=');
  stp__put(b, m->key + m->value_off, m->value_len);
  if (m->props_len) {
    stp__putc(b, ';');
    /* Properties are kept as received except that a tab (OWS) goes out
     * as a space: gRPC metadata values allow no tab. */
    const char *props = m->key + m->props_off;
    for (size_t i = 0; i < m->props_len; i++)
      stp__putc(b, props[i] == '\t' ? ' ' : props[i]);
  }
}

/* The length of a stored member's text: its bytes, when it is plain. */
static size_t stored_len(const stp__member *m) {
  return m->plain ? m->len
                  : stp__text_bytes(m->key_len, m->value_len, m->props_len);
}

/* Sets of stored members, a bit per index. */
_Static_assert(STP_BAGGAGE_MAX_MEMBERS <= 64, "a member set is 64 bits");
typedef uint64_t member_set;

static member_set member_bit(size_t i) {
  return (member_set)1 << i;
}

/* One pass over the stored members: the Sentry ones, and those joined to
 * the member before them (`joined`): both plain (their bytes are their
 * text), its bytes following that member's one comma apart in the store,
 * as the members of one incoming header do. A run of joined members goes
 * out in one copy (put_stored). */
static member_set member_sets(const stp__ctx *ctx, member_set *joined) {
  member_set sentry = 0, join = 0;
  size_t next = SIZE_MAX; /* where a member joined to the last would start */
  const char *store = stp__cstore(ctx);
  for (size_t i = 0; i < ctx->n_members; i++) {
    const stp__member *m = &ctx->members[i];
    size_t off = m->off;
    sentry |= (member_set)m->sentry << i;
    if (off == next && m->plain && store[off - 1] == ',')
      join |= member_bit(i);
    next = m->plain ? off + m->len + 1 : SIZE_MAX;
  }
  *joined = join;
  return sentry;
}

/* Writes the stored members of `set` in the order of the store. A run of
 * them joined to one another goes out in one copy with its commas: their
 * bytes are their text. */
STP__HOT static void put_stored(stp__buf *b, const stp__ctx *ctx,
                                member_set set, member_set joined) {
  while (set) {
    size_t i = stp__lowest_bit(set);
    const stp__member *m = &ctx->members[i];
    if (!m->plain) {
      scanned s = stp__member_scanned(ctx, m);
      put_member(b, &s);
      set &= set - 1;
      continue;
    }
    /* The members after i in the set and joined to the one before: the
     * run ends before the first that is not. Bit 63 of the shifted set is
     * clear, so its complement has a lowest bit. */
    member_set more = ((set & joined) >> i) >> 1;
    size_t last = i + stp__lowest_bit(~more);
    size_t from = m->off;
    size_t to = (size_t)ctx->members[last].off + ctx->members[last].len;
    if (b->len > 0)
      stp__putc(b, ',');
    stp__put(b, stp__cstore(ctx) + from, to - from);
    set &= ~(((member_set)2 << last) - 1); /* 0 when last is 63 */
  }
}

/* What has been written, for the limits: members and bytes. */
typedef struct {
  size_t members, bytes, reserve_members, reserve_bytes;
} budget;

/* Whether one more member of `len` bytes fits besides the reserved DSC. */
static bool budget_take(budget *bu, size_t len) {
  size_t members = bu->members + 1 + bu->reserve_members;
  size_t bytes = bu->bytes + len + bu->reserve_bytes + (members - 1);
  if (members > STP_BAGGAGE_MAX_MEMBERS || bytes > STP_BAGGAGE_MAX_BYTES)
    return false;
  bu->members++;
  bu->bytes += len;
  return true;
}

static size_t set_bytes(const stp__ctx *ctx, member_set set) {
  size_t n = 0;
  for (; set; set &= set - 1)
    n += stored_len(&ctx->members[stp__lowest_bit(set)]);
  return n;
}

/* The output limits, with the members of an existing header (if any)
 * written first, at b: the DSC (`dsc`, sentry-trace_id first) is kept
 * whole if it fits, else cut from its end; then the existing header's
 * members and the stored third-party ones (`third`) go in while they
 * fit. */
static void put_within_limits(stp__buf *b, const stp__ctx *ctx,
                              const char *existing, size_t existing_len,
                              member_set *dsc, member_set lead,
                              member_set *third) {
  size_t n_dsc = stp__bit_count(*dsc);
  size_t dsc_bytes = set_bytes(ctx, *dsc);
  while (n_dsc > 0 && dsc_bytes + n_dsc - 1 > STP_BAGGAGE_MAX_BYTES) {
    /* The last in the output order: the highest index but the lead's. */
    member_set rest = *dsc & ~lead;
    size_t last = stp__highest_bit(rest ? rest : *dsc);
    dsc_bytes -= stored_len(&ctx->members[last]);
    *dsc &= ~member_bit(last);
    n_dsc--;
  }
  budget bu = {0, 0, n_dsc, dsc_bytes};
  stp_baggage_iter it;
  scanned m;
  stp_baggage_iter_init(&it, existing, existing_len);
  while (stp__baggage_next(&it, &m))
    if (!stp__is_sentry_key(m.key, m.key_len) && budget_take(&bu, text_len(&m)))
      put_member(b, &m);
  for (member_set s = *third; s; s &= s - 1) {
    size_t i = stp__lowest_bit(s);
    if (!budget_take(&bu, stored_len(&ctx->members[i])))
      *third &= ~member_bit(i);
  }
}

STP__HOT int stp_context_baggage(stp_context *context, char *buf, size_t cap,
                                 size_t *out_len, const char *existing,
                                 size_t existing_len) {
  stp__ctx *ctx = stp__ctx_of(context);
  if (!ctx || !ctx->cfg || (!existing && existing_len) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  if (!ctx->frozen) /* a frozen context is only read: shareable */
    ctx->frozen = true;

  member_set joined, dsc = member_sets(ctx, &joined);
  member_set third = 0;
  if (ctx->cfg->propagate_third_party && ctx->n_members)
    third = ~dsc & (~(member_set)0 >> (64 - ctx->n_members));
  /* The DSC goes out sentry-trace_id first (the lead), then the others as
   * received. */
  int first = stp__find_dsc(ctx, STP__KEY("sentry-trace_id"));
  member_set lead = first >= 0 ? member_bit((size_t)first) : 0;
  stp__buf out = {buf, cap, 0};
  /* Without an existing header, the stored members (at most
   * STP_BAGGAGE_MAX_MEMBERS) mostly fit whole: a member's text is no longer
   * than its bytes in the store, and at most one comma goes after each. */
  if (existing_len > 0 ||
      (size_t)ctx->store_len + ctx->n_members > STP_BAGGAGE_MAX_BYTES + 1)
    put_within_limits(&out, ctx, existing, existing_len, &dsc, lead, &third);
  put_stored(&out, ctx, third, joined);
  if (lead && (dsc & (lead - 1))) { /* Sentry members before the lead */
    put_stored(&out, ctx, dsc & lead, joined);
    dsc &= ~lead;
  }
  put_stored(&out, ctx, dsc, joined);
  return stp__finish(&out, out_len);
}
