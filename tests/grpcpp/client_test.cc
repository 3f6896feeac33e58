// The client side: which trace a call continues (set_parent, else the
// thread's current context when the call is created, else a new one), for
// the synchronous, asynchronous and callback client APIs; propagation
// targets; a factory without a config.
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>

#include "harness.h"

namespace grpcpp_test {
namespace {

using stp_test::kTS1;
using stp_test::kSpan2;
using stp_test::kTrace;
using stp_test::kTrace2;

const std::string kOther = kTrace2 + "-" + kSpan2 + "-1";

std::string SpanOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->span_id);
}

std::string TraceOf(const stp_context *ctx) {
  return Hex(stp_context_span(ctx)->trace_id);
}

class ClientTest : public ::testing::Test {
protected:
  ClientTest()
      : server_(Api::kSync, {cfg_.cfg}), client_(server_.address(), cfg_.cfg) {
  }
  // One unary call; its reply's trace and the client's record.
  std::pair<Trace, Record> Unary(const CallOptions &o = CallOptions()) {
    client_.records.Clear();
    CallResult r = client_.Call(o);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    std::vector<Record> cr = client_.records.WaitFor(1);
    EXPECT_EQ(cr.size(), 1u);
    if (r.replies.empty() || cr.empty())
      return {};
    return {r.replies[0].trace(), cr[0]};
  }
  Config cfg_;
  TestServer server_;
  TestClient client_;
};

TEST_F(ClientTest, CurrentContextIsTheParent) {
  Continued a(cfg_.cfg, kTS1);
  stp::grpcpp::scope current(&a.ctx);
  auto [t, c] = Unary();
  EXPECT_EQ(t.trace_id(), kTrace);
  EXPECT_EQ(c.parent_span_id, SpanOf(&a.ctx));
  EXPECT_EQ(t.parent_span_id(), c.span_id);
  EXPECT_EQ(c.ctx_span_id, SpanOf(&a.ctx)); // a copy of the current one
}

TEST_F(ClientTest, SetParentWinsOverTheCurrentContext) {
  Continued a(cfg_.cfg, kTS1), b(cfg_.cfg, kOther);
  stp::grpcpp::scope current(&a.ctx);
  CallOptions o;
  o.parent = &b.ctx;
  auto [t, c] = Unary(o);
  EXPECT_EQ(t.trace_id(), kTrace2);
  EXPECT_EQ(c.parent_span_id, SpanOf(&b.ctx));
  EXPECT_EQ(t.parent_span_id(), c.span_id);
  EXPECT_FALSE(c.local_root);
}

TEST_F(ClientTest, SetParentWithASpanOfTheTrace) {
  Continued a(cfg_.cfg, kTS1);
  stp_span step;
  ASSERT_EQ(stp_context_child_span(&a.ctx, &step), STP_OK);
  CallOptions o;
  o.parent = &a.ctx;
  o.parent_span = &step;
  auto [t, c] = Unary(o);
  EXPECT_EQ(t.trace_id(), kTrace);
  EXPECT_EQ(c.parent_span_id, Hex(step.span_id));
}

TEST_F(ClientTest, SetParentIgnoresASpanOfAnotherTrace) {
  Continued a(cfg_.cfg, kTS1), b(cfg_.cfg, kOther);
  CallOptions o;
  o.parent = &a.ctx;
  o.parent_span = stp_context_span(&b.ctx);
  auto [t, c] = Unary(o);
  EXPECT_EQ(t.trace_id(), kTrace);
  EXPECT_EQ(c.parent_span_id, SpanOf(&a.ctx));
}

TEST_F(ClientTest, SecondSetParentReplacesTheFirst) {
  Continued a(cfg_.cfg, kTS1), b(cfg_.cfg, kOther);
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(stp::grpcpp::set_parent(&cc, &a.ctx), STP_OK);
  EXPECT_EQ(stp::grpcpp::set_parent(&cc, &b.ctx), STP_OK);
  EchoReply reply;
  ASSERT_TRUE(client_.stub()->Unary(&cc, EchoRequest(), &reply).ok());
  EXPECT_EQ(reply.trace().trace_id(), kTrace2);
  EXPECT_EQ(Received(reply.trace(), "sentry-trace").size(), 1u);
  EXPECT_TRUE(Received(reply.trace(), STP_GRPCPP_PARENT_KEY).empty());
}

