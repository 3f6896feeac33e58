// The test service on the synchronous API: handlers run on gRPC's own
// threads.
#include "harness.h"

namespace grpcpp_test {
namespace {

class SyncEcho final : public stp::test::Echo::Service {
public:
  explicit SyncEcho(const HandlerEnv &env) : env_(env) {}

  grpc::Status Unary(grpc::ServerContext *ctx, const EchoRequest *req,
                     EchoReply *reply) override {
    Handle(env_, ctx, *req, ThreadId(), reply);
    return grpc::Status::OK;
  }

  grpc::Status ClientStream(grpc::ServerContext *ctx,
                            grpc::ServerReader<EchoRequest> *reader,
                            EchoReply *reply) override {
    EchoRequest req, last;
    while (reader->Read(&req))
      last = req;
    Handle(env_, ctx, last, ThreadId(), reply);
    return grpc::Status::OK;
  }

  grpc::Status ServerStream(grpc::ServerContext *ctx, const EchoRequest *req,
                            grpc::ServerWriter<EchoReply> *writer) override {
    EchoReply reply;
    Handle(env_, ctx, *req, ThreadId(), &reply);
    for (int i = 0; i < kMessages && writer->Write(reply); i++) {
    }
    return grpc::Status::OK;
  }

  grpc::Status
  Bidi(grpc::ServerContext *ctx,
       grpc::ServerReaderWriter<EchoReply, EchoRequest> *stream) override {
    EchoRequest req;
    while (stream->Read(&req)) {
      EchoReply reply;
      Handle(env_, ctx, req, ThreadId(), &reply);
      if (!stream->Write(reply))
        break;
    }
    return grpc::Status::OK;
  }

private:
  HandlerEnv env_;
};

struct SyncService final : TestServer::Impl {
  explicit SyncService(const HandlerEnv &env) : service(env) {}
  void Register(grpc::ServerBuilder *b) override {
    b->RegisterService(&service);
  }
  void Stop() override {}
  SyncEcho service;
};

} // namespace

std::unique_ptr<TestServer::Impl> NewSyncService(const HandlerEnv &env) {
  return std::make_unique<SyncService>(env);
}

} // namespace grpcpp_test
