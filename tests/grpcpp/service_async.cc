// The test service on the asynchronous (completion queue) API: one thread
// drives the queue, and every handler's work runs on a thread of its own.
#include "harness.h"

namespace grpcpp_test {
namespace {

// A step of a call: what runs when its tag comes back from the queue.
using Step = std::function<void(bool ok)>;

struct AsyncEnv {
  HandlerEnv env;
  stp::test::Echo::AsyncService service;
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  Workers workers;
};

// Asks for the next call of a method, unless the server is stopping; under
// the workers' lock, so that the queue cannot be shut down meanwhile.
template <class Call> void Post(AsyncEnv *e) {
  e->workers.Locked([e](bool stopped) {
    if (!stopped)
      new Call(e);
  });
}

// Starts an operation from the queue's thread, unless the server is
// stopping (the queue may be shut down then); false when it did not.
bool Start(AsyncEnv *e, const std::function<void()> &op) {
  bool started = false;
  e->workers.Locked([&](bool stopped) {
    if (!stopped)
      op();
    started = !stopped;
  });
  return started;
}

// What every call class shares: its ServerContext, which asks for the
// notice of the call's end (so that a handler may ask IsCancelled), its
// last step (finished_, the tag of its Finish), and the count that frees
// the call. A call that started is freed once both its last step and that
// notice are through with it; one that never started (the server
// stopping) gets no notice and is freed at once.
class AsyncCall {
public:
  virtual ~AsyncCall() = default;

protected:
  AsyncCall() {
    ctx_.AsyncNotifyWhenDone(&done_);
  }
  void Release() {
    if (refs_.fetch_sub(1) == 1)
      delete this;
  }
  void NeverStarted() {
    delete this;
  }

  grpc::ServerContext ctx_;
  Step finished_{[this](bool) { Release(); }};

private:
  std::atomic<int> refs_{2};
  Step done_{[this](bool) { Release(); }};
};

class UnaryCall final : public AsyncCall {
public:
  explicit UnaryCall(AsyncEnv *e) : e_(e) {
    e_->service.RequestUnary(&ctx_, &req_, &responder_, e_->cq.get(),
                             e_->cq.get(), &requested_);
  }

private:
  void Requested(bool ok) {
    if (!ok) {
      NeverStarted();
      return;
    }
    Post<UnaryCall>(e_);
    uint64_t delivered = ThreadId();
    if (!e_->workers.Run([this, delivered] {
          Handle(e_->env, &ctx_, req_, delivered, &reply_);
          responder_.Finish(reply_, grpc::Status::OK, &finished_);
        }))
      Release();
  }

  AsyncEnv *e_;
  EchoRequest req_;
  EchoReply reply_;
  grpc::ServerAsyncResponseWriter<EchoReply> responder_{&ctx_};
  Step requested_{[this](bool ok) { Requested(ok); }};
};

class ClientStreamCall final : public AsyncCall {
public:
  explicit ClientStreamCall(AsyncEnv *e) : e_(e) {
    e_->service.RequestClientStream(&ctx_, &reader_, e_->cq.get(),
                                    e_->cq.get(), &requested_);
  }

private:
  void Requested(bool ok) {
    if (!ok) {
      NeverStarted();
      return;
    }
    Post<ClientStreamCall>(e_);
    delivered_ = ThreadId();
    if (!Start(e_, [this] { reader_.Read(&req_, &read_); }))
      Release();
  }

  void Read(bool ok) {
    if (ok) {
      last_ = req_;
      if (!Start(e_, [this] { reader_.Read(&req_, &read_); }))
        Release();
      return;
    }
    if (!e_->workers.Run([this] {
          Handle(e_->env, &ctx_, last_, delivered_, &reply_);
          reader_.Finish(reply_, grpc::Status::OK, &finished_);
        }))
      Release();
  }

