/* A gRPC server (core C API, raw byte-buffer messages) that continues the
 * caller's trace for every call and answers with it.
 *
 *   grpc_server [--port N] [--port-file FILE] [--dsn DSN] [--release R]
 *               [--environment E] [--sample-rate X] [--spans FILE]
 *               [--exec 'PROGRAM ARG...']
 *
 * Listens on 127.0.0.1:N (N = 0, the default, picks a free port; FILE then
 * receives the number). Any method is accepted: the server reads the
 * request messages, prints the continued context, and answers one message
 * with `key=value` lines (trace_id, span_id, parent_span_id, sampled,
 * sample_rand, continued, sentry-trace, baggage, then one `dsc.KEY=VALUE`
 * per DSC entry, the key without `sentry-` and the value decoded) and
 * status OK. A `grpc.server` span record is printed when each call ends,
 * and appended to the span log with --spans.
 *
 * --exec runs PROGRAM (arguments split on spaces, no shell) during each
 * call, with SENTRY_TRACE and SENTRY_BAGGAGE set from a child span of the
 * call (a `subprocess` span), so that the program continues the trace.
 * Its standard output is added to the answer after a `downstream_exit=N`
 * line (N: its exit status, -1 when it could not run or was killed after
 * 10 seconds). The program runs in a process group of its own, and what is
 * left of the group when the program ends (or is killed) is killed too.
 * The server serves one call at a time; a call that does not end within
 * 10 seconds of its last step is cancelled. SIGTERM or SIGINT stops the
 * server cleanly (exit 0). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static gpr_timespec soon(void) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(200, GPR_TIMESPAN));
}

#define CALL_STEP_TIMEOUT_MS 10000

/* Waits for `tag` on cq (the only operation outstanding on it) and returns
 * the event's success (0 on shutdown). On a stop signal: with `call`, the
 * call is cancelled so that the wait ends soon; without, returns -1 at
 * once (the operation stays outstanding). With `call`, the call is also
 * cancelled when the step takes CALL_STEP_TIMEOUT_MS: one stalled peer
 * does not hold the server. */
static int wait_for(grpc_completion_queue *cq, void *tag, grpc_call *call) {
  int cancelled = 0;
  gpr_timespec limit =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(CALL_STEP_TIMEOUT_MS, GPR_TIMESPAN));
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(cq, soon(), NULL);
    if (ev.type == GRPC_OP_COMPLETE && ev.tag == tag)
      return ev.success;
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      return 0;
    if (stopping && !call)
      return -1;
    bool late = call && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), limit) > 0;
    if ((stopping || late) && !cancelled) {
      if (late)
        fprintf(stderr, "grpc_server: call stalled, cancelled\n");
      grpc_call_cancel(call, NULL);
      cancelled = 1;
    }
  }
}

static int run(stp_grpc_call *call, grpc_completion_queue *cq, grpc_op *ops,
               size_t n) {
  int tag;
  if (stp_grpc_call_start_batch(call, ops, n, &tag) != GRPC_CALL_OK)
    return 0;
  return wait_for(cq, &tag, stp_grpc_call_get(call));
}

/* Appends printf-style text to buf (len bytes used of cap), cut at cap. */
static size_t append(char *buf, size_t len, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t len, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = len < cap ? vsnprintf(buf + len, cap - len, fmt, ap) : 0;
  va_end(ap);
  len += n < 0 ? 0 : (size_t)n;
  return len < cap ? len : cap - 1;
}

/* Appends s[0, n) escaped (escape_byte), as far as it fits. */
static size_t append_escaped(char *buf, size_t len, size_t cap, const char *s,
                             size_t n) {
  for (size_t i = 0; i < n && len + 4 < cap; i++)
    len += escape_byte(buf + len, (unsigned char)s[i]);
  buf[len] = '\0';
  return len;
}

