/* The command line the example programs share: the options that make the
 * stp_config, the span log, and a server's port. */
#ifndef STP_EXAMPLES_CLI_H
#define STP_EXAMPLES_CLI_H

#include <stddef.h>

#include "stp/exporter.h"
#include "stp/stp.h"

/* The options every example takes (the usage line of each lists them):
 *   --dsn DSN  --release R  --environment E  --org-id N  --sample-rate X
 *   --strict  --traceparent  --third-party     into `stp`;
 *   --spans FILE                               the span log;
 * and, when `server` is set before parsing:
 *   --port N (0 to 65535; 0 picks a free one)  --port-file FILE. */
typedef struct cli_options {
  stp_options stp;
  const char *spans;      /* NULL: no span log */
  int server;             /* accept --port and --port-file */
  int port;               /* set the default before parsing */
  const char *port_file;  /* NULL: none */
  stp_exporter *exporter; /* set by cli_config, with SENTRY_SPOTLIGHT */
} cli_options;

/* Starts o with stp_options_init and everything else empty. */
void cli_options_init(cli_options *o, int server, int default_port);

/* Reads argv[*i], and its value (advancing *i), when it is one of the
 * options above. Returns 1 when it was, 0 when it is not one of them, -1
 * when its value is missing or not a number in range (print the usage). */
int cli_option(cli_options *o, int argc, char **argv, int *i);

/* All of v read as a decimal number (strtol's syntax) when that is in
 * [lo, hi] (0 <= lo <= hi <= INT_MAX), else -1. */
int cli_number(const char *v, long lo, long hi);

/* The config of the options: stp_config_new(cfg, &o->stp, NULL). With
 * SENTRY_SPOTLIGHT set, first an exporter (o->exporter) that sends every
 * transaction to Spotlight, and to Spotlight only (the examples' DSNs
 * name no real project), as the config's record sink. On failure prints
 * `PROGRAM: why` to stderr and returns its error. */
int cli_config(stp_config **cfg, cli_options *o, const char *program);

/* Deletes cfg, then the exporter (which sends what it still holds). */
void cli_config_del(cli_options *o, stp_config *cfg);

/* Splits the argument of -H, "Name: value" (blanks after the colon
 * skipped), into name[0, *name_len) and a NUL-terminated value, both
 * pointing into arg. Returns 0, or -1 when there is no colon or no name. */
int cli_header(const char *arg, size_t *name_len, const char **value);

/* As cli_header, and lowercases the name in arg: HTTP/2 and gRPC send
 * header names in lowercase. */
int cli_header_lower(char *arg, size_t *name_len, const char **value);

/* Writes the port to path, then renames it into place, so that a reader
 * never sees a partial file. Returns 0, or -1 with errno set. */
int cli_write_port_file(const char *path, int port);

#endif /* STP_EXAMPLES_CLI_H */
