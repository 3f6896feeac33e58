/* Outgoing initial metadata as interceptors see it: the builder, gRPC's
 * legality rules for keys and values, and carriers over the builder. */
#include <assert.h>
#include <string.h>

#include "internal.h"

size_t stp_grpc_metadata_count(const stp_grpc_metadata *md) {
  return md->count;
}

const grpc_metadata *stp_grpc_metadata_at(const stp_grpc_metadata *md,
                                          size_t i) {
  return i < md->count ? &md->items[i] : NULL;
}

/* gRPC's rule for a key: not empty, and only a-z, 0-9, '-', '_' and '.'. */
static bool key_is_legal(const char *key, size_t len) {
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = key[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  }
  return true;
}

static bool key_eq(grpc_slice s, const char *key, size_t len) {
  return stp_header_name_equal((const char *)GRPC_SLICE_START_PTR(s),
                               GRPC_SLICE_LENGTH(s), key, len);
}

/* gRPC's rule for the value of a key not ending in "-bin": every byte is
 * visible ASCII or a space, 0x20 to 0x7e. Eight bytes at a time: taking
 * 0x20 from a byte sets its high bit when the byte is below 0x20 or at
 * least 0xa0, and adding 1 sets it when the byte is from 0x7f to 0xfe;
 * 0xff is caught by the first. Only a byte that is itself out of range
 * borrows from or carries into the next one, and the lowest such byte in
 * a word gets neither, so a word has a high bit set in either result
 * exactly when it holds a byte out of range. */
static bool value_is_legal(const char *value, size_t len) {
  const uint64_t ones = 0x0101010101010101u, highs = ones * 0x80;
  size_t i = 0;
  uint64_t bad = 0;
  for (; i + 16 <= len; i += 16) {
    uint64_t x, y;
    memcpy(&x, value + i, 8);
    memcpy(&y, value + i + 8, 8);
    bad |= (x - ones * 0x20) | (x + ones) | (y - ones * 0x20) | (y + ones);
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    memcpy(&x, value + i, 8);
    bad |= (x - ones * 0x20) | (x + ones);
  }
  if (bad & highs)
    return false;
  for (; i < len; i++) {
    unsigned char c = (unsigned char)value[i];
    if (c < 0x20 || c > 0x7e)
      return false;
  }
  return true;
}

/* Room for one more item and two more owned slices, growing in the arena
 * (the old arrays stay there until the call ends). */
static void md_reserve(stp_grpc_metadata *md) {
  if (md->count == md->cap) {
    size_t cap = md->cap * 2 + 4;
    grpc_metadata *items =
        stp_grpc_call_arena_alloc(md->call, cap * sizeof *items);
    if (md->count)
      memcpy(items, md->items, md->count * sizeof *items);
    md->items = items;
    md->cap = cap;
  }
  if (md->n_owned + 2 > md->cap_owned) {
    size_t cap = md->cap_owned * 2 + 8;
    grpc_slice *owned =
        stp_grpc_call_arena_alloc(md->call, cap * sizeof *owned);
    if (md->n_owned)
      memcpy(owned, md->owned, md->n_owned * sizeof *owned);
    md->owned = owned;
    md->cap_owned = cap;
  }
}

/* Removes every entry named key (ASCII case-insensitive). */
static void md_remove(stp_grpc_metadata *md, const char *key, size_t key_len) {
  size_t w = 0;
  for (size_t r = 0; r < md->count; r++)
    if (!key_eq(md->items[r].key, key, key_len))
      md->items[w++] = md->items[r];
  md->count = w;
}

/* Appends key: value, the value copied; key_owned: the builder unrefs the
 * key slice after the batch. */
static void md_append(stp_grpc_metadata *md, grpc_slice key, bool key_owned,
                      const char *value, size_t value_len) {
  md_reserve(md);
  grpc_metadata *m = &md->items[md->count++];
  memset(m, 0, sizeof *m);
  m->key = key;
  m->value = grpc_slice_from_copied_buffer(value, value_len);
  if (key_owned)
    md->owned[md->n_owned++] = key;
  md->owned[md->n_owned++] = m->value;
}

int stp_grpc_metadata_set(stp_grpc_metadata *md, const char *key,
                          size_t key_len, const char *value, size_t value_len) {
  if (!md || !key || (!value && value_len))
    return STP_ERR_INVALID_ARGUMENT;
  if (!key_is_legal(key, key_len))
    return STP_ERR_HEADER_NAME;
  if (value && !stp__grpc_is_bin_key(key, key_len) &&
      !value_is_legal(value, value_len))
    return STP_ERR_CONTROL_CHAR;
  md_remove(md, key, key_len);
  if (value)
    md_append(md, grpc_slice_from_copied_buffer(key, key_len), true, value,
              value_len);
  return STP_OK;
}

/* The names stp_context_inject writes, as static slices: not copied for
 * every call. */
/* clang-format off */
#define TRACE_NAME(lit) {lit, sizeof(lit) - 1}
/* clang-format on */
static const struct {
  const char *name;
  size_t len;
} trace_names[] = {TRACE_NAME("sentry-trace"), TRACE_NAME("baggage"),
                   TRACE_NAME("traceparent")};

/* The set of the trace carrier. For the names above, stp_grpc_metadata_set
 * without its checks: stp_context_inject writes them with values of bytes
 * 0x20 to 0x7e only (stp.h), which gRPC's rules allow, and gRPC checks
 * every entry of a batch again in grpc_call_start_batch all the same. Any
 * other name goes through stp_grpc_metadata_set, checks and all. */
static int md_set_trace(void *user, const char *key, size_t key_len,
                        const char *value, size_t value_len) {
  stp_grpc_metadata *md = user;
  for (size_t i = 0; i < sizeof trace_names / sizeof trace_names[0]; i++)
    if (trace_names[i].len == key_len &&
        memcmp(trace_names[i].name, key, key_len) == 0) {
      assert(!value || value_is_legal(value, value_len));
      md_remove(md, key, key_len);
      if (value)
        md_append(md,
                  grpc_slice_from_static_buffer(trace_names[i].name, key_len),
                  false, value, value_len);
      return STP_OK;
    }
  return stp_grpc_metadata_set(md, key, key_len, value, value_len);
}

static int md_foreach(void *user, stp_header_fn fn, void *arg) {
  stp_grpc_metadata *md = user;
  for (size_t i = 0; i < md->count; i++) {
    grpc_slice k = md->items[i].key, v = md->items[i].value;
    int rc =
        fn(arg, (const char *)GRPC_SLICE_START_PTR(k), GRPC_SLICE_LENGTH(k),
           (const char *)GRPC_SLICE_START_PTR(v), GRPC_SLICE_LENGTH(v));
    if (rc)
      return rc;
  }
  return 0;
}

static int md_set(void *user, const char *name, size_t name_len,
                  const char *value, size_t value_len) {
  return stp_grpc_metadata_set(user, name, name_len, value, value_len);
}

void stp_grpc_metadata_carrier(stp_grpc_metadata *md, stp_carrier *out) {
  out->foreach = md_foreach;
  out->set = md_set;
  out->user = md;
}

void stp__grpc_trace_carrier(stp_grpc_metadata *md, stp_carrier *out) {
  out->foreach = md_foreach;
  out->set = md_set_trace;
  out->user = md;
}
