/* Helpers of the stp command: messages, standard input and output. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stp/stp.h"

void usage_error(const char *fmt, ...) {
  va_list ap;
  fputs("stp: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\nTry 'stp --help'.\n", stderr);
}

int internal_error(const char *what, int err) {
  fprintf(stderr, "stp: %s: %s: %s\n", what, stp_error_name(err),
          stp_strerror(err));
  return EXIT_INTERNAL;
}

/* Small helpers.                                                           */

/* Read all of standard input; NULL with a message on error. */
char *read_stdin(size_t *out_len) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    fputs("stp: out of memory\n", stderr);
    return NULL;
  }
  for (;;) {
    if (len == cap) {
      if (cap >= STDIN_MAX + 1) {
        usage_error("--stdin: input longer than %zu bytes", STDIN_MAX);
        free(buf);
        return NULL;
      }
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        fputs("stp: out of memory\n", stderr);
        free(buf);
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, stdin);
    len += got;
    if (got == 0) {
      if (ferror(stdin)) {
        fprintf(stderr, "stp: reading standard input: %s\n", strerror(errno));
        free(buf);
        return NULL;
      }
      break;
    }
  }
  if (len > STDIN_MAX) {
    usage_error("--stdin: input longer than %zu bytes", STDIN_MAX);
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

bool is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Flush stdout and turn a write error into an exit status. */
int finish_output(int status) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "stp: writing standard output: %s\n", strerror(errno));
    return EXIT_INTERNAL;
  }
  return status;
}

bool is_sentry_key(const char *key, size_t len) {
  return len >= SENTRY_PREFIX_LEN &&
         memcmp(key, SENTRY_PREFIX, SENTRY_PREFIX_LEN) == 0;
}

bool is_version(const char *arg) {
  return strcmp(arg, "--version") == 0;
}

bool looks_like_option(const char *arg) {
  return arg[0] == '-' && arg[1] == '-' &&
         ((arg[2] >= 'a' && arg[2] <= 'z') || (arg[2] >= 'A' && arg[2] <= 'Z'));
}

bool out_option(out_opts *o, const char *arg) {
  if (strcmp(arg, "--json") == 0) {
    o->format = FORMAT_JSON;
  } else if (strcmp(arg, "--pretty") == 0) {
    o->format = FORMAT_JSON;
    o->pretty = true;
  } else if (strcmp(arg, "--human") == 0) {
    o->format = FORMAT_HUMAN;
  } else {
    return false;
  }
  return true;
}

bool out_is_json(const out_opts *o) {
  if (o->format != FORMAT_AUTO)
    return o->format == FORMAT_JSON;
  return !isatty(STDOUT_FILENO);
}

int print_help(const char *page) {
  fputs(page, stdout);
  return finish_output(EXIT_VALID);
}

int print_version(void) {
  puts("stp " STP_VERSION);
  return finish_output(EXIT_VALID);
}
