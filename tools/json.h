/*
 * JSON output of the stp command: a writer that puts one document on a
 * stream, compact (the schema scripts read) or indented (--pretty). Every
 * byte of input that reaches the output goes through json_str, so hostile
 * header values cannot break the JSON.
 */
#ifndef STP_TOOLS_JSON_H
#define STP_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stp/stp.h"

typedef struct json {
  FILE *out;
  bool pretty;    /* two spaces per level, `"key": value` */
  int depth;      /* open objects and arrays */
  bool first;     /* nothing written yet in the innermost one */
  bool after_key; /* a key was written: its value comes next */
} json;

void json_init(json *j, FILE *out, bool pretty);

/* An object or array: open with '{' or '[', close with '}' or ']'. */
void json_open(json *j, char bracket);
void json_close(json *j, char bracket);

/* The key of the next member of the open object: a C string, or bytes
 * from the input (escaped as json_str does). */
void json_key(json *j, const char *key);
void json_key_str(json *j, const char *key, size_t n);

/* Values. json_str: s[0..n) with quotes, backslashes and control bytes
 * escaped, valid UTF-8 passed through, each maximal invalid subpart as
 * U+FFFD. json_raw: text written as it is (true, a number, ...). */
void json_str(json *j, const char *s, size_t n);
void json_cstr(json *j, const char *s);
void json_raw(json *j, const char *text);
void json_bool(json *j, bool v);
void json_size(json *j, size_t v);

/* A number in [0, 1) in fixed notation with at least 6 decimals, and as
 * many more as it takes to read back as the same double (so 0.9999999
 * does not print as 1.000000). */
void json_fraction(json *j, double v);
void format_fraction(char *buf, size_t cap, double v);

/* true, false or null (deferred). */
void json_sampled(json *j, stp_sampled s);

/* A baggage value percent-decoded into buf (cap >= len + 1), as a JSON
 * string. Returns 0 or stp_baggage_decode's error. */
int json_decoded(json *j, char *buf, size_t cap, const char *value, size_t len);

/* Ends the document with a newline. */
void json_end(json *j);

#endif /* STP_TOOLS_JSON_H */
