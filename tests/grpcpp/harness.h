// Real grpc++ servers and clients on 127.0.0.1 for the tests of the grpc++
// layer (stp/grpcpp.h).
//
// The server runs the test service (echo.proto) on one of the three
// grpc++ server APIs. Every handler, whatever the API, finds its call's
// trace from its ServerContext and answers with it (a Trace message), makes
// the outgoing call the request asks for, and waits as long as it asks.
// The asynchronous and callback handlers do that work on a thread of their
// own, never the one gRPC handed them the call on.
#ifndef STP_TESTS_GRPCPP_HARNESS_H
#define STP_TESTS_GRPCPP_HARNESS_H

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "stp/grpcpp.h"
#include "stp/stp.h"
#include "tests/grpcpp/echo.grpc.pb.h"
#include "tests/test_util.h"

namespace grpcpp_test {

using stp::test::EchoReply;
using stp::test::EchoRequest;
using stp::test::Trace;
using Metadata = std::vector<std::pair<std::string, std::string>>;

using stp_test::Hex;

// An identifier of the calling thread.
uint64_t ThreadId();

// An owned config: the tests' default options (tests/test_util.h), with
// a sample rate of 1, adjusted by `edit`.
struct Config {
  explicit Config(const std::function<void(stp_options *)> &edit = nullptr);
  stp_test::ConfigPtr owned;
  const stp_config *cfg;
};

// A copy of one span record.
struct Record {
  std::string op, description, trace_id, span_id, parent_span_id, status;
  bool has_parent = false;
  int sampled = -1;
  int code = -1;
  uint64_t start_ns = 0, end_ns = 0;
  bool local_root = false;
  int continue_status = 0;
  bool injected = false;
  bool has_ctx = false;
  std::string ctx_span_id; // the span of the record's context
  bool ctx_frozen = false;
  size_t ctx_bytes = 0; // stp_context_compact_size of the record's context
  uint64_t thread = 0;
};

// Collects records from any thread.
class Recorder {
public:
  static void Fn(void *user, const stp_span_record *rec);
  std::vector<Record> All();
  // Waits (up to timeout_ms) until `n` records are there; returns them.
  std::vector<Record> WaitFor(size_t n, int timeout_ms = 10000);
  // The records of one op ("grpc.client", "grpc.server").
  std::vector<Record> Of(const std::string &op);
  void Clear();

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Record> records_;
};

enum class Api { kSync, kAsync, kCallback };
enum class Shape { kUnary, kClientStream, kServerStream, kBidi };
const char *ApiName(Api api);
const char *ShapeName(Shape shape);
std::string MethodPath(Shape shape); // "/stp.test.Echo/Unary", ...

// Requests a client sends on a client-streaming or bidi call; replies a
// server sends on a server-streaming one.
constexpr int kMessages = 3;

// Threads of their own for handler work; joined by StopAndJoin, after
// which Run refuses.
class Workers {
public:
  ~Workers();
  bool Run(std::function<void()> fn);
  void StopAndJoin();
  // Runs fn under the lock that StopAndJoin takes: fn sees `stopped` and
  // nothing can stop the workers meanwhile.
  void Locked(const std::function<void(bool stopped)> &fn);

private:
  std::mutex mu_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

// What every handler shares.
struct HandlerEnv {
  const stp_config *cfg; // for the nested call's client interceptor
  Recorder *records;     // the server's records and the nested call's
  std::atomic<int> *started;
  std::mutex *mu;
  std::condition_variable *cv;
};

// Fills t with what a handler finds of its call's trace from ctx.
void Describe(grpc::ServerContextBase *ctx, Trace *t);

// One request, handled as every API does it: fills reply->trace from the
// call's ServerContext, makes the nested call, waits delay_ms (less when
// the request asks to stop at a cancel). `delivered` is the thread gRPC
// handed the call over on.
void Handle(const HandlerEnv &env, grpc::ServerContextBase *ctx,
            const EchoRequest &req, uint64_t delivered, EchoReply *reply);

struct ServerOptions {
  const stp_config *cfg = nullptr; // the server interceptor; null: none
  int max_metadata_size = 0;       // 0: gRPC's default
  // The records go to the config's record sink, not to `records`.
  bool records_to_config_sink = false;
};

// A grpc++ server on 127.0.0.1 (a free port) with the test service.
class TestServer {
public:
  TestServer(Api api, const ServerOptions &options);
  ~TestServer();
  std::string address() const {
    return "127.0.0.1:" + std::to_string(port_);
  }
  // Handlers that started (counted before they wait).
  int started() const {
    return started_.load();
  }
  // Waits (up to timeout_ms) until n handlers started.
  bool WaitStarted(int n, int timeout_ms = 10000);
  Recorder records;

  struct Impl; // the API's service; public for the API files

private:
  Api api_;
  int port_ = 0;
  std::atomic<int> started_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  HandlerEnv env_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<grpc::Server> server_;
};

// The service of each API (service_*.cc): registered with the builder;
// Start runs once the server is built, Stop before it is destroyed (after
// Shutdown).
struct TestServer::Impl {
  virtual ~Impl() = default;
  virtual void Register(grpc::ServerBuilder *builder) = 0;
  virtual void Start(grpc::Server *) {}
  virtual void Stop() = 0;
};
std::unique_ptr<TestServer::Impl> NewSyncService(const HandlerEnv &env);
std::unique_ptr<TestServer::Impl> NewAsyncService(const HandlerEnv &env);
std::unique_ptr<TestServer::Impl> NewCallbackService(const HandlerEnv &env);

// A channel to `address`, with the Sentry client interceptor when cfg is
// not null (records to `records`, or to the config's record sink when it
// is null; authority: the address itself).
std::shared_ptr<grpc::Channel> NewChannel(const std::string &address,
                                          const stp_config *cfg,
                                          Recorder *records,
                                          int max_metadata_size = 0);

struct CallOptions {
  Shape shape = Shape::kUnary;
  EchoRequest request;    // each request sent
  Metadata metadata;      // added to the ClientContext
  stp_context *parent = nullptr; // tied with stp::grpcpp::set_parent
  const stp_span *parent_span = nullptr;
  int deadline_ms = 10000;
  // Cancel (ClientContext::TryCancel, from another thread) once the
  // server has this many handlers started; 0: never.
  TestServer *cancel_server = nullptr;
  int cancel_when_started = 0;
};

struct CallResult {
  grpc::Status status;
  std::vector<EchoReply> replies;
};

// A client of the test service through the synchronous stub.
class TestClient {
public:
  // cfg null: a plain channel, no interceptor.
  TestClient(const std::string &address, const stp_config *cfg,
             int max_metadata_size = 0);
  CallResult Call(const CallOptions &options);
  stp::test::Echo::Stub *stub() {
    return stub_.get();
  }
  Recorder records;

private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<stp::test::Echo::Stub> stub_;
};

// The values of `key` among a Trace's received metadata.
std::vector<std::string> Received(const Trace &t, const std::string &key);

// A context continued from `sentry_trace` (and `baggage`), for parents.
struct Continued {
  Continued(const stp_config *cfg, const std::string &sentry_trace,
            const std::string &baggage = "");
  stp_context ctx;
};

} // namespace grpcpp_test

#endif // STP_TESTS_GRPCPP_HARNESS_H
