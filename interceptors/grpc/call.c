/* The interceptor layer: channel and server handles, per-call state in the
 * call arena, and the outgoing initial-metadata builder. */
#define _GNU_SOURCE

#include <assert.h>
#include <grpc/support/alloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

uint64_t stp__grpc_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The interceptor list of a channel or a server. */
typedef struct ic_list {
  stp_grpc_interceptor items[STP_GRPC_MAX_INTERCEPTORS];
  size_t n;
} ic_list;

static int ic_list_add(ic_list *l, const stp_grpc_interceptor *ic) {
  if (!ic)
    return STP_ERR_INVALID_ARGUMENT;
  if (l->n == STP_GRPC_MAX_INTERCEPTORS)
    return STP_ERR_LIMIT;
  l->items[l->n++] = *ic;
  return STP_OK;
}

/* Metadata items the first batch may hold without another arena block:
 * the user's, and room for the interceptors' (sentry-trace, baggage). */
#define MD_ROOM 8

/* Allocate the call state, the interceptors' call data, room for the first
 * metadata batch (when there are hooks for it) and `extra` bytes of string
 * space in one arena block: one arena allocation per call. */
static stp_grpc_call *call_alloc(grpc_call *gc, const ic_list *l, size_t extra,
                                 char **strings) {
  size_t size = ALIGN16(sizeof(stp_grpc_call));
  size_t ics_off = size;
  size += ALIGN16(l->n * sizeof(stp_grpc_interceptor));
  size_t data_off[STP_GRPC_MAX_INTERCEPTORS];
  bool md_hooks = false;
  for (size_t i = 0; i < l->n; i++) {
    data_off[i] = size;
    size += ALIGN16(l->items[i].call_data_size);
    md_hooks = md_hooks || l->items[i].send_initial_metadata;
  }
  size_t room_off = size;
  if (md_hooks)
    size += ALIGN16(MD_ROOM * sizeof(grpc_metadata));
  size_t str_off = size;
  size += extra;
  char *base = grpc_call_arena_alloc(gc, size);
  /* Zero the call state and the call data but raw blocks, in runs
   * between them; the room and the strings are written before they are
   * read. */
  size_t zero_from = 0;
  for (size_t i = 0; i < l->n; i++)
    if (l->items[i].call_data_raw) {
      memset(base + zero_from, 0, data_off[i] - zero_from);
      zero_from = data_off[i] + ALIGN16(l->items[i].call_data_size);
    }
  memset(base + zero_from, 0, room_off - zero_from);
  stp_grpc_call *c = (stp_grpc_call *)base;
  if (md_hooks)
    c->md_room = (grpc_metadata *)(base + room_off);
  c->call = gc;
  c->n_ics = l->n;
  stp_grpc_interceptor *ics = (stp_grpc_interceptor *)(base + ics_off);
  memcpy(ics, l->items, l->n * sizeof *ics);
  c->ics = ics;
  for (size_t i = 0; i < l->n; i++)
    c->call_data[i] = l->items[i].call_data_size ? base + data_off[i] : NULL;
  c->status = GRPC_STATUS_UNKNOWN;
  c->start_ns = stp__grpc_now_ns();
  *strings = base + str_off;
  return c;
}

static void run_start(stp_grpc_call *c) {
  for (size_t i = 0; i < c->n_ics; i++)
    if (c->ics[i].start)
      c->ics[i].start(c->ics[i].user, c, c->call_data[i]);
}

/* ---- calls ------------------------------------------------------------- */

grpc_call *stp_grpc_call_get(const stp_grpc_call *call) {
  return call ? call->call : NULL;
}

bool stp_grpc_call_is_server(const stp_grpc_call *call) {
  return call && call->is_server;
}

const char *stp_grpc_call_method(const stp_grpc_call *call, size_t *out_len) {
  *out_len = call->target_len - call->authority_len;
  return call->target + call->authority_len;
}

const char *stp_grpc_call_authority(const stp_grpc_call *call,
                                    size_t *out_len) {
  *out_len = call->authority_len;
  return call->target;
}

