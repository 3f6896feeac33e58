/*
 * What the files of the stp command share: exit statuses, messages on
 * standard error, and the commands' entry points.
 */
#ifndef STP_TOOLS_CLI_H
#define STP_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses. */
enum {
  EXIT_VALID = 0,
  EXIT_INVALID = 1,  /* the header given to `parse` is invalid */
  EXIT_USAGE = 2,    /* bad command line or option value */
  EXIT_INTERNAL = 3, /* the library failed unexpectedly */
};

/* Largest value `--stdin` accepts. */
#define STDIN_MAX ((size_t)1 << 20)

#if defined(__GNUC__)
#define PRINTF_LIKE __attribute__((format(printf, 1, 2)))
#else
#define PRINTF_LIKE
#endif

/* The text of `stp --help` (main.c). */
extern const char usage_text[];

/* "stp: MESSAGE" and a pointer to --help, on standard error. */
void usage_error(const char *fmt, ...) PRINTF_LIKE;

/* Reports a library failure on standard error; returns EXIT_INTERNAL. */
int internal_error(const char *what, int err);

/* All of standard input (at most STDIN_MAX bytes), to be freed by the
 * caller; NULL with a message on error. */
char *read_stdin(size_t *out_len);

bool is_help(const char *arg);

/* Flushes stdout; returns status, or EXIT_INTERNAL when writing failed. */
int finish_output(int status);

/* Baggage keys of the DSC start with "sentry-". */
#define SENTRY_PREFIX "sentry-"
#define SENTRY_PREFIX_LEN (sizeof SENTRY_PREFIX - 1)
bool is_sentry_key(const char *key, size_t len);

/* The commands: argv holds what follows the command's name. Each returns
 * an exit status. */
int cmd_parse(int argc, char **argv);
int cmd_trace(int argc, char **argv, bool is_continue);

#endif /* STP_TOOLS_CLI_H */
