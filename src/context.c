/* The per-unit-of-work context: continuing, the DSC, outgoing values
 * (SPEC sections 5, 6 and 8). */
#include <stdlib.h>

#include "scan.h"

#define KEY(lit) lit, (sizeof(lit) - 1)

enum { RAND_SCALE = 1000000 };  /* sample_rand has 6 decimals */
enum { TRACE_VALUES_MAX = 16 }; /* sentry-trace values examined */
/* The store's bytes past STP_BAGGAGE_MAX_BYTES: room for the pad of an
 * input scanned in the store (scan.h). */
enum { STORE_PAD = sizeof((stp_context *)0)->store - STP_BAGGAGE_MAX_BYTES };
_Static_assert(STORE_PAD >= 16, "a scanned input needs a 16-byte pad");

/* ---- the member store --------------------------------------------------- */

/* Every DSC key starts with "sentry-": mix its length and the bytes after
 * the prefix that tell the known keys apart. The fourteen keys the SDKs
 * write (trace_id ... thread_id) fall on fourteen different bits of
 * ctx->dsc_keys. */
static uint8_t key_hash(const char *k, size_t n) {
  unsigned h = (unsigned)n;
  if (n > 8)
    h += (unsigned char)k[8] * 2u + (unsigned char)k[n - 1] * 7u;
  return (uint8_t)h;
}

static uint64_t key_bit(uint8_t hash) {
  return (uint64_t)1 << (hash & 63);
}

/* The index of the Sentry member with this key, or -1, among the first
 * `count` members, whose Sentry keys have the bits `keys`: ctx->n_members
 * and ctx->dsc_keys, or a scan's own copies of them (feed_scan). Most
 * lookups are for a key not stored, which the bit of its hash answers;
 * the others start at the first Sentry member with that bit, usually the
 * one. */
STP__INLINE int find_dsc_among(const stp_context *ctx, uint64_t keys,
                               size_t count, const char *key, size_t n,
                               uint8_t h) {
  if (!(keys & key_bit(h)))
    return -1;
  for (size_t i = ctx->dsc_at[h & 63]; i < count; i++) {
    const stp__member *m = &ctx->members[i];
    if (m->hash == h && m->sentry && m->key_len == n &&
        memcmp(ctx->store + m->off, key, n) == 0)
      return (int)i;
  }
  return -1;
}

STP__INLINE int find_dsc(const stp_context *ctx, const char *key, size_t n) {
  return find_dsc_among(ctx, ctx->dsc_keys, ctx->n_members, key, n,
                        key_hash(key, n));
}

/* Notes that members[i] is a Sentry member with this hash: returns the
 * Sentry keys' bits `keys` with its bit. */
static inline uint64_t dsc_noted(stp_context *ctx, uint64_t keys, size_t i,
                                 uint8_t hash) {
  uint64_t bit = key_bit(hash);
  if (!(keys & bit))
    ctx->dsc_at[hash & 63] = (uint8_t)i;
  return keys | bit;
}

static inline void dsc_note(stp_context *ctx, size_t i, uint8_t hash) {
  ctx->dsc_keys = dsc_noted(ctx, ctx->dsc_keys, i, hash);
}

/* Removes members[i] with one comma next to it (after it, or else before
 * it), so that removing and appending members does not leave commas
 * behind in the store. */
static void member_remove(stp_context *ctx, size_t i) {
  stp__member *m = &ctx->members[i];
  size_t from = m->off, to = from + m->len;
  if (to < ctx->store_len && ctx->store[to] == ',')
    to++;
  else if (from > 0 && ctx->store[from - 1] == ',')
    from--;
  size_t gap = to - from;
  memmove(ctx->store + from, ctx->store + to, ctx->store_len - to);
  ctx->store_len = (uint16_t)(ctx->store_len - gap);
  for (size_t j = i + 1; j < ctx->n_members; j++)
    ctx->members[j].off = (uint16_t)(ctx->members[j].off - gap);
  memmove(&ctx->members[i], &ctx->members[i + 1],
          (ctx->n_members - i - 1) * sizeof *m);
  ctx->n_members--;
  /* The indexes of the members after it have changed. */
  ctx->dsc_keys = 0;
  for (size_t j = 0; j < ctx->n_members; j++)
    if (ctx->members[j].sentry)
      dsc_note(ctx, j, ctx->members[j].hash);
}

