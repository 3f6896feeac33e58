// Sequential unary calls per second over loopback, with and without the
// Sentry interceptors, in one run:
//   (a) plain gRPC core, no trace metadata;
//   (b) plain gRPC core, `sentry-trace` and `baggage` added by hand, the
//       server not looking at them: the baggage a fixed string, the
//       sentry-trace written per call with a new span id (as any
//       propagation must: a fixed value would be sent once and then only
//       as an HPACK index, which no real trace header allows);
//   (p) the same propagation as (c) written by hand on plain gRPC core with
//       stp's core calls: the client makes a child span and adds the two
//       entries it formats (stp_context_sentry_trace, stp_context_baggage),
//       the server continues the trace from the request metadata
//       (stp_context_begin, _feed, _finish); what (c) costs less its
//       interceptors;
//   (m) as (b), but through an stp channel and an stp server that have no
//       interceptor: what the interception machinery alone costs;
//   (c) stp: the Sentry client interceptor (child span, target check,
//       inject) on an stp channel, and the Sentry server interceptor
//       (continue the trace, span record) on an stp server.
// Every mode has a server and a connection of its own, each server its own
// thread, all in this process; (a) and (b) call servers with no stp code
// at all. A round makes `calls_per_round` calls in each mode, in slices of
// 100 calls taken in turn (a, b, p, m, c, then b, p, m, c, a, ...), so that
// drift and the cost of switching connections hit every mode alike. Each
// round reports calls per second and the CPU time the whole process
// (client, servers, gRPC's own threads) spent per call: on a shared
// machine the CPU time varies much less than the wall clock.
//
//   bazel run -c opt //bench:grpc_bench -- [calls_per_round] [rounds]
//                                          [modes]
// modes: the letters of the modes to run (default "abpmc"), e.g. "c" alone
// to profile the interceptors with perf.
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <time.h>

#include "bench/ab_rounds.h"
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
  stp_grpc_server *srv; // nullptr: plain gRPC core
  const stp_config *by_hand; // plain gRPC core that continues by hand
  grpc_completion_queue *cq;
  stp_grpc_sentry sentry;
  std::thread thread;
  int port;
};

