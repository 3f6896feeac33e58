/*
 * Baggage members one by one, for the human-readable output: each member
 * as received, whether the library takes it, and why not. The library
 * itself is the judge: each member is given to stp_baggage_iter alone,
 * and a malformed one is explained by giving the iterator small pieces of
 * it (public API only, so the grammar lives in one place, the core).
 */
#ifndef STP_TOOLS_MEMBERS_H
#define STP_TOOLS_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stp/stp.h"

typedef enum { MEMBER_KEPT, MEMBER_SKIPPED, MEMBER_DROPPED } member_fate;

/* What a command prints for each fate. */
const char *member_fate_name(member_fate f);

typedef struct member_row {
  const char *text; /* the member as received, spaces around it trimmed */
  size_t len;
  size_t value_index;   /* which input value it came from, from 0 */
  size_t end;           /* where it ends in that value (bytes) */
  bool valid;           /* the iterator returns it */
  bool sentry;          /* a `sentry-` key (valid members) */
  stp_baggage_member m; /* valid members: slices of text */
  bool past_bound;      /* past the members a context examines (continue) */
  member_fate fate;
  char why[200]; /* the reason, raw: print it with text_put */
} member_row;

typedef struct member_rows {
  member_row *v;
  size_t n, cap;
} member_rows;

/* Appends a row for each member of value[0, len) (empty members are none,
 * as for the iterator): valid ones KEPT with an empty reason, malformed
 * ones SKIPPED with the reason. Slices point into value. Returns 0 or
 * STP_ERR_NOMEM. */
int member_rows_add(member_rows *r, const char *value, size_t len,
                    size_t value_index);
void member_rows_free(member_rows *r);

/* Marks the later rows of a repeated Sentry key DROPPED, among the rows
 * still KEPT: the first one wins. Returns 0 or STP_ERR_NOMEM. */
int member_rows_drop_repeats(member_rows *r);

/* A table of the rows: status, key, decoded value, why. Returns 0 or
 * STP_ERR_NOMEM. */
int member_rows_print(FILE *out, const member_rows *r);

/* How many rows have each fate, indexed by member_fate. */
void member_rows_count(const member_rows *r, size_t counts[3]);

/* When value starts with the name of a trace header and a colon (a whole
 * header line pasted where its value belongs), the name as written there
 * (in *name, *name_len) and true. */
bool starts_with_header_name(const char *value, size_t len, const char **name,
                             size_t *name_len);

/* The reason for such a value, into buf: "starts with the header name
 * 'NAME:'; give only what follows it". */
void header_name_reason(char *buf, size_t cap, const char *name,
                        size_t name_len);

/* Why value is refused, into buf: the reason above when it is a whole
 * header line, else the library's message for rc. */
void value_error_message(char *buf, size_t cap, int rc, const char *value,
                         size_t len);

/* Orders two members by key, bytewise, a shorter key first when one is a
 * prefix of the other: qsort-style <0, 0, >0 (0: the same key). */
int member_key_order(const stp_baggage_member *a, const stp_baggage_member *b);

#endif /* STP_TOOLS_MEMBERS_H */
