// Sequential unary calls per second over loopback, with and without the
// Sentry interceptors, in one run:
//   (a) no trace metadata,
//   (b) `sentry-trace` and `baggage` added by hand (fixed strings),
//   (c) the Sentry client interceptor (child span, target check, inject).
// The server runs the Sentry server interceptor in every mode. Modes are
// interleaved a, b, c, a, b, c, ... so drift hits all of them alike.
//
//   bazel run -c opt //tests/grpc:grpc_bench -- [calls_per_round] [rounds]
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "stp/grpc.h"

namespace {

gpr_timespec Forever() {
  return gpr_inf_future(GPR_CLOCK_REALTIME);
}

grpc_op Op(grpc_op_type type) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = type;
  return op;
}

struct Server {
  grpc_server *server;
  stp_grpc_server *srv;
  grpc_completion_queue *cq;
  stp_grpc_sentry sentry;
  std::thread thread;
  int port;
};

void Serve(Server *s) {
  grpc_slice slice = grpc_slice_from_static_string("ok");
  for (;;) {
    stp_grpc_request req;
    if (stp_grpc_server_request_call(s->srv, &req, s->cq, s->cq, &req) !=
        GRPC_CALL_OK)
      return;
    grpc_event ev;
    do // skips the shutdown notification, which comes here too
      ev = grpc_completion_queue_next(s->cq, Forever(), nullptr);
    while (ev.type == GRPC_OP_COMPLETE && ev.tag != &req);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
      stp_grpc_request_destroy(&req);
      return;
    }
    stp_grpc_call *call;
    stp_grpc_server_accept(s->srv, &req, &call);
    grpc_byte_buffer *in = nullptr;
    grpc_byte_buffer *out = grpc_raw_byte_buffer_create(&slice, 1);
    int cancelled = 0;
    grpc_op ops[5] = {Op(GRPC_OP_SEND_INITIAL_METADATA),
                      Op(GRPC_OP_RECV_MESSAGE), Op(GRPC_OP_SEND_MESSAGE),
                      Op(GRPC_OP_SEND_STATUS_FROM_SERVER),
                      Op(GRPC_OP_RECV_CLOSE_ON_SERVER)};
    ops[1].data.recv_message.recv_message = &in;
    int tag;
    stp_grpc_call_start_batch(call, ops, 2, &tag);
    grpc_completion_queue_next(s->cq, Forever(), nullptr);
    ops[2].data.send_message.send_message = out;
    ops[3].data.send_status_from_server.status = GRPC_STATUS_OK;
    ops[4].data.recv_close_on_server.cancelled = &cancelled;
    stp_grpc_call_start_batch(call, ops + 2, 3, &tag);
    grpc_completion_queue_next(s->cq, Forever(), nullptr);
    if (in)
      grpc_byte_buffer_destroy(in);
    grpc_byte_buffer_destroy(out);
    stp_grpc_call_unref(call);
  }
}

void NoRecord(void *, const stp_grpc_span_record *) {}

// One unary call; `md` is the user's metadata (may be empty).
bool Call(stp_grpc_channel *ch, grpc_completion_queue *cq, stp_context *parent,
          grpc_metadata *md, size_t n_md) {
  stp_grpc_call *call;
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_seconds(10, GPR_TIMESPAN));
  if (stp_grpc_call_create(&call, ch, parent, cq, "/bench.Svc/Unary",
                           deadline) != STP_OK)
    return false;
  grpc_slice slice = grpc_slice_from_static_string("ping");
  grpc_byte_buffer *msg = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_byte_buffer *resp = nullptr;
  grpc_metadata_array initial, trailing;
  grpc_metadata_array_init(&initial);
  grpc_metadata_array_init(&trailing);
  grpc_status_code status;
  grpc_slice details;
  grpc_op ops[6] = {
      Op(GRPC_OP_SEND_INITIAL_METADATA),  Op(GRPC_OP_SEND_MESSAGE),
      Op(GRPC_OP_SEND_CLOSE_FROM_CLIENT), Op(GRPC_OP_RECV_INITIAL_METADATA),
      Op(GRPC_OP_RECV_MESSAGE),           Op(GRPC_OP_RECV_STATUS_ON_CLIENT)};
  ops[0].data.send_initial_metadata.count = n_md;
  ops[0].data.send_initial_metadata.metadata = md;
  ops[1].data.send_message.send_message = msg;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
  ops[4].data.recv_message.recv_message = &resp;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
  ops[5].data.recv_status_on_client.status = &status;
  ops[5].data.recv_status_on_client.status_details = &details;
  int tag;
  stp_grpc_call_start_batch(call, ops, 6, &tag);
  grpc_completion_queue_pluck(cq, &tag, Forever(), nullptr);
  grpc_byte_buffer_destroy(msg);
  if (resp)
    grpc_byte_buffer_destroy(resp);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  stp_grpc_call_unref(call);
  return status == GRPC_STATUS_OK;
}

} // namespace

