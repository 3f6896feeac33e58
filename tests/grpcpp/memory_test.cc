// What the interceptors keep per call, over real calls on 127.0.0.1: at
// most 1 KiB on each side for the reference request (`sentry-trace` and
// the 321-byte baggage of tests/reference_request.h), whatever the server API
// and whichever parent the client takes; a baggage of 8 KB still goes
// through whole, server to server. The figures are printed (run with
// --test_output=all).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "harness.h"
#include "interceptors/grpcpp/internal.h"

namespace grpcpp_test {
namespace {

using stp::grpcpp::internal::client_call;
using stp::grpcpp::internal::server_call;
using stp_test::kTrace;
using stp_test::kTS1;

constexpr size_t kBudget = 1024;
constexpr int kMaxMetadata = 1 << 20;

// The reference baggage (tests/reference_request.h).
const std::string kBench321 = STP_REF_BAGGAGE;

// The reference baggage and third-party members up to exactly
// STP_BAGGAGE_MAX_BYTES, within STP_BAGGAGE_MAX_MEMBERS.
std::string Baggage8K() {
  std::string b = kBench321;
  for (int i = 0; b.size() < STP_BAGGAGE_MAX_BYTES; i++) {
    std::string key = ",big-" + std::to_string(i) + "=";
    size_t left = STP_BAGGAGE_MAX_BYTES - b.size() - key.size();
    b += key + std::string(std::min<size_t>(148, left), 'x');
  }
  return b;
}

// A baggage's members, sorted: what a context gives back may order them
// differently (third-party members first), never change them.
std::vector<std::string> Members(const std::string &baggage) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= baggage.size() && !baggage.empty()) {
    size_t comma = std::min(baggage.find(',', at), baggage.size());
    out.push_back(baggage.substr(at, comma - at));
    at = comma + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SentryMembers(const std::string &baggage) {
  std::vector<std::string> out;
  for (const std::string &m : Members(baggage))
    if (m.compare(0, 7, "sentry-") == 0)
      out.push_back(m);
  return out;
}

// The tests' configs: the default, and one that passes third-party
// baggage on (its contexts keep and send every member).
Config DefaultConfig() {
  return Config();
}

Config ThirdPartyConfig() {
  return Config([](stp_options *o) { o->propagate_third_party_baggage = true; });
}

// One call's figures, for the log.
void Report(const std::string &what, size_t total, size_t object,
            size_t context, size_t method) {
  std::printf("per-call bytes, %s: %zu = %zu object + %zu context + %zu "
              "method%s\n",
              what.c_str(), total, object, context, method,
              total > object + context + method ? " + unused room" : "");
}

// ---- server ------------------------------------------------------------------

class ServerMemory
    : public ::testing::TestWithParam<std::tuple<Api, bool>> {
protected:
  Api api() const {
    return std::get<0>(GetParam());
  }
  bool third_party() const {
    return std::get<1>(GetParam());
  }
  std::string Name() const {
    return std::string("server ") + ApiName(api()) +
           (third_party() ? ", third-party config" : ", default config");
  }
  // One unary call from a client without the interceptor: the server's
  // view of it.
  Trace Unary(const Metadata &md) {
    TestServer server(api(), {cfg_.cfg});
    TestClient client(server.address(), nullptr);
    CallOptions o;
    o.metadata = md;
    CallResult r = client.Call(o);
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    if (r.replies.empty())
      return Trace();
    return r.replies[0].trace();
  }
  Config cfg_ = third_party() ? ThirdPartyConfig() : DefaultConfig();
};

TEST_P(ServerMemory, ReferenceRequestKeepsAtMostOneKibibyte) {
  Trace t = Unary({{"sentry-trace", kTS1}, {"baggage", kBench321}});
  ASSERT_TRUE(t.found());
  EXPECT_EQ(t.trace_id(), kTrace);
  EXPECT_LE(t.call_bytes(), kBudget);
  // Nothing kept besides the object, the copy and the method path.
  std::string method = MethodPath(Shape::kUnary);
  EXPECT_EQ(t.call_bytes(),
            sizeof(server_call) + t.context_bytes() + method.size());
  // The copy holds the request's members.
  if (third_party())
    EXPECT_EQ(Members(t.baggage()), Members(kBench321));
  else
    EXPECT_EQ(Members(t.baggage()), SentryMembers(kBench321));
  Report(Name() + ", reference request", t.call_bytes(), sizeof(server_call),
         t.context_bytes(), method.size());
}

TEST_P(ServerMemory, NewTraceKeepsAtMostOneKibibyte) {
  Trace t = Unary({});
  ASSERT_TRUE(t.found());
  EXPECT_EQ(t.continue_status(), STP_ERR_ABSENT);
  EXPECT_LE(t.call_bytes(), kBudget);
  // Named before the copy was made, which has room for what it holds.
  std::string method = MethodPath(Shape::kUnary);
  EXPECT_NE(std::find(t.dsc().begin(), t.dsc().end(), "transaction=" + method),
            t.dsc().end());
  Report(Name() + ", new trace", t.call_bytes(), sizeof(server_call),
         t.context_bytes(), method.size());
}

INSTANTIATE_TEST_SUITE_P(
    Apis, ServerMemory,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kAsync,
                                         Api::kCallback),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<Api, bool>> &p) {
      return std::string(ApiName(std::get<0>(p.param))) +
             (std::get<1>(p.param) ? "ThirdParty" : "Default");
    });

