/* Continuing a trace: taking in the request's trace headers one at a time
 * and deciding (SPEC sections 1 to 5). */
#include "context.h"

enum { TRACE_VALUES_MAX = 16 }; /* sentry-trace values examined */

/* Only the header is reset: the store is overwritten as it fills. Inlined
 * in stp_context_continue. */
STP__INLINE void begin(stp__ctx *ctx, const stp_config *cfg) {
  ctx->cfg = cfg;
  memset(&ctx->span, 0, sizeof ctx->span);
  ctx->span.sampled = STP_SAMPLED_DEFERRED;
  ctx->sample_rand = 0;
  ctx->continued = false;
  ctx->frozen = false;
  ctx->feeding = true;
  stp__full_capacity(ctx);
  ctx->status = STP_ERR_ABSENT;
  stp__feed *f = stp__feed_of(ctx);
  f->have_trace = false;
  f->have_traceparent = false;
  f->trace_error = 0;
  f->traceparent_error = 0;
  f->trace_values_seen = 0;
  f->scan_bytes = 0;
  f->scan_members = 0;
  ctx->skipped = 0;
  ctx->dropped = 0;
  stp__store_clear(ctx);
}

int stp_context_begin(stp_context *ctx, const stp_config *cfg) {
  if (!ctx || !cfg)
    return STP_ERR_INVALID_ARGUMENT;
  begin(stp__ctx_of(ctx), cfg);
  return STP_OK;
}

/* Takes in the members of value[0, len) from the one at pos on, as far as
 * the scan bounds let them in (`cut`: the bound cut the value at len;
 * only an UNPADDED scan is given a value cut, so that the usual one has
 * no check for it in its loop).
 * UNPADDED: value is the caller's, and each member is copied to the store.
 * PADDED: value is a padded copy in the store, and each member's record
 * points at its bytes there; the scan then stops before a member that
 * could need room made (members full), because making room moves the
 * store. Returns where it stopped: value + len when done.
 * The member count, the Sentry keys' bits and the scan's count stay in
 * locals: stores to the member records could otherwise alias them, and
 * the compiler would read them again for every member. */
STP__INLINE const char *feed_scan(stp__ctx *ctx, const char *value, size_t len,
                                  const char *pos, bool cut, enum isa isa,
                                  enum pad pad) {
  const char *end = value + len;
  scanned m;
  size_t skipped = 0;
  /* Members looked at: those before this value and the valid ones in it
   * (seen), and the malformed ones in it (skipped). */
  size_t seen = stp__feed_of(ctx)->scan_members;
  size_t n = ctx->n_members;
  uint64_t keys = ctx->dsc_keys;
  while (seen + skipped < STP_BAGGAGE_SCAN_MAX_MEMBERS &&
         (pad == UNPADDED || n < STP_BAGGAGE_MAX_MEMBERS)) {
    /* Malformed members count against the bound too. */
    if (!next_member(&pos, end, &m, &skipped,
                     STP_BAGGAGE_SCAN_MAX_MEMBERS - seen, isa, pad,
                     DSC_WITHOUT_PROPS))
      break;
    seen++;
    /* The bound may have cut the last member short: only a member that
     * ended with a comma inside the bound is known to be whole. */
    if (cut && pos == end && end[-1] != ',')
      break;
    bool sentry = stp__is_sentry_key(m.key, m.key_len);
    uint8_t hash = stp__key_hash(m.key, m.key_len);
    if (sentry &&
        stp__find_dsc_among(ctx, keys, n, m.key, m.key_len, hash) >= 0) {
      ctx->dropped++; /* a repeated DSC key: the first wins */
      continue;
    }
    if (pad == PADDED) {
      if (sentry)
        keys = stp__dsc_noted(ctx, keys, n, hash);
      stp__member_slices_from(
          stp__member_place(&ctx->members[n++],
                            (size_t)(m.key - stp__fed_store(ctx)), m.len,
                            sentry, hash),
          &m);
    } else {
      if (stp__member_add_copy(ctx, &m, sentry, hash) != STP_OK)
        ctx->dropped++; /* no room */
      /* Making room may have removed members. */
      n = ctx->n_members;
      keys = ctx->dsc_keys;
    }
  }
  stp__feed_of(ctx)->scan_members = (uint32_t)(seen + skipped);
  ctx->n_members = (uint16_t)n;
  ctx->dsc_keys = keys;
  ctx->skipped += (uint32_t)skipped;
  return pos;
}

