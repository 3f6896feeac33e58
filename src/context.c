/* The context as an object: heap contexts, copies, and what can be read
 * from or set on a context once it is made. */
#include "context.h"

/* ---- heap contexts ------------------------------------------------------- */

/* A heap context and the allocator that made it, in one block. */
typedef struct heap_context {
  stp_allocator alloc;
  stp_context ctx;
} heap_context;

int stp_context_new(stp_context **out, const stp_config *cfg,
                    const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  if (!alloc)
    alloc = stp_allocator_default();
  heap_context *h = alloc->malloc(sizeof *h, alloc->user_data);
  if (!h)
    return STP_ERR_NOMEM;
  h->alloc = *alloc;
  stp_context_init(&h->ctx, cfg);
  *out = &h->ctx;
  return STP_OK;
}

void stp_context_del(stp_context *ctx) {
  if (!ctx)
    return;
  heap_context *h =
      (heap_context *)(void *)((char *)ctx - offsetof(heap_context, ctx));
  h->alloc.free(h, h->alloc.user_data);
}

void stp_context_copy(stp_context *dst, const stp_context *src) {
  stp__ctx *d = stp__ctx_of(dst);
  const stp__ctx *s = stp__cctx_of(src);
  /* The used part only: the fields, the member records, the store. */
  memcpy(d, s, offsetof(stp__ctx, members));
  stp__full_capacity(d);
  memcpy(d->members, s->members, s->n_members * sizeof *s->members);
  memcpy(stp__store(d), stp__cstore(s), s->store_len);
  if (s->feeding) /* then src is a whole context too */
    *stp__feed_of(d) = *stp__cfeed_of(s);
}

/* ---- compact copies ------------------------------------------------------ */

/* Member records a compact copy of ctx has room for: its own and one more
 * (a transaction name set later), within the most any context holds. */
static size_t compact_records(const stp__ctx *ctx) {
  return ctx->n_members < STP_BAGGAGE_MAX_MEMBERS ? ctx->n_members + 1u
                                                  : ctx->n_members;
}

/* Rounded up to STP_CONTEXT_ALIGN, so that copies can be laid end to end. */
static size_t aligned(size_t n) {
  return (n + STP_CONTEXT_ALIGN - 1) & ~(size_t)(STP_CONTEXT_ALIGN - 1);
}

/* Where a compact copy of ctx keeps its store. A compact copy has no pad
 * after its store: it is never fed, and nothing else reads past a
 * member's bytes. */
static size_t compact_store_at(const stp__ctx *ctx) {
  return offsetof(stp__ctx, members) +
         compact_records(ctx) * sizeof(stp__member);
}

/* Store bytes a compact copy of ctx has past what it holds: for a context
 * whose DSC is not frozen yet (a head), a `sentry-transaction` member of
 * STP_COMPACT_TRANSACTION_ROOM bytes and its comma, since a head is
 * usually named once its request is routed, after it was copied; none
 * for a frozen one, which takes no name. */
static size_t compact_spare(const stp__ctx *ctx) {
  return ctx->frozen ? 0
                     : sizeof "sentry-transaction=" - 1 +
                           STP_COMPACT_TRANSACTION_ROOM + 1;
}

size_t stp_context_compact_size(const stp_context *context) {
  const stp__ctx *ctx = stp__cctx_of(context);
  if (!ctx)
    return 0;
  return aligned(compact_store_at(ctx) + ctx->store_len + compact_spare(ctx));
}

/* STP_OK when ctx is decided, so that it can be copied compactly. */
static int compactable(const stp__ctx *ctx) {
  return ctx->feeding || !ctx->cfg ? STP_ERR_STATE : STP_OK;
}

int stp_context_compact(stp_context **out, void *mem, size_t size,
                        const stp_context *src) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  const stp__ctx *s = stp__cctx_of(src);
  if (!s || !mem || (uintptr_t)mem % STP_CONTEXT_ALIGN != 0)
    return STP_ERR_INVALID_ARGUMENT;
  int err = compactable(s);
  if (err != STP_OK)
    return err;
  if (size < stp_context_compact_size(src))
    return STP_ERR_BUFFER_TOO_SMALL;
  size_t store_at = compact_store_at(s);
  size_t room = size - store_at; /* >= s->store_len */
  if (room > STP_BAGGAGE_MAX_BYTES)
    room = STP_BAGGAGE_MAX_BYTES;
  stp__ctx *d = mem;
  /* The fields and the member records in one piece, then the store. */
  memcpy(d, s, offsetof(stp__ctx, members) + s->n_members * sizeof *s->members);
  d->member_cap = (uint16_t)compact_records(s);
  d->store_cap = (uint16_t)room;
  d->store_at = (uint16_t)store_at;
  memcpy(stp__store(d), stp__cstore(s), s->store_len);
  *out = stp__public(d);
  return STP_OK;
}