const char *stp_grpc_call_target(const stp_grpc_call *call, size_t *out_len) {
  *out_len = call->target_len;
  return call->target;
}

stp_context *stp_grpc_call_context(const stp_grpc_call *call) {
  return call ? call->ctx : NULL;
}

const stp_span *stp_grpc_call_span(const stp_grpc_call *call) {
  return call ? call->span : NULL;
}

void stp_grpc_call_set_context(stp_grpc_call *call, stp_context *ctx,
                               const stp_span *span) {
  call->ctx = ctx;
  call->span = span;
}

stp_context *stp_grpc_call_parent(const stp_grpc_call *call) {
  return call ? call->parent : NULL;
}

const grpc_metadata *stp_grpc_call_request_metadata(const stp_grpc_call *call,
                                                    size_t *out_count) {
  *out_count = call ? call->req_md_count : 0;
  return call ? call->req_md : NULL;
}

bool stp_grpc_call_status(const stp_grpc_call *call, grpc_status_code *out) {
  if (call->status_override) {
    *out = call->status;
    return true;
  }
  if (call->cancelled_ptr && *call->cancelled_ptr) {
    *out = GRPC_STATUS_CANCELLED;
    return true;
  }
  if (call->status_set) {
    *out = call->status;
    return true;
  }
  if (call->status_ptr) {
    *out = *call->status_ptr;
    return true;
  }
  *out = GRPC_STATUS_UNKNOWN;
  return false;
}

void stp_grpc_call_set_status(stp_grpc_call *call, grpc_status_code status) {
  call->status = status;
  call->status_override = true;
}

uint64_t stp_grpc_call_start_ns(const stp_grpc_call *call) {
  return call->start_ns;
}

uint64_t stp_grpc_call_end_ns(const stp_grpc_call *call) {
  return call->end_ns;
}

void stp_grpc_call_unref(stp_grpc_call *call) {
  if (!call)
    return;
  grpc_call *gc = call->call;
  if (!call->ended) {
    call->ended = true;
    call->end_ns = stp__grpc_now_ns();
    for (size_t i = 0; i < call->n_ics; i++)
      if (call->ics[i].end)
        call->ics[i].end(call->ics[i].user, call, call->call_data[i]);
  }
  grpc_call_unref(gc); /* frees the arena, and call with it */
}

