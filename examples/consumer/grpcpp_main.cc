// A grpc++ program in another Bazel workspace whose only dependency is
// @stp//interceptors/grpcpp (grpc++, gRPC and Abseil come with it): an
// in-process server and client with the Sentry interceptors, one call,
// and a check that the handler found the client's trace.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <stp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

namespace {

const char kTraceId[] = "771a43a4192642f0b136d5159a501700";

// Answers every call with the trace id its handler found.
class Reactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Reactor(grpc::GenericCallbackServerContext *ctx) {
    std::string id = "none";
    if (stp_context *trace = stp::grpcpp::call_context(ctx)) {
      char hex[STP_TRACE_ID_HEX_LEN + 1];
      stp_trace_id_format(&stp_context_span(trace)->trace_id, hex);
      id = hex;
    }
    grpc::Slice slice(id);
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override {
    delete this;
  }

 private:
  grpc::ByteBuffer out_;
};

class Service final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor *
  CreateReactor(grpc::GenericCallbackServerContext *ctx) override {
    return new Reactor(ctx);
  }
};

}  // namespace

int main() {
  stp_options opts;
  stp_options_init(&opts);
  stp_config *cfg = nullptr;
  if (stp_config_new(&cfg, &opts, nullptr) != STP_OK)
    return 1;
  stp::grpcpp::sentry sentry;
  sentry.cfg = cfg;

  Service service;
  grpc::ServerBuilder builder;
  builder.RegisterCallbackGenericService(&service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      sics;
  sics.push_back(stp::grpcpp::sentry_server_factory(sentry));
  builder.experimental().SetInterceptorCreators(std::move(sics));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();

  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      cics;
  cics.push_back(stp::grpcpp::sentry_client_factory(sentry, "in-process"));
  grpc::GenericStub stub(
      server->experimental().InProcessChannelWithInterceptors(
          grpc::ChannelArguments(), std::move(cics)));

  stp_context parent;
  const std::string incoming = std::string(kTraceId) + "-b1c2d3e4f5a6b7c8-1";
  stp_context_begin(&parent, cfg);
  stp_context_feed(&parent, "sentry-trace", 12, incoming.data(),
                   incoming.size());
  stp_context_finish(&parent);

  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  stp::grpcpp::set_parent(&cc, &parent);
  grpc::Slice slice(std::string("hello"));
  grpc::ByteBuffer request(&slice, 1), response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&cc, "/consumer.Svc/Call", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_all();
                 });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; });
  }
  std::vector<grpc::Slice> slices;
  std::string answer;
  if (done && status.ok() && response.Dump(&slices).ok())
    for (const grpc::Slice &s : slices)
      answer.append(reinterpret_cast<const char *>(s.begin()), s.size());
  std::printf("the handler's trace: %s\n", answer.c_str());

  server->Shutdown();
  stp_config_del(cfg);
  return answer == kTraceId ? 0 : 1;
}