/* The continued context as `key=value` lines. */
static size_t describe(stp_grpc_call *call, char *buf, size_t cap) {
  stp_context *ctx = stp_grpc_call_context(call);
  const stp_span *span = stp_context_span(ctx);
  char trace[STP_TRACE_ID_HEX_LEN + 1], id[STP_SPAN_ID_HEX_LEN + 1],
      parent[STP_SPAN_ID_HEX_LEN + 1] = "-";
  stp_trace_id_format(&span->trace_id, trace);
  stp_span_id_format(&span->span_id, id);
  if (span->has_parent)
    stp_span_id_format(&span->parent_span_id, parent);
  int status = stp_context_status(ctx);

  /* What a handler does: make the call's context current while it runs,
   * so that the implicit API (and outgoing calls) see it. */
  stp_token tok = stp_attach(ctx);
  char st[STP_SENTRY_TRACE_MAX_LEN + 1] = "",
                                     bag[STP_BAGGAGE_MAX_BYTES + 1] = "";
  size_t len;
  stp_get_sentry_trace(st, sizeof st, &len);
  stp_get_baggage(bag, sizeof bag, &len);
  stp_detach(tok);

  size_t n = append(buf, 0, cap,
                    "trace_id=%s\nspan_id=%s\nparent_span_id=%s\nsampled=%s\n"
                    "sample_rand=%.6f\ncontinued=%s\nsentry-trace=%s\n"
                    "baggage=%s\n",
                    trace, id, parent, sampled_str(span->sampled),
                    stp_context_sample_rand(ctx),
                    status == 0 ? "yes" : stp_error_name(status), st, bag);
  for (size_t i = 0; i < stp_context_member_count(ctx); i++) {
    stp_baggage_member m;
    bool is_sentry;
    static char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t vlen;
    if (stp_context_member(ctx, &m, &is_sentry, i) == STP_OK && is_sentry &&
        stp_baggage_decode(value, sizeof value, &vlen, m.value, m.value_len) ==
            STP_OK) {
      n = append(buf, n, cap, "dsc.%.*s=", (int)(m.key_len - 7), m.key + 7);
      n = append_escaped(buf, n, cap, value, vlen);
      n = append(buf, n, cap, "\n");
    }
  }
  return n;
}

/* ---- the downstream program (--exec) ------------------------------------ */

#define EXEC_MAX_ARGS 32
#define EXEC_TIMEOUT_MS 10000

extern char **environ;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs argv with env_trace / env_baggage added to (or replacing those in)
 * this process's environment, its stdout read into out (cut at cap - 1).
 * Returns the exit status, or -1 when it could not run, died of a signal
 * or was killed after EXEC_TIMEOUT_MS. */
static int run_program(char *const *argv, char *env_trace, char *env_baggage,
                       char *out, size_t cap, size_t *out_len) {
  *out_len = 0;
  size_t n_env = 0;
  while (environ[n_env])
    n_env++;
  char **env = calloc(n_env + 3, sizeof *env);
  if (!env)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < n_env; i++)
    if (strncmp(environ[i], "SENTRY_TRACE=", 13) != 0 &&
        strncmp(environ[i], "SENTRY_BAGGAGE=", 15) != 0)
      env[k++] = environ[i];
  env[k++] = env_trace;
  env[k++] = env_baggage;

  int fds[2];
  if (pipe(fds) != 0) {
    free(env);
    return -1;
  }
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
  free(env);
  close(fds[1]);
  if (err != 0) {
    fprintf(stderr, "grpc_server: cannot run %s: %s\n", argv[0], strerror(err));
    close(fds[0]);
    return -1;
  }

  /* Its output until it ends (what it left running may hold the pipe
   * open), or until the time is up or the server stops. */
  uint64_t deadline = now_ms() + EXEC_TIMEOUT_MS;
  bool ended = false, eof = false, timed_out = false;
  siginfo_t info;
  for (;;) {
    memset(&info, 0, sizeof info);
    if (!ended &&
        waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      ended = true; /* not reaped yet: its group id stays its own */
    if (now_ms() >= deadline || stopping) {
      timed_out = !ended;
      break;
    }
    if (eof && ended)
      break;
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = poll(&p, eof ? 0 : 1, ended ? 0 : 20);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0 && ended)
      break; /* ended, and nothing more to read now */
    if (r <= 0 || eof)
      continue;
    char scratch[4096];
    char *dst = *out_len + 1 < cap ? out + *out_len : scratch;
    size_t room = *out_len + 1 < cap ? cap - 1 - *out_len : sizeof scratch;
    ssize_t got = read(fds[0], dst, room);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      eof = true; /* end of its output */
    else if (dst != scratch)
      *out_len += (size_t)got;
  }
  close(fds[0]);
  out[*out_len] = '\0';
  if (timed_out)
    fprintf(stderr, "grpc_server: %s took too long, killed\n", argv[0]);
  kill(-pid, SIGKILL); /* the program if it still runs, and what it left */
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return !timed_out && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

/* What the server was started with. */
typedef struct server_setup {
  const char *exec; /* --exec, as given */
  char *exec_argv[EXEC_MAX_ARGS + 1];
  const char *spans; /* --spans */
  example_recorder *recorder;
} server_setup;