/* ---- the initial-metadata builder -------------------------------------- */

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
    grpc_metadata *items = grpc_call_arena_alloc(md->call, cap * sizeof *items);
    if (md->count)
      memcpy(items, md->items, md->count * sizeof *items);
    md->items = items;
    md->cap = cap;
  }
  if (md->n_owned + 2 > md->cap_owned) {
    size_t cap = md->cap_owned * 2 + 8;
    grpc_slice *owned = grpc_call_arena_alloc(md->call, cap * sizeof *owned);
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

/* ---- batches ------------------------------------------------------------ */

/* A batch holds at most one op of each type. */
#define MAX_OPS 8

/* The batch to gRPC; the first SEND_INITIAL_METADATA (ops[send_md]) goes
 * through the interceptors' hooks. */
static grpc_call_error start_batch(stp_grpc_call *call, const grpc_op *ops,
                                   size_t nops, void *tag, size_t send_md) {
  bool hooks = call->md_room != NULL; /* there when a hook is */
  if (send_md == nops || call->md_sent || !hooks) {
    grpc_call_error err =
        grpc_call_start_batch(call->call, ops, nops, tag, NULL);
    if (err == GRPC_CALL_OK && send_md != nops)
      call->md_sent = true;
    return err;
  }

  const struct grpc_op_send_initial_metadata *in =
      &ops[send_md].data.send_initial_metadata;
  stp_grpc_metadata md;
  md.call = call->call;
  md.owned = md.owned_first;
  md.n_owned = 0;
  md.cap_owned = sizeof md.owned_first / sizeof md.owned_first[0];
  if (in->count + 4 <= MD_ROOM) {
    md.cap = MD_ROOM;
    md.items = call->md_room;
  } else {
    md.cap = in->count + 4;
    md.items = grpc_call_arena_alloc(call->call, md.cap * sizeof *md.items);
  }
  if (in->count)
    memcpy(md.items, in->metadata, in->count * sizeof *md.items);
  md.count = in->count;

  for (size_t i = 0; i < call->n_ics; i++)
    if (call->ics[i].send_initial_metadata)
      call->ics[i].send_initial_metadata(call->ics[i].user, call,
                                         call->call_data[i], &md);

  grpc_op copy[MAX_OPS];
  memcpy(copy, ops, nops * sizeof *ops);
  copy[send_md].data.send_initial_metadata.count = md.count;
  copy[send_md].data.send_initial_metadata.metadata = md.items;
  grpc_call_error err =
      grpc_call_start_batch(call->call, copy, nops, tag, NULL);
  /* gRPC took its own references during the call. */
  for (size_t i = 0; i < md.n_owned; i++)
    grpc_slice_unref(md.owned[i]);
  if (err == GRPC_CALL_OK)
    call->md_sent = true;
  return err;
}

grpc_call_error stp_grpc_call_start_batch(stp_grpc_call *call,
                                          const grpc_op *ops, size_t nops,
                                          void *tag) {
  if (!call)
    return GRPC_CALL_ERROR;
  if (nops > MAX_OPS)
    return grpc_call_start_batch(call->call, ops, nops, tag, NULL);

  /* The status ops are noted for the span record once gRPC has taken the
   * batch. Their out variables are reset before (the batch may complete
   * on another thread at once), and put back when gRPC refuses it. */
  size_t send_md = nops;
  grpc_status_code *recv_status = NULL, recv_status_was = GRPC_STATUS_OK;
  int *recv_close = NULL, recv_close_was = 0;
  bool sends_status = false;
  grpc_status_code sent = GRPC_STATUS_OK;
  for (size_t i = 0; i < nops; i++) {
    switch (ops[i].op) {
    case GRPC_OP_SEND_INITIAL_METADATA:
      send_md = i;
      break;
    case GRPC_OP_RECV_STATUS_ON_CLIENT:
      recv_status = ops[i].data.recv_status_on_client.status;
      break;
    case GRPC_OP_SEND_STATUS_FROM_SERVER:
      sends_status = true;
      sent = ops[i].data.send_status_from_server.status;
      break;
    case GRPC_OP_RECV_CLOSE_ON_SERVER:
      recv_close = ops[i].data.recv_close_on_server.cancelled;
      break;
    default:
      break;
    }
  }
  if (recv_status) {
    recv_status_was = *recv_status;
    *recv_status = GRPC_STATUS_UNKNOWN;
  }
  if (recv_close) {
    recv_close_was = *recv_close;
    *recv_close = 0;
  }

  grpc_call_error err = start_batch(call, ops, nops, tag, send_md);
  if (err != GRPC_CALL_OK) {
    if (recv_status)
      *recv_status = recv_status_was;
    if (recv_close)
      *recv_close = recv_close_was;
    return err;
  }
  if (!call->status_override) {
    if (recv_status)
      call->status_ptr = recv_status;
    if (sends_status) {
      call->status = sent;
      call->status_set = true;
    }
    if (recv_close)
      call->cancelled_ptr = recv_close;
  }
  return err;
}

/* ---- client ------------------------------------------------------------- */

struct stp_grpc_channel {
  grpc_channel *channel;
  char *authority;
  size_t authority_len;
  ic_list ics;
};

/* "dns:///host:443" -> "host:443", "ipv4:1.2.3.4:5" -> "1.2.3.4:5";
 * "host:443" stays as it is. */
static const char *strip_scheme(const char *t) {
  const char *colon = strchr(t, ':');
  if (colon) {
    bool scheme = colon > t;
    for (const char *p = t; p < colon; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
            *p == '-' || *p == '.'))
        scheme = false;
    /* host:port has only digits after the colon; a scheme does not. */
    bool port = colon[1] != '\0';
    for (const char *p = colon + 1; *p; p++)
      if (!(*p >= '0' && *p <= '9'))
        port = false;
    if (scheme && !port) {
      t = colon + 1;
      if (t[0] == '/' && t[1] == '/') {
        t += 2;
        const char *slash = strchr(t, '/'); /* skip the DNS authority */
        if (slash)
          t = slash + 1;
      }
    }
  }
  return t;
}