int main(int argc, char **argv) {
  int per_round = argc > 1 ? atoi(argv[1]) : 2000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  grpc_init();

  stp_options opts;
  stp_options_init(&opts);
  opts.dsn = "https://abc123@o42.ingest.sentry.io/7";
  opts.release = "bench@1.0";
  opts.has_sample_rate = true;
  opts.sample_rate = 1.0;
  stp_config *cfg;
  stp_config_new(&cfg, &opts, nullptr);

  Server s;
  s.server = grpc_server_create(nullptr, nullptr);
  s.cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_server_register_completion_queue(s.server, s.cq, nullptr);
  grpc_server_credentials *sc = grpc_insecure_server_credentials_create();
  s.port = grpc_server_add_http2_port(s.server, "127.0.0.1:0", sc);
  grpc_server_credentials_release(sc);
  stp_grpc_server_new(&s.srv, s.server);
  s.sentry = {cfg, NoRecord, nullptr};
  stp_grpc_interceptor sic;
  stp_grpc_sentry_server(&sic, &s.sentry);
  stp_grpc_server_add(s.srv, &sic);
  grpc_server_start(s.server);
  s.thread = std::thread(Serve, &s);

  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%d", s.port);
  grpc_channel_credentials *cc = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, cc, nullptr);
  grpc_channel_credentials_release(cc);
  stp_grpc_channel *plain, *traced;
  stp_grpc_channel_new(&plain, channel, nullptr);
  stp_grpc_channel_new(&traced, channel, nullptr);
  stp_grpc_sentry cs = {cfg, NoRecord, nullptr};
  stp_grpc_interceptor cic;
  stp_grpc_sentry_client(&cic, &cs);
  stp_grpc_channel_add(traced, &cic);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);

  // The unit of work all calls belong to, and the same two headers a
  // program would add by hand.
  stp_context parent;
  stp_context_init(&parent, cfg);
  stp_span child;
  stp_context_child_span(&parent, &child);
  static char trace[STP_SENTRY_TRACE_MAX_LEN + 1],
      bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  stp_context_sentry_trace(&parent, &child, trace, sizeof trace, &tl);
  stp_context_baggage(&parent, nullptr, 0, bag, sizeof bag, &bl);
  grpc_metadata by_hand[2];
  memset(by_hand, 0, sizeof by_hand);
  by_hand[0].key = grpc_slice_from_static_string("sentry-trace");
  by_hand[0].value = grpc_slice_from_static_buffer(trace, tl);
  by_hand[1].key = grpc_slice_from_static_string("baggage");
  by_hand[1].value = grpc_slice_from_static_buffer(bag, bl);

  const char *names[3] = {"a: no metadata", "b: by hand", "c: interceptors"};
  std::vector<double> rates[3];
  for (int i = 0; i < 200; i++) // warm up the connection
    Call(plain, cq, nullptr, nullptr, 0);
  int failures = 0;
  for (int r = 0; r < rounds; r++) {
    for (int m = 0; m < 3; m++) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < per_round; i++) {
        bool ok = m == 0   ? Call(plain, cq, nullptr, nullptr, 0)
                  : m == 1 ? Call(plain, cq, nullptr, by_hand, 2)
                           : Call(traced, cq, &parent, nullptr, 0);
        failures += !ok;
      }
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      rates[m].push_back(per_round / secs);
      printf("round %d  %-16s %9.0f calls/s\n", r + 1, names[m],
             per_round / secs);
    }
  }
  double med[3];
  for (int m = 0; m < 3; m++) {
    std::vector<double> v = rates[m];
    std::sort(v.begin(), v.end());
    med[m] = v[v.size() / 2];
    printf("median   %-16s %9.0f calls/s  %7.2f us/call\n", names[m], med[m],
           1e6 / med[m]);
  }
  printf("ratio b/a %.3f  c/a %.3f  c/b %.3f\n", med[1] / med[0],
         med[2] / med[0], med[2] / med[1]);
  printf("interceptor cost per call: %+.2f us vs a, %+.2f us vs b\n",
         1e6 / med[2] - 1e6 / med[0], 1e6 / med[2] - 1e6 / med[1]);
  printf("failed calls: %d\n", failures);

  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, nullptr, Forever(), nullptr);
  grpc_completion_queue_destroy(cq);
  stp_grpc_channel_del(plain);
  stp_grpc_channel_del(traced);
  grpc_channel_destroy(channel);
  int stag;
  grpc_server_shutdown_and_notify(s.server, s.cq, &stag);
  grpc_server_cancel_all_calls(s.server);
  s.thread.join();
  grpc_completion_queue_shutdown(s.cq);
  while (grpc_completion_queue_next(s.cq, Forever(), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_server_destroy(s.server);
  grpc_completion_queue_destroy(s.cq);
  stp_grpc_server_del(s.srv);
  stp_config_del(cfg);
  grpc_shutdown_blocking();
  return failures ? 1 : 0;
}