// set_parent takes what it needs at once: the parent may change or go
// before the call is made.
TEST_F(ClientTest, SetParentCopiesTheParentAtOnce) {
  Continued b(cfg_.cfg, kOther);
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::string parent_span;
  {
    auto a = std::make_unique<Continued>(cfg_.cfg, kTS1);
    parent_span = SpanOf(&a->ctx);
    ASSERT_EQ(stp::grpcpp::set_parent(&cc, &a->ctx), STP_OK);
    stp_context_copy(&a->ctx, &b.ctx); // overwritten, then freed
  }
  EchoReply reply;
  ASSERT_TRUE(client_.stub()->Unary(&cc, EchoRequest(), &reply).ok());
  EXPECT_EQ(reply.trace().trace_id(), kTrace);
  std::vector<Record> cr = client_.records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].parent_span_id, parent_span);
}

TEST_F(ClientTest, SetParentRefusesNull) {
  Continued a(cfg_.cfg, kTS1);
  grpc::ClientContext cc;
  EXPECT_EQ(stp::grpcpp::set_parent(nullptr, &a.ctx), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp::grpcpp::set_parent(&cc, nullptr), STP_ERR_INVALID_ARGUMENT);
}

// A parent entry that did not come from set_parent (a proxy forwarding
// what it received, say) reads as no more than a trace to continue.
TEST_F(ClientTest, ForeignParentEntryIsOnlyATrace) {
  for (const std::string &value :
       {kOther + " sentry-trace_id=" + kTrace2, kOther, std::string("junk"),
        std::string("0000000000000000.0000000000000000"), std::string()}) {
    SCOPED_TRACE(value);
    CallOptions o;
    o.metadata = {{STP_GRPCPP_PARENT_KEY, value}};
    auto [t, c] = Unary(o);
    if (value.compare(0, kOther.size(), kOther) == 0) {
      EXPECT_EQ(t.trace_id(), kTrace2);
      EXPECT_EQ(c.parent_span_id, kSpan2);
    } else {
      EXPECT_TRUE(c.local_root); // a new trace
    }
    EXPECT_EQ(t.trace_id(), c.trace_id);
    EXPECT_TRUE(Received(t, STP_GRPCPP_PARENT_KEY).empty());
  }
}

