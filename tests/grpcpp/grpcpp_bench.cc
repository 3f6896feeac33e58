// Sequential grpc++ unary calls per second over loopback, with and without
// the Sentry interceptors, in one run:
//   (a) plain grpc++, no trace metadata;
//   (b) plain grpc++, `sentry-trace` and `baggage` added to the
//       ClientContext by hand, the server not looking at them: the baggage
//       a fixed string, the sentry-trace written per call with a new span
//       id (as any propagation must);
//   (p) the same propagation as (c) written by hand with stp's core calls:
//       the client makes a child span and adds the two values it formats,
//       the handler continues the trace from its client_metadata();
//   (m) as (b), on a channel and a server with one interceptor each that
//       only lets the call proceed: what grpc++'s interceptor machinery
//       costs;
//   (c) stp: the Sentry client interceptor (the thread's current context
//       as the parent: copy, child span, target check, inject) and the
//       Sentry server interceptor (continue, the call entry, the record).
// Every mode has a server (synchronous API, its own threads) and a
// channel of its own, all in this process. A round makes
// `calls_per_round` calls in each mode, in slices of 100 calls taken in
// turn (a, b, p, m, c, then b, p, m, c, a, ...), so that drift hits every
// mode alike. Each round reports calls per second and the CPU time of the
// whole process per call.
//
//   bazel run -c opt //tests/grpcpp:grpcpp_bench -- [calls_per_round]
//                                                   [rounds] [modes]
#include <grpcpp/grpcpp.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/ab_rounds.h"
#include "stp/grpcpp.h"
#include "tests/grpcpp/echo.grpc.pb.h"

namespace {

using stp::test::EchoReply;
using stp::test::EchoRequest;

// Answers every call; with `by_hand`, continues its trace first, as the
// server interceptor would.
class Service final : public stp::test::Echo::Service {
 public:
  explicit Service(const stp_config *by_hand) : by_hand_(by_hand) {}
  grpc::Status Unary(grpc::ServerContext *ctx, const EchoRequest *req,
                     EchoReply *reply) override {
    if (by_hand_) {
      stp_context trace;
      stp_context_begin(&trace, by_hand_);
      for (const auto &kv : ctx->client_metadata())
        stp_context_feed(&trace, kv.first.data(), kv.first.size(),
                         kv.second.data(), kv.second.size());
      if (stp_context_finish(&trace) != STP_OK)
        std::abort();  // every call carries a valid trace
    }
    reply->set_text(req->text());
    return grpc::Status::OK;
  }

 private:
  const stp_config *by_hand_;
};

// An interceptor that only lets the call go on (mode m).
class Pass final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods *m) override {
    m->Proceed();
  }
};
struct PassClient final
    : grpc::experimental::ClientInterceptorFactoryInterface {
  grpc::experimental::Interceptor *
  CreateClientInterceptor(grpc::experimental::ClientRpcInfo *) override {
    return new Pass;
  }
};
struct PassServer final
    : grpc::experimental::ServerInterceptorFactoryInterface {
  grpc::experimental::Interceptor *
  CreateServerInterceptor(grpc::experimental::ServerRpcInfo *) override {
    return new Pass;
  }
};

void NoRecord(void *, const stp_span_record *) {}

using namespace ab;

const char *const kNames[kModes] = {"a: no metadata", "b: by hand",
                                    "p: stp by hand", "m: pass-through",
                                    "c: interceptors"};

struct Mode {
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<stp::test::Echo::Stub> stub;
};

