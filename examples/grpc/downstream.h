/* The gRPC example server's --exec program: run during a call, under a
 * `subprocess` span that is a child of the call's, with the trace in its
 * environment (SENTRY_TRACE, SENTRY_BAGGAGE), so that it continues it. */
#ifndef STP_EXAMPLES_GRPC_DOWNSTREAM_H
#define STP_EXAMPLES_GRPC_DOWNSTREAM_H

#include <stdatomic.h>
#include <stddef.h>

#include "stp/stp.h"

#define DOWNSTREAM_MAX_ARGS 32

typedef struct downstream {
  const char *command;                 /* as given */
  char *argv[DOWNSTREAM_MAX_ARGS + 1]; /* split on spaces, no shell */
  const char *spans;                   /* the span log, or NULL */
  const atomic_int *stopping;          /* set: give up at once */
} downstream;

/* Splits command into d->argv (a copy; free with downstream_free). Returns
 * 0, or -1 for an empty command or more than DOWNSTREAM_MAX_ARGS words. */
int downstream_init(downstream *d, const char *command);
void downstream_free(downstream *d);

/* Runs the program for the call whose context is ctx, and appends
 * `downstream_exit=N` (its exit status; -1 when it could not run, died of
 * a signal, or was killed after timeout_ms) and then its standard output
 * (the first 64 KiB) to body[0, len) (cap bytes). Returns the new length.
 * Several calls may run it at once.
 * The program runs in a process group of its own: what is left of the
 * group when it ends (or is killed) is killed too. Writes the
 * `subprocess` span record to the span log. */
size_t downstream_run(const downstream *d, stp_context *ctx, int timeout_ms,
                      char *body, size_t len, size_t cap);

#endif /* STP_EXAMPLES_GRPC_DOWNSTREAM_H */