/* The members of value[pos, len) copied one by one from the caller's value
 * (feed_scan UNPADDED): a rare path, kept out of line. */
STP__NOINLINE static void copy_members_portable(stp__ctx *ctx,
                                                const char *value, size_t len,
                                                const char *pos, bool cut) {
  feed_scan(ctx, value, len, pos, cut, ISA_PORTABLE, UNPADDED);
}

#ifdef STP__HAVE_SSSE3
STP__SSSE3_FN STP__NOINLINE static void
copy_members_ssse3(stp__ctx *ctx, const char *value, size_t len,
                   const char *pos, bool cut) {
  feed_scan(ctx, value, len, pos, cut, ISA_SSSE3, UNPADDED);
}
#endif

/* Stores the members of value[0, len) that the scan bounds let in. When
 * the store has room for the whole value, it is copied there in one piece
 * with its pad, and scanned there: the bytes of invalid or repeated
 * members stay unused. From the first member that could need room made,
 * or when the store has no room for the whole value, or the byte bound
 * cut it (`cut`, rare), members are copied one by one from the caller's
 * value. Instantiated once per scanner ISA. */
STP__INLINE void feed_members(stp__ctx *ctx, const char *value, size_t len,
                              bool cut, enum isa isa) {
  const char *pos = value;
  size_t base = ctx->store_len;
  if (!cut && len > 0 && len <= STP_BAGGAGE_MAX_BYTES - base) {
    char *copy = stp__fed_store(ctx) + base;
    memcpy(copy, value, len);
    memset(copy + len, 0, STP__STORE_PAD);
    ctx->store_len = (uint16_t)(base + len);
    pos += feed_scan(ctx, copy, len, copy, false, isa, PADDED) - copy;
  }
  if (len == 0 || pos == value + len)
    return;
#ifdef STP__HAVE_SSSE3
  if (isa == ISA_SSSE3) {
    copy_members_ssse3(ctx, value, len, pos, cut);
    return;
  }
#endif
  copy_members_portable(ctx, value, len, pos, cut);
}

static void feed_members_portable(stp__ctx *ctx, const char *value, size_t len,
                                  bool cut) {
  feed_members(ctx, value, len, cut, ISA_PORTABLE);
}

#ifdef STP__HAVE_SSSE3
STP__HOT STP__SSSE3_FN static void
feed_members_ssse3(stp__ctx *ctx, const char *value, size_t len, bool cut) {
  feed_members(ctx, value, len, cut, ISA_SSSE3);
}
#endif

static void feed_baggage(stp__ctx *ctx, const char *value, size_t len) {
  stp__feed *f = stp__feed_of(ctx);
  if (f->scan_bytes >= STP_BAGGAGE_SCAN_MAX_BYTES ||
      f->scan_members >= STP_BAGGAGE_SCAN_MAX_MEMBERS) {
    if (len)
      ctx->dropped++;
    return;
  }
  size_t room = STP_BAGGAGE_SCAN_MAX_BYTES - f->scan_bytes;
  bool cut = len > room;
  if (cut) {
    len = room;
    ctx->dropped++;
  }
  f->scan_bytes += (uint32_t)len;
#ifdef STP__HAVE_SSSE3
  if (stp__scan_isa() == ISA_SSSE3) {
    feed_members_ssse3(ctx, value, len, cut);
    return;
  }
#endif
  feed_members_portable(ctx, value, len, cut);
}

/* One of the trace headers, by the length of its name (7, 11 or 12). Kept
 * out of stp_context_feed, whose quick exit then needs no stack frame. */