int stp_grpc_channel_new(stp_grpc_channel **out, grpc_channel *channel,
                         const char *authority) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!channel)
    return STP_ERR_INVALID_ARGUMENT;
  char *target = NULL;
  if (!authority) {
    target = grpc_channel_get_target(channel);
    authority = target ? strip_scheme(target) : "";
  }
  size_t len = strlen(authority);
  stp_grpc_channel *ch = calloc(1, sizeof *ch + len + 1);
  if (!ch) {
    gpr_free(target);
    return STP_ERR_NOMEM;
  }
  ch->channel = channel;
  ch->authority = (char *)(ch + 1);
  memcpy(ch->authority, authority, len + 1);
  ch->authority_len = len;
  gpr_free(target);
  *out = ch;
  return STP_OK;
}

void stp_grpc_channel_del(stp_grpc_channel *ch) {
  free(ch);
}

grpc_channel *stp_grpc_channel_get(const stp_grpc_channel *ch) {
  return ch ? ch->channel : NULL;
}

int stp_grpc_channel_add(stp_grpc_channel *ch, const stp_grpc_interceptor *ic) {
  if (!ch)
    return STP_ERR_INVALID_ARGUMENT;
  return ic_list_add(&ch->ics, ic);
}

int stp_grpc_channel_create_call(stp_grpc_channel *ch, stp_grpc_call **out,
                                 stp_context *parent, grpc_completion_queue *cq,
                                 const char *method, gpr_timespec deadline) {
  return stp_grpc_channel_create_call_ex(ch, out, parent, NULL,
                                         GRPC_PROPAGATE_DEFAULTS, cq, method,
                                         NULL, deadline);
}

int stp_grpc_channel_create_call_ex(stp_grpc_channel *ch, stp_grpc_call **out,
                                    stp_context *parent, grpc_call *parent_call,
                                    uint32_t propagation_mask,
                                    grpc_completion_queue *cq,
                                    const char *method, const char *host,
                                    gpr_timespec deadline) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!ch || !cq || !method)
    return STP_ERR_INVALID_ARGUMENT;
  const char *auth = host ? host : ch->authority;
  size_t auth_len = host ? strlen(host) : ch->authority_len;
  size_t method_len = strlen(method);
  /* gRPC keeps the slices it is given: copies, so that the caller's
   * strings need only live through this call (up to 23 bytes a copy is
   * kept in the slice itself; longer ones are allocated by gRPC). */
  grpc_slice method_slice = grpc_slice_from_copied_buffer(method, method_len);
  grpc_slice host_slice;
  if (host)
    host_slice = grpc_slice_from_copied_buffer(host, auth_len);
  grpc_call *gc = grpc_channel_create_call(
      ch->channel, parent_call, propagation_mask, cq, method_slice,
      host ? &host_slice : NULL, deadline, NULL);
  grpc_slice_unref(method_slice);
  if (host)
    grpc_slice_unref(host_slice);
  if (!gc)
    return STP_ERR_GRPC;

  char *strings;
  stp_grpc_call *c =
      call_alloc(gc, &ch->ics, auth_len + method_len + 1, &strings);
  memcpy(strings, auth, auth_len);
  memcpy(strings + auth_len, method, method_len + 1);
  c->target = strings;
  c->authority_len = auth_len;
  c->target_len = auth_len + method_len;
  c->parent = parent ? parent : stp_current();
  run_start(c);
  c->parent = NULL; /* owned by the caller: not kept */
  *out = c;
  return STP_OK;
}

/* ---- server ------------------------------------------------------------- */

struct stp_grpc_server {
  grpc_server *server;
  ic_list ics;
};

int stp_grpc_server_new(stp_grpc_server **out, grpc_server *server) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!server)
    return STP_ERR_INVALID_ARGUMENT;
  stp_grpc_server *srv = calloc(1, sizeof *srv);
  if (!srv)
    return STP_ERR_NOMEM;
  srv->server = server;
  *out = srv;
  return STP_OK;
}

