/* The context's private layout and its member store, shared by the core's
 * context files (head.c, continue.c, context.c, outgoing.c, store.c,
 * sampling.c); not installed. The public stp_context is storage of the
 * same size and alignment (stp.h). */
#ifndef STP_CONTEXT_H
#define STP_CONTEXT_H

#include "config.h"
#include "scan.h"

/* One stored baggage member: offsets into the store. */
typedef struct stp__member {
  uint16_t off; /* the member's bytes in the store: off .. off + len */
  uint16_t len;
  uint16_t key_len;   /* the key starts at off */
  uint16_t value_len; /* value_off, props_off and props_len are set only */
  uint16_t value_off; /* when plain is 0; offsets from off */
  uint16_t props_off;
  uint16_t props_len;
  uint8_t sentry;
  uint8_t hash;  /* of the key, to skip most key comparisons */
  uint8_t plain; /* its bytes are its text: "key=value[;props]" */
} stp__member;

typedef struct stp__ctx {
  const stp_config *cfg;
  stp_span span;
  double sample_rand;
  bool continued;
  bool frozen;
  bool feeding; /* between begin and finish: the feed state (stp__feed_of) */
  uint16_t store_at; /* the store: this many bytes from the context */
  int status;
  uint32_t skipped;
  uint32_t dropped;
  uint16_t n_members;
  uint16_t store_len;
  /* What this context has room for: STP_BAGGAGE_MAX_MEMBERS and
   * STP_BAGGAGE_MAX_BYTES in a context of STP_CONTEXT_SIZE, what it holds
   * (and what room it was given) in a compact copy. */
  uint16_t member_cap;
  uint16_t store_cap;
  uint64_t dsc_keys;  /* a bit per hash of every Sentry key stored */
  uint8_t dsc_at[64]; /* per bit set: the first Sentry member with it */
  /* member_cap records, then the store: store_cap bytes, and in a whole
   * context STORE_PAD more, zeros after a value being scanned in the
   * store, where every run of the scanner stops. */
  stp__member members[];
} stp__ctx;

/* The store's bytes past store_cap: room for the pad of an input scanned
 * in the store (scan.h). */
enum { STP__STORE_PAD = 16 };

/* Where the store of a whole context starts. */
enum {
  STP__FULL_STORE_AT = offsetof(stp__ctx, members) +
                       STP_BAGGAGE_MAX_MEMBERS * sizeof(stp__member)
};

/* What only a context being fed keeps, between begin and finish: the
 * trace headers as parsed, and the scan's bounds. A context is fed only
 * when it is a whole one: this lives past its store (and the store's pad),
 * so that a compact copy has none of it. */
typedef struct stp__feed {
  stp_trace_header incoming;
  stp_trace_header incoming_tp;
  uint32_t scan_bytes;
  uint32_t scan_members;
  int16_t trace_error; /* STP_ERR_* */
  int16_t traceparent_error;
  uint8_t trace_values_seen;
  bool have_trace;
  bool have_traceparent;
} stp__feed;

enum {
  STP__FEED_AT = (STP__FULL_STORE_AT + STP_BAGGAGE_MAX_BYTES + STP__STORE_PAD +
                  _Alignof(stp__feed) - 1) &
                 ~(_Alignof(stp__feed) - 1)
};

_Static_assert(STP__FEED_AT + sizeof(stp__feed) <= STP_CONTEXT_SIZE,
               "STP_CONTEXT_SIZE (stp.h) holds the private layout at its "
               "largest");
_Static_assert(_Alignof(stp__ctx) <= STP_CONTEXT_ALIGN &&
                   _Alignof(stp_context) == STP_CONTEXT_ALIGN,
               "STP_CONTEXT_ALIGN (stp.h) suits the private layout");

/* The private layout of a public context: the same storage, as glibc's
 * pthread_mutex_t is to its own internals. */
static inline stp__ctx *stp__ctx_of(stp_context *ctx) {
  return (stp__ctx *)(void *)ctx;
}

static inline const stp__ctx *stp__cctx_of(const stp_context *ctx) {
  return (const stp__ctx *)(const void *)ctx;
}

