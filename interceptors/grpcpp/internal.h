// What the grpc++ layer's source files share; not installed.
#ifndef STP_GRPCPP_INTERNAL_H
#define STP_GRPCPP_INTERNAL_H

#include <grpcpp/support/interceptor.h>
#include <grpcpp/support/string_ref.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "stp/grpcpp.h"

namespace stp {
namespace grpcpp {
namespace internal {

using hook = grpc::experimental::InterceptionHookPoints;
using batch = grpc::experimental::InterceptorBatchMethods;

// Unix time in nanoseconds.
uint64_t now_ns();

// Whether a metadata key ends in "-bin": its value is binary (base64 on
// the wire), never a trace header.
inline bool is_bin_key(const char *key, size_t len) {
  return len >= 4 &&
         std::char_traits<char>::compare(key + len - 4, "-bin", 4) == 0;
}

// Completes rec (the span, op, times and the side's own fields set by the
// caller) with the method as description and Sentry's status of `code`
// (a gRPC status code, -1 when not known), and hands it to s.on_record,
// or without one to the config's record sink (nothing without either).
void emit_record(const sentry &s, stp_span_record *rec,
                 const std::string &method, int code);

// The server side of one call: the interceptor grpc++ made for it, and
// the call's trace (record.cc emits its span; call.cc finds it from the
// ServerContext).
class server_call final : public grpc::experimental::Interceptor {
 public:
  server_call(const sentry &s, grpc::experimental::ServerRpcInfo *info);
  ~server_call() override;
  void Intercept(batch *methods) override;

  // The call's context once the request metadata has been read; NULL
  // before.
  stp_context *context() {
    return started_ ? &ctx_ : nullptr;
  }

 private:
  void start(std::multimap<grpc::string_ref, grpc::string_ref> *md);
  void end();
  uint64_t late_ns() const;

  sentry sentry_;
  grpc::experimental::ServerRpcInfo *info_;  // owns this object
  std::string method_;
  uint64_t start_ns_;
  gpr_timespec deadline_;
  grpc_call *call_ = nullptr;  // the ServerContext's: alive as long as this
  bool started_ = false;
  bool ended_ = false;
  // Written by the threads that send and cancel, read by the one that
  // sees the call close. sent_status_ is -1 until a status is sent, at
  // sent_ns_; cut_: the call was cut short (server.cc, end).
  std::atomic<int> sent_status_{-1};
  std::atomic<uint64_t> sent_ns_{0};
  std::atomic<bool> cut_{false};
  stp_context ctx_;  // last: large, written only as far as it is used
};

// Adds the entry that lets call_context find `call` to the received
// metadata of its ServerContext (call.cc).
void register_call(std::multimap<grpc::string_ref, grpc::string_ref> *md,
                   server_call *call);

// The parent set_parent tied to a client context, taken out of the
// metadata about to be sent (its entries are removed): ctx continues it,
// so that its own span is the call's span, a child of the parent span.
// False, ctx untouched, when there is none (parent.cc).
bool continue_parent(stp_context *ctx, const stp_config *cfg,
                     std::multimap<std::string, std::string> *md);

}  // namespace internal
}  // namespace grpcpp
}  // namespace stp

#endif  // STP_GRPCPP_INTERNAL_H
