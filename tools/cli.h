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

/* The manual pages of `stp --help` and of each command (help.c). */
extern const char help_stp[];
extern const char help_parse[];
extern const char help_continue[];
extern const char help_new[];

/* Prints a manual page (or the version line) and returns the exit
 * status. */
int print_help(const char *page);
int print_version(void);

/* "stp: MESSAGE" and a pointer to --help, on standard error. */
void usage_error(const char *fmt, ...) PRINTF_LIKE;

/* Reports a library failure on standard error; returns EXIT_INTERNAL. */
int internal_error(const char *what, int err);

/* All of standard input (at most STDIN_MAX bytes), to be freed by the
 * caller; NULL with a message on error. */
char *read_stdin(size_t *out_len);

bool is_help(const char *arg);
bool is_version(const char *arg);

/* Whether an argument is an option, not a value: "--" and a letter. An
 * option that takes a value refuses one that looks so (`--dsn --strict`
 * is a mistake); --name=VALUE gives such a value on purpose. */
bool looks_like_option(const char *arg);

/* How results are printed: a table for a person when standard output is
 * a terminal, JSON otherwise; --json, --pretty and --human choose. */
typedef enum { FORMAT_AUTO, FORMAT_JSON, FORMAT_HUMAN } out_format;

typedef struct out_opts {
  out_format format;
  bool pretty; /* JSON indented */
} out_opts;

/* Records --json, --pretty or --human; false for any other argument. */
bool out_option(out_opts *o, const char *arg);

/* Whether to print JSON: asked for, or standard output is no terminal. */
bool out_is_json(const out_opts *o);

/* Flushes stdout; returns status, or EXIT_INTERNAL when writing failed. */
int finish_output(int status);

/* Baggage keys of the DSC start with "sentry-". */
#define SENTRY_PREFIX "sentry-"
#define SENTRY_PREFIX_LEN (sizeof SENTRY_PREFIX - 1)
bool is_sentry_key(const char *key, size_t len);

/* The commands: argv holds what follows the command's name. Each returns
 * an exit status. */
int cmd_parse(int argc, char **argv);

/* parse baggage (parse_baggage.c): one or more values, combined. */
int parse_baggage(const out_opts *o, const char *const *vals,
                  const size_t *lens, size_t n_vals);
int cmd_trace(int argc, char **argv, bool is_continue);

#endif /* STP_TOOLS_CLI_H */