static inline stp_context *stp__public(stp__ctx *c) {
  return (stp_context *)(void *)c;
}

/* The member store's bytes. */
static inline char *stp__store(stp__ctx *c) {
  return (char *)c + c->store_at;
}

static inline const char *stp__cstore(const stp__ctx *c) {
  return (const char *)c + c->store_at;
}

/* Room for the most a context may hold: what stp_context_init and
 * stp_context_begin give a context of STP_CONTEXT_SIZE. */
static inline void stp__full_capacity(stp__ctx *c) {
  c->member_cap = STP_BAGGAGE_MAX_MEMBERS;
  c->store_cap = STP_BAGGAGE_MAX_BYTES;
  c->store_at = STP__FULL_STORE_AT;
}

/* The store of a context being fed (between begin and finish), which is
 * always a whole one: at a constant offset, so that the scan's loops keep
 * no pointer to it in a register. */
static inline char *stp__fed_store(stp__ctx *c) {
  return (char *)c + STP__FULL_STORE_AT;
}

/* The feed state of a context being fed (ctx->feeding). */
static inline stp__feed *stp__feed_of(stp__ctx *c) {
  return (stp__feed *)(void *)((char *)c + STP__FEED_AT);
}

static inline const stp__feed *stp__cfeed_of(const stp__ctx *c) {
  return (const stp__feed *)(const void *)((const char *)c + STP__FEED_AT);
}

enum { STP__RAND_SCALE = 1000000 }; /* sample_rand has 6 decimals */

/* ---- the member store (store.c) ------------------------------------------
 * Members are kept as their bytes in the store, one comma apart, and a
 * record each in ctx->members. Sentry members are found by the hash of
 * their key: ctx->dsc_keys has a bit per hash stored, and ctx->dsc_at the
 * first member with each bit. */

/* Every DSC key starts with "sentry-": mix its length and the bytes after
 * the prefix that tell the known keys apart. The fourteen keys the SDKs
 * write (trace_id ... thread_id) fall on fourteen different bits of
 * ctx->dsc_keys. */
static inline uint8_t stp__key_hash(const char *k, size_t n) {
  unsigned h = (unsigned)n;
  if (n > 8)
    h += (unsigned char)k[8] * 2u + (unsigned char)k[n - 1] * 7u;
  return (uint8_t)h;
}

static inline uint64_t stp__key_bit(uint8_t hash) {
  return (uint64_t)1 << (hash & 63);
}

/* The index of the Sentry member with this key, or -1, among the first
 * `count` members, whose Sentry keys have the bits `keys`: ctx->n_members
 * and ctx->dsc_keys, or a scan's own copies of them (continue.c). Most
 * lookups are for a key not stored, which the bit of its hash answers;
 * the others start at the first Sentry member with that bit, usually the
 * one. */
STP__INLINE int stp__find_dsc_among(const stp__ctx *ctx, uint64_t keys,
                                    size_t count, const char *key, size_t n,
                                    uint8_t h) {
  if (!(keys & stp__key_bit(h)))
    return -1;
  for (size_t i = ctx->dsc_at[h & 63]; i < count; i++) {
    const stp__member *m = &ctx->members[i];
    if (m->hash == h && m->sentry && m->key_len == n &&
        memcmp(stp__cstore(ctx) + m->off, key, n) == 0)
      return (int)i;
  }
  return -1;
}

STP__INLINE int stp__find_dsc(const stp__ctx *ctx, const char *key, size_t n) {
  return stp__find_dsc_among(ctx, ctx->dsc_keys, ctx->n_members, key, n,
                             stp__key_hash(key, n));
}

/* Notes that members[i] is a Sentry member with this hash: returns the
 * Sentry keys' bits `keys` with its bit. */
static inline uint64_t stp__dsc_noted(stp__ctx *ctx, uint64_t keys, size_t i,
                                      uint8_t hash) {
  uint64_t bit = stp__key_bit(hash);
  if (!(keys & bit))
    ctx->dsc_at[hash & 63] = (uint8_t)i;
  return keys | bit;
}

/* Where a member's `len` bytes are in the store (at `off`), and what its
 * key is. */
