// The test service on the callback API: reactors, with every handler's
// work on a thread of its own (never one of gRPC's callback threads).
#include "harness.h"

namespace grpcpp_test {
namespace {

class ClientStreamReactor final
    : public grpc::ServerReadReactor<EchoRequest> {
public:
  ClientStreamReactor(const HandlerEnv &env, Workers *workers,
                      grpc::CallbackServerContext *ctx, EchoReply *reply)
      : env_(env), workers_(workers), ctx_(ctx), reply_(reply),
        delivered_(ThreadId()) {
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (ok) {
      last_ = req_;
      StartRead(&req_);
      return;
    }
    if (!workers_->Run([this] {
          Handle(env_, ctx_, last_, delivered_, reply_);
          Finish(grpc::Status::OK);
        }))
      Finish(grpc::Status::OK);
  }
  void OnDone() override {
    delete this;
  }

private:
  HandlerEnv env_;
  Workers *workers_;
  grpc::CallbackServerContext *ctx_;
  EchoReply *reply_;
  uint64_t delivered_;
  EchoRequest req_, last_;
};

class ServerStreamReactor final
    : public grpc::ServerWriteReactor<EchoReply> {
public:
  ServerStreamReactor(const HandlerEnv &env, Workers *workers,
                      grpc::CallbackServerContext *ctx,
                      const EchoRequest *req)
      : env_(env), ctx_(ctx), req_(req) {
    uint64_t delivered = ThreadId();
    if (!workers->Run([this, delivered] {
          Handle(env_, ctx_, *req_, delivered, &reply_);
          StartWrite(&reply_);
        }))
      Finish(grpc::Status::OK);
  }
  void OnWriteDone(bool ok) override {
    if (ok && ++sent_ < kMessages)
      StartWrite(&reply_);
    else
      Finish(grpc::Status::OK);
  }
  void OnDone() override {
    delete this;
  }

private:
  HandlerEnv env_;
  grpc::CallbackServerContext *ctx_;
  const EchoRequest *req_;
  EchoReply reply_;
  int sent_ = 0;
};

class BidiReactor final
    : public grpc::ServerBidiReactor<EchoRequest, EchoReply> {
public:
  BidiReactor(const HandlerEnv &env, Workers *workers,
              grpc::CallbackServerContext *ctx)
      : env_(env), workers_(workers), ctx_(ctx), delivered_(ThreadId()) {
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (ok && workers_->Run([this] {
          reply_.Clear();
          Handle(env_, ctx_, req_, delivered_, &reply_);
          StartWrite(&reply_);
        }))
      return;
    Finish(grpc::Status::OK);
  }
  void OnWriteDone(bool ok) override {
    if (ok)
      StartRead(&req_);
    else
      Finish(grpc::Status::OK);
  }
  void OnDone() override {
    delete this;
  }

private:
  HandlerEnv env_;
  Workers *workers_;
  grpc::CallbackServerContext *ctx_;
  uint64_t delivered_;
  EchoRequest req_;
  EchoReply reply_;
};

class CallbackEcho final : public stp::test::Echo::CallbackService {
public:
  CallbackEcho(const HandlerEnv &env, Workers *workers)
      : env_(env), workers_(workers) {}

  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx,
                                  const EchoRequest *req,
                                  EchoReply *reply) override {
    grpc::ServerUnaryReactor *reactor = ctx->DefaultReactor();
    uint64_t delivered = ThreadId();
    if (!workers_->Run([this, ctx, req, reply, reactor, delivered] {
          Handle(env_, ctx, *req, delivered, reply);
          reactor->Finish(grpc::Status::OK);
        }))
      reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerReadReactor<EchoRequest> *
  ClientStream(grpc::CallbackServerContext *ctx, EchoReply *reply) override {
    return new ClientStreamReactor(env_, workers_, ctx, reply);
  }

  grpc::ServerWriteReactor<EchoReply> *
  ServerStream(grpc::CallbackServerContext *ctx,
               const EchoRequest *req) override {
    return new ServerStreamReactor(env_, workers_, ctx, req);
  }

  grpc::ServerBidiReactor<EchoRequest, EchoReply> *
  Bidi(grpc::CallbackServerContext *ctx) override {
    return new BidiReactor(env_, workers_, ctx);
  }

private:
  HandlerEnv env_;
  Workers *workers_;
};

struct CallbackService final : TestServer::Impl {
  explicit CallbackService(const HandlerEnv &env) : service(env, &workers) {}
  void Register(grpc::ServerBuilder *b) override {
    b->RegisterService(&service);
  }
  void Stop() override {
    workers.StopAndJoin();
  }
  Workers workers;
  CallbackEcho service;
};

} // namespace

std::unique_ptr<TestServer::Impl> NewCallbackService(const HandlerEnv &env) {
  return std::make_unique<CallbackService>(env);
}

} // namespace grpcpp_test
