/*
 * stp: Sentry trace propagation for C.
 *
 * Parses, holds and produces the `sentry-trace`, `baggage` and W3C
 * `traceparent` headers. Pure C11 and libc; no third-party dependency.
 * The wire rules, whose sections the comments cite as "SPEC section N",
 * are in docs/SPEC.md.
 *
 * The API convention, followed by every function of stp and of its
 * layers (stp/nghttp2.h, stp/grpc.h, stp/exporter.h; stp/grpcpp.h in
 * C++'s own terms):
 * - Names are stp_<object>_<verb>; types stp_<noun>; macros and enum
 *   values STP_*. Parameters come in the order: the object, then outputs,
 *   then inputs. A function that makes something (`_new`, `_parse`,
 *   `_random`) has no object: its output comes first.
 * - A function that can fail returns int: 0 (STP_OK) or a negative
 *   stp_error, one code per distinct cause (ABSENT is not MALFORMED).
 *   A function that cannot fail returns void, the value asked for, or a
 *   bool that answers a yes/no question.
 * - A buffer output is three parameters, (char *buf, size_t cap,
 *   size_t *out_len). On success the text is NUL-terminated and *out_len
 *   is its length without the terminator. When cap is too small the
 *   function returns STP_ERR_BUFFER_TOO_SMALL, the buffer's content is
 *   unspecified and *out_len is the size needed (terminator included).
 *   buf may be NULL when cap is 0, to ask the size; out_len may be NULL.
 *   Ids in hex have a fixed size: their output is an array of that size.
 * - Inputs are (const char *, size_t). No NUL terminator is required and
 *   no byte past the given length is read.
 * - Plain data (ids, spans, slices, iterators, options) is public and
 *   lives where the caller puts it. A context is plain storage too: its
 *   size is public, its fields are not. Anything that owns memory is an
 *   opaque handle made by `_new`; it remembers the allocator it was made
 *   with, so `_del` takes the handle alone, and `_del(NULL)` does nothing.
 * - Each function's comment says what it returns, what it owns, and how
 *   long its outputs stay valid.
 */
#ifndef STP_STP_H
#define STP_STP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stp/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors. Values are append-only: never renumbered.                        */

typedef enum stp_error {
  STP_OK = 0,
  STP_ERR_INVALID_ARGUMENT = -1, /* NULL where a pointer is required, ... */
  STP_ERR_NOMEM = -2,            /* the allocator returned NULL */
  STP_ERR_BUFFER_TOO_SMALL = -3, /* *out_len holds the size needed */
  STP_ERR_ABSENT = -4,           /* the header is not there (not an error
                                    in the input, just nothing to use) */
  STP_ERR_EMPTY = -5,            /* present but empty or only spaces */
  STP_ERR_MALFORMED = -6,        /* wrong shape: missing or extra parts */
  STP_ERR_TRACE_ID = -7,         /* trace id: wrong length or not hex */
  STP_ERR_SPAN_ID = -8,          /* span/parent id: wrong length or not hex */
  STP_ERR_ZERO_ID = -9,          /* all-zero trace or span id */
  STP_ERR_SAMPLED_FLAG = -10,    /* sentry-trace flag other than 0 or 1 */
  STP_ERR_CONTROL_CHAR = -11,    /* NUL, CR, LF or another control byte */
  STP_ERR_TOO_LONG = -12,        /* longer than the format allows */
  STP_ERR_VERSION = -13,         /* traceparent version ff or not hex */
  STP_ERR_FLAGS = -14,           /* traceparent flags not two hex digits */
  STP_ERR_UPPERCASE = -15,       /* uppercase hex in a traceparent */
  STP_ERR_BAGGAGE_MEMBER = -16,  /* malformed baggage list-member */
  STP_ERR_LIMIT = -17,           /* a documented size limit was reached */
  STP_ERR_ORG_MISMATCH = -18,    /* strict continuation refused the trace */
  STP_ERR_DSN = -19,             /* the DSN could not be parsed */
  STP_ERR_SAMPLE_RATE = -20,     /* sample rate not a number in [0, 1] */
  STP_ERR_ORG_ID = -21,          /* org id is not a decimal number */
  STP_ERR_OPTION_VALUE = -22,    /* option value with control characters */
  STP_ERR_PATTERN = -23,         /* propagation target is not a valid ERE */
  STP_ERR_NO_CONTEXT = -24,      /* no current context on this thread */
  STP_ERR_DETACH_ORDER = -25,    /* detached out of order */
  STP_ERR_FROZEN = -26,          /* the DSC has already left the process */
  STP_ERR_CARRIER = -27,         /* a carrier callback reported failure */
  STP_ERR_DISABLED = -28,        /* SENTRY_USE_ENVIRONMENT turned it off */
  STP_ERR_NOT_FOUND = -29,       /* no such member / key */
  STP_ERR_GRPC = -30,            /* gRPC refused the operation */
  STP_ERR_STATE = -31,           /* called at the wrong time, such as a
                                    header fed outside begin/finish */
  STP_ERR_HEADER_NAME = -32,     /* not a legal header or metadata name */
  STP_ERR_TIMEOUT = -33          /* the time allowed ran out first */
} stp_error;

