#define _POSIX_C_SOURCE 200809L

#include "url.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int url_parse(const char *url, char *buf, size_t cap, const char **host,
              const char **port, const char **authority, const char **path) {
  static const char prefix[] = "http://";
  if (strncmp(url, prefix, sizeof prefix - 1) != 0)
    return -1;
  const char *auth = url + sizeof prefix - 1;
  const char *slash = strchr(auth, '/');
  size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
  if (alen == 0 || alen >= cap / 2)
    return -1;
  char *a = buf, *h = buf + cap / 2;
  memcpy(a, auth, alen);
  a[alen] = '\0';
  memcpy(h, auth, alen + 1);
  h[alen] = '\0';
  char *colon = strrchr(h, ':');
  *port = "80";
  if (colon && !strchr(colon, ']')) {
    *colon = '\0';
    *port = colon + 1;
  }
  if (h[0] == '[') { /* [::1]:8080 */
    h++;
    char *end = strchr(h, ']');
    if (end)
      *end = '\0';
  }
  *host = h;
  *authority = a;
  *path = slash ? slash : "/";
  return 0;
}

int url_connect(const char *host, const char *port, int seconds) {
  struct addrinfo hints = {0}, *res, *ai;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
      continue;
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    perror("connect");
  return fd;
}
