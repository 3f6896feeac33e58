/* The manual pages of the stp command: `stp --help` and `stp CMD --help`.
 * docs/cli.md says the same at more length, with examples. */
#include "cli.h"

#define OUTPUT_OPTIONS                                                         \
  "OUTPUT OPTIONS\n"                                                           \
  "    When standard output is a terminal the result is a short table for\n"   \
  "    a person; otherwise it is one JSON object on one line, for scripts.\n"  \
  "    --json     JSON even on a terminal\n"                                   \
  "    --pretty   JSON, indented\n"                                            \
  "    --human    the table even when standard output is not a terminal\n"     \
  "    The last of the three wins. Control bytes and invalid UTF-8 from the\n" \
  "    headers are escaped in both forms (\\xNN in the table).\n"

#define EXIT_STATUS                                                            \
  "EXIT STATUS\n"                                                              \
  "    0  done\n"                                                              \
  "    1  the value given to parse is invalid\n"                               \
  "    2  usage error or bad option value (the stp error name is on\n"         \
  "       standard error)\n"                                                   \
  "    3  the library failed unexpectedly\n"

const char help_stp[] =
    "NAME\n"
    "    stp - inspect Sentry trace propagation headers\n"
    "\n"
    "SYNOPSIS\n"
    "    stp parse sentry-trace|traceparent VALUE\n"
    "    stp parse baggage VALUE...\n"
    "    stp parse sentry-trace|traceparent|baggage --stdin\n"
    "    stp continue [-H 'NAME: VALUE']... [--env] [OPTIONS]\n"
    "    stp new [OPTIONS]\n"
    "    stp --help | CMD --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads sentry-trace, baggage and W3C traceparent headers the way a\n"
    "    service built on the stp library does, and shows what it made of\n"
    "    them: the trace id, the parent span, the sampling decision and why,\n"
    "    each baggage member kept, skipped or dropped and why, and the\n"
    "    headers an outgoing request would carry.\n"
    "\n"
    "COMMANDS\n"
    "    parse      judge one header value (stp parse --help)\n"
    "    continue   continue the trace of a request's headers\n"
    "               (stp continue --help)\n"
    "    new        start a new trace as its head (stp new --help)\n"
    "\n" OUTPUT_OPTIONS "\n" EXIT_STATUS "\n"
    "SEE ALSO\n"
    "    docs/cli.md, docs/SPEC.md\n";

const char help_parse[] =
    "NAME\n"
    "    stp parse - judge one sentry-trace, traceparent or baggage value\n"
    "\n"
    "SYNOPSIS\n"
    "    stp parse sentry-trace|traceparent [OUTPUT OPTIONS] VALUE\n"
    "    stp parse baggage [OUTPUT OPTIONS] VALUE...\n"
    "    stp parse sentry-trace|traceparent|baggage --stdin\n"
    "\n"
    "DESCRIPTION\n"
    "    sentry-trace, traceparent: parse one header value. A value that\n"
    "    starts with a header name ('sentry-trace: ...', a whole header line\n"
    "    pasted) is invalid, and the message says so.\n"
    "    baggage: one VALUE per baggage header; they are combined in order,\n"
    "    as if joined with ','. Malformed members are skipped and counted,\n"
    "    which is not an error, unless not one member is valid (exit 1).\n"
    "    Empty input is not an error. The table gives each member's fate\n"
    "    (kept, skipped, or dropped for a repeated sentry- key) and why.\n"
    "\n"
    "OPTIONS\n"
    "    --stdin    read the single value from standard input, byte for\n"
    "               byte (it may hold NUL, CR or LF; at most 1 MiB); no\n"
    "               VALUE may be given with it\n"
    "    --         the arguments after it are values, even one that starts\n"
    "               with '--'\n"
    "    --help     this page\n"
    "\n" OUTPUT_OPTIONS "\n"
    "JSON\n"
    "    sentry-trace, traceparent:\n"
    "      {\"valid\":true,\"trace_id\":\"...\",\"span_id\":\"...\","
    "\"sampled\":true|false|null}\n"
    "      (traceparent adds \"flags\":\"01\"); invalid, exit status 1:\n"
    "      {\"valid\":false,\"error\":\"NAME\",\"message\":\"TEXT\"}\n"
    "    baggage:\n"
    "      {\"sentry\":{KEY:VALUE,...},\"third_party\":[{\"key\":\"...\","
    "\"value\":\"...\",\n"
    "       \"properties\":\"...\"},...],\"skipped\":N}\n"
    "      \"sentry\" holds the sentry-* members keyed without the prefix "
    "(the\n"
    "      first of repeated keys wins); values are percent-decoded,\n"
    "      properties are raw. When nothing is usable the object also has\n"
    "      \"error\" and \"message\" and the exit status is 1.\n"
    "\n" EXIT_STATUS "\n"
    "EXAMPLES\n"
    "    stp parse sentry-trace 771a43a4192642f0b136d5159a501700-"
    "b0e6f15b45c36b12-1\n"
    "    stp parse baggage 'sentry-release=1.0,vendor=x;p=1' --pretty\n"
    "    printf '%s' \"$VALUE\" | stp parse baggage --stdin\n";

