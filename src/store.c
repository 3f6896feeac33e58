/* The context's member store: appending, evicting and removing members
 * (SPEC section 8, the limits). */
#include "context.h"

static inline void dsc_note(stp__ctx *ctx, size_t i, uint8_t hash) {
  ctx->dsc_keys = stp__dsc_noted(ctx, ctx->dsc_keys, i, hash);
}

/* Removes members[i] with one comma next to it (after it, or else before
 * it), so that removing and appending members does not leave commas
 * behind in the store. */
void stp__member_remove(stp__ctx *ctx, size_t i) {
  stp__member *m = &ctx->members[i];
  char *store = stp__store(ctx);
  size_t from = m->off, to = from + m->len;
  if (to < ctx->store_len && store[to] == ',')
    to++;
  else if (from > 0 && store[from - 1] == ',')
    from--;
  size_t gap = to - from;
  memmove(store + from, store + to, ctx->store_len - to);
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
 * apart, as the members of an incoming header are, and the outgoing
 * baggage sends a run of them in one copy (outgoing.c). */
static size_t comma_before_next(const stp__ctx *ctx) {
  return ctx->store_len > 0 && stp__cstore(ctx)[ctx->store_len - 1] != ',';
}

/* Whether one more member of `len` bytes (and its comma) fits. */
static bool member_fits(const stp__ctx *ctx, size_t len) {
  return ctx->n_members < ctx->member_cap &&
         ctx->store_len + comma_before_next(ctx) + len <= ctx->store_cap;
}

/* The store is full for one more member of `len` bytes: a Sentry member
 * evicts the latest third-party members if that makes room. Returns
 * whether there is room now. (Removing a member can take away the comma
 * the store ended with: whether it fits is asked again each time.) */
static bool member_make_room(stp__ctx *ctx, size_t len, bool sentry) {
  if (!sentry)
    return false;
  size_t third_bytes = 0, third = 0;
  for (size_t i = 0; i < ctx->n_members; i++)
    if (!ctx->members[i].sentry) {
      third++;
      third_bytes += ctx->members[i].len;
    }
  if (ctx->n_members - third == ctx->member_cap ||
      ctx->store_len - third_bytes + len > ctx->store_cap)
    return false;
  for (size_t i = ctx->n_members; i-- > 0 && !member_fits(ctx, len);)
    if (!ctx->members[i].sentry) {
      stp__member_remove(ctx, i);
      ctx->dropped++;
    }
  return member_fits(ctx, len);
}

/* Room for one more member of `len` bytes at the end of the store (after
 * a comma, comma_before_next). Sentry members win over third-party ones
 * (member_make_room). Returns the new member, its bytes not yet written,
 * or NULL. */
static stp__member *member_reserve(stp__ctx *ctx, size_t len, bool sentry,
                                   uint8_t hash) {
  if (len > ctx->store_cap)
    return NULL;
  if (!member_fits(ctx, len) && !member_make_room(ctx, len, sentry))
    return NULL;
  if (comma_before_next(ctx))
    stp__store(ctx)[ctx->store_len++] = ',';
  size_t i = ctx->n_members++;
  if (sentry)
    dsc_note(ctx, i, hash);
  stp__member *m =
      stp__member_place(&ctx->members[i], ctx->store_len, len, sentry, hash);
  ctx->store_len = (uint16_t)(ctx->store_len + len);
  return m;
}

int stp__member_add(stp__ctx *ctx, const char *key, size_t kl, const char *val,
                    size_t vl, bool sentry) {
  stp__member *m =
      member_reserve(ctx, kl + 1 + vl, sentry, stp__key_hash(key, kl));
  if (!m)
    return STP_ERR_LIMIT;
  char *p = stp__store(ctx) + m->off;
  memcpy(p, key, kl);
  p[kl] = '=';
  if (vl)
    memcpy(p + kl + 1, val, vl);
  scanned sc = key_value(p, kl, vl);
  stp__member_slices_from(m, &sc);
  return STP_OK;
}

int stp__member_add_copy(stp__ctx *ctx, const scanned *in, bool sentry,
                         uint8_t hash) {
  stp__member *m = member_reserve(ctx, in->len, sentry, hash);
  if (!m)
    return STP_ERR_LIMIT;
  memcpy(stp__store(ctx) + m->off, in->key, in->len);
  stp__member_slices_from(m, in);
  return STP_OK;
}