/* Whether a member appended to the store goes after a comma: unless the
 * store is empty or ends with one. Appended members are then one comma
 * apart, as the members of an incoming header are, and put_stored sends
 * a run of them in one copy. */
static size_t comma_before_next(const stp_context *ctx) {
  return ctx->store_len > 0 && ctx->store[ctx->store_len - 1] != ',';
}

/* Whether one more member of `len` bytes (and its comma) fits. */
static bool member_fits(const stp_context *ctx, size_t len) {
  return ctx->n_members < STP_BAGGAGE_MAX_MEMBERS &&
         ctx->store_len + comma_before_next(ctx) + len <= STP_BAGGAGE_MAX_BYTES;
}

/* The store is full for one more member of `len` bytes: a Sentry member
 * evicts the latest third-party members if that makes room. Returns
 * whether there is room now. (Removing a member can take away the comma
 * the store ended with: whether it fits is asked again each time.) */
static bool member_make_room(stp_context *ctx, size_t len, bool sentry) {
  if (!sentry)
    return false;
  size_t third_bytes = 0, third = 0;
  for (size_t i = 0; i < ctx->n_members; i++)
    if (!ctx->members[i].sentry) {
      third++;
      third_bytes += ctx->members[i].len;
    }
  if (ctx->n_members - third == STP_BAGGAGE_MAX_MEMBERS ||
      ctx->store_len - third_bytes + len > STP_BAGGAGE_MAX_BYTES)
    return false;
  for (size_t i = ctx->n_members; i-- > 0 && !member_fits(ctx, len);)
    if (!ctx->members[i].sentry) {
      member_remove(ctx, i);
      ctx->dropped++;
    }
  return member_fits(ctx, len);
}

/* Where a member's `len` bytes are in the store (at `off`), and what its
 * key is. */
static inline stp__member *member_place(stp__member *m, size_t off, size_t len,
                                        bool sentry, uint8_t hash) {
  m->off = (uint16_t)off;
  m->len = (uint16_t)len;
  m->sentry = sentry;
  m->hash = hash;
  return m;
}

/* Appends the record of a member whose `len` bytes are at `off` in the
 * store. The caller has checked that there is room for one more. */
static inline stp__member *member_push(stp_context *ctx, size_t off, size_t len,
                                       bool sentry, uint8_t hash) {
  size_t i = ctx->n_members++;
  if (sentry)
    dsc_note(ctx, i, hash);
  return member_place(&ctx->members[i], off, len, sentry, hash);
}

/* Room for one more member of `len` bytes at the end of the store (after
 * a comma, comma_before_next). Sentry members win over third-party ones
 * (member_make_room). Returns the new member, its bytes not yet written,
 * or NULL. */
static inline stp__member *member_reserve(stp_context *ctx, size_t len,
                                          bool sentry, uint8_t hash) {
  if (len > STP_BAGGAGE_MAX_BYTES)
    return NULL;
  if (!member_fits(ctx, len) && !member_make_room(ctx, len, sentry))
    return NULL;
  if (comma_before_next(ctx))
    ctx->store[ctx->store_len++] = ',';
  stp__member *m = member_push(ctx, ctx->store_len, len, sentry, hash);
  ctx->store_len = (uint16_t)(ctx->store_len + len);
  return m;
}

/* A member's slices as the scanner found them. A plain member's value and
 * properties follow from its lengths (member_scanned): only the others
 * keep where they start. */
STP__INLINE void member_slices_from(stp__member *m, const scanned *in) {
  m->plain = in->plain;
  m->key_len = (uint16_t)in->key_len;
  m->value_len = (uint16_t)in->value_len;
  if (!in->plain) {
    m->value_off = (uint16_t)in->value_off;
    m->props_off = (uint16_t)in->props_off;
    m->props_len = (uint16_t)in->props_len;
  }
}

/* A member made of separate key and value (the head's own members),
 * stored as its text "key=value". */
static int member_add(stp_context *ctx, const char *key, size_t kl,
                      const char *val, size_t vl, bool sentry) {
  stp__member *m = member_reserve(ctx, kl + 1 + vl, sentry, key_hash(key, kl));
  if (!m)
    return STP_ERR_LIMIT;
  char *p = ctx->store + m->off;
  memcpy(p, key, kl);
  p[kl] = '=';
  if (vl)
    memcpy(p + kl + 1, val, vl);
  scanned sc = key_value(p, kl, vl);
  member_slices_from(m, &sc);
  return STP_OK;
}

