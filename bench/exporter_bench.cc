// The exporter's cost on the request path: sequential unary gRPC calls
// over loopback with the Sentry interceptors on both sides (one
// transaction per call on each side), in three modes interleaved in
// slices of 100 calls, one process, one run:
//   off   no record sink: the interceptors' records go nowhere;
//   on    an exporter sending every transaction to a local endpoint on
//         127.0.0.1 that answers 200 (tests/exporter/sink.h, a thread of
//         this process whose CPU is left out of the cost per
//         transaction);
//   dead  an exporter whose DSN is a closed port of 127.0.0.1: every
//         POST fails, so the queue stays full and records are dropped.
// Each mode has its own config, server and connection. Per round: calls/s
// and CPU time per call of the whole process (both sides, gRPC's threads,
// the exporter's thread); at the end the medians, the ratios on/off and
// dead/off, the median and 99th percentile latency of a call, the
// exporter's counters, and the CPU per transaction sent (on less off,
// over the transactions the endpoint received).
//
//   bazel run -c opt //bench:exporter_bench -- [calls_per_round] [rounds]
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "stp/exporter.h"
#include "stp/grpc.h"
#include "tests/exporter/sink.h"

namespace {

gpr_timespec Forever() { return gpr_inf_future(GPR_CLOCK_REALTIME); }

grpc_op Op(grpc_op_type type) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = type;
  return op;
}

double NowUs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// One mode: its config (and exporter), server and client channel.
struct Mode {
  const char *name;
  stp_exporter *exporter = nullptr;
  stp_config *cfg = nullptr;
  stp_grpc_sentry sentry{};
  grpc_server *server = nullptr;
  stp_grpc_server *srv = nullptr;
  grpc_completion_queue *scq = nullptr;
  std::thread thread;
  grpc_channel *channel = nullptr;
  stp_grpc_channel *ch = nullptr;
  std::vector<double> rates, cpus, latencies_us;
};

