/* The control line of the memory benchmark's clients (hold_stdin.h). */
#define _POSIX_C_SOURCE 200809L

#include "bench/hold_stdin.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int hold_read_stdin(int *go) {
  struct pollfd p = {STDIN_FILENO, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0)
    return 0;
  char buf[256];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 0 : 1;
  if (n == 0)
    return 1;
  if (memchr(buf, '\n', (size_t)n))
    *go = 1;
  return 0;
}