static inline stp__member *stp__member_place(stp__member *m, size_t off,
                                             size_t len, bool sentry,
                                             uint8_t hash) {
  m->off = (uint16_t)off;
  m->len = (uint16_t)len;
  m->sentry = sentry;
  m->hash = hash;
  return m;
}

/* A member's slices as the scanner found them. A plain member's value and
 * properties follow from its lengths (stp__member_scanned): only the
 * others keep where they start. */
STP__INLINE void stp__member_slices_from(stp__member *m, const scanned *in) {
  m->plain = in->plain;
  m->key_len = (uint16_t)in->key_len;
  m->value_len = (uint16_t)in->value_len;
  if (!in->plain) {
    m->value_off = (uint16_t)in->value_off;
    m->props_off = (uint16_t)in->props_off;
    m->props_len = (uint16_t)in->props_len;
  }
}

/* A stored member's record, as the scanner would give it. A plain member
 * is "key=value", or "key=value;props" when its bytes go on past the
 * value. */
STP__INLINE scanned stp__member_scanned(const stp__ctx *ctx,
                                        const stp__member *m) {
  if (m->plain) {
    size_t value_end = (size_t)m->key_len + 1 + m->value_len;
    scanned sc = key_value(stp__cstore(ctx) + m->off, m->key_len, m->value_len);
    if (m->len > value_end) {
      sc.len = m->len;
      sc.props_off = value_end + 1;
      sc.props_len = m->len - sc.props_off;
    }
    return sc;
  }
  return (scanned){.key = stp__cstore(ctx) + m->off,
                   .len = m->len,
                   .key_len = m->key_len,
                   .value_off = m->value_off,
                   .value_len = m->value_len,
                   .props_off = m->props_off,
                   .props_len = m->props_len,
                   .plain = m->plain};
}

STP__INLINE void stp__member_slices(const stp__ctx *ctx, const stp__member *m,
                                    stp_baggage_member *out) {
  scanned sc = stp__member_scanned(ctx, m);
  scanned_slices(&sc, out);
}

/* The Sentry member with this key, as slices of the store; false when
 * absent. */
STP__INLINE bool stp__dsc_member(const stp__ctx *ctx, const char *key,
                                 size_t kl, stp_baggage_member *m) {
  int i = stp__find_dsc(ctx, key, kl);
  if (i < 0)
    return false;
  stp__member_slices(ctx, &ctx->members[i], m);
  return true;
}

/* The length of a member's text, "key=value[;props]". */
static inline size_t stp__text_bytes(size_t key_len, size_t value_len,
                                     size_t props_len) {
  return key_len + 1 + value_len + (props_len ? 1 + props_len : 0);
}

/* Empties the store. */
static inline void stp__store_clear(stp__ctx *ctx) {
  ctx->n_members = 0;
  ctx->store_len = 0;
  ctx->dsc_keys = 0;
}

/* Removes members[i] and one comma next to it. */
void stp__member_remove(stp__ctx *ctx, size_t i);

/* Appends a member made of separate key and value, stored as its text
 * "key=value". STP_ERR_LIMIT when it does not fit. */
int stp__member_add(stp__ctx *ctx, const char *key, size_t kl, const char *val,
                    size_t vl, bool sentry);

/* Appends a member found in an input that is not the store, its bytes
 * copied in one piece. STP_ERR_LIMIT when it does not fit. */
int stp__member_add_copy(stp__ctx *ctx, const scanned *in, bool sentry,
                         uint8_t hash);

/* ---- sampling and heads (sampling.c, head.c) ----------------------------- */

/* A sample_rand of k / 1e6 for a decision `sampled` taken at `rate` (when
 * has_rate): below the rate when sampled, at or above it when not. */
uint32_t stp__draw_rand(stp_sampled sampled, bool has_rate, double rate);

/* Appends `sentry-sample_rand` = k / 1e6, with six decimals. */
int stp__add_sample_rand(stp__ctx *ctx, uint32_t k);

/* Makes ctx the head of a new trace with its config's DSC; the incoming
 * state (status, counters) is left to the caller. */
void stp__start_head(stp__ctx *ctx);

#endif /* STP_CONTEXT_H */