void stp_grpc_server_del(stp_grpc_server *srv) {
  free(srv);
}

grpc_server *stp_grpc_server_get(const stp_grpc_server *srv) {
  return srv ? srv->server : NULL;
}

int stp_grpc_server_add(stp_grpc_server *srv, const stp_grpc_interceptor *ic) {
  if (!srv)
    return STP_ERR_INVALID_ARGUMENT;
  return ic_list_add(&srv->ics, ic);
}

static void request_init(stp_grpc_request *req) {
  memset(req, 0, sizeof *req);
  grpc_call_details_init(&req->details);
  grpc_metadata_array_init(&req->metadata);
}

grpc_call_error
stp_grpc_server_request_call(stp_grpc_server *srv, stp_grpc_request *req,
                             grpc_completion_queue *cq_bound_to_call,
                             grpc_completion_queue *cq_for_notification,
                             void *tag) {
  if (!srv || !req)
    return GRPC_CALL_ERROR;
  request_init(req);
  return grpc_server_request_call(srv->server, &req->call, &req->details,
                                  &req->metadata, cq_bound_to_call,
                                  cq_for_notification, tag);
}

grpc_call_error stp_grpc_server_request_registered_call(
    stp_grpc_server *srv, stp_grpc_request *req, void *registered_method,
    const char *method,
    grpc_server_register_method_payload_handling payload_handling,
    grpc_completion_queue *cq_bound_to_call,
    grpc_completion_queue *cq_for_notification, void *tag) {
  if (!srv || !req)
    return GRPC_CALL_ERROR;
  request_init(req);
  req->method = method;
  return grpc_server_request_registered_call(
      srv->server, registered_method, &req->call, &req->deadline,
      &req->metadata,
      payload_handling == GRPC_SRM_PAYLOAD_NONE ? NULL : &req->payload,
      cq_bound_to_call, cq_for_notification, tag);
}

void stp_grpc_request_destroy(stp_grpc_request *req) {
  if (!req)
    return;
  grpc_call_details_destroy(&req->details);
  grpc_metadata_array_destroy(&req->metadata);
  grpc_call_details_init(&req->details);
  grpc_metadata_array_init(&req->metadata);
  if (req->call)
    grpc_call_unref(req->call);
  req->call = NULL;
}

int stp_grpc_server_accept(stp_grpc_server *srv, stp_grpc_call **out,
                           stp_grpc_request *req) {
  if (!out)
    return STP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!srv || !req || !req->call)
    return STP_ERR_INVALID_ARGUMENT;

  const char *method, *auth;
  size_t method_len, auth_len;
  if (req->method) {
    method = req->method;
    method_len = strlen(method);
    auth = "";
    auth_len = 0;
  } else {
    method = (const char *)GRPC_SLICE_START_PTR(req->details.method);
    method_len = GRPC_SLICE_LENGTH(req->details.method);
    auth = (const char *)GRPC_SLICE_START_PTR(req->details.host);
    auth_len = GRPC_SLICE_LENGTH(req->details.host);
  }
  size_t n = req->metadata.count;
  size_t md_size = ALIGN16(n * sizeof(grpc_metadata));
  char *strings;
  stp_grpc_call *c = call_alloc(req->call, &srv->ics,
                                md_size + auth_len + method_len + 1, &strings);
  c->is_server = true;
  if (n) {
    grpc_metadata *md = (grpc_metadata *)strings;
    memcpy(md, req->metadata.metadata, n * sizeof *md);
    c->req_md = md;
    c->req_md_count = n;
  }
  char *t = strings + md_size;
  if (auth_len)
    memcpy(t, auth, auth_len);
  if (method_len)
    memcpy(t + auth_len, method, method_len);
  t[auth_len + method_len] = '\0';
  c->target = t;
  c->authority_len = auth_len;
  c->target_len = auth_len + method_len;

  /* The call now belongs to c; the arrays are no longer needed (the
   * metadata's keys and values belong to the call). */
  req->call = NULL;
  stp_grpc_request_destroy(req);
  run_start(c);
  *out = c;
  return STP_OK;
}