Mode Start(int m, const stp_config *cfg) {
  Mode mode;
  mode.service = std::make_unique<Service>(m == kP ? cfg : nullptr);
  stp::grpcpp::sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = NoRecord;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(mode.service.get());
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      sics;
  if (m == kM)
    sics.push_back(std::make_unique<PassServer>());
  if (m == kC)
    sics.push_back(stp::grpcpp::sentry_server_factory(sentry));
  if (!sics.empty())
    b.experimental().SetInterceptorCreators(std::move(sics));
  mode.server = b.BuildAndStart();
  std::string target = "127.0.0.1:" + std::to_string(port);
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      cics;
  if (m == kM)
    cics.push_back(std::make_unique<PassClient>());
  if (m == kC)
    cics.push_back(stp::grpcpp::sentry_client_factory(sentry, target));
  mode.stub = stp::test::Echo::NewStub(
      grpc::experimental::CreateCustomChannelWithInterceptors(
          target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
          std::move(cics)));
  return mode;
}

}  // namespace

int main(int argc, char **argv) {
  int per_round = argc > 1 ? std::atoi(argv[1]) : 2000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const char *run_modes = argc > 3 ? argv[3] : kLetters;

  stp_options opts;
  stp_options_init(&opts);
  opts.dsn = "https://abc123@o42.ingest.sentry.io/7";
  opts.release = "bench@1.0";
  opts.has_sample_rate = true;
  opts.sample_rate = 1.0;
  stp_config *cfg;
  if (stp_config_new(&cfg, &opts, nullptr) != STP_OK)
    return 1;

  bool run[kModes];
  Mode modes[kModes];
  for (int m = 0; m < kModes; m++) {
    run[m] = std::strchr(run_modes, kLetters[m]) != nullptr;
    if (run[m])
      modes[m] = Start(m, cfg);
  }

  // The unit of work all calls belong to, and the two headers a program
  // would add by hand.
  stp_context parent;
  stp_context_init(&parent, cfg);
  stp_span child;
  stp_context_child_span(&parent, &child);
  char trace[STP_SENTRY_TRACE_MAX_LEN + 1];
  static char bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t tl, bl;
  stp_context_sentry_trace(&parent, trace, sizeof trace, &tl, &child);
  stp_context_baggage(&parent, bag, sizeof bag, &bl, nullptr, 0);
  const std::string baggage(bag, bl);
  uint64_t span_counter = 0x1234567800000000u;
  // Mode c: the parent is the thread's current context.
  stp_token token = stp_attach(&parent);

  EchoRequest req;
  req.set_text("ping");
  int failures = 0;
  auto call = [&](int m) {
    grpc::ClientContext cc;
    cc.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
    if (m == kB || m == kM) {
      span_counter++;
      for (int k = 0; k < 16; k++)
        trace[33 + k] = "0123456789abcdef"[(span_counter >> (4 * k)) & 15];
      cc.AddMetadata("sentry-trace", std::string(trace, tl));
      cc.AddMetadata("baggage", baggage);
    } else if (m == kP) {
      stp_span span;
      char p_trace[STP_SENTRY_TRACE_MAX_LEN + 1];
      static char p_bag[STP_BAGGAGE_MAX_BYTES + 1];
      size_t n_trace = 0, n_bag = 0;
      stp_context_child_span(&parent, &span);
      if (stp_context_sentry_trace(&parent, p_trace, sizeof p_trace, &n_trace,
                                   &span) != STP_OK ||
          stp_context_baggage(&parent, p_bag, sizeof p_bag, &n_bag, nullptr,
                              0) != STP_OK)
        failures++;
      cc.AddMetadata("sentry-trace", std::string(p_trace, n_trace));
      cc.AddMetadata("baggage", std::string(p_bag, n_bag));
    }
    EchoReply reply;
    failures += !modes[m].stub->Unary(&cc, req, &reply).ok();
  };
  Rounds r = Run(run_modes, kNames, per_round, rounds, call);
  Report(r, kNames,
         "c/b target: 0.98; c/p: interceptors against the same propagation "
         "by hand; m/b: machinery",
         failures);

  stp_detach(token);
  for (int m = 0; m < kModes; m++)
    if (modes[m].server)
      modes[m].server->Shutdown(std::chrono::system_clock::now() +
                                std::chrono::seconds(2));
  for (Mode &m : modes)
    m = Mode();
  stp_config_del(cfg);
  return failures ? 1 : 0;
}