// Waits on the server's queue for `tag`, skipping the shutdown
// notification, which comes there too.
bool Next(Server *s, void *tag) {
  grpc_event ev;
  do
    ev = grpc_completion_queue_next(s->cq, Forever(), nullptr);
  while (ev.type == GRPC_OP_COMPLETE && ev.tag != tag);
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

// Answers one accepted call: reads the request, sends "ok" and status OK.
// `start(ops, n, tag)` starts a batch on the call (through stp or not).
template <typename StartBatch> void Answer(Server *s, StartBatch start) {
  grpc_slice slice = grpc_slice_from_static_string("ok");
  grpc_byte_buffer *in = nullptr;
  grpc_byte_buffer *out = grpc_raw_byte_buffer_create(&slice, 1);
  int cancelled = 0;
  grpc_op ops[5] = {Op(GRPC_OP_SEND_INITIAL_METADATA), Op(GRPC_OP_RECV_MESSAGE),
                    Op(GRPC_OP_SEND_MESSAGE),
                    Op(GRPC_OP_SEND_STATUS_FROM_SERVER),
                    Op(GRPC_OP_RECV_CLOSE_ON_SERVER)};
  ops[1].data.recv_message.recv_message = &in;
  int tag;
  start(ops, 2, &tag);
  Next(s, &tag);
  ops[2].data.send_message.send_message = out;
  ops[3].data.send_status_from_server.status = GRPC_STATUS_OK;
  ops[4].data.recv_close_on_server.cancelled = &cancelled;
  start(ops + 2, 3, &tag);
  Next(s, &tag);
  if (in)
    grpc_byte_buffer_destroy(in);
  grpc_byte_buffer_destroy(out);
}

// The same server loop with gRPC core only.
void ServePlain(Server *s) {
  for (;;) {
    grpc_call *call = nullptr;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_call_details_init(&details);
    grpc_metadata_array_init(&md);
    int tag;
    bool ok = grpc_server_request_call(s->server, &call, &details, &md, s->cq,
                                       s->cq, &tag) == GRPC_CALL_OK &&
              Next(s, &tag);
    if (ok && s->by_hand) { // continue the trace as the interceptor would
      stp_context ctx;
      stp_context_begin(&ctx, s->by_hand);
      for (size_t i = 0; i < md.count; i++)
        stp_context_feed(
            &ctx, (const char *)GRPC_SLICE_START_PTR(md.metadata[i].key),
            GRPC_SLICE_LENGTH(md.metadata[i].key),
            (const char *)GRPC_SLICE_START_PTR(md.metadata[i].value),
            GRPC_SLICE_LENGTH(md.metadata[i].value));
      if (stp_context_finish(&ctx) != STP_OK)
        abort(); // every call carries a valid trace
    }
    if (ok)
      Answer(s, [call](grpc_op *ops, size_t n, void *t) {
        grpc_call_start_batch(call, ops, n, t, nullptr);
      });
    if (call)
      grpc_call_unref(call);
    grpc_call_details_destroy(&details);
    grpc_metadata_array_destroy(&md);
    if (!ok)
      return;
  }
}

void Serve(Server *s) {
  for (;;) {
    stp_grpc_request req;
    if (stp_grpc_server_request_call(s->srv, &req, s->cq, s->cq, &req) !=
        GRPC_CALL_OK)
      return;
    if (!Next(s, &req)) {
      stp_grpc_request_destroy(&req);
      return;
    }
    stp_grpc_call *call;
    stp_grpc_server_accept(s->srv, &call, &req);
    Answer(s, [call](grpc_op *ops, size_t n, void *t) {
      stp_grpc_call_start_batch(call, ops, n, t);
    });
    stp_grpc_call_unref(call);
  }
}

void NoRecord(void *, const stp_span_record *) {}

// One unary call, through stp (`ch`, with the context `parent`) or, when
// `ch` is nullptr, on `plain` with gRPC core only; `md` is the user's
// metadata (may be empty).
bool Call(stp_grpc_channel *ch, grpc_channel *plain, grpc_completion_queue *cq,
          stp_context *parent, grpc_metadata *md, size_t n_md) {
  stp_grpc_call *call = nullptr;
  grpc_call *raw = nullptr;
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_seconds(10, GPR_TIMESPAN));
  if (ch) {
    if (stp_grpc_channel_create_call(ch, &call, parent, cq, "/bench.Svc/Unary",
                                     deadline) != STP_OK)
      return false;
  } else {
    raw = grpc_channel_create_call(
        plain, nullptr, GRPC_PROPAGATE_DEFAULTS, cq,
        grpc_slice_from_static_string("/bench.Svc/Unary"), nullptr, deadline,
        nullptr);
    if (!raw)
      return false;
  }
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
  grpc_call_error started = call ? stp_grpc_call_start_batch(call, ops, 6, &tag)
                                 : grpc_call_start_batch(raw, ops, 6, &tag,
                                                         nullptr);
  if (started != GRPC_CALL_OK)
    abort();
  grpc_completion_queue_pluck(cq, &tag, Forever(), nullptr);
  grpc_byte_buffer_destroy(msg);
  if (resp)
    grpc_byte_buffer_destroy(resp);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  if (call)
    stp_grpc_call_unref(call);
  else
    grpc_call_unref(raw);
  return status == GRPC_STATUS_OK;
}

} // namespace