int stp_context_clone(stp_context **out, const stp_context *src,
                      const stp_allocator *alloc) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!src || (alloc && (!alloc->malloc || !alloc->free)))
    return STP_ERR_INVALID_ARGUMENT;
  int err = compactable(stp__cctx_of(src));
  if (err != STP_OK)
    return err;
  if (!alloc)
    alloc = stp_allocator_default();
  size_t size = stp_context_compact_size(src);
  heap_context *h =
      alloc->malloc(offsetof(heap_context, ctx) + size, alloc->user_data);
  if (!h)
    return STP_ERR_NOMEM;
  /* The copy refuses a block not aligned as malloc's, before any field of
   * h is written through a misaligned pointer. */
  err = stp_context_compact(out, (char *)h + offsetof(heap_context, ctx), size,
                            src);
  if (err != STP_OK) {
    alloc->free(h, alloc->user_data);
    return err;
  }
  h->alloc = *alloc;
  return STP_OK;
}

/* ---- reading ------------------------------------------------------------- */

const char *stp__context_store(const stp_context *ctx, size_t *out_len) {
  *out_len = stp__cctx_of(ctx)->store_len;
  return stp__cstore(stp__cctx_of(ctx));
}

const stp_config *stp_context_config(const stp_context *ctx) {
  return stp__cctx_of(ctx)->cfg;
}

int stp_context_status(const stp_context *ctx) {
  return stp__cctx_of(ctx)->status;
}

bool stp_context_continued(const stp_context *ctx) {
  return stp__cctx_of(ctx)->continued;
}

const stp_span *stp_context_span(const stp_context *ctx) {
  return &stp__cctx_of(ctx)->span;
}

double stp_context_sample_rand(const stp_context *ctx) {
  return stp__cctx_of(ctx)->sample_rand;
}

bool stp_context_frozen(const stp_context *ctx) {
  return stp__cctx_of(ctx)->frozen;
}

size_t stp_context_baggage_skipped(const stp_context *ctx) {
  return stp__cctx_of(ctx)->skipped;
}

size_t stp_context_baggage_dropped(const stp_context *ctx) {
  return stp__cctx_of(ctx)->dropped;
}

size_t stp_context_member_count(const stp_context *ctx) {
  return stp__cctx_of(ctx)->n_members;
}

int stp_context_member(const stp_context *context, stp_baggage_member *m,
                       bool *is_sentry, size_t index) {
  const stp__ctx *ctx = stp__cctx_of(context);
  if (!ctx || !m)
    return STP_ERR_INVALID_ARGUMENT;
  if (index >= ctx->n_members)
    return STP_ERR_NOT_FOUND;
  stp__member_slices(ctx, &ctx->members[index], m);
  if (is_sentry)
    *is_sentry = ctx->members[index].sentry;
  return STP_OK;
}

int stp_context_dsc_get(const stp_context *context, char *buf, size_t cap,
                        size_t *out_len, const char *key, size_t key_len) {
  const stp__ctx *ctx = stp__cctx_of(context);
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
  if (!stp__dsc_member(ctx, key, key_len, &m))
    return STP_ERR_NOT_FOUND;
  return stp_baggage_decode(buf, cap, out_len, m.value, m.value_len);
}

STP__HOT int stp_context_child_span(const stp_context *context, stp_span *out) {
  const stp__ctx *ctx = stp__cctx_of(context);
  if (!ctx || !out)
    return STP_ERR_INVALID_ARGUMENT;
  out->trace_id = ctx->span.trace_id;
  out->parent_span_id = ctx->span.span_id;
  out->has_parent = true;
  out->sampled = ctx->span.sampled;
  stp_span_id_random(&out->span_id);
  return STP_OK;
}

/* ---- changing ------------------------------------------------------------ */

void stp_context_freeze(stp_context *ctx) {
  /* Written only when it changes: a frozen context is only read, and may
   * be shared between threads. */
  if (ctx && !stp__ctx_of(ctx)->frozen)
    stp__ctx_of(ctx)->frozen = true;
}

int stp_context_set_transaction(stp_context *context, const char *name,
                                size_t len) {
  stp__ctx *ctx = stp__ctx_of(context);
  if (!ctx || !ctx->cfg || (!name && len))
    return STP_ERR_INVALID_ARGUMENT;
  /* While headers are fed, the context may yet continue a DSC that must
   * go on as received. */
  if (ctx->feeding)
    return STP_ERR_STATE;
  if (ctx->frozen)
    return STP_ERR_FROZEN;
  char enc[STP_BAGGAGE_MAX_BYTES + 1];
  size_t enc_len;
  if (stp_baggage_encode(enc, sizeof enc, &enc_len, name, len) != STP_OK)
    return STP_ERR_LIMIT;
  /* The name set before stays when the new one does not fit. */
  char old[STP_BAGGAGE_MAX_BYTES];
  size_t old_len = 0;
  int i = stp__find_dsc(ctx, STP__KEY("sentry-transaction"));
  if (i >= 0) {
    stp_baggage_member m;
    stp__member_slices(ctx, &ctx->members[i], &m);
    old_len = m.value_len;
    memcpy(old, m.value, old_len);
    stp__member_remove(ctx, (size_t)i);
  }
  int err =
      stp__member_add(ctx, STP__KEY("sentry-transaction"), enc, enc_len, true);
  if (err != STP_OK && i >= 0) /* fits: the room it had is free again */
    stp__member_add(ctx, STP__KEY("sentry-transaction"), old, old_len, true);
  return err;
}