/* The length of a member's text, "key=value[;props]". */
static size_t text_bytes(size_t key_len, size_t value_len, size_t props_len) {
  return key_len + 1 + value_len + (props_len ? 1 + props_len : 0);
}

static size_t text_len(const scanned *m) {
  return text_bytes(m->key_len, m->value_len, m->props_len);
}

/* A member found in an input that is not the store: its bytes copied in
 * one piece. */
static int member_add_copy(stp_context *ctx, const scanned *in, bool sentry,
                           uint8_t hash) {
  stp__member *m = member_reserve(ctx, in->len, sentry, hash);
  if (!m)
    return STP_ERR_LIMIT;
  memcpy(ctx->store + m->off, in->key, in->len);
  member_slices_from(m, in);
  return STP_OK;
}

/* A stored member's record, as the scanner would give it. A plain member
 * is "key=value", or "key=value;props" when its bytes go on past the
 * value (member_slices_from). */
STP__INLINE scanned member_scanned(const stp_context *ctx,
                                   const stp__member *m) {
  if (m->plain) {
    size_t value_end = (size_t)m->key_len + 1 + m->value_len;
    scanned sc = key_value(ctx->store + m->off, m->key_len, m->value_len);
    if (m->len > value_end) {
      sc.len = m->len;
      sc.props_off = value_end + 1;
      sc.props_len = m->len - sc.props_off;
    }
    return sc;
  }
  return (scanned){.key = ctx->store + m->off,
                   .len = m->len,
                   .key_len = m->key_len,
                   .value_off = m->value_off,
                   .value_len = m->value_len,
                   .props_off = m->props_off,
                   .props_len = m->props_len,
                   .plain = m->plain};
}

STP__INLINE void member_slices(const stp_context *ctx, const stp__member *m,
                               stp_baggage_member *out) {
  scanned sc = member_scanned(ctx, m);
  scanned_slices(&sc, out);
}

/* ---- sampling ----------------------------------------------------------- */

/* The smallest k with k / 1e6 >= rate: draws below it are sampled. */
static uint32_t rate_cut(double rate) {
  if (!(rate > 0))
    return 0;
  if (rate >= 1)
    return RAND_SCALE;
  uint32_t k = (uint32_t)(rate * RAND_SCALE);
  while (k > 0 && (double)(k - 1) / RAND_SCALE >= rate)
    k--;
  while ((double)k / RAND_SCALE < rate)
    k++;
  return k;
}

static uint32_t draw_rand(stp_sampled sampled, bool has_rate, double rate) {
  if (has_rate && sampled != STP_SAMPLED_DEFERRED) {
    uint32_t cut = rate_cut(rate);
    if (sampled == STP_SAMPLED_YES && cut > 0)
      return stp__random_range(0, cut);
    if (sampled == STP_SAMPLED_NO && cut < RAND_SCALE)
      return stp__random_range(cut, RAND_SCALE);
  }
  return stp__random_range(0, RAND_SCALE);
}

static int add_sample_rand(stp_context *ctx, uint32_t k) {
  char txt[8] = {'0', '.'};
  for (int i = 7; i >= 2; i--) {
    txt[i] = (char)('0' + k % 10);
    k /= 10;
  }
  return member_add(ctx, KEY("sentry-sample_rand"), txt, 8, true);
}

/* ---- heads -------------------------------------------------------------- */