bool Next(grpc_completion_queue *cq, void *tag) {
  grpc_event ev;
  do
    ev = grpc_completion_queue_next(cq, Forever(), nullptr);
  while (ev.type == GRPC_OP_COMPLETE && ev.tag != tag);
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

void Serve(Mode *m) {
  for (;;) {
    stp_grpc_request req;
    if (stp_grpc_server_request_call(m->srv, &req, m->scq, m->scq, &req) !=
            GRPC_CALL_OK ||
        !Next(m->scq, &req)) {
      stp_grpc_request_destroy(&req);
      return;
    }
    stp_grpc_call *call;
    stp_grpc_server_accept(m->srv, &call, &req);
    grpc_slice slice = grpc_slice_from_static_string("ok");
    grpc_byte_buffer *in = nullptr;
    grpc_byte_buffer *out = grpc_raw_byte_buffer_create(&slice, 1);
    int cancelled = 0, tag;
    grpc_op ops[5] = {Op(GRPC_OP_SEND_INITIAL_METADATA),
                      Op(GRPC_OP_RECV_MESSAGE), Op(GRPC_OP_SEND_MESSAGE),
                      Op(GRPC_OP_SEND_STATUS_FROM_SERVER),
                      Op(GRPC_OP_RECV_CLOSE_ON_SERVER)};
    ops[1].data.recv_message.recv_message = &in;
    ops[2].data.send_message.send_message = out;
    ops[3].data.send_status_from_server.status = GRPC_STATUS_OK;
    ops[4].data.recv_close_on_server.cancelled = &cancelled;
    stp_grpc_call_start_batch(call, ops, 2, &tag);
    Next(m->scq, &tag);
    stp_grpc_call_start_batch(call, ops + 2, 3, &tag);
    Next(m->scq, &tag);
    if (in)
      grpc_byte_buffer_destroy(in);
    grpc_byte_buffer_destroy(out);
    stp_grpc_call_unref(call);
  }
}

bool Call(Mode *m, grpc_completion_queue *cq) {
  stp_grpc_call *call;
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_seconds(10, GPR_TIMESPAN));
  if (stp_grpc_channel_create_call(m->ch, &call, nullptr, cq,
                                   "/bench.Svc/Unary", deadline) != STP_OK)
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
  ops[1].data.send_message.send_message = msg;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
  ops[4].data.recv_message.recv_message = &resp;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
  ops[5].data.recv_status_on_client.status = &status;
  ops[5].data.recv_status_on_client.status_details = &details;
  int tag;
  if (stp_grpc_call_start_batch(call, ops, 6, &tag) != GRPC_CALL_OK)
    abort();
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

void Start(Mode *m, const std::string &dsn, bool export_on) {
  stp_options o;
  stp_options_init(&o);
  o.dsn = dsn.c_str();
  o.release = "bench@1.0";
  o.has_sample_rate = true;
  o.sample_rate = 1.0;
  if (export_on) {
    stp_exporter_options eo;
    stp_exporter_options_init(&eo);
    eo.spotlight = "false";
    eo.retries = 0;
    if (stp_exporter_new(&m->exporter, &o, &eo, nullptr) != STP_OK)
      abort();
    o.on_record = stp_exporter_record;
    o.record_user = m->exporter;
  }
  if (stp_config_new(&m->cfg, &o, nullptr) != STP_OK)
    abort();
  m->sentry = {m->cfg, nullptr, nullptr};
  m->server = grpc_server_create(nullptr, nullptr);
  m->scq = grpc_completion_queue_create_for_next(nullptr);
  grpc_server_register_completion_queue(m->server, m->scq, nullptr);
  grpc_server_credentials *sc = grpc_insecure_server_credentials_create();
  int port = grpc_server_add_http2_port(m->server, "127.0.0.1:0", sc);
  grpc_server_credentials_release(sc);
  stp_grpc_server_new(&m->srv, m->server);
  stp_grpc_interceptor ic;
  stp_grpc_sentry_server(&ic, &m->sentry);
  stp_grpc_server_add(m->srv, &ic);
  grpc_server_start(m->server);
  m->thread = std::thread(Serve, m);
  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%d", port);
  grpc_channel_credentials *cc = grpc_insecure_credentials_create();
  m->channel = grpc_channel_create(target, cc, nullptr);
  grpc_channel_credentials_release(cc);
  stp_grpc_channel_new(&m->ch, m->channel, nullptr);
  stp_grpc_sentry_client(&ic, &m->sentry);
  stp_grpc_channel_add(m->ch, &ic);
}

void Stop(Mode *m) {
  stp_grpc_channel_del(m->ch);
  grpc_channel_destroy(m->channel);
  grpc_server_shutdown_and_notify(m->server, m->scq, nullptr);
  grpc_server_cancel_all_calls(m->server);
  m->thread.join();
  grpc_server_destroy(m->server);
  grpc_completion_queue_shutdown(m->scq);
  while (grpc_completion_queue_next(m->scq, Forever(), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(m->scq);
  stp_grpc_server_del(m->srv);
  stp_config_del(m->cfg);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[(size_t)(p * (v.size() - 1))];
}

} // namespace

int main(int argc, char **argv) {
  int per_round = argc > 1 ? atoi(argv[1]) : 2000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  grpc_init();
  stp_test::Sink sink; // answers 200
  int dead_port;
  {
    stp_test::Sink gone;
    dead_port = gone.port();
  }
  const std::string key = "49d0f7386ad645858ae85020e393bef3";
  Mode modes[3];
  modes[0].name = "off";
  modes[1].name = "on";
  modes[2].name = "dead";
  Start(&modes[0], "http://" + key + "@127.0.0.1:9/1", false);
  Start(&modes[1],
        "http://" + key + "@127.0.0.1:" + std::to_string(sink.port()) + "/1",
        true);
  Start(&modes[2],
        "http://" + key + "@127.0.0.1:" + std::to_string(dead_port) + "/1",
        true);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  for (Mode &m : modes) // connections up before timing
    for (int i = 0; i < 50; i++)
      Call(&m, cq);

  const int kSlice = 100;
  int failures = 0;
  size_t sent_before = sink.Requests().size();
  double sink_cpu_before = sink.CpuUs();
  for (int r = 0; r < rounds; r++) {
    double wall[3] = {0}, cpu[3] = {0};
    for (int done = 0; done < per_round; done += kSlice)
      for (int k = 0; k < 3; k++) {
        Mode &m = modes[(k + done / kSlice) % 3];
        int idx = (int)(&m - modes);
        double w0 = NowUs(CLOCK_MONOTONIC), c0 = NowUs(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < kSlice; i++) {
          double t0 = NowUs(CLOCK_MONOTONIC);
          failures += !Call(&m, cq);
          m.latencies_us.push_back(NowUs(CLOCK_MONOTONIC) - t0);
        }
        wall[idx] += NowUs(CLOCK_MONOTONIC) - w0;
        cpu[idx] += NowUs(CLOCK_PROCESS_CPUTIME_ID) - c0;
      }
    printf("round %d:", r + 1);
    for (int k = 0; k < 3; k++) {
      modes[k].rates.push_back(per_round / (wall[k] / 1e6));
      modes[k].cpus.push_back(cpu[k] / per_round);
      printf("  %s %.0f calls/s %.1f us CPU/call", modes[k].name,
             modes[k].rates.back(), modes[k].cpus.back());
    }
    printf("\n");
  }
  size_t received = sink.Requests().size() - sent_before;
  printf("\nmedians over %d rounds of %d calls per mode:\n", rounds, per_round);
  for (Mode &m : modes)
    printf("  %-5s %8.0f calls/s  %6.1f us CPU/call  latency p50 %.0f us "
           "p99 %.0f us\n",
           m.name, Median(m.rates), Median(m.cpus), Pct(m.latencies_us, 0.5),
           Pct(m.latencies_us, 0.99));
  printf("on/off %.3f  dead/off %.3f\n",
         Median(modes[1].rates) / Median(modes[0].rates),
         Median(modes[2].rates) / Median(modes[0].rates));
  for (int k = 1; k < 3; k++) {
    stp_exporter_stats st;
    stp_exporter_stats_get(modes[k].exporter, &st);
    printf("exporter %s: transactions queued %llu, dropped (queue full) "
           "%llu, sent %llu, failed %llu\n",
           modes[k].name, (unsigned long long)st.transactions_queued,
           (unsigned long long)st.transactions_dropped_full,
           (unsigned long long)st.envelopes_sent,
           (unsigned long long)st.envelopes_failed);
  }
  // What "on" cost more than "off", less the endpoint's own CPU (it runs
  // in this process), over the transactions the endpoint received.
  double extra_cpu_us =
      (Median(modes[1].cpus) - Median(modes[0].cpus)) * per_round * rounds -
      (sink.CpuUs() - sink_cpu_before);
  if (received)
    printf("CPU per transaction sent: %.1f us (%zu transactions the "
           "endpoint received, its own CPU left out)\n",
           extra_cpu_us / received, received);
  for (Mode &m : modes)
    Stop(&m);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_destroy(cq);
  for (Mode &m : modes)
    stp_exporter_del(m.exporter);
  grpc_shutdown_blocking();
  if (failures)
    printf("%d calls failed\n", failures);
  return failures ? 1 : 0;
}