/* Runs the --exec program under a `subprocess` span, a child of the call's
 * span; appends its exit status and output to the answer. */
static size_t call_downstream(const server_setup *setup, stp_grpc_call *call,
                              char *body, size_t blen, size_t cap) {
  stp_context *ctx = stp_grpc_call_context(call);
  stp_span child;
  stp_context_child_span(ctx, &child);
  static char env_trace[STP_ENV_TRACE_MAX_LEN + 1],
      env_baggage[STP_ENV_BAGGAGE_MAX_LEN + 1];
  if (stp_context_env_sentry_trace(ctx, env_trace, sizeof env_trace, NULL,
                                   &child) != STP_OK ||
      stp_context_env_baggage(ctx, env_baggage, sizeof env_baggage, NULL) !=
          STP_OK)
    return append(body, blen, cap, "downstream_exit=-1\n");

  static char output[64 * 1024];
  size_t out_len;
  uint64_t start = span_log_now_ns();
  int code = run_program(setup->exec_argv, env_trace, env_baggage, output,
                         sizeof output, &out_len);
  uint64_t end = span_log_now_ns();

  const span_log_header env[] = {
      {"SENTRY_TRACE", 12, env_trace + 13, strlen(env_trace + 13)},
      {"SENTRY_BAGGAGE", 14, env_baggage + 15, strlen(env_baggage + 15)}};
  span_log_entry e = {.process = "grpc_server",
                      .op = "subprocess",
                      .description = setup->exec,
                      .description_len = strlen(setup->exec),
                      .span = &child,
                      .status = code == 0 ? "ok" : "internal_error",
                      .start_ns = start,
                      .end_ns = end,
                      .headers = env,
                      .n_headers = 2};
  if (span_log_write(setup->spans, &e) != 0)
    perror(setup->spans);

  blen = append(body, blen, cap, "downstream_exit=%d\n", code);
  return append(body, blen, cap, "%s", output);
}

static void handle(const server_setup *setup, stp_grpc_call *call,
                   grpc_completion_queue *cq) {
  size_t mlen;
  const char *method = stp_grpc_call_method(call, &mlen);
  static char body[STP_BAGGAGE_MAX_BYTES + 80 * 1024];
  size_t blen = describe(call, body, sizeof body);
  fputs("call ", stdout);
  print_escaped(stdout, method, mlen);
  printf("\n%s", body);
  fflush(stdout);

  /* The span log shows the trace metadata this call arrived with. */
  span_log_header headers[8];
  size_t n_headers = 0, n_md;
  const grpc_metadata *md = stp_grpc_call_request_metadata(call, &n_md);
  for (size_t i = 0; i < n_md && n_headers < 8; i++) {
    const grpc_slice *k = &md[i].key, *v = &md[i].value;
    const char *name = (const char *)GRPC_SLICE_START_PTR(*k);
    size_t name_len = GRPC_SLICE_LENGTH(*k);
    if ((name_len == 12 && memcmp(name, "sentry-trace", 12) == 0) ||
        (name_len == 7 && memcmp(name, "baggage", 7) == 0) ||
        (name_len == 11 && memcmp(name, "traceparent", 11) == 0))
      headers[n_headers++] = (span_log_header){
          name, name_len, (const char *)GRPC_SLICE_START_PTR(*v),
          GRPC_SLICE_LENGTH(*v)};
  }
  setup->recorder->headers = headers;
  setup->recorder->n_headers = n_headers;

  if (setup->exec)
    blen = call_downstream(setup, call, body, blen, sizeof body);

  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  grpc_byte_buffer *in = NULL;
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[1].op = GRPC_OP_RECV_MESSAGE;
  ops[1].data.recv_message.recv_message = &in;
  int ok = run(call, cq, ops, 2);
  while (ok && in) { /* read the client's stream to its end */
    grpc_byte_buffer_destroy(in);
    in = NULL;
    ok = run(call, cq, &ops[1], 1);
  }

  int cancelled = 0;
  grpc_byte_buffer *out = message_new(body, blen);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_MESSAGE;
  ops[0].data.send_message.send_message = out;
  ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[1].data.send_status_from_server.status = GRPC_STATUS_OK;
  ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[2].data.recv_close_on_server.cancelled = &cancelled;
  run(call, cq, ops, 3);
  grpc_byte_buffer_destroy(out);
  stp_grpc_call_unref(call); /* records the span; reads `cancelled` */
  setup->recorder->headers = NULL;
  setup->recorder->n_headers = 0;
}