int main(int argc, char **argv) {
  int per_round = argc > 1 ? atoi(argv[1]) : 2000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  const char *run_modes = argc > 3 ? argv[3] : "abpmc";
  grpc_init();

  stp_options opts;
  stp_options_init(&opts);
  opts.dsn = "https://abc123@o42.ingest.sentry.io/7";
  opts.release = "bench@1.0";
  opts.has_sample_rate = true;
  opts.sample_rate = 1.0;
  stp_config *cfg;
  stp_config_new(&cfg, &opts, nullptr);

  // Five servers, one per mode: gRPC core only (a, b); gRPC core that
  // continues the trace by hand (p); stp with no interceptor (m); stp with
  // the Sentry server interceptor (c).
  using namespace ab;
  Server servers[kModes];
  grpc_channel *channels[kModes];
  for (int i = 0; i < kModes; i++) {
    Server &s = servers[i];
    s.server = grpc_server_create(nullptr, nullptr);
    s.cq = grpc_completion_queue_create_for_next(nullptr);
    grpc_server_register_completion_queue(s.server, s.cq, nullptr);
    grpc_server_credentials *sc = grpc_insecure_server_credentials_create();
    s.port = grpc_server_add_http2_port(s.server, "127.0.0.1:0", sc);
    grpc_server_credentials_release(sc);
    s.srv = nullptr;
    s.by_hand = i == kP ? cfg : nullptr;
    if (i == kM || i == kC)
      stp_grpc_server_new(&s.srv, s.server);
    if (i == kC) {
      s.sentry = {cfg, NoRecord, nullptr};
      static stp_grpc_interceptor sic;
      stp_grpc_sentry_server(&sic, &s.sentry);
      stp_grpc_server_add(s.srv, &sic);
    }
    grpc_server_start(s.server);
    s.thread = std::thread(s.srv ? Serve : ServePlain, &s);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", s.port);
    grpc_channel_credentials *cc = grpc_insecure_credentials_create();
    channels[i] = grpc_channel_create(target, cc, nullptr);
    grpc_channel_credentials_release(cc);
  }
  stp_grpc_channel *bare, *traced;
  stp_grpc_channel_new(&bare, channels[kM], nullptr);
  stp_grpc_channel_new(&traced, channels[kC], nullptr);
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
  stp_context_sentry_trace(&parent, trace, sizeof trace, &tl, &child);
  stp_context_baggage(&parent, bag, sizeof bag, &bl, nullptr, 0);
  uint64_t span_counter = 0x1234567800000000u;
  grpc_metadata by_hand[2];
  memset(by_hand, 0, sizeof by_hand);
  by_hand[0].key = grpc_slice_from_static_string("sentry-trace");
  by_hand[1].key = grpc_slice_from_static_string("baggage");
  by_hand[1].value = grpc_slice_from_static_buffer(bag, bl);

  // (p): the entries the client formats for each call.
  static char p_trace[STP_SENTRY_TRACE_MAX_LEN + 1],
      p_bag[STP_BAGGAGE_MAX_BYTES + 1];
  grpc_metadata p_md[2];
  memset(p_md, 0, sizeof p_md);
  p_md[0].key = grpc_slice_from_static_string("sentry-trace");
  p_md[1].key = grpc_slice_from_static_string("baggage");

  const char *names[kModes] = {"a: no metadata", "b: by hand",
                               "p: stp by hand", "m: stp, no icpt",
                               "c: interceptors"};
  int failures = 0;
  // One call in mode m.
  auto call = [&](int m) {
    bool ok = true;
    if (m == kA) {
      ok = Call(nullptr, channels[kA], cq, nullptr, nullptr, 0);
    } else if (m == kB || m == kM) {
      // a new span id in the hand-written sentry-trace
      span_counter++;
      for (int k = 0; k < 16; k++)
        trace[33 + k] = "0123456789abcdef"[(span_counter >> (4 * k)) & 15];
      by_hand[0].value = grpc_slice_from_copied_buffer(trace, tl);
      ok = m == kB ? Call(nullptr, channels[kB], cq, nullptr, by_hand, 2)
                   : Call(bare, nullptr, cq, nullptr, by_hand, 2);
      grpc_slice_unref(by_hand[0].value);
    } else if (m == kP) {
      stp_span span;
      size_t n_trace, n_bag;
      stp_context_child_span(&parent, &span);
      ok = stp_context_sentry_trace(&parent, p_trace, sizeof p_trace, &n_trace,
                                    &span) == STP_OK &&
           stp_context_baggage(&parent, p_bag, sizeof p_bag, &n_bag, nullptr,
                               0) == STP_OK;
      p_md[0].value = grpc_slice_from_copied_buffer(p_trace, n_trace);
      p_md[1].value = grpc_slice_from_copied_buffer(p_bag, n_bag);
      ok = Call(nullptr, channels[kP], cq, nullptr, p_md, 2) && ok;
      grpc_slice_unref(p_md[0].value);
      grpc_slice_unref(p_md[1].value);
    } else {
      ok = Call(traced, nullptr, cq, &parent, nullptr, 0);
    }
    failures += !ok;
  };
  Rounds r = Run(run_modes, names, per_round, rounds, call);
  Report(r, names,
         "c/b target: 0.98; c/p: interceptors against the same propagation "
         "by hand; m/b: machinery",
         failures);

  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, nullptr, Forever(), nullptr);
  grpc_completion_queue_destroy(cq);
  stp_grpc_channel_del(bare);
  stp_grpc_channel_del(traced);
  for (int i = 0; i < kModes; i++) {
    Server &s = servers[i];
    grpc_channel_destroy(channels[i]);
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
    if (s.srv)
      stp_grpc_server_del(s.srv);
  }
  stp_config_del(cfg);
  grpc_shutdown_blocking();
  return failures ? 1 : 0;
}
