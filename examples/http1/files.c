#define _POSIX_C_SOURCE 200809L

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool path_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || (ch && strchr("._@+-", ch));
}

/* Whether rel[0, len) is a path of allowed segments (see files_read). */
static bool safe_path(const char *rel, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && rel[i] != '/') {
      if (!path_char(rel[i]))
        return false;
      continue;
    }
    size_t seg = i - start;
    if (seg == 0 || (seg == 1 && rel[start] == '.') ||
        (seg == 2 && rel[start] == '.' && rel[start + 1] == '.'))
      return false;
    start = i + 1;
  }
  return true;
}

static const char *type_of(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".css", "text/css"},
  };
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

/* Reads a regular file of at most FILES_MAX_BYTES from fd, which it
 * closes. Returns 0, or -1 with errno set. */
static int read_fd(file_body *f, int fd) {
  struct stat st;
  int err = 0;
  f->data = NULL;
  if (fstat(fd, &st) != 0)
    err = errno;
  else if (!S_ISREG(st.st_mode))
    err = EISDIR;
  else if ((unsigned long long)st.st_size > FILES_MAX_BYTES)
    err = EFBIG;
  else if (!(f->data = malloc((size_t)st.st_size + 1)))
    err = ENOMEM;
  size_t got = 0;
  while (!err && got < (size_t)st.st_size) {
    ssize_t n = read(fd, f->data + got, (size_t)st.st_size - got);
    if (n <= 0)
      err = n < 0 ? errno : EIO; /* the file shrank */
    else
      got += (size_t)n;
  }
  close(fd);
  if (err) {
    free(f->data);
    f->data = NULL;
    errno = err;
    return -1;
  }
  f->data[got] = '\0';
  f->len = got;
  return 0;
}

int files_read_whole(file_body *f, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  f->type = type_of(path);
  return read_fd(f, fd);
}

int files_read(file_body *f, const char *dir, const char *rel, size_t len) {
  if (!safe_path(rel, len))
    return 400;
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%.*s", dir, (int)len, rel);
  if (n < 0 || (size_t)n >= sizeof path)
    return 404;
  return files_read_whole(f, path) == 0 ? 200 : 404;
}