// The current context is read when the call is created: an asynchronous
// call prepared under one scope and started under another keeps the
// first.
TEST_F(ClientTest, CurrentContextIsTakenWhenTheCallIsCreated) {
  Continued a(cfg_.cfg, kTS1), b(cfg_.cfg, kOther);
  grpc::CompletionQueue cq;
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::unique_ptr<grpc::ClientAsyncResponseReader<EchoReply>> rpc;
  {
    stp::grpcpp::scope current(&a.ctx);
    rpc = client_.stub()->PrepareAsyncUnary(&cc, EchoRequest(), &cq);
  }
  EchoReply reply;
  grpc::Status status;
  {
    stp::grpcpp::scope current(&b.ctx);
    rpc->StartCall();
    rpc->Finish(&reply, &status, &reply);
  }
  void *tag;
  bool ok;
  ASSERT_EQ(cq.AsyncNext(&tag, &ok,
                         std::chrono::system_clock::now() +
                             std::chrono::seconds(10)),
            grpc::CompletionQueue::GOT_EVENT);
  ASSERT_TRUE(ok && status.ok()) << status.error_message();
  EXPECT_EQ(reply.trace().trace_id(), kTrace);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

constexpr int kParallel = 20;

std::vector<std::unique_ptr<Continued>> Parents(const stp_config *cfg) {
  std::vector<std::unique_ptr<Continued>> out;
  for (int i = 0; i < kParallel; i++) {
    stp_trace_id t;
    stp_span_id s;
    stp_trace_id_random(&t);
    stp_span_id_random(&s);
    out.push_back(std::make_unique<Continued>(
        cfg, Hex(t) + "-" + Hex(s) + "-1"));
  }
  return out;
}

struct Pending {
  grpc::ClientContext cc;
  EchoReply reply;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<EchoReply>> rpc;
};

// Many calls in flight from one thread, on a completion queue: each its
// own parent, with no current context anywhere.
TEST_F(ClientTest, AsyncClientCallsEachWithItsOwnParent) {
  auto parents = Parents(cfg_.cfg);
  grpc::CompletionQueue cq;
  std::vector<Pending> calls(kParallel);
  EchoRequest req;
  req.set_delay_ms(20);
  for (int i = 0; i < kParallel; i++) {
    Pending &p = calls[i];
    p.cc.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    ASSERT_EQ(stp::grpcpp::set_parent(&p.cc, &parents[i]->ctx), STP_OK);
    p.rpc = client_.stub()->AsyncUnary(&p.cc, req, &cq);
    p.rpc->Finish(&p.reply, &p.status, &p);
  }
  for (int i = 0; i < kParallel; i++) {
    void *tag;
    bool ok;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok,
                           std::chrono::system_clock::now() +
                               std::chrono::seconds(10)),
              grpc::CompletionQueue::GOT_EVENT);
  }
  for (int i = 0; i < kParallel; i++) {
    ASSERT_TRUE(calls[i].status.ok()) << calls[i].status.error_message();
    EXPECT_EQ(calls[i].reply.trace().trace_id(), TraceOf(&parents[i]->ctx));
  }
  std::vector<Record> cr = client_.records.WaitFor(kParallel);
  ASSERT_EQ(cr.size(), static_cast<size_t>(kParallel));
  for (const Record &c : cr) {
    bool found = false;
    for (const auto &p : parents)
      found = found || (c.trace_id == TraceOf(&p->ctx) &&
                        c.parent_span_id == SpanOf(&p->ctx));
    EXPECT_TRUE(found) << c.trace_id;
  }
  cq.Shutdown();
  void *tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// The callback client: the reactions run on gRPC's threads, the parent is
// tied to each ClientContext.
TEST_F(ClientTest, CallbackClientCallsEachWithItsOwnParent) {
  auto parents = Parents(cfg_.cfg);
  std::vector<Pending> calls(kParallel);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  EchoRequest req;
  req.set_delay_ms(20);
  for (int i = 0; i < kParallel; i++) {
    Pending &p = calls[i];
    p.cc.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    ASSERT_EQ(stp::grpcpp::set_parent(&p.cc, &parents[i]->ctx), STP_OK);
    client_.stub()->async()->Unary(&p.cc, &req, &p.reply,
                                   [&, i](grpc::Status s) {
                                     std::lock_guard<std::mutex> lock(mu);
                                     calls[i].status = s;
                                     done++;
                                     cv.notify_all();
                                   });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return done == kParallel; }));
  }
  for (int i = 0; i < kParallel; i++) {
    ASSERT_TRUE(calls[i].status.ok()) << calls[i].status.error_message();
    EXPECT_EQ(calls[i].reply.trace().trace_id(), TraceOf(&parents[i]->ctx));
  }
  EXPECT_EQ(client_.records.WaitFor(kParallel).size(),
            static_cast<size_t>(kParallel));
}

// ---- propagation targets ------------------------------------------------------

struct TargetCase {
  const char *name;
  std::vector<const char *> targets; // {}: match everything
  bool none;                         // an empty list: never inject
  bool unary; // injected on /stp.test.Echo/Unary
  bool bidi;  // and on /stp.test.Echo/Bidi
};

// gtest prints a parameter by its name (not its raw bytes, padding and all).
void PrintTo(const TargetCase &c, std::ostream *os) {
  *os << c.name;
}

class TargetsTest : public ::testing::TestWithParam<TargetCase> {};

