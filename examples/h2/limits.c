/* The limits of the server loop: their options and their defaults. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <sys/resource.h>

#include "examples/common/cli.h"
#include "server_loop.h"

/* Descriptors kept back from the connection cap: the listening socket,
 * the stop pipe, standard streams, the span log while it is written. */
#define RESERVED_FDS 32

int h2_loop_option(h2_loop_limits *l, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  uint32_t *slot = strcmp(a, "--conn-streams") == 0  ? &l->conn_streams
                   : strcmp(a, "--max-streams") == 0 ? &l->max_streams
                   : strcmp(a, "--max-conns") == 0   ? &l->max_conns
                   : strcmp(a, "--handshake-timeout") == 0
                       ? &l->handshake_timeout_ms
                   : strcmp(a, "--idle-timeout") == 0   ? &l->idle_timeout_ms
                   : strcmp(a, "--stream-timeout") == 0 ? &l->stream_timeout_ms
                                                        : NULL;
  if (!slot)
    return 0;
  int n = *i + 1 < argc ? cli_number(argv[++*i], 1, 0x7fffffff) : -1;
  if (n < 0)
    return -1;
  *slot = (uint32_t)n;
  return 1;
}

/* The descriptor limit less RESERVED_FDS, at least 1. */
static uint32_t default_max_conns(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY ||
      r.rlim_cur > 0x7fffffff)
    return 0x7fffffff;
  return r.rlim_cur > RESERVED_FDS + 1 ? (uint32_t)r.rlim_cur - RESERVED_FDS
                                       : 1;
}

void h2_loop_limits_resolve(h2_loop_limits *out, const h2_loop_limits *l) {
  *out = *l;
  if (!out->conn_streams)
    out->conn_streams = 100;
  if (!out->max_streams)
    out->max_streams = 4096;
  if (!out->max_conns)
    out->max_conns = default_max_conns();
  if (!out->handshake_timeout_ms)
    out->handshake_timeout_ms = 5000;
  if (!out->idle_timeout_ms)
    out->idle_timeout_ms = 30000;
  if (!out->stream_timeout_ms)
    out->stream_timeout_ms = 30000;
}
