/* The core, compiled as one translation unit: this file includes the
 * others, which are not compiled on their own (BUILD, fuzz/run.sh).
 *
 * One unit lets the compiler inline the calls that cross files on every
 * request: feeding a header from the carrier, formatting and drawing a
 * span id, finishing an output buffer. With -fno-semantic-interposition
 * (BUILD) it may also inline the public functions the core calls itself,
 * which code built for a shared library must otherwise call as if another
 * library could replace them at load time. stp's public functions are not
 * meant to be replaced so.
 *
 * Each file still compiles on its own, as editors and linters read it. */
#define _GNU_SOURCE /* before any system header: config.c and ids.c */

#include "baggage.c"
#include "carrier.c"
#include "chars.c"
#include "config.c"
#include "context.c"
#include "current.c"
#include "error.c"
#include "ids.c"
#include "trace_header.c"
#include "util.c"