/* A static English description of `err`; never NULL, also for unknown
 * values. */
const char *stp_strerror(int err);

/* A short stable identifier such as "trace_id" or "org_mismatch", suited
 * to logs and JSON; never NULL ("unknown" for unknown values). */
const char *stp_error_name(int err);

/* ------------------------------------------------------------------------ */
/* Allocation. In the core only stp_config_new, stp_context_new and        */
/* stp_context_clone allocate, and stp_config_should_propagate for a long   */
/* URL (see there). NULL where an allocator is asked for means malloc and   */
/* free. An allocator's blocks are aligned as malloc's.                     */

typedef struct stp_allocator {
  void *(*malloc)(size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *user_data;
} stp_allocator;

/* malloc and free as an allocator: what NULL stands for. Static; never
 * NULL. */
const stp_allocator *stp_allocator_default(void);

/* ------------------------------------------------------------------------ */
/* Ids.                                                                     */

#define STP_TRACE_ID_HEX_LEN 32
#define STP_SPAN_ID_HEX_LEN 16

typedef struct stp_trace_id {
  uint8_t bytes[16];
} stp_trace_id;

typedef struct stp_span_id {
  uint8_t bytes[8];
} stp_span_id;

/* Parse exactly 32 (trace) or 16 (span) hex digits of either case.
 * Returns STP_ERR_TRACE_ID / STP_ERR_SPAN_ID for a wrong length or a
 * non-hex byte, STP_ERR_ZERO_ID for all zeros (out is then still filled). */
int stp_trace_id_parse(stp_trace_id *out, const char *hex, size_t len);
int stp_span_id_parse(stp_span_id *out, const char *hex, size_t len);

/* Write lowercase hex: 32 or 16 digits plus a NUL. The buffers are fixed
 * size, so these cannot fail. */
void stp_trace_id_format(const stp_trace_id *id,
                         char out[STP_TRACE_ID_HEX_LEN + 1]);
void stp_span_id_format(const stp_span_id *id,
                        char out[STP_SPAN_ID_HEX_LEN + 1]);

bool stp_trace_id_is_zero(const stp_trace_id *id);
bool stp_span_id_is_zero(const stp_span_id *id);

/* Fresh random non-zero ids. The generator is per thread, seeded once from
 * the operating system (getrandom) and reseeded in a forked child; no
 * system call per id. Thread-safe. */
void stp_trace_id_random(stp_trace_id *out);
void stp_span_id_random(stp_span_id *out);

/* A uniform random 64-bit value from the same per-thread generator. */
uint64_t stp_random_u64(void);

/* ------------------------------------------------------------------------ */
/* sentry-trace and traceparent.                                            */

typedef enum stp_sampled {
  STP_SAMPLED_DEFERRED = -1, /* no decision yet */
  STP_SAMPLED_NO = 0,
  STP_SAMPLED_YES = 1
} stp_sampled;

/* One parsed trace header (either format). */
typedef struct stp_trace_header {
  stp_trace_id trace_id;
  stp_span_id span_id;
  stp_sampled sampled;
  uint8_t trace_flags; /* traceparent FLAGS; for sentry-trace 1 if sampled */
} stp_trace_header;

#define STP_SENTRY_TRACE_MAX_LEN 51 /* 32 + 1 + 16 + 1 + 1 */
#define STP_TRACEPARENT_LEN 55      /* 2 + 1 + 32 + 1 + 16 + 1 + 2 */

/* Bytes of one sentry-trace value that the parser looks at. A longer value
 * is judged on this prefix (every valid element fits in it many times);
 * an element cut by the bound is STP_ERR_TOO_LONG. A traceparent longer
 * than this is STP_ERR_TOO_LONG without being parsed (STP_ERR_CONTROL_CHAR
 * when a control byte is within the bound). */
#define STP_SENTRY_TRACE_SCAN_MAX 1024

/* Parse a `sentry-trace` value (SPEC section 2). Leading and trailing
 * spaces and tabs are ignored; a value folded with `,` yields its first
 * non-empty element that is valid; uppercase hex is accepted. Returns 0, or
 * the error of the first non-empty element when none is valid
 * (STP_ERR_EMPTY when there is no non-empty element at all). */
int stp_sentry_trace_parse(stp_trace_header *out, const char *value,
                           size_t len);

/* Write `trace-span[-flag]` (flag absent when deferred), lowercase,
 * NUL-terminated. Needs cap >= STP_SENTRY_TRACE_MAX_LEN + 1 at most. */
int stp_sentry_trace_format(char *buf, size_t cap, size_t *out_len,
                            const stp_trace_id *trace_id,
                            const stp_span_id *span_id, stp_sampled sampled);

/* Parse a W3C `traceparent` (SPEC section 3): lowercase only, version ff
 * invalid, version 00 exactly 55 bytes, later versions at least 55 with a
 * `-` after byte 55 when longer. Surrounding spaces and tabs are ignored.
 * `sampled` is YES when bit 0 of the flags is set and DEFERRED otherwise;
 * the raw flags are in trace_flags. */
int stp_traceparent_parse(stp_trace_header *out, const char *value, size_t len);

/* Write `00-trace-span-01` when sampled, `...-00` otherwise. */
int stp_traceparent_format(char *buf, size_t cap, size_t *out_len,
                           const stp_trace_id *trace_id,
                           const stp_span_id *span_id, stp_sampled sampled);

/* ------------------------------------------------------------------------ */
/* Baggage (W3C): a member iterator over raw bytes that never allocates.    */

/* Output limits; also what a context keeps: members, and its store's bytes. */
#define STP_BAGGAGE_MAX_MEMBERS 64
#define STP_BAGGAGE_MAX_BYTES 8192
/* Input bound per carrier: bytes of `baggage` values examined, and list
 * members examined (valid or not). Anything past either bound is ignored.
 * Nothing is read past the length given. Short of it, the iterator reads at
 * most 15 bytes past the last member examined (a value is scanned 16 bytes
 * at a time); a context reads a value whole when it fits in what is left of
 * the context's store, as it copies the value there in one piece. */
#define STP_BAGGAGE_SCAN_MAX_BYTES 32768
#define STP_BAGGAGE_SCAN_MAX_MEMBERS 512

/* One list-member, as slices of the input. value is still percent-encoded;
 * props is the raw text after the first `;` and the spaces around it,
 * byte for byte up to the trailing spaces, or empty. */
typedef struct stp_baggage_member {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
  const char *props;
  size_t props_len;
} stp_baggage_member;

/* Iterator state; lives on the caller's stack. Fields are read-only. */
typedef struct stp_baggage_iter {
  const char *pos;
  const char *end;
  size_t skipped; /* malformed members skipped so far */
} stp_baggage_iter;

void stp_baggage_iter_init(stp_baggage_iter *it, const char *value, size_t len);

/* Advance to the next valid member. Returns true and fills *m (slices into
 * the input, valid as long as the input is), or false at the end. A malformed
 * member is skipped on its own and counted in it->skipped. A valid member
 * is `key OWS = OWS value *(OWS ; property)` with key an RFC 7230 token,
 * value baggage-octets only (may contain `=`), and each property
 * `key OWS [ "=" OWS value ]` with a token key and a baggage-octet value
 * (W3C); a member with a property that is not so is malformed. */
bool stp_baggage_iter_next(stp_baggage_iter *it, stp_baggage_member *m);

/* Percent-decode (`%XX`; `+` stays a plus; an invalid escape is kept as
 * it is; invalid UTF-8 after decoding becomes U+FFFD). For printable ASCII
 * input (every value the iterator returns) the output is never longer than
 * the input, so cap >= len + 1 suffices; for arbitrary bytes 3 * len + 1. */
int stp_baggage_decode(char *buf, size_t cap, size_t *out_len, const char *in,
                       size_t len);

/* Percent-encode everything that is not a baggage-octet, and `%`, with
 * uppercase hex. cap >= 3 * len + 1 always suffices. */
int stp_baggage_encode(char *buf, size_t cap, size_t *out_len, const char *in,
                       size_t len);

/* ------------------------------------------------------------------------ */
/* UTF-8.                                                                   */

/* The length of the character that starts s[0, len), for walking a string
 * of unknown bytes: 1 to 4 when it is a well-formed UTF-8 sequence
 * (RFC 3629: no overlong form, surrogate or code point past U+10FFFF) and
 * *out_valid is then true; otherwise the length of its maximal invalid
 * prefix (1 to 3 bytes; Unicode's "maximal subpart", which a reader
 * replaces with one U+FFFD, as stp_baggage_decode does) and *out_valid is
 * false. Returns 0 only when len is 0 or s is NULL. Reads at most 4 bytes
 * and none past len; out_valid may be NULL. */
size_t stp_utf8_char_len(bool *out_valid, const char *s, size_t len);

/* ------------------------------------------------------------------------ */
/* DSN: https://PUBLIC_KEY[:SECRET]@HOST[:PORT]/[PATH/]PROJECT_ID            */

/* A parsed DSN: slices of the input (not NUL-terminated), valid as long as
 * it is. Absent parts have length 0. */
typedef struct stp_dsn {
  const char *scheme; /* "http" or "https" (either case) */
  size_t scheme_len;
  const char *public_key; /* letters and digits */
  size_t public_key_len;
  const char *secret; /* the legacy secret key, usually absent */
  size_t secret_len;
  const char *host;
  size_t host_len;
  const char *port; /* digits, or absent */
  size_t port_len;
  const char *path; /* between the host and the project id, without the
                       slashes around it; usually absent */
  size_t path_len;
  const char *project_id; /* decimal, at most 20 digits */
  size_t project_id_len;
  const char *org_id; /* from a host such as o447951.ingest.sentry.io */
  size_t org_id_len;
} stp_dsn;

/* Parse a DSN. Returns 0 or STP_ERR_DSN (another scheme, a missing key,
 * host or project id, a key or project id of other characters, a port
 * that is not digits, a control byte); *out is filled on success only. */
int stp_dsn_parse(stp_dsn *out, const char *dsn, size_t len);

/* ------------------------------------------------------------------------ */
/* Configuration: immutable once built, shareable between threads.          */

/* A finished span (see "Span records" below) and the callback that
 * receives them: the config's record sink, which every layer reports to. */
typedef struct stp_span_record stp_span_record;
typedef void (*stp_span_record_fn)(void *user, const stp_span_record *rec);

typedef struct stp_options {
  /* All strings are NUL-terminated and copied by stp_config_new; NULL
   * means unset. */
  const char *dsn;         /* https://KEY@oORG.ingest.sentry.io/PROJECT */
  const char *release;     /* no control characters */
  const char *environment; /* no control characters */
  const char *org_id;      /* 1 to 20 digits; overrides the DSN's org id */
  bool has_sample_rate;    /* false: tracing without performance */
  double sample_rate;      /* in [0, 1] */
  bool strict_trace_continuation;     /* default false */
  bool propagate_traceparent;         /* default false */
  bool accept_traceparent;            /* default true */
  bool propagate_third_party_baggage; /* default false */
  /* Propagation targets: POSIX extended regular expressions searched
   * (unanchored) in the outgoing URL, or in "authority/method" for gRPC.
   * targets == NULL: match everything (the default). A non-NULL array with
   * targets_len == 0: never inject. */
  const char *const *targets;
  size_t targets_len;
  /* Where every layer sends its span records (the gRPC interceptors, the
   * nghttp2 helpers, stp_local_span): an exporter (stp/exporter.h) or a
   * callback of yours. NULL: no records. Called on the thread that ends
   * the span, with record_user; it must not block, and must outlive every
   * context made with the config. */
  stp_span_record_fn on_record;
  void *record_user;
} stp_options;

/* Fill *opts with the defaults listed above. */
void stp_options_init(stp_options *opts);

typedef struct stp_config stp_config;

/* Build an immutable configuration. Everything in *opts is copied; the
 * caller may free it afterwards. alloc may be NULL for malloc/free; the
 * config keeps a copy of it and frees itself with it.
 * On error *out is NULL and nothing is leaked; the error names the bad
 * option: STP_ERR_DSN, STP_ERR_SAMPLE_RATE, STP_ERR_ORG_ID (the option or
 * the DSN's `oNNN.` host: 1 to 20 digits), STP_ERR_OPTION_VALUE,
 * STP_ERR_PATTERN, STP_ERR_LIMIT (release and environment too long for a
 * head's DSC to hold within STP_BAGGAGE_MAX_BYTES) or STP_ERR_NOMEM. */
int stp_config_new(stp_config **out, const stp_options *opts,
                   const stp_allocator *alloc);
void stp_config_del(stp_config *cfg);

/* Read-only accessors. Strings are owned by the config, NUL-terminated,
 * valid until stp_config_del; NULL when unset. */
const char *stp_config_public_key(const stp_config *cfg);
const char *stp_config_org_id(const stp_config *cfg);
const char *stp_config_release(const stp_config *cfg);
const char *stp_config_environment(const stp_config *cfg);
bool stp_config_sample_rate(const stp_config *cfg, double *out_rate);

/* The record sink of the options (NULL when none) and, in *out_user (may
 * be NULL), its record_user. For layers that report spans: check it
 * before building a record. */
stp_span_record_fn stp_config_record_sink(const stp_config *cfg,
                                          void **out_user);

/* Hand rec to the config's record sink; nothing when there is none or cfg
 * is NULL. */
void stp_config_emit(const stp_config *cfg, const stp_span_record *rec);

bool stp_config_strict_trace_continuation(const stp_config *cfg);
/* Whether the config has propagation targets (else every URL matches). */
bool stp_config_has_targets(const stp_config *cfg);
bool stp_config_propagate_traceparent(const stp_config *cfg);
bool stp_config_accept_traceparent(const stp_config *cfg);
bool stp_config_propagate_third_party_baggage(const stp_config *cfg);

/* Whether an outgoing request to `url` should carry the trace: *out_match
 * is true when the config has no targets (match everything) or one of its
 * targets is found in url, false otherwise (also for a URL holding a NUL).
 * With targets, a URL of 512 bytes or more is copied for regexec through
 * the config's allocator (freed before returning). Returns 0,
 * STP_ERR_INVALID_ARGUMENT, or STP_ERR_NOMEM when that copy could not be
 * made (*out_match is then false). */
int stp_config_should_propagate(const stp_config *cfg, bool *out_match,
                                const char *url, size_t len);

/* ------------------------------------------------------------------------ */
/* Spans and the per-unit-of-work context.                                  */

/* One span's identity: plain data. */
typedef struct stp_span {
  stp_trace_id trace_id;
  stp_span_id span_id;
  stp_span_id parent_span_id; /* all zero when has_parent is false */
  bool has_parent;
  stp_sampled sampled;
} stp_span;

/* The context of one unit of work (an incoming call, a stream, a job):
 * its span, sampling decision, DSC and third-party baggage members.
 *
 * Plain storage of a fixed size that owns no memory: it may live on the
 * stack, in an arena, inside your own per-request struct, or come from
 * stp_context_new. Its size and alignment are public so that it can; its
 * fields are not (they change between versions without notice). Copy
 * one only with stp_context_copy, or compactly (stp_context_compact,
 * stp_context_clone) once it is decided.
 *
 * A context is used by one thread at a time. It keeps a pointer to its
 * config, which must outlive it. */
#define STP_CONTEXT_SIZE 9600
#define STP_CONTEXT_ALIGN 8

typedef struct stp_context {
  union {
    uint64_t align_;
    double align_double_;
    void *align_pointer_;
    unsigned char bytes_[STP_CONTEXT_SIZE];
  } private_;
} stp_context;

/* Start a new trace as its head: new trace id and span id, no parent, the
 * sampling decision taken from the config's sample rate (deferred without
 * one), and a DSC built from the options. cfg must not be NULL. */
int stp_context_init(stp_context *ctx, const stp_config *cfg);

/* A heap context (one allocation through alloc, NULL for malloc),
 * initialised as a new head. It remembers alloc: free it with
 * stp_context_del. Returns 0, STP_ERR_INVALID_ARGUMENT or STP_ERR_NOMEM
 * (*out is then NULL). */
int stp_context_new(stp_context **out, const stp_config *cfg,
                    const stp_allocator *alloc);

/* Free a context made by stp_context_new or stp_context_clone (only
 * those: a context of your own storage needs no freeing). NULL does
 * nothing. */
void stp_context_del(stp_context *ctx);

/* Makes dst (storage of STP_CONTEXT_SIZE) an independent copy of src (same
 * span, decision, DSC and members, same config pointer), copying only the
 * part of the store src uses: a few hundred bytes for a typical trace
 * rather than the whole structure. src may be a compact copy; dst is a
 * whole context. dst and src must not overlap. */
void stp_context_copy(stp_context *dst, const stp_context *src);

/* Compact copies: a context kept per request at the size of what the
 * request brought. A context of STP_CONTEXT_SIZE has room for the most any
 * request may carry; a compact copy has room for what its source holds
 * (a few hundred bytes for usual trace headers), one more member, and any
 * storage it is given past stp_context_compact_size. Copy a context once
 * it is decided (after stp_context_finish or _continue, or a new head)
 * and keep the copy for the request's life.
 *
 * A compact copy is a context like any other for reading it, sending the
 * trace on (stp_context_sentry_trace, _baggage, _inject, child spans),
 * attaching it, freezing it and setting its transaction name. A copy of a
 * context whose DSC is not frozen yet (a new head) has room for a name of
 * at least STP_COMPACT_TRANSACTION_ROOM bytes once percent-encoded,
 * besides any room it is given (STP_ERR_LIMIT past it). It is not begun,
 * continued or initialised again: those need storage of STP_CONTEXT_SIZE
 * (stp_context_copy makes a whole context from a compact copy). */
#define STP_COMPACT_TRANSACTION_ROOM 128

/* The bytes a compact copy of ctx needs, a multiple of STP_CONTEXT_ALIGN
 * (0 for NULL). */
size_t stp_context_compact_size(const stp_context *ctx);

/* Copy src into `size` bytes at mem (aligned to STP_CONTEXT_ALIGN, owned
 * by you: an arena, a request struct's tail; not overlapping src); *out
 * is the copy, at mem.
 * Returns 0, STP_ERR_INVALID_ARGUMENT (NULL, or mem misaligned),
 * STP_ERR_STATE (src is between begin and finish, or was never made), or
 * STP_ERR_BUFFER_TOO_SMALL (size < stp_context_compact_size(src)). */
int stp_context_compact(stp_context **out, void *mem, size_t size,
                        const stp_context *src);

/* A heap compact copy of src (one allocation through alloc, NULL for
 * malloc): free it with stp_context_del. Returns 0,
 * STP_ERR_INVALID_ARGUMENT (also for a block from alloc not aligned to
 * STP_CONTEXT_ALIGN, which is freed), STP_ERR_STATE (as
 * stp_context_compact) or STP_ERR_NOMEM (*out is then NULL). */
int stp_context_clone(stp_context **out, const stp_context *src,
                      const stp_allocator *alloc);

/* Incremental continuation, for servers that see headers one at a time
 * (nghttp2's on_header_callback): begin, feed every request header, then
 * finish. Names are compared case-insensitively; other headers are
 * ignored cheaply. begin returns 0 or STP_ERR_INVALID_ARGUMENT (ctx or cfg
 * NULL). feed returns 0, STP_ERR_INVALID_ARGUMENT (NULL with a length) or
 * STP_ERR_STATE (called outside begin/finish); malformed values are
 * recorded, not returned. */
int stp_context_begin(stp_context *ctx, const stp_config *cfg);
int stp_context_feed(stp_context *ctx, const char *name, size_t name_len,
                     const char *value, size_t value_len);

/* Whether a header of this name can be a trace header (`sentry-trace`,
 * `traceparent`, `baggage`): false for every name stp_context_feed ignores
 * by its length or a leading ':' (pseudo-headers). The test feed makes
 * first; a header callback that sees many headers can make it itself and
 * skip the call for most of them. name may be NULL only with length 0. */
static inline bool stp_header_is_candidate(const char *name, size_t name_len) {
  return (name_len == 7 || name_len == 11 || name_len == 12) && name[0] != ':';
}

/* Whether two header names are the same, ASCII case aside (HTTP field
 * names and, for lookups, gRPC metadata keys are compared so). */
bool stp_header_name_equal(const char *a, size_t a_len, const char *b,
                           size_t b_len);

/* Decide (SPEC section 5). Returns STP_ERR_INVALID_ARGUMENT for NULL and
 * STP_ERR_STATE without a begin. Otherwise, on return the context is
 * always usable: either
 * it continues the incoming trace or it is a new head. A continued trace
 * takes the trace header's flag as its decision; without one, the DSC's
 * `sentry-sampled` (`true` or `false`); without either, the config's
 * sample rate decides (or the decision stays open). Returns 0 when the
 * trace was continued; otherwise why not: STP_ERR_ABSENT (no trace
 * header), the parse error of the first sentry-trace (or traceparent)
 * value, or STP_ERR_ORG_MISMATCH. The same value is kept in
 * stp_context_status. */
int stp_context_finish(stp_context *ctx);

/* The config the context was made with (NULL before init/begin). */
const stp_config *stp_context_config(const stp_context *ctx);

/* The result of the last finish/continue (0 for a head from init). */
int stp_context_status(const stp_context *ctx);
bool stp_context_continued(const stp_context *ctx);

/* The unit of work's own span (trace id, span id, parent, decision). The
 * pointer is valid as long as the context. */
const stp_span *stp_context_span(const stp_context *ctx);

/* sample_rand of this trace, in [0, 1). */
double stp_context_sample_rand(const stp_context *ctx);

/* Whether the DSC is frozen (continued, or already sent out). */
bool stp_context_frozen(const stp_context *ctx);

/* Freeze the DSC now (it freezes by itself when it first leaves the
 * process). Call it before sharing a context between threads for
 * injection. */
void stp_context_freeze(stp_context *ctx);

/* Set the transaction name of a head before its DSC is frozen (it becomes
 * `sentry-transaction`, percent-encoded). Returns STP_ERR_FROZEN after;
 * STP_ERR_STATE between stp_context_begin and stp_context_finish (the
 * context may yet continue a DSC, which goes on as received);
 * STP_ERR_LIMIT when the DSC store has no room for it (a name set before
 * then stays). */
int stp_context_set_transaction(stp_context *ctx, const char *name, size_t len);

/* Members dropped because of limits and malformed members skipped while
 * continuing. */
size_t stp_context_baggage_skipped(const stp_context *ctx);
size_t stp_context_baggage_dropped(const stp_context *ctx);

/* Baggage members held by the context: the DSC (`sentry-*`) and the
 * incoming third-party members, in received order. *m gets slices into the
 * context (still percent-encoded), valid until the context changes. A DSC
 * member has no properties: those it came with are not kept (SPEC section
 * 4). Returns STP_ERR_NOT_FOUND past the end. */
size_t stp_context_member_count(const stp_context *ctx);
int stp_context_member(const stp_context *ctx, stp_baggage_member *m,
                       bool *is_sentry, size_t index);

/* Decoded value of a DSC key, given with or without the `sentry-` prefix
 * (`"release"` or `"sentry-release"`). STP_ERR_NOT_FOUND when absent. */
int stp_context_dsc_get(const stp_context *ctx, char *buf, size_t cap,
                        size_t *out_len, const char *key, size_t key_len);

/* A child span for an outgoing call: same trace and decision, new span id,
 * parent = the context's span. Returns 0 or STP_ERR_INVALID_ARGUMENT. */
int stp_context_child_span(const stp_context *ctx, stp_span *out);

/* ------------------------------------------------------------------------ */
/* Outgoing values (SPEC section 6). `span` selects the span to announce;
 * NULL means the context's own span.                                       */

int stp_context_sentry_trace(const stp_context *ctx, char *buf, size_t cap,
                             size_t *out_len, const stp_span *span);
int stp_context_traceparent(const stp_context *ctx, char *buf, size_t cap,
                            size_t *out_len, const stp_span *span);

/* The outgoing `baggage`: the DSC with `sentry-trace_id` first, preceded by
 * the members of `existing` (another baggage value the request already has;
 * its `sentry-*` members are removed, its malformed members skipped) and,
 * with propagate_third_party_baggage, the incoming third-party members.
 * Properties of third-party members are written as received, except
 * that tabs become spaces (gRPC metadata allows no tab); DSC members have
 * none.
 * At most STP_BAGGAGE_MAX_MEMBERS members and STP_BAGGAGE_MAX_BYTES bytes:
 * whole members are dropped, others before Sentry ones. *out_len is 0 when
 * there is nothing to send. Freezes the DSC. cap of
 * STP_BAGGAGE_MAX_BYTES + 1 always suffices. */
int stp_context_baggage(stp_context *ctx, char *buf, size_t cap,
                        size_t *out_len, const char *existing,
                        size_t existing_len);

/* `<meta name="sentry-trace" content="..."><meta name="baggage"
 * content="...">` with the content HTML-escaped. Freezes the DSC.
 * cap of STP_META_MAX_LEN + 1 always suffices. */
#define STP_META_MAX_LEN                                                       \
  (80 + 6 * STP_SENTRY_TRACE_MAX_LEN + 6 * STP_BAGGAGE_MAX_BYTES)
int stp_context_meta(stp_context *ctx, char *buf, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Carriers: any key/value header map, through two callbacks.               */

/* Called by a carrier for each header it holds. Return 0 to go on,
 * non-zero to stop (the carrier's foreach then returns that value). */
typedef int (*stp_header_fn)(void *arg, const char *name, size_t name_len,
                             const char *value, size_t value_len);

typedef struct stp_carrier {
  /* Call fn for every header, in order, repeated names included. Returns 0
   * or what fn returned. */
  int (*foreach)(void *user, stp_header_fn fn, void *arg);
  /* Replace every value of `name` (always lowercase) by `value`, or remove
   * the header when value is NULL. value is valid only during the call:
   * copy it. Returns 0 or a negative stp_error. May be NULL for a
   * read-only carrier. */
  int (*set)(void *user, const char *name, size_t name_len, const char *value,
             size_t value_len);
  void *user;
} stp_carrier;

/* begin + feed every header of the carrier + finish. Bounds on what is
 * looked at: the first 16 `sentry-trace` values, the first `traceparent`,
 * and STP_BAGGAGE_SCAN_MAX_BYTES / _MEMBERS of all `baggage` values. */
int stp_context_continue(stp_context *ctx, const stp_config *cfg,
                         const stp_carrier *carrier);

/* Write the trace into an outgoing carrier: `sentry-trace` (replacing any
 * there), `baggage` (merged with the carrier's own, one header), and
 * `traceparent` with propagate_traceparent. span as above. Returns 0, or
 * STP_ERR_CARRIER (or the set callback's error) when set failed. Freezes
 * the DSC. Does not check propagation targets; callers that know the URL
 * use stp_config_should_propagate first. Every value it sets is bytes
 * 0x20 to 0x7e only (whatever came in), so HTTP/1.1, HTTP/2 and gRPC
 * (grpc_header_nonbin_value_is_legal) all allow it. */
int stp_context_inject(stp_context *ctx, const stp_carrier *carrier,
                       const stp_span *span);

/* ------------------------------------------------------------------------ */
/* Environment variables (SPEC section 7).                                  */

/* Continue from SENTRY_TRACE / SENTRY_BAGGAGE unless SENTRY_USE_ENVIRONMENT
 * is one of false/no/off/n/0 (any case), which gives STP_ERR_DISABLED and a
 * new head. Otherwise as stp_context_finish. Reads getenv. */
int stp_context_continue_env(stp_context *ctx, const stp_config *cfg);

/* The two variables for a child process, as `SENTRY_TRACE=...` and
 * `SENTRY_BAGGAGE=...` strings for an execve environment (the baggage one
 * is empty-valued when there is no baggage). span as above; the baggage
 * one freezes the DSC. Buffers of STP_ENV_TRACE_MAX_LEN + 1 and
 * STP_ENV_BAGGAGE_MAX_LEN + 1 bytes always suffice. */
#define STP_ENV_TRACE_MAX_LEN (13 + STP_SENTRY_TRACE_MAX_LEN)
#define STP_ENV_BAGGAGE_MAX_LEN (15 + STP_BAGGAGE_MAX_BYTES)
int stp_context_env_sentry_trace(const stp_context *ctx, char *buf, size_t cap,
                                 size_t *out_len, const stp_span *span);
int stp_context_env_baggage(stp_context *ctx, char *buf, size_t cap,
                            size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Span records: one per finished span, from every layer that times one    */
/* (the gRPC and grpc++ interceptors, the nghttp2 helpers, stp_local_span), */
/* to the config's record sink (stp_options.on_record).                     */

/* One finished span. Every pointer is valid during the callback only. */
struct stp_span_record {
  stp_span span;           /* trace id, span id, parent, decision */
  const char *op;          /* "grpc.client", "grpc.server", ...: C string */
  const char *description; /* the method path, "GET /path", ... */
  size_t description_len;
  const char *status; /* Sentry's span status ("ok", "not_found", ...,
                         "unknown" when not known): C string */
  int code;           /* the protocol's own status (gRPC status code, HTTP
                         :status), or -1 when not known */
  uint64_t start_ns;  /* Unix time, nanoseconds */
  uint64_t end_ns;
  /* The first span of its unit of work in this process: the context's
   * own span (a server span, a span that started a new trace here, a
   * stp_local_span_start_root). Its children are recorded in the same
   * process with it as their parent. */
  bool local_root;
  /* Server spans: why the trace was not continued (stp_context_status; 0
   * when it was). Other spans: 0. */
  int continue_status;
  /* Client spans: whether the trace headers were sent (propagation
   * targets). Other spans: false. */
  bool injected;
  /* The unit of work's context (its DSC, say), read-only; NULL when the
   * layer has none. */
  const stp_context *ctx;
  /* How the description names a local root, for Sentry's transaction
   * source: "url" (a raw path), "route", "custom" (a method or a name you
   * chose), ...: C string; NULL lets the reader choose by op. */
  const char *source;
};

/* Sentry's span status for an HTTP status code (2xx and 3xx "ok", 404
 * "not_found", ...) and for a gRPC status code (0 "ok", 4
 * "deadline_exceeded", ...). Static strings, never NULL: "unknown_error"
 * for a code outside the protocol's range. */
const char *stp_span_status_http(int code);
const char *stp_span_status_grpc(int code);

/* Unix time in nanoseconds (CLOCK_REALTIME), the clock of span records. */
uint64_t stp_time_now_ns(void);

/* ------------------------------------------------------------------------ */
/* Your own spans: a piece of a unit of work timed by you, reported as one  */
/* record to the context's config's record sink.                            */

/* Plain data on your storage (stack, your request struct); no allocation.
 * Read its fields, change them only through the functions below. */
typedef struct stp_local_span {
  stp_span span;          /* its ids: a parent for spans under it */
  const stp_context *ctx; /* must outlive the span until finish */
  const char *op;
  const char *name; /* the record's description, not copied */
  size_t name_len;
  const char *status; /* "ok" unless set */
  int code;           /* -1 unless set */
  uint64_t start_ns;
  bool local_root;
  bool finished;
} stp_local_span;

/* Start a span as a child of `parent` (NULL: the context's own span) in
 * the trace of ctx (NULL: the thread's current context). op ("db.query",
 * ...; NULL: "function") and name (not NUL-terminated; may be NULL with
 * length 0) must stay valid until finish. Returns 0, STP_ERR_NO_CONTEXT
 * (ctx NULL and none current) or STP_ERR_INVALID_ARGUMENT (sp NULL, a
 * NULL name with a length, a parent of another trace). */
int stp_local_span_start(stp_local_span *sp, const stp_context *ctx,
                         const stp_span *parent, const char *op,
                         const char *name, size_t name_len);

/* Start the span of the unit of work itself: the context's own span, so
 * that it becomes Sentry's transaction and the spans under it its spans
 * (the SDKs' start_transaction after continue_trace). For work no layer
 * times for you: a job, a message, a command. Arguments as above. */
int stp_local_span_start_root(stp_local_span *sp, const stp_context *ctx,
                              const char *op, const char *name,
                              size_t name_len);

/* Set Sentry's span status (a static string such as "internal_error"), or
 * the status from a protocol's code (the record's code too). */
void stp_local_span_set_status(stp_local_span *sp, const char *status);
void stp_local_span_set_http_status(stp_local_span *sp, int code);
void stp_local_span_set_grpc_status(stp_local_span *sp, int code);

/* End the span now: one record to the sink of the context's config.
 * Returns 0, STP_ERR_INVALID_ARGUMENT, or STP_ERR_STATE when it was
 * finished already (no second record). */
int stp_local_span_finish(stp_local_span *sp);

/* ------------------------------------------------------------------------ */
/* The implicit API: one current context per thread (seed page API).        */

typedef struct stp_token {
  stp_context *prev;
  stp_context *self;
} stp_token;

/* The calling thread's current context, or NULL. */
stp_context *stp_current(void);

/* Make ctx current on this thread; the token restores the previous one. */
stp_token stp_attach(stp_context *ctx);

/* Restore what was current before the matching attach. Returns
 * STP_ERR_DETACH_ORDER (and restores anyway) when ctx is not the current
 * one, i.e. attach/detach were not nested. */
int stp_detach(stp_token token);

/* The Python SDK's continue_trace(headers): continue into ctx from the
 * carrier and make it current. *token (may be NULL) restores the previous
 * context. Returns as stp_context_continue; ctx is attached in every case
 * but STP_ERR_INVALID_ARGUMENT (ctx, cfg or carrier NULL), where nothing
 * is attached and *token detaches to what is current now. */
int stp_continue_trace(stp_context *ctx, stp_token *token,
                       const stp_config *cfg, const stp_carrier *carrier);

/* The outgoing `sentry-trace` and `baggage` values of the current context:
 * the Python SDK's get_traceparent() and get_baggage(). (The SDK's
 * get_traceparent gives the `sentry-trace` value, not a W3C traceparent;
 * stp names it for what it gives. For a W3C traceparent see
 * stp_context_traceparent.) Return STP_ERR_NO_CONTEXT when none is
 * attached. stp_get_baggage freezes the DSC. */
int stp_get_sentry_trace(char *buf, size_t cap, size_t *out_len);
int stp_get_baggage(char *buf, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* STP_STP_H */