STP__HOT STP__NOINLINE static void
feed_trace_header(stp__ctx *ctx, const char *name, size_t name_len,
                  const char *value, size_t value_len) {
  stp__feed *f = stp__feed_of(ctx);
  switch (name_len) {
  case 12:
    if (stp__name_eq(name, name_len, STP__KEY("sentry-trace")) &&
        !f->have_trace && f->trace_values_seen < TRACE_VALUES_MAX) {
      f->trace_values_seen++;
      int err = stp_sentry_trace_parse(&f->incoming, value, value_len);
      if (err == STP_OK)
        f->have_trace = true;
      else if (!f->trace_error)
        f->trace_error = (int16_t)err;
    }
    break;
  case 11:
    if (stp__name_eq(name, name_len, STP__KEY("traceparent")) &&
        !f->have_traceparent && !f->traceparent_error && ctx->cfg->accept_tp) {
      /* W3C: a second traceparent is not looked at. */
      int err = stp_traceparent_parse(&f->incoming_tp, value, value_len);
      if (err == STP_OK)
        f->have_traceparent = true;
      else
        f->traceparent_error = (int16_t)err;
    }
    break;
  case 7:
    if (stp__name_eq(name, name_len, STP__KEY("baggage")))
      feed_baggage(ctx, value, value_len);
    break;
  default:
    break;
  }
}

STP__HOT int stp_context_feed(stp_context *context, const char *name,
                              size_t name_len, const char *value,
                              size_t value_len) {
  stp__ctx *ctx = stp__ctx_of(context);
  if (!ctx || (!name && name_len) || (!value && value_len))
    return STP_ERR_INVALID_ARGUMENT;
  if (!ctx->feeding)
    return STP_ERR_STATE;
  /* Most headers of a request are not trace headers: they leave here. */
  if (stp_header_is_candidate(name, name_len))
    feed_trace_header(ctx, name, name_len, value, value_len);
  return STP_OK;
}

static int org_check(const stp__ctx *ctx) {
  const char *mine = ctx->cfg->org_id;
  stp_baggage_member m;
  bool has_in = stp__dsc_member(ctx, STP__KEY("sentry-org_id"), &m);
  char in[64];
  size_t n, in_len = SIZE_MAX; /* present but empty or too long: no match */
  if (has_in &&
      stp_baggage_decode(in, sizeof in, &n, m.value, m.value_len) == STP_OK &&
      n > 0)
    in_len = n;
  if (has_in && mine)
    return in_len == strlen(mine) && memcmp(in, mine, in_len) == 0
               ? STP_OK
               : STP_ERR_ORG_MISMATCH;
  if (has_in != (mine != NULL) && ctx->cfg->strict)
    return STP_ERR_ORG_MISMATCH;
  return STP_OK;
}

/* A DSC number in [0, 1] (or [0, 1) with open_top). Its value is read as
 * it is when it parses so (a number has no '%' to decode), and decoded
 * first otherwise. */
STP__INLINE bool parse_unit(const stp__ctx *ctx, const char *key, size_t kl,
                            double *out, bool open_top) {
  stp_baggage_member m;
  if (!stp__dsc_member(ctx, key, kl, &m))
    return false;
  char buf[64];
  size_t n;
  double v;
  if (stp__parse_decimal(&v, m.value, m.value_len) != STP_OK &&
      (stp_baggage_decode(buf, sizeof buf, &n, m.value, m.value_len) !=
           STP_OK ||
       stp__parse_decimal(&v, buf, n) != STP_OK))
    return false;
  if (!(v >= 0) || (open_top ? !(v < 1) : !(v <= 1)))
    return false;
  *out = v;
  return true;
}

/* The head's decision as the DSC records it (`sentry-sampled`, decoded,
 * exactly `true` or `false`), for a parent whose trace header leaves it
 * open: a hop that dropped the flag must not split the trace, and the
 * outgoing flag must not contradict the frozen DSC. Deferred otherwise. */