// ---- client ------------------------------------------------------------------

// The Sentry client factory, remembering the interceptor it made for each
// ClientContext, so that a test can ask it what it keeps while the
// ClientContext lives.
class Capture final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
public:
  explicit Capture(const stp::grpcpp::sentry &s, const std::string &authority)
      : sentry_(stp::grpcpp::sentry_client_factory(s, authority)) {}
  grpc::experimental::Interceptor *
  CreateClientInterceptor(grpc::experimental::ClientRpcInfo *info) override {
    grpc::experimental::Interceptor *i =
        sentry_->CreateClientInterceptor(info);
    std::lock_guard<std::mutex> lock(mu_);
    calls_[info->client_context()] = static_cast<client_call *>(i);
    return i;
  }
  size_t BytesOf(grpc::ClientContext *cc) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(cc);
    return it == calls_.end() || !it->second ? 0 : it->second->bytes();
  }

private:
  std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
      sentry_;
  std::mutex mu_;
  std::map<grpc::ClientContext *, client_call *> calls_;
};

// Where the client's parent comes from.
enum class Parent { kCurrent, kSetParent, kSetParentInScope, kNone };

const char *ParentName(Parent p) {
  switch (p) {
  case Parent::kCurrent:
    return "Current";
  case Parent::kSetParent:
    return "SetParent";
  case Parent::kSetParentInScope:
    return "SetParentInScope";
  case Parent::kNone:
    return "None";
  }
  return "?";
}

class ClientMemory
    : public ::testing::TestWithParam<std::tuple<Parent, bool>> {
protected:
  Parent parent() const {
    return std::get<0>(GetParam());
  }
  bool third_party() const {
    return std::get<1>(GetParam());
  }
  Config cfg_ = third_party() ? ThirdPartyConfig() : DefaultConfig();
};

TEST_P(ClientMemory, ReferenceParentKeepsAtMostOneKibibyte) {
  TestServer server(Api::kSync, {cfg_.cfg});
  Recorder records;
  stp::grpcpp::sentry s;
  s.cfg = cfg_.cfg;
  s.on_record = Recorder::Fn;
  s.record_user = &records;
  auto capture = std::make_unique<Capture>(s, server.address());
  Capture *calls = capture.get();
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      ics;
  ics.push_back(std::move(capture));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      server.address(), grpc::InsecureChannelCredentials(),
      grpc::ChannelArguments(), std::move(ics));
  auto stub = stp::test::Echo::NewStub(channel);

  // The reference request, continued: the parent.
  Continued ref(cfg_.cfg, kTS1, kBench321);
  std::optional<stp::grpcpp::scope> current;
  if (parent() == Parent::kCurrent || parent() == Parent::kSetParentInScope)
    current.emplace(&ref.ctx);
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (parent() == Parent::kSetParent ||
      parent() == Parent::kSetParentInScope) {
    ASSERT_EQ(stp::grpcpp::set_parent(&cc, &ref.ctx), STP_OK);
  }
  EchoRequest req;
  req.set_text("memory");
  EchoReply reply;
  grpc::Status st = stub->Unary(&cc, req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::vector<Record> cr = records.WaitFor(1);
  ASSERT_EQ(cr.size(), 1u);

  // The interceptor lives as long as cc.
  size_t bytes = calls->BytesOf(&cc);
  EXPECT_GT(bytes, sizeof(client_call));
  EXPECT_LE(bytes, kBudget);
  EXPECT_LE(reply.trace().call_bytes(), kBudget);
  if (parent() == Parent::kNone) {
    EXPECT_NE(reply.trace().trace_id(), kTrace);
  } else {
    EXPECT_EQ(reply.trace().trace_id(), kTrace);
    EXPECT_EQ(SentryMembers(reply.trace().baggage()),
              SentryMembers(kBench321));
  }
  std::string method = MethodPath(Shape::kUnary);
  Report(std::string("client, parent ") + ParentName(parent()) +
             (third_party() ? ", third-party config" : ", default config"),
         bytes, sizeof(client_call), cr[0].ctx_bytes, method.size());
}

