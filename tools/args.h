/*
 * The command line of `stp continue` and `stp new`.
 */
#ifndef STP_TOOLS_ARGS_H
#define STP_TOOLS_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "stp/stp.h"

/* One incoming header given with -H: slices of the argument. */
typedef struct {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} header;

typedef struct {
  stp_options opts;
  header *headers;
  size_t n_headers;
  const char **targets;
  size_t n_targets;
  char *existing; /* the --existing values joined with ',' */
  size_t existing_len;
  const char *transaction;
  const char *url;
  bool env;
  bool meta;
  out_opts out;
} trace_args;

/* Parses the options of continue (is_continue) or new into *a, which
 * starts zeroed; strings point into argv. Returns EXIT_VALID, or
 * EXIT_USAGE / EXIT_INTERNAL after a message. Free *a with
 * trace_args_free whatever it returned. */
int parse_trace_args(int argc, char **argv, bool is_continue, trace_args *a);
void trace_args_free(trace_args *a);

#endif /* STP_TOOLS_ARGS_H */
