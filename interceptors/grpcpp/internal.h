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
#include <string_view>

#include "stp/grpcpp.h"

namespace stp {
namespace grpcpp {
namespace internal {

using hook = grpc::experimental::InterceptionHookPoints;
using batch = grpc::experimental::InterceptorBatchMethods;

// Completes rec (the span, op, times and the side's own fields set by the
// caller) with the method as description and Sentry's status of `code`
// (a gRPC status code, -1 when not known), and hands it to s.on_record,
// or without one to the config's record sink (nothing without either).
void emit_record(const sentry &s, stp_span_record *rec, std::string_view method,
                 int code);

// Memory. A call's trace is kept as a compact copy (stp_context_compact),
// sized by what the request carried (under 1 KiB for usual trace
// headers), not as a whole context of STP_CONTEXT_SIZE (9.6 KB), which is
// only needed while a context is begun, continued or initialised: that
// happens in a whole context on the stack of the thread that runs the
// hook, for one function's length, and only the copy stays. The copy
// lives in the call's arena (grpc_call_arena_alloc: memory gRPC gives
// every call and frees with it; it sizes a call's first arena block by
// what the channel's calls used so far, so the copy seldom costs an
// allocation of its own), or after the interceptor object, in the same
// allocation, for the client's copy of the current context, which is
// made before the call can be reached.

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
    return started_ ? ctx_ : nullptr;
  }

  // The bytes this call keeps: the object, and the copy of its trace and
  // method name in the call's arena.
  size_t bytes() const {
    return sizeof *this + arena_bytes_;
  }

 private:
  void start(std::multimap<grpc::string_ref, grpc::string_ref> *md);
  bool decide(std::multimap<grpc::string_ref, grpc::string_ref> *md);
  bool keep(const stp_context *whole, std::string_view method);
  void end();
  uint64_t late_ns() const;

  sentry sentry_;
  grpc::experimental::ServerRpcInfo *info_;  // owns this object
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
  // In call_'s arena once started: the compact copy, then the method path.
  stp_context *ctx_ = nullptr;
  std::string_view method_;
  size_t arena_bytes_ = 0;
};

// The server call whose entry register_call added to server_ctx's
// received metadata; NULL when there is none (call.cc).
server_call *find_call(const grpc::ServerContextBase *server_ctx);

// The client side of one call: the interceptor grpc++ made for it, and
// the call's copy of its parent (client.cc).
class client_call final : public grpc::experimental::Interceptor {
 public:
  // One allocation: the object, then room for a compact copy of the
  // thread's current context (the parent unless set_parent names
  // another, copied now: the caller may detach it before the call starts)
  // and the method path.
  static client_call *make(const sentry &s, const std::string *authority,
                           grpc::experimental::ClientRpcInfo *info);
  ~client_call() override;
  void Intercept(batch *methods) override;

  // The bytes this call keeps: the object and its room after it, and a
  // copy in the call's arena if it needed one.
  size_t bytes() const {
    return sizeof *this + tail_bytes_ + arena_bytes_;
  }

 private:
  // The bytes after the object (placement form of new; the matching
  // delete frees the allocation if the constructor throws).
  struct tail {
    size_t bytes;
  };
  static void *operator new(size_t size, tail t);
  static void operator delete(void *p, tail t);
  // grpc++ deletes interceptors through the base class: the virtual
  // destructor makes that call this one.
  static void operator delete(void *p);

  client_call(const sentry &s, const std::string *authority,
              grpc::experimental::ClientRpcInfo *info, size_t room,
              stp_context *current, std::string_view method);
  char *tail_at() {
    return reinterpret_cast<char *>(this) + sizeof *this;
  }
  void start(std::multimap<std::string, std::string> *md);
  bool keep(const stp_context *whole);
  bool propagate() const;
  void end(int code);

  sentry sentry_;
  const std::string *authority_;  // the factory's: it outlives the call
  grpc::experimental::ClientRpcInfo *info_;  // owns this object
  std::string_view method_;                  // after the room for a copy
  uint64_t start_ns_;
  size_t room_;        // tail bytes for a copy: the current context's size
  size_t tail_bytes_;  // room_ and the method path
  size_t arena_bytes_ = 0;
  // Set when the copy is in the call's arena: the reference this holds,
  // released after the last record (~ClientContext releases its own
  // before it destroys the interceptors).
  grpc_call *call_ = nullptr;
  stp_context *ctx_ = nullptr;  // the parent's copy, or the call's own
  bool started_ = false;
  bool ended_ = false;
  bool injected_ = false;
  stp_span span_{};
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
