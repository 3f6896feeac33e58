/*
 * stp: a command-line inspector for the stp library.
 *
 * Parses trace headers and continues or starts traces the way a service
 * using the library would, and prints what it found as one JSON object.
 * The commands are in cmd_parse.c and cmd_trace.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stp/stp.h"

const char usage_text[] =
    "usage: stp parse sentry-trace|traceparent VALUE\n"
    "       stp parse baggage VALUE [VALUE...]\n"
    "       stp parse sentry-trace|traceparent|baggage --stdin\n"
    "       stp continue [-H 'NAME: VALUE']... [--env] [--existing BAGGAGE]\n"
    "                    [--meta] [OPTIONS]\n"
    "       stp new [--meta] [OPTIONS]\n"
    "       stp --help | --version\n"
    "\n"
    "Inspect Sentry trace propagation headers (sentry-trace, baggage and\n"
    "W3C traceparent). The result is one JSON object on standard output.\n"
    "\n"
    "parse sentry-trace VALUE, parse traceparent VALUE\n"
    "  Parse one header value. Valid:\n"
    "    {\"valid\":true,\"trace_id\":\"...\",\"span_id\":\"...\","
    "\"sampled\":true|false|null}\n"
    "  (traceparent adds \"flags\":\"01\"). Invalid, exit status 1:\n"
    "    {\"valid\":false,\"error\":\"NAME\",\"message\":\"TEXT\"}\n"
    "\n"
    "parse baggage VALUE [VALUE...]\n"
    "  One argument per baggage header; they are combined in order, as if\n"
    "  joined with ','. Prints\n"
    "    {\"sentry\":{KEY:VALUE,...},\"third_party\":[{\"key\":\"...\","
    "\"value\":\"...\",\n"
    "     \"properties\":\"...\"},...],\"skipped\":N}\n"
    "  \"sentry\" holds the sentry-* members keyed without the prefix (the\n"
    "  first of repeated keys wins); values are percent-decoded, properties\n"
    "  are raw. Malformed members are skipped and counted; that is not an\n"
    "  error. But when members were skipped and not one member is valid,\n"
    "  nothing in the input is usable: the object also gets \"error\" and\n"
    "  \"message\" and the exit status is 1. Empty input is not an error.\n"
    "\n"
    "--stdin (parse only)\n"
    "  Read the single value from standard input, byte for byte (it may\n"
    "  hold NUL, CR or LF; at most 1 MiB).\n"
    "\n"
    "continue\n"
    "  Continue the trace carried by the request headers given with -H\n"
    "  (repeatable, names case-insensitive, spaces after ':' ignored), or\n"
    "  with --env by SENTRY_TRACE and SENTRY_BAGGAGE. A trace that cannot be\n"
    "  continued is not an error: a new trace starts, \"continued\" is\n"
    "  false and \"status\" says why (\"absent\", \"trace_id\",\n"
    "  \"org_mismatch\", ...).\n"
    "  -H NAME:VALUE, --header NAME:VALUE  one incoming header\n"
    "  --env                 continue from the environment instead\n"
    "  --existing BAGGAGE    merge the outgoing baggage into this value,\n"
    "                        which the outgoing request already has\n"
    "                        ('baggage: ' in front is allowed; repeatable)\n"
    "\n"
    "new\n"
    "  Start a new trace as its head.\n"
    "\n"
    "Options of continue and new:\n"
    "  --dsn URL             DSN (public key and org id come from it)\n"
    "  --release R           release\n"
    "  --environment E       environment\n"
    "  --sample-rate X       sample rate in [0, 1] (none: no decision)\n"
    "  --org-id N            org id, overrides the DSN's\n"
    "  --strict              strict trace continuation\n"
    "  --propagate-traceparent   also emit a W3C traceparent\n"
    "  --no-accept-traceparent   ignore incoming traceparent headers\n"
    "  --propagate-third-party   forward incoming third-party baggage\n"
    "  --target REGEX        propagation target (repeatable)\n"
    "  --url URL             report whether the targets match URL\n"
    "  --transaction NAME    transaction name of a new head (ignored with a\n"
    "                        warning when the trace was continued)\n"
    "  --meta                add the HTML meta tags\n"
    "Option values may also be given as --option=VALUE.\n"
    "\n"
    "Output of continue and new:\n"
    "  continued, status (error name or null), trace_id, span_id,\n"
    "  parent_span_id (or null), sampled (true/false/null), sample_rand,\n"
    "  frozen (DSC frozen before the outgoing values were made), dsc\n"
    "  (decoded, keyed without 'sentry-'), third_party, skipped and dropped\n"
    "  (baggage members), then the outgoing \"sentry-trace\", \"baggage\"\n"
    "  (null when empty), \"traceparent\" (with --propagate-traceparent),\n"
    "  \"meta\" (with --meta) and \"propagate\" (with --url).\n"
    "\n"
    "Exit status: 0 done; 1 the value given to parse is invalid; 2 usage\n"
    "error or bad option value (the stp error name is on standard error);\n"
    "3 the library failed unexpectedly.\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_error("missing command (parse, continue or new)");
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_text, stdout);
    return finish_output(EXIT_VALID);
  }
  if (strcmp(cmd, "--version") == 0) {
    puts("stp " STP_VERSION);
    return finish_output(EXIT_VALID);
  }
  if (strcmp(cmd, "parse") == 0)
    return cmd_parse(argc - 2, argv + 2);
  if (strcmp(cmd, "continue") == 0)
    return cmd_trace(argc - 2, argv + 2, true);
  if (strcmp(cmd, "new") == 0)
    return cmd_trace(argc - 2, argv + 2, false);
  usage_error("unknown command '%s'", cmd);
  return EXIT_USAGE;
}
