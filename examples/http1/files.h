/* Files the example HTTP/1.1 server sends: the page template, and the
 * files under its --static directory. */
#ifndef STP_EXAMPLES_HTTP1_FILES_H
#define STP_EXAMPLES_HTTP1_FILES_H

#include <stddef.h>

#define FILES_MAX_BYTES (32u << 20) /* a larger file is not sent */

typedef struct file_body {
  char *data;       /* NUL-terminated, owned: free(data) */
  size_t len;       /* without the terminator */
  const char *type; /* Content-Type by the name's extension, static */
} file_body;

/* Reads the file rel[0, len) under dir. rel is a request path: segments
 * of [A-Za-z0-9._@+-] separated by single slashes, none of them `.`, `..`
 * or empty, so that no request reaches outside dir. Returns 200 (*f
 * filled), 404 (no such regular file, or too large) or 400 (a path
 * outside those rules). */
int files_read(file_body *f, const char *dir, const char *rel, size_t len);

/* Reads the whole regular file at path. Returns 0, or -1 with errno set. */
int files_read_whole(file_body *f, const char *path);

#endif /* STP_EXAMPLES_HTTP1_FILES_H */
