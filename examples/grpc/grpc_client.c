/* A gRPC client (core C API, raw byte-buffer messages) that carries the
 * trace through the Sentry client interceptor.
 *
 *   grpc_client [-H 'name: value']... [--env] [--dsn DSN] [--release R]
 *               [--environment E] [--sample-rate X] [--org-id N] [--strict]
 *               [--traceparent] [--third-party] [--method /pkg.Svc/M]
 *               [--message TEXT] [--spans FILE] HOST:PORT
 *
 * The trace comes from SENTRY_TRACE / SENTRY_BAGGAGE with --env, else from
 * -H 'sentry-trace: ...' / -H 'baggage: ...' / -H 'traceparent: ...',
 * else a new trace starts here. Prints the context it continued (or
 * started), the span of the call, the `sentry-trace` and `baggage` it
 * sends, the response body and the `grpc.client` span record. With
 * --spans, two records are appended to the span log: a `task` span for the
 * client's own unit of work (the context's span) and the `grpc.client`
 * span of the call, its child, with the two values sent. Exits 0 when
 * the call ended with status OK. Deadline: 10 seconds. */
#define _POSIX_C_SOURCE 200809L

#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "examples/common/cli.h"

#define MAX_HEADERS 32

static int usage(void) {
  fprintf(stderr,
          "usage: grpc_client [-H 'name: value']... [--env] [--dsn DSN]\n"
          "                   [--release R] [--environment E] "
          "[--sample-rate X]\n"
          "                   [--org-id N] [--strict] [--traceparent] "
          "[--third-party]\n"
          "                   [--method /pkg.Svc/M] [--message TEXT] "
          "[--spans FILE] HOST:PORT\n");
  return 2;
}

/* The context of the client's own unit of work: continued from
 * SENTRY_TRACE / SENTRY_BAGGAGE (--env), from the -H headers, or a new
 * trace. Returns 0 when continued, else why not (STP_ERR_ABSENT: nothing
 * to continue). */
static int client_context(stp_context *ctx, const stp_config *cfg, int use_env,
                          const char *const *headers, size_t n_headers) {
  if (use_env)
    return stp_context_continue_env(ctx, cfg);
  if (n_headers == 0) {
    int err = stp_context_init(ctx, cfg);
    return err ? err : STP_ERR_ABSENT;
  }
  stp_context_begin(ctx, cfg);
  for (size_t i = 0; i < n_headers; i++) {
    size_t name_len;
    const char *value;
    if (cli_header(headers[i], &name_len, &value) == 0)
      stp_context_feed(ctx, headers[i], name_len, value, strlen(value));
  }
  return stp_context_finish(ctx);
}

/* Frees what main made for the call, gRPC last. */
static void close_channel(grpc_completion_queue *cq, stp_grpc_channel *ch,
                          grpc_channel *channel, cli_options *o,
                          stp_config *cfg) {
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME),
                              NULL);
  grpc_completion_queue_destroy(cq);
  stp_grpc_channel_del(ch);
  grpc_channel_destroy(channel);
  grpc_shutdown_blocking();
  cli_config_del(o, cfg);
}