static stp_sampled dsc_sampled(const stp__ctx *ctx) {
  stp_baggage_member m;
  char buf[16];
  size_t n;
  if (!stp__dsc_member(ctx, STP__KEY("sentry-sampled"), &m) ||
      stp_baggage_decode(buf, sizeof buf, &n, m.value, m.value_len) != STP_OK)
    return STP_SAMPLED_DEFERRED;
  if (n == 4 && memcmp(buf, "true", 4) == 0)
    return STP_SAMPLED_YES;
  if (n == 5 && memcmp(buf, "false", 5) == 0)
    return STP_SAMPLED_NO;
  return STP_SAMPLED_DEFERRED;
}

STP__HOT int stp_context_finish(stp_context *context) {
  stp__ctx *ctx = stp__ctx_of(context);
  if (!ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (!ctx->feeding)
    return STP_ERR_STATE;
  ctx->feeding = false;
  const stp__feed *f = stp__cfeed_of(ctx);
  const stp_trace_header *in = f->have_trace         ? &f->incoming
                               : f->have_traceparent ? &f->incoming_tp
                                                     : NULL;
  int status = STP_ERR_ABSENT;
  if (in)
    status = org_check(ctx);
  else if (f->trace_error)
    status = f->trace_error;
  else if (f->traceparent_error)
    status = f->traceparent_error;
  if (status != STP_OK) {
    stp__start_head(ctx); /* incoming baggage is dropped with it */
    ctx->status = status;
    return status;
  }

  ctx->span.trace_id = in->trace_id;
  ctx->span.parent_span_id = in->span_id;
  ctx->span.has_parent = true;
  stp_span_id_random(&ctx->span.span_id);
  stp_sampled parent = in->sampled;
  if (parent == STP_SAMPLED_DEFERRED)
    parent = dsc_sampled(ctx);
  ctx->span.sampled = parent;

  double r, rate = 0;
  if (parse_unit(ctx, STP__KEY("sentry-sample_rand"), &r, true)) {
    ctx->sample_rand = r;
  } else {
    int i = stp__find_dsc(ctx, STP__KEY("sentry-sample_rand"));
    if (i >= 0)
      stp__member_remove(ctx, (size_t)i); /* invalid: replaced */
    bool has_rate =
        parse_unit(ctx, STP__KEY("sentry-sample_rate"), &rate, false);
    uint32_t k = stp__draw_rand(parent, has_rate, rate);
    ctx->sample_rand = (double)k / STP__RAND_SCALE;
    if (stp__add_sample_rand(ctx, k) != STP_OK)
      ctx->dropped++;
  }
  /* No decision upstream, in the trace header or the DSC: decide here as
   * a Sentry SDK would. */
  if (ctx->span.sampled == STP_SAMPLED_DEFERRED && ctx->cfg->has_rate)
    ctx->span.sampled =
        ctx->sample_rand < ctx->cfg->rate ? STP_SAMPLED_YES : STP_SAMPLED_NO;

  ctx->continued = true;
  ctx->frozen = true;
  ctx->status = STP_OK;
  return STP_OK;
}

/* ---- from a carrier ------------------------------------------------------ */

STP__HOT static int feed_one(void *arg, const char *name, size_t name_len,
                             const char *value, size_t value_len) {
  stp_context_feed(arg, name, name_len, value, value_len);
  return 0;
}

STP__HOT int stp_context_continue(stp_context *ctx, const stp_config *cfg,
                                  const stp_carrier *carrier) {
  if (!ctx || !cfg || !carrier || !carrier->foreach)
    return STP_ERR_INVALID_ARGUMENT;
  begin(stp__ctx_of(ctx), cfg);
  if (carrier->foreach(carrier->user, feed_one, ctx) < 0) {
    stp_context_init(ctx, cfg);
    stp__ctx_of(ctx)->status = STP_ERR_CARRIER;
    return STP_ERR_CARRIER;
  }
  return stp_context_finish(ctx);
}