static void start_head(stp_context *ctx) {
  const stp_config *cfg = ctx->cfg;
  double rate = 0;
  bool has_rate = stp_config_sample_rate(cfg, &rate);

  stp_trace_id_random(&ctx->span.trace_id);
  stp_span_id_random(&ctx->span.span_id);
  memset(&ctx->span.parent_span_id, 0, sizeof ctx->span.parent_span_id);
  ctx->span.has_parent = false;
  uint32_t k = stp__random_range(0, RAND_SCALE);
  ctx->sample_rand = (double)k / RAND_SCALE;
  ctx->span.sampled = !has_rate                 ? STP_SAMPLED_DEFERRED
                      : ctx->sample_rand < rate ? STP_SAMPLED_YES
                                                : STP_SAMPLED_NO;
  ctx->continued = false;
  ctx->frozen = false;
  ctx->n_members = 0;
  ctx->store_len = 0;
  ctx->dsc_keys = 0;

  /* DSC order: trace_id, public_key, org_id, sample_rate, sample_rand,
   * sampled, release, environment (transaction when set). */
  char hex[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(hex, &ctx->span.trace_id);
  member_add(ctx, KEY("sentry-trace_id"), hex, STP_TRACE_ID_HEX_LEN, true);
  const stp__dsc_static *head;
  size_t n = stp__config_head_members(cfg, &head);
  size_t i = 0;
  /* public_key, org_id, sample_rate come before sample_rand. */
  for (; i < n && strcmp(head[i].key, "sentry-release") != 0 &&
         strcmp(head[i].key, "sentry-environment") != 0;
       i++)
    member_add(ctx, head[i].key, head[i].key_len, head[i].value,
               head[i].value_len, true);
  add_sample_rand(ctx, k);
  if (ctx->span.sampled == STP_SAMPLED_YES)
    member_add(ctx, KEY("sentry-sampled"), KEY("true"), true);
  else if (ctx->span.sampled == STP_SAMPLED_NO)
    member_add(ctx, KEY("sentry-sampled"), KEY("false"), true);
  for (; i < n; i++)
    member_add(ctx, head[i].key, head[i].key_len, head[i].value,
               head[i].value_len, true);
}

int stp_context_init(stp_context *ctx, const stp_config *cfg) {
  if (!ctx || !cfg)
    return STP_ERR_INVALID_ARGUMENT;
  stp_context_begin(ctx, cfg);
  ctx->feeding = false;
  start_head(ctx);
  ctx->status = STP_OK;
  return STP_OK;
}

int stp_context_new(stp_context **out, const stp_config *cfg,
                    const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  stp_context *ctx = alloc ? alloc->malloc(sizeof *ctx, alloc->user_data)
                           : malloc(sizeof *ctx);
  if (!ctx)
    return STP_ERR_NOMEM;
  stp_context_init(ctx, cfg);
  *out = ctx;
  return STP_OK;
}

void stp_context_del(stp_context *ctx, const stp_allocator *alloc) {
  if (!ctx)
    return;
  if (alloc)
    alloc->free(ctx, alloc->user_data);
  else
    free(ctx);
}

/* ---- continuing --------------------------------------------------------- */

void stp_context_copy(stp_context *dst, const stp_context *src) {
  memcpy(dst, src, offsetof(stp_context, members));
  memcpy(dst->members, src->members, src->n_members * sizeof *src->members);
  memcpy(dst->store, src->store, src->store_len);
}

void stp_context_begin(stp_context *ctx, const stp_config *cfg) {
  if (!ctx)
    return;
  /* Only the header is reset: the store is overwritten as it fills. */
  ctx->cfg = cfg;
  memset(&ctx->span, 0, sizeof ctx->span);
  ctx->span.sampled = STP_SAMPLED_DEFERRED;
  ctx->sample_rand = 0;
  ctx->continued = false;
  ctx->frozen = false;
  ctx->feeding = cfg != NULL;
  ctx->have_trace = false;
  ctx->have_traceparent = false;
  ctx->status = STP_ERR_ABSENT;
  ctx->trace_error = 0;
  ctx->traceparent_error = 0;
  ctx->trace_values_seen = 0;
  ctx->scan_bytes = 0;
  ctx->scan_members = 0;
  ctx->skipped = 0;
  ctx->dropped = 0;
  ctx->n_members = 0;
  ctx->store_len = 0;
  ctx->dsc_keys = 0;
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
STP__INLINE const char *feed_scan(stp_context *ctx, const char *value,
                                  size_t len, const char *pos, bool cut,
                                  enum isa isa, enum pad pad) {
  const char *end = value + len;
  scanned m;
  size_t skipped = 0;
  /* Members looked at: those before this value and the valid ones in it
   * (seen), and the malformed ones in it (skipped). */
  size_t seen = ctx->scan_members;
  size_t n = ctx->n_members;
  uint64_t keys = ctx->dsc_keys;
  while (seen + skipped < STP_BAGGAGE_SCAN_MAX_MEMBERS &&
         (pad == UNPADDED || n < STP_BAGGAGE_MAX_MEMBERS)) {
    if (!next_member(&pos, end, &m, &skipped, isa, pad, DSC_WITHOUT_PROPS))
      break;
    seen++;
    /* The bound may have cut the last member short: only a member that
     * ended with a comma inside the bound is known to be whole. */
    if (cut && pos == end && end[-1] != ',')
      break;
    bool sentry = stp__is_sentry_key(m.key, m.key_len);
    uint8_t hash = key_hash(m.key, m.key_len);
    if (sentry && find_dsc_among(ctx, keys, n, m.key, m.key_len, hash) >= 0) {
      ctx->dropped++; /* a repeated DSC key: the first wins */
      continue;
    }
    if (pad == PADDED) {
      if (sentry)
        keys = dsc_noted(ctx, keys, n, hash);
      member_slices_from(member_place(&ctx->members[n++],
                                      (size_t)(m.key - ctx->store), m.len,
                                      sentry, hash),
                         &m);
    } else {
      if (member_add_copy(ctx, &m, sentry, hash) != STP_OK)
        ctx->dropped++; /* no room */
      /* Making room may have removed members. */
      n = ctx->n_members;
      keys = ctx->dsc_keys;
    }
  }
  ctx->scan_members = (uint32_t)(seen + skipped);
  ctx->n_members = (uint16_t)n;
  ctx->dsc_keys = keys;
  ctx->skipped += (uint32_t)skipped;
  return pos;
}

/* The members of value[pos, len) copied one by one from the caller's value
 * (feed_scan UNPADDED): a rare path, kept out of line. */
STP__NOINLINE static void copy_members_portable(stp_context *ctx,
                                                const char *value, size_t len,
                                                const char *pos, bool cut) {
  feed_scan(ctx, value, len, pos, cut, ISA_PORTABLE, UNPADDED);
}

#ifdef STP__HAVE_SSSE3
STP__SSSE3_FN STP__NOINLINE static void
copy_members_ssse3(stp_context *ctx, const char *value, size_t len,
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
STP__INLINE void feed_members(stp_context *ctx, const char *value, size_t len,
                              bool cut, enum isa isa) {
  const char *pos = value;
  size_t base = ctx->store_len;
  if (!cut && len > 0 && len <= STP_BAGGAGE_MAX_BYTES - base) {
    char *copy = ctx->store + base;
    memcpy(copy, value, len);
    memset(copy + len, 0, STORE_PAD);
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

static void feed_members_portable(stp_context *ctx, const char *value,
                                  size_t len, bool cut) {
  feed_members(ctx, value, len, cut, ISA_PORTABLE);
}

#ifdef STP__HAVE_SSSE3
STP__HOT STP__SSSE3_FN static void
feed_members_ssse3(stp_context *ctx, const char *value, size_t len, bool cut) {
  feed_members(ctx, value, len, cut, ISA_SSSE3);
}
#endif

static void feed_baggage(stp_context *ctx, const char *value, size_t len) {
  if (ctx->scan_bytes >= STP_BAGGAGE_SCAN_MAX_BYTES ||
      ctx->scan_members >= STP_BAGGAGE_SCAN_MAX_MEMBERS) {
    if (len)
      ctx->dropped++;
    return;
  }
  size_t room = STP_BAGGAGE_SCAN_MAX_BYTES - ctx->scan_bytes;
  bool cut = len > room;
  if (cut) {
    len = room;
    ctx->dropped++;
  }
  ctx->scan_bytes += (uint32_t)len;
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
feed_trace_header(stp_context *ctx, const char *name, size_t name_len,
                  const char *value, size_t value_len) {
  switch (name_len) {
  case 12:
    if (stp__name_eq(name, name_len, KEY("sentry-trace")) && !ctx->have_trace &&
        ctx->trace_values_seen < TRACE_VALUES_MAX) {
      ctx->trace_values_seen++;
      int err = stp_sentry_trace_parse(&ctx->incoming, value, value_len);
      if (err == STP_OK)
        ctx->have_trace = true;
      else if (!ctx->trace_error)
        ctx->trace_error = err;
    }
    break;
  case 11:
    if (stp__name_eq(name, name_len, KEY("traceparent")) &&
        !ctx->have_traceparent && !ctx->traceparent_error &&
        stp_config_accept_traceparent(ctx->cfg)) {
      /* W3C: a second traceparent is not looked at. */
      int err = stp_traceparent_parse(&ctx->incoming_tp, value, value_len);
      if (err == STP_OK)
        ctx->have_traceparent = true;
      else
        ctx->traceparent_error = err;
    }
    break;
  case 7:
    if (stp__name_eq(name, name_len, KEY("baggage")))
      feed_baggage(ctx, value, value_len);
    break;
  default:
    break;
  }
}

STP__HOT int stp_context_feed(stp_context *ctx, const char *name,
                              size_t name_len, const char *value,
                              size_t value_len) {
  if (!ctx || !ctx->feeding || (!name && name_len) || (!value && value_len))
    return STP_ERR_INVALID_ARGUMENT;
  /* Most headers of a request are not trace headers: they leave here. */
  if (stp_header_is_candidate(name, name_len))
    feed_trace_header(ctx, name, name_len, value, value_len);
  return STP_OK;
}

/* The Sentry member with this key, as slices of the store; false when
 * absent. */
STP__INLINE bool dsc_member(const stp_context *ctx, const char *key, size_t kl,
                            stp_baggage_member *m) {
  int i = find_dsc(ctx, key, kl);
  if (i < 0)
    return false;
  member_slices(ctx, &ctx->members[i], m);
  return true;
}

static int org_check(const stp_context *ctx) {
  const char *mine = stp_config_org_id(ctx->cfg);
  stp_baggage_member m;
  bool has_in = dsc_member(ctx, KEY("sentry-org_id"), &m);
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
  if (has_in != (mine != NULL) &&
      stp_config_strict_trace_continuation(ctx->cfg))
    return STP_ERR_ORG_MISMATCH;
  return STP_OK;
}

/* A DSC number in [0, 1] (or [0, 1) with open_top). Its value is read as
 * it is when it parses so (a number has no '%' to decode), and decoded
 * first otherwise. */
STP__INLINE bool parse_unit(const stp_context *ctx, const char *key, size_t kl,
                            double *out, bool open_top) {
  stp_baggage_member m;
  if (!dsc_member(ctx, key, kl, &m))
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
static stp_sampled dsc_sampled(const stp_context *ctx) {
  stp_baggage_member m;
  char buf[16];
  size_t n;
  if (!dsc_member(ctx, KEY("sentry-sampled"), &m) ||
      stp_baggage_decode(buf, sizeof buf, &n, m.value, m.value_len) != STP_OK)
    return STP_SAMPLED_DEFERRED;
  if (n == 4 && memcmp(buf, "true", 4) == 0)
    return STP_SAMPLED_YES;
  if (n == 5 && memcmp(buf, "false", 5) == 0)
    return STP_SAMPLED_NO;
  return STP_SAMPLED_DEFERRED;
}

STP__HOT int stp_context_finish(stp_context *ctx) {
  if (!ctx || !ctx->cfg)
    return STP_ERR_INVALID_ARGUMENT;
  ctx->feeding = false;
  const stp_trace_header *in = ctx->have_trace         ? &ctx->incoming
                               : ctx->have_traceparent ? &ctx->incoming_tp
                                                       : NULL;
  int status = STP_ERR_ABSENT;
  if (in)
    status = org_check(ctx);
  else if (ctx->trace_error)
    status = ctx->trace_error;
  else if (ctx->traceparent_error)
    status = ctx->traceparent_error;
  if (status != STP_OK) {
    start_head(ctx); /* incoming baggage is dropped with it */
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

  double r, rate;
  if (parse_unit(ctx, KEY("sentry-sample_rand"), &r, true)) {
    ctx->sample_rand = r;
  } else {
    int i = find_dsc(ctx, KEY("sentry-sample_rand"));
    if (i >= 0)
      member_remove(ctx, (size_t)i); /* invalid: replaced */
    bool has_rate = parse_unit(ctx, KEY("sentry-sample_rate"), &rate, false);
    uint32_t k = draw_rand(parent, has_rate, rate);
    ctx->sample_rand = (double)k / RAND_SCALE;
    if (add_sample_rand(ctx, k) != STP_OK)
      ctx->dropped++;
  }
  /* No decision upstream, in the trace header or the DSC: decide here as
   * a Sentry SDK would. */
  if (ctx->span.sampled == STP_SAMPLED_DEFERRED &&
      stp_config_sample_rate(ctx->cfg, &rate))
    ctx->span.sampled =
        ctx->sample_rand < rate ? STP_SAMPLED_YES : STP_SAMPLED_NO;

  ctx->continued = true;
  ctx->frozen = true;
  ctx->status = STP_OK;
  return STP_OK;
}

/* ---- accessors ---------------------------------------------------------- */

const stp_config *stp_context_config(const stp_context *ctx) {
  return ctx->cfg;
}

int stp_context_status(const stp_context *ctx) {
  return ctx->status;
}

bool stp_context_continued(const stp_context *ctx) {
  return ctx->continued;
}

const stp_span *stp_context_span(const stp_context *ctx) {
  return &ctx->span;
}

double stp_context_sample_rand(const stp_context *ctx) {
  return ctx->sample_rand;
}

bool stp_context_frozen(const stp_context *ctx) {
  return ctx->frozen;
}

void stp_context_freeze(stp_context *ctx) {
  if (ctx && !ctx->frozen)
    ctx->frozen = true;
}

size_t stp_context_baggage_skipped(const stp_context *ctx) {
  return ctx->skipped;
}

size_t stp_context_baggage_dropped(const stp_context *ctx) {
  return ctx->dropped;
}

size_t stp_context_member_count(const stp_context *ctx) {
  return ctx->n_members;
}

int stp_context_member(const stp_context *ctx, size_t index,
                       stp_baggage_member *m, bool *is_sentry) {
  if (!ctx || !m)
    return STP_ERR_INVALID_ARGUMENT;
  if (index >= ctx->n_members)
    return STP_ERR_NOT_FOUND;
  member_slices(ctx, &ctx->members[index], m);
  if (is_sentry)
    *is_sentry = ctx->members[index].sentry;
  return STP_OK;
}

int stp_context_dsc_get(const stp_context *ctx, char *buf, size_t cap,
                        size_t *out_len, const char *key, size_t key_len) {
  if (!ctx || (!key && key_len))
    return STP_ERR_INVALID_ARGUMENT;
  char full[7 + STP_BAGGAGE_MAX_BYTES]; /* no stored key is longer */
  if (!stp__is_sentry_key(key, key_len)) {
    if (key_len > sizeof full - 7)
      return STP_ERR_NOT_FOUND;
    memcpy(full, "sentry-", 7);
    if (key_len)
      memcpy(full + 7, key, key_len);
    key = full;
    key_len += 7;
  }
  stp_baggage_member m;
  if (!dsc_member(ctx, key, key_len, &m))
    return STP_ERR_NOT_FOUND;
  return stp_baggage_decode(buf, cap, out_len, m.value, m.value_len);
}

int stp_context_set_transaction(stp_context *ctx, const char *name,
                                size_t len) {
  if (!ctx || !ctx->cfg || (!name && len))
    return STP_ERR_INVALID_ARGUMENT;
  /* While headers are fed, the context may yet continue a DSC that must
   * go on as received. */
  if (ctx->frozen || ctx->feeding)
    return STP_ERR_FROZEN;
  char enc[STP_BAGGAGE_MAX_BYTES + 1];
  size_t enc_len;
  if (stp_baggage_encode(enc, sizeof enc, &enc_len, name, len) != STP_OK)
    return STP_ERR_LIMIT;
  /* The name set before stays when the new one does not fit. */
  char old[STP_BAGGAGE_MAX_BYTES];
  size_t old_len = 0;
  int i = find_dsc(ctx, KEY("sentry-transaction"));
  if (i >= 0) {
    stp_baggage_member m;
    member_slices(ctx, &ctx->members[i], &m);
    old_len = m.value_len;
    memcpy(old, m.value, old_len);
    member_remove(ctx, (size_t)i);
  }
  int err = member_add(ctx, KEY("sentry-transaction"), enc, enc_len, true);
  if (err != STP_OK && i >= 0) /* fits: the room it had is free again */
    member_add(ctx, KEY("sentry-transaction"), old, old_len, true);
  return err;
}

STP__HOT void stp_context_child_span(const stp_context *ctx, stp_span *out) {
  out->trace_id = ctx->span.trace_id;
  out->parent_span_id = ctx->span.span_id;
  out->has_parent = true;
  out->sampled = ctx->span.sampled;
  stp_span_id_random(&out->span_id);
}

/* ---- outgoing values ---------------------------------------------------- */

int stp_context_sentry_trace(const stp_context *ctx, const stp_span *span,
                             char *buf, size_t cap, size_t *out_len) {
  if (!ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (!span)
    span = &ctx->span;
  return stp_sentry_trace_format(buf, cap, out_len, &span->trace_id,
                                 &span->span_id, span->sampled);
}

int stp_context_traceparent(const stp_context *ctx, const stp_span *span,
                            char *buf, size_t cap, size_t *out_len) {
  if (!ctx)
    return STP_ERR_INVALID_ARGUMENT;
  if (!span)
    span = &ctx->span;
  return stp_traceparent_format(buf, cap, out_len, &span->trace_id,
                                &span->span_id, span->sampled);
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
  return m->plain ? m->len : text_bytes(m->key_len, m->value_len, m->props_len);
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
static member_set member_sets(const stp_context *ctx, member_set *joined) {
  member_set sentry = 0, join = 0;
  size_t next = SIZE_MAX; /* where a member joined to the last would start */
  for (size_t i = 0; i < ctx->n_members; i++) {
    const stp__member *m = &ctx->members[i];
    size_t off = m->off;
    sentry |= (member_set)m->sentry << i;
    if (off == next && m->plain && ctx->store[off - 1] == ',')
      join |= member_bit(i);
    next = m->plain ? off + m->len + 1 : SIZE_MAX;
  }
  *joined = join;
  return sentry;
}

/* Writes the stored members of `set` in the order of the store. A run of
 * them joined to one another goes out in one copy with its commas: their
 * bytes are their text. */
STP__HOT static void put_stored(stp__buf *b, const stp_context *ctx,
                                member_set set, member_set joined) {
  while (set) {
    size_t i = stp__lowest_bit(set);
    const stp__member *m = &ctx->members[i];
    if (!m->plain) {
      scanned s = member_scanned(ctx, m);
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
    stp__put(b, ctx->store + from, to - from);
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

static size_t set_bytes(const stp_context *ctx, member_set set) {
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
static void put_within_limits(stp__buf *b, const stp_context *ctx,
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

STP__HOT int stp_context_baggage(stp_context *ctx, const char *existing,
                                 size_t existing_len, char *buf, size_t cap,
                                 size_t *out_len) {
  if (!ctx || !ctx->cfg || (!existing && existing_len) || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  if (!ctx->frozen) /* a frozen context is only read: shareable */
    ctx->frozen = true;

  member_set joined, dsc = member_sets(ctx, &joined);
  member_set third = 0;
  if (stp_config_propagate_third_party_baggage(ctx->cfg) && ctx->n_members)
    third = ~dsc & (~(member_set)0 >> (64 - ctx->n_members));
  /* The DSC goes out sentry-trace_id first (the lead), then the others as
   * received. */
  int first = find_dsc(ctx, KEY("sentry-trace_id"));
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

static void put_escaped(stp__buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&':
      stp__put(b, KEY("&amp;"));
      break;
    case '<':
      stp__put(b, KEY("&lt;"));
      break;
    case '>':
      stp__put(b, KEY("&gt;"));
      break;
    case '"':
      stp__put(b, KEY("&quot;"));
      break;
    case '\'':
      stp__put(b, KEY("&#x27;"));
      break;
    default:
      stp__putc(b, s[i]);
    }
  }
}

int stp_context_meta(stp_context *ctx, char *buf, size_t cap, size_t *out_len) {
  if (!ctx || !ctx->cfg || (!buf && cap))
    return STP_ERR_INVALID_ARGUMENT;
  char trace[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  int err = stp_context_sentry_trace(ctx, NULL, trace, sizeof trace, &tl);
  if (err == STP_OK)
    err = stp_context_baggage(ctx, NULL, 0, bag, sizeof bag, &bl);
  if (err != STP_OK)
    return err;
  stp__buf out = {buf, cap, 0};
  stp__put(&out, KEY("<meta name=\"sentry-trace\" content=\""));
  put_escaped(&out, trace, tl);
  stp__put(&out, KEY("\">"));
  if (bl) {
    stp__put(&out, KEY("<meta name=\"baggage\" content=\""));
    put_escaped(&out, bag, bl);
    stp__put(&out, KEY("\">"));
  }
  return stp__finish(&out, out_len);
}
