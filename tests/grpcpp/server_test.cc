// The server side beyond the generated services: the generic services
// (completion queue and callback), where gRPC names the method only in
// the context; the scope; what call_context finds and what it does not.
#include <gtest/gtest.h>

#include <chrono>

#include "harness.h"

namespace grpcpp_test {
namespace {

using stp_test::kTS1;
using stp_test::kTrace;

grpc::ByteBuffer Serialize(const EchoReply &reply) {
  std::string s = reply.SerializeAsString();
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

// A server with only a generic service of the given API, which answers
// every call with one EchoReply describing the call's trace.
class GenericServer {
public:
  GenericServer(bool callback, const stp_config *cfg) : callback_(callback) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                       &port_);
    stp::grpcpp::sentry s;
    s.cfg = cfg;
    s.on_record = Recorder::Fn;
    s.record_user = &records;
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        ics;
    ics.push_back(stp::grpcpp::sentry_server_factory(s));
    b.experimental().SetInterceptorCreators(std::move(ics));
    if (callback) {
      b.RegisterCallbackGenericService(&callback_service_);
    } else {
      b.RegisterAsyncGenericService(&async_service_);
      cq_ = b.AddCompletionQueue();
    }
    server_ = b.BuildAndStart();
    if (!callback)
      thread_ = std::thread([this] { ServeOne(); });
  }
  ~GenericServer() {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
    if (!callback_) {
      cq_->Shutdown();
      thread_.join();
    }
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(port_);
  }
  Recorder records;

private:
  // One call on the completion queue, then drains it.
  void ServeOne() {
    grpc::GenericServerContext ctx;
    grpc::GenericServerAsyncReaderWriter stream(&ctx);
    grpc::ByteBuffer in, out;
    void *tag;
    bool ok;
    int step = 0;
    async_service_.RequestCall(&ctx, &stream, cq_.get(), cq_.get(), &step);
    if (!cq_->Next(&tag, &ok) || !ok)
      return Drain();
    stream.Read(&in, &step);
    if (cq_->Next(&tag, &ok) && ok) {
      EchoReply reply;
      Describe(&ctx, reply.mutable_trace());
      reply.set_text(ctx.method());
      out = Serialize(reply);
      stream.WriteAndFinish(out, grpc::WriteOptions(), grpc::Status::OK,
                            &step);
      cq_->Next(&tag, &ok);
    }
    Drain();
  }
  void Drain() {
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

  class Reactor final : public grpc::ServerGenericBidiReactor {
  public:
    explicit Reactor(grpc::GenericCallbackServerContext *ctx) : ctx_(ctx) {
      StartRead(&in_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no message"));
        return;
      }
      EchoReply reply;
      Describe(ctx_, reply.mutable_trace());
      reply.set_text(ctx_->method());
      out_ = Serialize(reply);
      StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override {
      delete this;
    }

  private:
    grpc::GenericCallbackServerContext *ctx_;
    grpc::ByteBuffer in_, out_;
  };

  class CallbackService final : public grpc::CallbackGenericService {
    grpc::ServerGenericBidiReactor *
    CreateReactor(grpc::GenericCallbackServerContext *ctx) override {
      return new Reactor(ctx);
    }
  };

  bool callback_;
  int port_ = 0;
  grpc::AsyncGenericService async_service_;
  CallbackService callback_service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread thread_;
};

class GenericTest : public ::testing::TestWithParam<bool> {};

TEST_P(GenericTest, GenericServiceFindsTheTraceAndNamesTheMethod) {
  Config cfg;
  GenericServer server(GetParam(), cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  Continued parent(cfg.cfg, kTS1);
  CallOptions o;
  o.parent = &parent.ctx;
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0].text(), "/stp.test.Echo/Unary");
  const Trace &t = r.replies[0].trace();
  EXPECT_TRUE(t.found());
  EXPECT_TRUE(t.current_is_call());
  EXPECT_EQ(t.trace_id(), kTrace);
  std::vector<Record> sr = server.records.WaitFor(1);
  ASSERT_EQ(sr.size(), 1u);
  EXPECT_EQ(sr[0].description, "/stp.test.Echo/Unary");
  EXPECT_EQ(sr[0].span_id, t.span_id());
  EXPECT_EQ(sr[0].code, 0);
}

INSTANTIATE_TEST_SUITE_P(AsyncAndCallback, GenericTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return std::string(info.param ? "Callback"
                                                         : "Async");
                         });

// The entry the server interceptor adds is there for any code that reads
// the metadata: one, empty, under a key gRPC never delivers (every other
// key came from the client, and none begins with ':').
TEST(CallEntry, OneEmptyEntryUnderAReservedKey) {
  Config cfg;
  GenericServer server(true, cfg.cfg);
  TestClient client(server.address(), nullptr);
  CallResult r = client.Call(CallOptions());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const Trace &t = r.replies[0].trace();
  EXPECT_TRUE(t.found());
  EXPECT_EQ(Received(t, STP_GRPCPP_CALL_KEY), std::vector<std::string>{""});
  for (const std::string &m : t.metadata())
    EXPECT_TRUE(m[0] != ':' || m == STP_GRPCPP_CALL_KEY ": ") << m;
}

TEST(CallContext, NothingToFind) {
  EXPECT_EQ(stp::grpcpp::call_context(nullptr), nullptr);
  grpc::ServerContext never_used;
  EXPECT_EQ(stp::grpcpp::call_context(&never_used), nullptr);
  stp::grpcpp::scope none(&never_used);
  EXPECT_EQ(none.context(), nullptr);
  EXPECT_EQ(stp_current(), nullptr);
}

TEST(Scope, NestsAndRestores) {
  Config cfg;
  Continued a(cfg.cfg, kTS1), b(cfg.cfg, kTS1);
  EXPECT_EQ(stp_current(), nullptr);
  {
    stp::grpcpp::scope outer(&a.ctx);
    EXPECT_EQ(outer.context(), &a.ctx);
    EXPECT_EQ(stp_current(), &a.ctx);
    {
      stp::grpcpp::scope inner(&b.ctx);
      EXPECT_EQ(stp_current(), &b.ctx);
      stp::grpcpp::scope nothing(static_cast<stp_context *>(nullptr));
      EXPECT_EQ(nothing.context(), nullptr);
      EXPECT_EQ(stp_current(), &b.ctx);
    }
    EXPECT_EQ(stp_current(), &a.ctx);
  }
  EXPECT_EQ(stp_current(), nullptr);
}

} // namespace
} // namespace grpcpp_test