  AsyncEnv *e_;
  uint64_t delivered_ = 0;
  EchoRequest req_, last_;
  EchoReply reply_;
  grpc::ServerAsyncReader<EchoReply, EchoRequest> reader_{&ctx_};
  Step requested_{[this](bool ok) { Requested(ok); }};
  Step read_{[this](bool ok) { Read(ok); }};
};

class ServerStreamCall final : public AsyncCall {
public:
  explicit ServerStreamCall(AsyncEnv *e) : e_(e) {
    e_->service.RequestServerStream(&ctx_, &req_, &writer_, e_->cq.get(),
                                    e_->cq.get(), &requested_);
  }

private:
  void Requested(bool ok) {
    if (!ok) {
      NeverStarted();
      return;
    }
    Post<ServerStreamCall>(e_);
    uint64_t delivered = ThreadId();
    if (!e_->workers.Run([this, delivered] {
          Handle(e_->env, &ctx_, req_, delivered, &reply_);
          writer_.Write(reply_, &wrote_);
        }))
      Release();
  }

  void Wrote(bool ok) {
    bool more = ok && ++sent_ < kMessages;
    if (!Start(e_, [&] {
          if (more)
            writer_.Write(reply_, &wrote_);
          else
            writer_.Finish(grpc::Status::OK, &finished_);
        }))
      Release();
  }

  AsyncEnv *e_;
  int sent_ = 0;
  EchoRequest req_;
  EchoReply reply_;
  grpc::ServerAsyncWriter<EchoReply> writer_{&ctx_};
  Step requested_{[this](bool ok) { Requested(ok); }};
  Step wrote_{[this](bool ok) { Wrote(ok); }};
};

class BidiCall final : public AsyncCall {
public:
  explicit BidiCall(AsyncEnv *e) : e_(e) {
    e_->service.RequestBidi(&ctx_, &stream_, e_->cq.get(), e_->cq.get(),
                            &requested_);
  }

private:
  void Requested(bool ok) {
    if (!ok) {
      NeverStarted();
      return;
    }
    Post<BidiCall>(e_);
    delivered_ = ThreadId();
    if (!Start(e_, [this] { stream_.Read(&req_, &read_); }))
      Release();
  }

  void Read(bool ok) {
    if (ok && e_->workers.Run([this] {
          reply_.Clear();
          Handle(e_->env, &ctx_, req_, delivered_, &reply_);
          stream_.Write(reply_, &wrote_);
        }))
      return;
    if (!Start(e_, [this] { stream_.Finish(grpc::Status::OK, &finished_); }))
      Release();
  }

  void Wrote(bool ok) {
    if (!Start(e_, [&] {
          if (ok)
            stream_.Read(&req_, &read_);
          else
            stream_.Finish(grpc::Status::OK, &finished_);
        }))
      Release();
  }

  AsyncEnv *e_;
  uint64_t delivered_ = 0;
  EchoRequest req_;
  EchoReply reply_;
  grpc::ServerAsyncReaderWriter<EchoReply, EchoRequest> stream_{&ctx_};
  Step requested_{[this](bool ok) { Requested(ok); }};
  Step read_{[this](bool ok) { Read(ok); }};
  Step wrote_{[this](bool ok) { Wrote(ok); }};
};

struct AsyncService final : TestServer::Impl {
  explicit AsyncService(const HandlerEnv &env) {
    e.env = env;
  }
  void Register(grpc::ServerBuilder *b) override {
    b->RegisterService(&e.service);
    e.cq = b->AddCompletionQueue();
  }
  void Start(grpc::Server *) override {
    Post<UnaryCall>(&e);
    Post<ClientStreamCall>(&e);
    Post<ServerStreamCall>(&e);
    Post<BidiCall>(&e);
    thread = std::thread([this] {
      void *tag;
      bool ok;
      while (e.cq->Next(&tag, &ok))
        (*static_cast<Step *>(tag))(ok);
    });
  }
  // After the server's Shutdown: no call arrives any more; the handlers
  // still running finish, then the queue is drained.
  void Stop() override {
    e.workers.StopAndJoin();
    e.cq->Shutdown();
    if (thread.joinable())
      thread.join();
  }
  AsyncEnv e;
  std::thread thread;
};

} // namespace

std::unique_ptr<TestServer::Impl> NewAsyncService(const HandlerEnv &env) {
  return std::make_unique<AsyncService>(env);
}

} // namespace grpcpp_test