/* Splits --exec on spaces into setup->exec_argv (copying the string). */
static int split_exec(server_setup *setup, const char *cmd) {
  char *copy = strdup(cmd);
  size_t n = 0;
  if (!copy)
    return -1;
  for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
    if (n == EXEC_MAX_ARGS) {
      free(copy);
      return -1;
    }
    setup->exec_argv[n++] = tok;
  }
  setup->exec_argv[n] = NULL;
  if (n == 0) {
    free(copy);
    return -1;
  }
  setup->exec = cmd;
  return 0;
}

int main(int argc, char **argv) {
  const char *port = "0", *port_file = NULL;
  example_options eo = {0};
  static server_setup setup;
  for (int i = 1; i < argc; i++) {
    int r = example_option(&eo, argc, argv, &i);
    if (r == 1)
      continue;
    if (r == 0 && strcmp(argv[i], "--port") == 0 && i + 1 < argc)
      port = argv[++i];
    else if (r == 0 && strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
      port_file = argv[++i];
    else if (r == 0 && strcmp(argv[i], "--exec") == 0 && i + 1 < argc &&
             !setup.exec && split_exec(&setup, argv[i + 1]) == 0)
      i++;
    else {
      fprintf(stderr,
              "usage: grpc_server [--port N] [--port-file FILE] [--dsn DSN] "
              "[--release R]\n"
              "                   [--environment E] [--sample-rate X] "
              "[--spans FILE]\n"
              "                   [--exec 'PROGRAM ARG...']\n");
      return 2;
    }
  }
  setup.spans = eo.spans;
  stp_config *cfg;
  int err = example_config(&cfg, &eo);
  if (err) {
    fprintf(stderr, "grpc_server: %s\n", stp_strerror(err));
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  grpc_init();
  grpc_server *server = grpc_server_create(NULL, NULL);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(server, cq, NULL);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int bound = grpc_server_add_http2_port(server, addr, creds);
  grpc_server_credentials_release(creds);
  if (bound <= 0) {
    fprintf(stderr, "grpc_server: cannot listen on %s\n", addr);
    return 1;
  }

  /* The interceptor layer: the Sentry server interceptor, records printed
   * to stdout and appended to the span log. */
  static example_recorder recorder;
  recorder = (example_recorder){stdout, eo.spans, "grpc_server", NULL, 0};
  setup.recorder = &recorder;
  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = print_record;
  sentry.record_user = &recorder;
  stp_grpc_server *srv;
  stp_grpc_interceptor ic;
  stp_grpc_server_new(&srv, server);
  stp_grpc_sentry_server(&ic, &sentry);
  stp_grpc_server_add(srv, &ic);
  grpc_server_start(server);

  printf("listening on 127.0.0.1:%d\n", bound);
  fflush(stdout);
  if (port_file) {
    FILE *f = fopen(port_file, "w");
    if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) != 0) {
      fprintf(stderr, "grpc_server: cannot write %s\n", port_file);
      return 1;
    }
  }

  stp_grpc_request req;
  int pending = 0; /* req is outstanding */
  while (!stopping) {
    if (stp_grpc_server_request_call(srv, &req, cq, cq, &req) != GRPC_CALL_OK)
      break;
    pending = 1;
    int ok = wait_for(cq, &req, NULL);
    if (ok < 0)
      break; /* stopping; req completes during the shutdown below */
    pending = 0;
    stp_grpc_call *call;
    if (ok && stp_grpc_server_accept(srv, &call, &req) == STP_OK)
      handle(&setup, call, cq);
    else
      stp_grpc_request_destroy(&req);
  }

  int shutdown_tag;
  grpc_server_shutdown_and_notify(server, cq, &shutdown_tag);
  grpc_server_cancel_all_calls(server);
  for (int down = 0; !down || pending;) {
    grpc_event ev = grpc_completion_queue_next(
        cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE)
      break;
    if (ev.tag == &req && pending) {
      pending = 0;
      stp_grpc_request_destroy(&req);
    }
    if (ev.tag == &shutdown_tag)
      down = 1;
  }
  grpc_completion_queue_shutdown(cq);
  while (
      grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
          .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_server_destroy(server);
  grpc_completion_queue_destroy(cq);
  stp_grpc_server_del(srv);
  stp_config_del(cfg);
  grpc_shutdown_blocking();
  if (setup.exec)
    free(setup.exec_argv[0]);
  printf("stopped\n");
  return 0;
}
