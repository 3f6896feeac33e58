#define _POSIX_C_SOURCE 200809L

#include "downstream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "examples/common/span_log.h"

extern char **environ;

int downstream_init(downstream *d, const char *command) {
  char *copy = strdup(command);
  size_t n = 0;
  if (!copy)
    return -1;
  for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
    if (n == DOWNSTREAM_MAX_ARGS) {
      free(copy);
      return -1;
    }
    d->argv[n++] = tok;
  }
  if (n == 0) {
    free(copy);
    return -1;
  }
  d->argv[n] = NULL;
  d->command = command;
  return 0;
}

void downstream_free(downstream *d) {
  if (d->command)
    free(d->argv[0]);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* This process's environment with SENTRY_TRACE and SENTRY_BAGGAGE
 * replaced by the two given ("NAME=value"). The array is to be freed, not
 * its strings. */
static char **trace_environment(char *env_trace, char *env_baggage) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 3, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "SENTRY_TRACE=", 13) != 0 &&
        strncmp(environ[i], "SENTRY_BAGGAGE=", 15) != 0)
      env[k++] = environ[i];
  env[k++] = env_trace;
  env[k++] = env_baggage;
  return env;
}

/* Starts argv in a process group of its own, with env, its standard
 * output into a pipe whose reading end goes to *out_fd. Returns its pid,
 * or -1. */
static pid_t spawn(char *const *argv, char **env, int *out_fd) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  posix_spawnattr_t attr; /* a process group of its own: pid */
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, env);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (err != 0) {
    fprintf(stderr, "grpc_server: cannot run %s: %s\n", argv[0], strerror(err));
    close(fds[0]);
    return -1;
  }
  *out_fd = fds[0];
  return pid;
}

/* Reads the output of pid from fd into out (cut at cap - 1) until the
 * program ends (what it left running may hold the pipe open), timeout_ms
 * have passed or *stopping is set. Returns 1 when it ended, 0 when not. */
static int collect(pid_t pid, int fd, char *out, size_t cap, size_t *out_len,
                   int timeout_ms, const atomic_int *stopping) {
  uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
  bool ended = false, eof = false;
  siginfo_t info;
  for (;;) {
    memset(&info, 0, sizeof info);
    if (!ended &&
        waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      ended = true; /* not reaped yet: its group id stays its own */
    if (now_ms() >= deadline || atomic_load(stopping))
      return ended;
    if (eof && ended)
      return 1;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, eof ? 0 : 1, ended ? 0 : 20);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0 && ended)
      return 1; /* ended, and nothing more to read now */
    if (r <= 0 || eof)
      continue;
    char scratch[4096];
    char *dst = *out_len + 1 < cap ? out + *out_len : scratch;
    size_t room = *out_len + 1 < cap ? cap - 1 - *out_len : sizeof scratch;
    ssize_t got = read(fd, dst, room);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      eof = true; /* end of its output */
    else if (dst != scratch)
      *out_len += (size_t)got;
  }
}

/* Runs argv with the trace in its environment, its standard output into
 * out (NUL-terminated). Returns its exit status, or -1. */
static int run_program(const downstream *d, int timeout_ms, char *env_trace,
                       char *env_baggage, char *out, size_t cap,
                       size_t *out_len) {
  *out_len = 0;
  out[0] = '\0';
  char **env = trace_environment(env_trace, env_baggage);
  int fd = -1;
  pid_t pid = env ? spawn(d->argv, env, &fd) : -1;
  free(env);
  if (pid < 0)
    return -1;
  int ended = collect(pid, fd, out, cap, out_len, timeout_ms, d->stopping);
  close(fd);
  out[*out_len] = '\0';
  if (!ended)
    fprintf(stderr, "grpc_server: %s took too long, killed\n", d->argv[0]);
  kill(-pid, SIGKILL); /* the program if it still runs, and what it left */
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return ended && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

size_t downstream_run(const downstream *d, stp_context *ctx, int timeout_ms,
                      char *body, size_t len, size_t cap) {
  /* The program's work is a child span of the call's, reported to the
   * config's record sink as a span of your own. */
  stp_local_span sub;
  stp_local_span_start(&sub, ctx, NULL, "subprocess", d->command,
                       strlen(d->command));
  const stp_span child = sub.span;
  char env_trace[STP_ENV_TRACE_MAX_LEN + 1],
      env_baggage[STP_ENV_BAGGAGE_MAX_LEN + 1];
  if (stp_context_env_sentry_trace(ctx, env_trace, sizeof env_trace, NULL,
                                   &child) != STP_OK ||
      stp_context_env_baggage(ctx, env_baggage, sizeof env_baggage, NULL) !=
          STP_OK) {
    stp_local_span_set_status(&sub, "internal_error");
    stp_local_span_finish(&sub);
    return append(body, len, cap, "downstream_exit=-1\n");
  }

  enum { OUTPUT_MAX = 64 * 1024 };
  char *output = malloc(OUTPUT_MAX);
  size_t out_len = 0;
  uint64_t start = span_log_now_ns();
  int code = output ? run_program(d, timeout_ms, env_trace, env_baggage, output,
                                  OUTPUT_MAX, &out_len)
                    : -1;
  uint64_t end = span_log_now_ns();
  stp_local_span_set_status(&sub, code == 0 ? "ok" : "internal_error");
  stp_local_span_finish(&sub);

  const span_log_header env[] = {
      {"SENTRY_TRACE", 12, env_trace + 13, strlen(env_trace + 13)},
      {"SENTRY_BAGGAGE", 14, env_baggage + 15, strlen(env_baggage + 15)}};
  span_log_entry e = {.process = "grpc_server",
                      .op = "subprocess",
                      .description = d->command,
                      .description_len = strlen(d->command),
                      .span = &child,
                      .status = code == 0 ? "ok" : "internal_error",
                      .start_ns = start,
                      .end_ns = end,
                      .headers = env,
                      .n_headers = 2};
  if (span_log_write(d->spans, &e) != 0)
    perror(d->spans);

  len = append(body, len, cap, "downstream_exit=%d\n", code);
  if (output)
    len = append(body, len, cap, "%s", output);
  free(output);
  return len;
}
