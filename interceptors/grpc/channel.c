/* Client side: the channel handle that holds the interceptors, and the
 * calls it creates. */
#include <grpc/support/alloc.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct stp_grpc_channel {
  grpc_channel *channel;
  char *authority;
  size_t authority_len;
  stp__grpc_ic_list ics;
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
  return stp__grpc_ic_list_add(&ch->ics, ic);
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
      stp__grpc_call_alloc(gc, &ch->ics, auth_len + method_len + 1, &strings);
  memcpy(strings, auth, auth_len);
  memcpy(strings + auth_len, method, method_len + 1);
  c->target = strings;
  c->authority_len = auth_len;
  c->target_len = auth_len + method_len;
  c->parent = parent ? parent : stp_current();
  stp__grpc_run_start(c);
  c->parent = NULL; /* owned by the caller: not kept */
  *out = c;
  return STP_OK;
}
