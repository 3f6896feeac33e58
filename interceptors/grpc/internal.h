/* State shared by the gRPC interceptor layer's source files; not installed. */
#ifndef STP_GRPC_INTERNAL_H
#define STP_GRPC_INTERNAL_H

#include <string.h>

#include "stp/grpc.h"

/* A call's state, the first part of its block in the call's arena:
 * then the interceptors (copied), then each one's call data in turn
 * (call.c), then the strings. */
struct stp_grpc_call {
  grpc_call *call;
  const stp_grpc_interceptor *ics; /* n_ics of them */

  /* The user's out variable of the op that ends the call, once started:
   * RECV_STATUS_ON_CLIENT's status (client), RECV_CLOSE_ON_SERVER's
   * cancelled flag (server). */
  union {
    grpc_status_code *status;
    int *cancelled;
  } end_out;

  stp_context *parent; /* client, during the start hooks only */
  stp_context *ctx;
  const stp_span *span;

  const char *target; /* authority followed by method */
  size_t authority_len;
  size_t target_len;

  const stp_grpc_md *req_md;
  size_t req_md_count;

  size_t arena_bytes; /* taken from the call's arena by this layer */
  uint64_t start_ns;
  uint64_t end_ns;

  grpc_status_code status;
  uint8_t n_ics;
  bool is_server;
  bool md_hooks; /* an interceptor has a send_initial_metadata hook */
  bool md_sent;  /* the first SEND_INITIAL_METADATA went through */
  bool ended;
  bool status_override; /* stp_grpc_call_set_status: status, whatever else */
  bool status_set;      /* a server status op: status */
};

/* The interceptor list of a channel or a server. */
typedef struct stp__grpc_ic_list {
  stp_grpc_interceptor items[STP_GRPC_MAX_INTERCEPTORS];
  size_t n;
} stp__grpc_ic_list;

/* Appends a copy of *ic: STP_ERR_LIMIT when the list is full. */
int stp__grpc_ic_list_add(stp__grpc_ic_list *l, const stp_grpc_interceptor *ic);

/* Rounds n up to a multiple of 16: the arena blocks' alignment. */
#define STP__GRPC_ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* The call state of gc and its interceptors' call data, with `extra`
 * bytes for strings (*strings), in one arena block (call.c). */
stp_grpc_call *stp__grpc_call_alloc(grpc_call *gc, const stp__grpc_ic_list *l,
                                    size_t extra, char **strings);

/* Runs the interceptors' start hooks. */
void stp__grpc_run_start(stp_grpc_call *c);

struct stp_grpc_metadata {
  stp_grpc_call *call;
  grpc_metadata *items;
  size_t count;
  size_t cap;
  grpc_slice *owned; /* slices this builder made, unreffed after the batch */
  size_t n_owned;
  size_t cap_owned;
  grpc_slice owned_first[8]; /* owned's first home, grown into the arena */
};

/* Whether a metadata key ends in "-bin": its value is binary (base64 on
 * the wire), not text. */
static inline bool stp__grpc_is_bin_key(const char *key, size_t len) {
  return len >= 4 && memcmp(key + len - 4, "-bin", 4) == 0;
}

/* A carrier over the builder for stp_context_inject alone: for the trace
 * header names, its set skips the checks of stp_grpc_metadata_set, which
 * the values inject writes always pass, and sends the names as static
 * slices; other names get stp_grpc_metadata_set itself. */
void stp__grpc_trace_carrier(stp_grpc_metadata *md, stp_carrier *out);

#endif /* STP_GRPC_INTERNAL_H */
