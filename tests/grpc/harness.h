// A real gRPC server and client over 127.0.0.1 for the interceptor tests.
//
// The server answers every call with lines `key=value` describing the
// context it continued (trace, span, parent, sampled, status, baggage) and
// the request metadata it received (`md=key: value`), so tests check the
// wire and the continued context from the client side.
#ifndef STP_TESTS_GRPC_HARNESS_H
#define STP_TESTS_GRPC_HARNESS_H

#include <grpc/grpc.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "stp/grpc.h"
#include "stp/stp.h"
#include "tests/test_util.h"

namespace stp_test {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Deadlines: `ms` from now, and none.
gpr_timespec In(int ms);
gpr_timespec Forever();
// A message holding `s` (destroy it with grpc_byte_buffer_destroy), and
// the bytes of one.
grpc_byte_buffer *Message(const std::string &s);
std::string Read(grpc_byte_buffer *bb);
// A zeroed op of `type`.
grpc_op Op(grpc_op_type type);
// The bytes of a slice.
std::string SliceStr(grpc_slice s);
// Shuts down a queue made by grpc_completion_queue_create_for_pluck, takes
// what is left on it and destroys it.
void DestroyPluckQueue(grpc_completion_queue *cq);

// An owned config built from options adjusted by `edit`.
struct Config {
  explicit Config(const std::function<void(stp_options *)> &edit = nullptr);
  ~Config();
  Config(const Config &) = delete;
  Config &operator=(const Config &) = delete;
  stp_config *cfg = nullptr;
};

// A copy of one span record.
struct Record {
  std::string trace_id, span_id, parent_span_id, op, description;
  bool has_parent = false;
  int sampled = -1;
  int status = -1;
  bool has_status = false;
  std::string sentry_status; // Sentry's span status
  bool local_root = false;
  bool has_ctx = false;
  uint64_t start_ns = 0, end_ns = 0;
  int continue_status = 0;
  bool injected = false;
};

// Collects records from any thread.
class Recorder {
public:
  static void Fn(void *user, const stp_span_record *rec);
  std::vector<Record> All();
  // Waits (up to timeout_ms) until `n` records are there; returns them.
  std::vector<Record> WaitFor(size_t n, int timeout_ms = 5000);
  void Clear();

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Record> records_;
};

// The server: `workers` threads, each with its own completion queue, plus
// one thread serving the registered method /test.Echo/Registered.
class TestServer {
public:
  explicit TestServer(const stp_config *cfg, int workers = 3);
  ~TestServer();
  int port() const {
    return port_;
  }
  std::string address() const;
  // Calls the application was handed (stp_grpc_server_accept succeeded).
  // gRPC never hands over a call its client cancelled, or whose deadline
  // passed, before a worker asked for it; those have no server record.
  int accepted() const {
    return accepted_.load();
  }
  Recorder records;

private:
  void Work(grpc_completion_queue *cq, bool registered);
  grpc_server *server_ = nullptr;
  stp_grpc_server *srv_ = nullptr;
  stp_grpc_sentry sentry_{};
  void *registered_ = nullptr;
  grpc_completion_queue *shutdown_cq_ = nullptr;
  std::vector<grpc_completion_queue *> cqs_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<int> accepted_{0};
};

enum class Shape { kUnary, kClientStream, kServerStream, kBidi };

struct CallOptions {
  std::string method = "/test.Echo/Unary";
  std::string host;           // empty: the channel's
  bool clobber_names = false; // overwrite method and host once created
  Shape shape = Shape::kUnary;
  Metadata metadata;
  stp_context *parent = nullptr;
  int messages = 3; // client messages for client streaming and bidi
  int deadline_ms = 5000;
  bool cancel = false;      // cancel after the first batch, expect CANCELLED
  bool expect_hang = false; // no response expected (deadline or cancel)
};

struct CallResult {
  bool created = false;
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  std::string details;
  std::vector<std::string> responses;
  bool has_span = false;
  stp_span span{};          // the client span
  uint64_t deadline_ns = 0; // the call's deadline, Unix time in ns
  size_t arena_bytes = 0;   // stp_grpc_call_arena_bytes at the end
  size_t context_bytes = 0; // the size of the call's context
};

// A client channel to the server with (or without) the Sentry client
// interceptor.
class TestClient {
public:
  TestClient(const std::string &address, const stp_config *cfg);
  ~TestClient();
  CallResult Call(const CallOptions &opts);
  stp_grpc_channel *channel() {
    return ch_;
  }
  Recorder records;

private:
  grpc_channel *channel_ = nullptr;
  stp_grpc_channel *ch_ = nullptr;
  stp_grpc_sentry sentry_{};
};

// `key=value` lines of a response body.
std::multimap<std::string, std::string> ParseBody(const std::string &body);
std::string One(const std::multimap<std::string, std::string> &m,
                const std::string &key);
std::vector<std::string> All(const std::multimap<std::string, std::string> &m,
                             const std::string &key);
// The values of request metadata `key` the server saw.
std::vector<std::string> Wire(const std::multimap<std::string, std::string> &m,
                              const std::string &key);

} // namespace stp_test

#endif // STP_TESTS_GRPC_HARNESS_H