#define TRACE_OPTIONS                                                          \
  "    --dsn URL             DSN (public key and org id come from it)\n"       \
  "    --release R           release\n"                                        \
  "    --environment E       environment\n"                                    \
  "    --sample-rate X       sample rate in [0, 1] (none: no decision)\n"      \
  "    --org-id N            org id, overrides the DSN's\n"                    \
  "    --strict              strict trace continuation\n"                      \
  "    --propagate-traceparent   also emit a W3C traceparent\n"                \
  "    --no-accept-traceparent   ignore incoming traceparent headers\n"        \
  "    --propagate-third-party   forward incoming third-party baggage\n"       \
  "    --target REGEX        propagation target (repeatable)\n"                \
  "    --url URL             report whether the targets match URL\n"           \
  "    --transaction NAME    transaction name of a new head (ignored with a\n" \
  "                          warning when the trace was continued)\n"          \
  "    --meta                add the HTML meta tags\n"                         \
  "    An option's value may also be given as --option=VALUE, which is\n"      \
  "    the way to give one that starts with '--'.\n"

#define TRACE_JSON                                                             \
  "JSON\n"                                                                     \
  "    continued, status (error name or null), trace_id, span_id,\n"           \
  "    parent_span_id (or null), sampled (true/false/null), sample_rand,\n"    \
  "    frozen (DSC frozen before the outgoing values were made), dsc\n"        \
  "    (decoded, keyed without 'sentry-'), third_party, skipped and dropped\n" \
  "    (baggage members), then the outgoing \"sentry-trace\", \"baggage\"\n"   \
  "    (null when empty), \"traceparent\" (with --propagate-traceparent),\n"   \
  "    \"meta\" (with --meta) and \"propagate\" (with --url).\n"

const char help_continue[] =
    "NAME\n"
    "    stp continue - continue the trace carried by a request's headers\n"
    "\n"
    "SYNOPSIS\n"
    "    stp continue [-H 'NAME: VALUE']... [--existing BAGGAGE]... [OPTIONS]\n"
    "    stp continue --env [OPTIONS]\n"
    "\n"
    "DESCRIPTION\n"
    "    Continues the trace carried by the incoming headers given with -H,\n"
    "    or with --env by SENTRY_TRACE and SENTRY_BAGGAGE, as a service does\n"
    "    for a request, and shows the outgoing headers of a request it would\n"
    "    make. A trace that cannot be continued is not an error: a new trace\n"
    "    starts, \"continued\" is false and \"status\" says why (absent,\n"
    "    trace_id, org_mismatch, ...; the table also shows both org ids).\n"
    "    The table lists every incoming baggage member as kept (in the DSC,\n"
    "    or third-party: forwarded or not), skipped (malformed: what is\n"
    "    wrong with it) or dropped (a repeated sentry- key, past the bounds\n"
    "    or limits, or the trace was not continued).\n"
    "\n"
    "OPTIONS\n"
    "    -H NAME:VALUE, --header NAME:VALUE\n"
    "                          one incoming header (repeatable; names in any\n"
    "                          case, spaces after ':' ignored)\n"
    "    --env                 continue from the environment instead\n"
    "    --existing BAGGAGE    merge the outgoing baggage into this value,\n"
    "                          which the outgoing request already has\n"
    "                          ('baggage: ' in front is allowed; "
    "repeatable)\n" TRACE_OPTIONS "\n" OUTPUT_OPTIONS "\n" TRACE_JSON
    "\n" EXIT_STATUS "\n"
    "EXAMPLES\n"
    "    stp continue -H 'sentry-trace: 771a43a4192642f0b136d5159a501700-"
    "b0e6f15b45c36b12-1' \\\n"
    "                 -H 'baggage: sentry-trace_id=771a43a4192642f0b136d5159"
    "a501700'\n"
    "    SENTRY_TRACE=... stp continue --env --json\n";

const char help_new[] =
    "NAME\n"
    "    stp new - start a new trace as its head\n"
    "\n"
    "SYNOPSIS\n"
    "    stp new [OPTIONS]\n"
    "\n"
    "DESCRIPTION\n"
    "    Starts a trace as a service does when no trace came in: new trace\n"
    "    and span ids, the sampling decision from --sample-rate (none: the\n"
    "    decision stays open), and a DSC built from the options. Shows the\n"
    "    decision and why, the DSC, and the outgoing headers.\n"
    "\n"
    "OPTIONS\n" TRACE_OPTIONS "\n" OUTPUT_OPTIONS "\n" TRACE_JSON
    "\n" EXIT_STATUS "\n"
    "EXAMPLES\n"
    "    stp new --dsn https://pk@o123.ingest.sentry.io/42 --sample-rate 0.5\n"
    "    stp new --release 1.0 --transaction 'GET /a' --pretty\n";