int main(int argc, char **argv) {
  const char *headers[MAX_HEADERS];
  size_t n_headers = 0;
  int use_env = 0;
  const char *method = "/example.Echo/Call", *message = "hello", *target = NULL;
  cli_options o;
  cli_options_init(&o, 0, 0);
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    size_t name_len;
    const char *value;
    if (r < 0)
      return usage();
    if (r == 1)
      continue;
    if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && n_headers < MAX_HEADERS &&
        cli_header(argv[i + 1], &name_len, &value) == 0)
      headers[n_headers++] = argv[++i];
    else if (strcmp(argv[i], "--env") == 0)
      use_env = 1;
    else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc)
      method = argv[++i];
    else if (strcmp(argv[i], "--message") == 0 && i + 1 < argc)
      message = argv[++i];
    else if (argv[i][0] != '-' && !target)
      target = argv[i];
    else
      return usage();
  }
  if (!target)
    return usage();
  stp_config *cfg;
  if (cli_config(&cfg, &o, "grpc_client") != STP_OK)
    return 2;

  /* The unit of work this client is part of. */
  uint64_t start_ns = span_log_now_ns();
  stp_context ctx;
  int err = client_context(&ctx, cfg, use_env, headers, n_headers);
  printf("%s\n", err == 0 ? "continued trace" : "new trace");
  if (err)
    printf("reason %s\n", stp_error_name(err));
  print_span(stdout, "context", stp_context_span(&ctx));
  /* The program's own work, the call's parent: the local root that the
   * exporter makes a transaction of. */
  stp_local_span work;
  stp_local_span_start_root(&work, &ctx, "task", "grpc_client", 11);
  printf("\n");

  grpc_init();
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, NULL);
  grpc_channel_credentials_release(creds);

  static stp_grpc_sentry sentry;
  sentry.cfg = cfg;
  static example_recorder recorder;
  recorder = (example_recorder){stdout, o.spans, "grpc_client", cfg};
  sentry.on_record = print_record;
  sentry.record_user = &recorder;
  stp_grpc_channel *ch;
  stp_grpc_interceptor ic;
  stp_grpc_channel_new(&ch, channel, NULL);
  stp_grpc_sentry_client(&ic, &sentry);
  stp_grpc_channel_add(ch, &ic);

  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_seconds(10, GPR_TIMESPAN));
  stp_grpc_call *call;
  if (stp_grpc_channel_create_call(ch, &call, &ctx, cq, method, deadline) !=
      STP_OK) {
    fprintf(stderr, "grpc_client: cannot create the call\n");
    close_channel(cq, ch, channel, &o, cfg);
    return 1;
  }
  print_span(stdout, "call", stp_grpc_call_span(call));
  printf("\n");
  /* The values the interceptor sends (the same functions make them); the
   * call's span record carries them too. */
  static char st[STP_SENTRY_TRACE_MAX_LEN + 1], bag[STP_BAGGAGE_MAX_BYTES + 1],
      tp[STP_TRACEPARENT_LEN + 1];
  size_t st_len = 0, bag_len = 0, tp_len = 0;
  span_log_header sent[3];
  size_t n_sent = 0;
  if (stp_context_sentry_trace(stp_grpc_call_context(call), st, sizeof st,
                               &st_len, stp_grpc_call_span(call)) == STP_OK &&
      st_len) {
    printf("sending sentry-trace: %s\n", st);
    sent[n_sent++] = (span_log_header){"sentry-trace", 12, st, st_len};
  }
  if (stp_context_baggage(stp_grpc_call_context(call), bag, sizeof bag,
                          &bag_len, NULL, 0) == STP_OK &&
      bag_len) {
    printf("sending baggage: %s\n", bag);
    sent[n_sent++] = (span_log_header){"baggage", 7, bag, bag_len};
  }
  if (stp_config_propagate_traceparent(cfg) &&
      stp_context_traceparent(stp_grpc_call_context(call), tp, sizeof tp,
                              &tp_len, stp_grpc_call_span(call)) == STP_OK) {
    printf("sending traceparent: %s\n", tp);
    sent[n_sent++] = (span_log_header){"traceparent", 11, tp, tp_len};
  }
  print_record_headers(sent, n_sent);
  fflush(stdout);

  grpc_metadata_array initial_md, trailing_md;
  grpc_metadata_array_init(&initial_md);
  grpc_metadata_array_init(&trailing_md);
  grpc_byte_buffer *request = message_new(message, strlen(message));
  grpc_byte_buffer *response = NULL;
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  grpc_slice details;
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA; /* the interceptor adds here */
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = request;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &response;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
  ops[5].data.recv_status_on_client.status = &status;
  ops[5].data.recv_status_on_client.status_details = &details;
  int tag;
  if (stp_grpc_call_start_batch(call, ops, 6, &tag) == GRPC_CALL_OK)
    grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME),
                                NULL);
  else
    details = grpc_empty_slice();

  static char body[STP_BAGGAGE_MAX_BYTES + 512];
  message_read(response, body, sizeof body);
  printf("status %d %.*s\n", (int)status, (int)GRPC_SLICE_LENGTH(details),
         (const char *)GRPC_SLICE_START_PTR(details));
  printf("response\n%s", body);
  fflush(stdout);

  grpc_byte_buffer_destroy(request);
  if (response)
    grpc_byte_buffer_destroy(response);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial_md);
  grpc_metadata_array_destroy(&trailing_md);
  stp_grpc_call_unref(call); /* prints the span record */
  stp_local_span_set_grpc_status(&work, (int)status);
  stp_local_span_finish(&work);
  span_log_entry task = {"grpc_client",
                         "task",
                         "grpc_client",
                         11,
                         stp_context_span(&ctx),
                         stp_span_status_grpc((int)status),
                         start_ns,
                         span_log_now_ns(),
                         NULL,
                         0};
  if (span_log_write(o.spans, &task) != 0)
    perror(o.spans);
  close_channel(cq, ch, channel, &o, cfg);
  return status == GRPC_STATUS_OK ? 0 : 1;
}
