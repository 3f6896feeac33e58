/*
 * stp: a command-line inspector for the stp library.
 *
 * Parses trace headers and continues or starts traces the way a service
 * using the library would, and shows what it found: a table for a person
 * on a terminal, one JSON object for scripts. The commands are in
 * cmd_parse.c and cmd_trace.c; their manual pages in help.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The manual page of a command, or NULL. */
static const char *page_of(const char *cmd) {
  if (strcmp(cmd, "parse") == 0)
    return help_parse;
  if (strcmp(cmd, "continue") == 0)
    return help_continue;
  if (strcmp(cmd, "new") == 0)
    return help_new;
  return NULL;
}

static int run(const char *cmd, int argc, char **argv) {
  if (strcmp(cmd, "parse") == 0)
    return cmd_parse(argc, argv);
  if (strcmp(cmd, "continue") == 0)
    return cmd_trace(argc, argv, true);
  if (strcmp(cmd, "new") == 0)
    return cmd_trace(argc, argv, false);
  usage_error("unknown command '%s'", cmd);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  /* Output options may come before the command (`stp --json parse ...`):
   * they are handed to it in front of its own arguments. */
  int lead = 1;
  out_opts unused = {FORMAT_AUTO, false};
  while (lead < argc && out_option(&unused, argv[lead]))
    lead++;
  if (lead >= argc) {
    usage_error("missing command (parse, continue or new)");
    return EXIT_USAGE;
  }
  const char *cmd = argv[lead];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    /* `stp help continue` is `stp continue --help`. */
    const char *page = lead + 1 < argc ? page_of(argv[lead + 1]) : NULL;
    return print_help(page ? page : help_stp);
  }
  if (is_version(cmd) || strcmp(cmd, "version") == 0)
    return print_version();
  if (lead == 1)
    return run(cmd, argc - 2, argv + 2);
  int n = argc - 2;
  char **args = malloc((size_t)n * sizeof *args);
  if (args == NULL) {
    fputs("stp: out of memory\n", stderr);
    return EXIT_INTERNAL;
  }
  memcpy(args, argv + 1, (size_t)(lead - 1) * sizeof *args);
  memcpy(args + lead - 1, argv + lead + 1,
         (size_t)(argc - lead - 1) * sizeof *args);
  int status = run(cmd, n, args);
  free(args);
  return status;
}