INSTANTIATE_TEST_SUITE_P(
    Parents, ClientMemory,
    ::testing::Combine(::testing::Values(Parent::kCurrent, Parent::kSetParent,
                                         Parent::kSetParentInScope,
                                         Parent::kNone),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<Parent, bool>> &p) {
      return std::string(ParentName(std::get<0>(p.param))) +
             (std::get<1>(p.param) ? "ThirdParty" : "Default");
    });

// ---- a large baggage ---------------------------------------------------------

// An 8 KB baggage reaches a server, whose compact copy holds all of it,
// and goes on from its handler to a second server (under the scope: a
// copy after the client interceptor; with set_parent: one in the call's
// arena) as it came.
class LargeBaggage
    : public ::testing::TestWithParam<std::tuple<Api, stp::test::Nested>> {};

TEST_P(LargeBaggage, GoesThroughWhole) {
  const std::string big = Baggage8K();
  ASSERT_EQ(big.size(), size_t{STP_BAGGAGE_MAX_BYTES});
  Config cfg = ThirdPartyConfig();
  ServerOptions so;
  so.cfg = cfg.cfg;
  so.max_metadata_size = kMaxMetadata;
  TestServer front(std::get<0>(GetParam()), so);
  TestServer back(Api::kSync, so);
  TestClient client(front.address(), nullptr, kMaxMetadata);
  CallOptions o;
  o.metadata = {{"sentry-trace", kTS1}, {"baggage", big}};
  o.request.set_nested_address(back.address());
  o.request.set_nested(std::get<1>(GetParam()));
  CallResult r = client.Call(o);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.replies.size(), 1u);
  const Trace &t = r.replies[0].trace();
  ASSERT_TRUE(t.found());
  EXPECT_EQ(t.trace_id(), kTrace);
  EXPECT_EQ(Members(t.baggage()), Members(big));
  EXPECT_GT(t.context_bytes(), big.size());
  EXPECT_EQ(t.call_bytes(), sizeof(server_call) + t.context_bytes() +
                                MethodPath(Shape::kUnary).size());

  // The second server: what it received, and what its context holds.
  ASSERT_EQ(r.replies[0].nested_status(), grpc::StatusCode::OK);
  const Trace &n = r.replies[0].nested();
  ASSERT_TRUE(n.found());
  EXPECT_EQ(n.trace_id(), kTrace);
  std::vector<std::string> sent = Received(n, "baggage");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(Members(sent[0]), Members(big));
  EXPECT_EQ(Members(n.baggage()), Members(big));

  // The front server's client record: its copy of the parent holds it all.
  std::vector<Record> cr;
  for (int i = 0; i < 100 && cr.empty(); i++) {
    cr = front.records.Of("grpc.client");
    if (cr.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_GT(cr[0].ctx_bytes, big.size());
  EXPECT_TRUE(cr[0].injected);
  std::printf("per-call bytes, %s server, 8 KB baggage: context %zu, "
              "whole call %zu\n",
              ApiName(std::get<0>(GetParam())),
              static_cast<size_t>(t.context_bytes()),
              static_cast<size_t>(t.call_bytes()));
}

INSTANTIATE_TEST_SUITE_P(
    Apis, LargeBaggage,
    ::testing::Combine(::testing::Values(Api::kSync, Api::kAsync,
                                         Api::kCallback),
                       ::testing::Values(stp::test::SCOPE,
                                         stp::test::OTHER_THREAD_SET_PARENT)),
    [](const ::testing::TestParamInfo<std::tuple<Api, stp::test::Nested>> &p) {
      return std::string(ApiName(std::get<0>(p.param))) +
             (std::get<1>(p.param) == stp::test::SCOPE ? "Scope"
                                                        : "SetParent");
    });

} // namespace
} // namespace grpcpp_test