TEST_P(TargetsTest, InjectsOnlyWhereAuthorityAndMethodMatch) {
  const TargetCase &tc = GetParam();
  static const char *const kNone[] = {""};
  Config cfg([&](stp_options *o) {
    if (tc.none || !tc.targets.empty()) {
      o->targets = tc.none ? kNone : tc.targets.data();
      o->targets_len = tc.targets.size();
    }
  });
  Config server_cfg;
  TestServer server(Api::kSync, {server_cfg.cfg});
  TestClient client(server.address(), cfg.cfg);
  for (Shape shape : {Shape::kUnary, Shape::kBidi}) {
    SCOPED_TRACE(ShapeName(shape));
    client.records.Clear();
    CallOptions o;
    o.shape = shape;
    o.metadata = {{"baggage", "vendor=1"}};
    CallResult r = client.Call(o);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    std::vector<Record> cr = client.records.WaitFor(1);
    ASSERT_EQ(cr.size(), 1u);
    bool want = shape == Shape::kUnary ? tc.unary : tc.bidi;
    EXPECT_EQ(cr[0].injected, want);
    const Trace &t = r.replies[0].trace();
    if (want) {
      EXPECT_EQ(t.trace_id(), cr[0].trace_id);
      EXPECT_EQ(Received(t, "baggage").size(), 1u);
    } else {
      // Nothing of the trace, the caller's own metadata untouched.
      EXPECT_TRUE(Received(t, "sentry-trace").empty());
      EXPECT_EQ(Received(t, "baggage"), std::vector<std::string>{"vendor=1"});
      EXPECT_EQ(t.continue_status(), STP_ERR_ABSENT);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Targets, TargetsTest,
    ::testing::Values(
        TargetCase{"Everything", {}, false, true, true},
        TargetCase{"Nothing", {}, true, false, false},
        TargetCase{"Authority", {"^127\\.0\\.0\\.1:[0-9]+/"}, false, true,
                   true},
        TargetCase{"OneMethod", {"/stp\\.test\\.Echo/Unary$"}, false, true,
                   false},
        TargetCase{"OtherHost", {"^api\\.example\\.com"}, false, false,
                   false}),
    [](const ::testing::TestParamInfo<TargetCase> &info) {
      return std::string(info.param.name);
    });

// ---- where records go ----------------------------------------------------------

// Without a callback of their own, both interceptors hand their records to
// the config's record sink (stp_options.on_record), as the C layer's do.
TEST(RecordSink, WithoutACallbackTheConfigSinkGetsTheRecords) {
  Recorder sink;
  Config cfg([&](stp_options *o) {
    o->on_record = Recorder::Fn;
    o->record_user = &sink;
  });
  ServerOptions so;
  so.cfg = cfg.cfg;
  so.records_to_config_sink = true;
  TestServer server(Api::kSync, so);
  auto stub =
      stp::test::Echo::NewStub(NewChannel(server.address(), cfg.cfg, nullptr));
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EchoReply reply;
  ASSERT_TRUE(stub->Unary(&cc, EchoRequest(), &reply).ok());
  std::vector<Record> all = sink.WaitFor(2);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(sink.Of("grpc.client").size(), 1u);
  EXPECT_EQ(sink.Of("grpc.server").size(), 1u);
  EXPECT_TRUE(server.records.All().empty());
}

// ---- no config ------------------------------------------------------------------

TEST(NoConfig, InterceptorsStandAside) {
  stp::grpcpp::sentry s; // cfg NULL
  Recorder records;
  s.on_record = Recorder::Fn;
  s.record_user = &records;
  EXPECT_NE(stp::grpcpp::sentry_client_factory(s, "x"), nullptr);
  EXPECT_NE(stp::grpcpp::sentry_server_factory(s), nullptr);
  Config cfg;
  TestServer server(Api::kSync, {nullptr});
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      ics;
  ics.push_back(stp::grpcpp::sentry_client_factory(s, server.address()));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      server.address(), grpc::InsecureChannelCredentials(),
      grpc::ChannelArguments(), std::move(ics));
  auto stub = stp::test::Echo::NewStub(channel);
  Continued a(cfg.cfg, kTS1);
  stp::grpcpp::scope current(&a.ctx);
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EchoReply reply;
  ASSERT_TRUE(stub->Unary(&cc, EchoRequest(), &reply).ok());
  EXPECT_TRUE(Received(reply.trace(), "sentry-trace").empty());
  EXPECT_TRUE(records.All().empty());
}

} // namespace
} // namespace grpcpp_test
