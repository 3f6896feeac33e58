// The Sentry server interceptor: the call's trace, continued from the
// request metadata before the handler runs; one grpc.server record.
#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/support/time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "internal.h"

namespace stp {
namespace grpcpp {
namespace internal {

namespace {

// The method path. grpc++ names it in the ServerRpcInfo, except for the
// generic services, whose context holds it (as long as the context).
std::string_view method_of(grpc::experimental::ServerRpcInfo *info) {
  if (info->method() && *info->method())
    return info->method();
  grpc::ServerContextBase *sc = info->server_context();
  if (auto *g = dynamic_cast<grpc::GenericServerContext *>(sc))
    return g->method();
  if (auto *g = dynamic_cast<grpc::GenericCallbackServerContext *>(sc))
    return g->method();
  return std::string_view();
}

// A time point as Unix time in nanoseconds (a call without a deadline has
// the largest time point: about the year 2262).
uint64_t unix_ns(std::chrono::system_clock::time_point t) {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())
          .count();
  return ns < 0 ? 0 : static_cast<uint64_t>(ns);
}

}  // namespace

server_call::server_call(const sentry &s,
                         grpc::experimental::ServerRpcInfo *info)
    : sentry_(s), info_(info), start_ns_(0) {}

server_call::~server_call() {
  end();  // a call that closed without POST_RECV_CLOSE
}

void server_call::Intercept(batch *m) {
  if (m->QueryInterceptionHookPoint(hook::POST_RECV_INITIAL_METADATA))
    start(m->GetRecvInitialMetadata());
  if (m->QueryInterceptionHookPoint(hook::POST_SEND_MESSAGE) &&
      !m->GetSendMessageStatus())
    cut_.store(true, std::memory_order_release);
  if (m->QueryInterceptionHookPoint(hook::PRE_SEND_STATUS)) {
    sent_ns_.store(stp_time_now_ns(), std::memory_order_relaxed);
    sent_status_.store(static_cast<int>(m->GetSendStatus().error_code()),
                       std::memory_order_release);
  }
  if (m->QueryInterceptionHookPoint(hook::PRE_SEND_CANCEL))
    cut_.store(true, std::memory_order_release);
  if (m->QueryInterceptionHookPoint(hook::POST_RECV_CLOSE))
    end();
  m->Proceed();
}

void server_call::start(std::multimap<grpc::string_ref, grpc::string_ref> *md) {
  if (started_)
    return;
  // The asynchronous API makes the interceptor when the request is
  // posted: the call begins now.
  start_ns_ = stp_time_now_ns();
  grpc::ServerContextBase *sc = info_->server_context();
  deadline_ = sc->raw_deadline();
  call_ = sc->c_call();
  if (!decide(md))
    return;
  started_ = true;
  if (md)
    register_call(md, this);
}

// The call's trace, continued from the request metadata or a new head,
// kept as a compact copy (keep).
//
// It is decided in a whole context on this thread's stack rather than in
// a thread_local one: a thread_local context would take its 9.6 KB on
// every thread of the process for the thread's whole life (static TLS,
// when stp is linked into the program), used or not; on the stack it
// takes them only while this runs, on the thread gRPC delivers the call
// on, and only as far as the request fills them (stp_context_begin does
// not clear the rest). set_parent puts a buffer of that order on its
// caller's stack too.
bool server_call::decide(
    std::multimap<grpc::string_ref, grpc::string_ref> *md) {
  stp_context whole;
  stp_context_begin(&whole, sentry_.cfg);
  if (md) {
    // A binary ("-bin") key is never a trace header's name: the core
    // ignores it like any other.
    for (const auto &kv : *md)
      stp_context_feed(&whole, kv.first.data(), kv.first.size(),
                       kv.second.data(), kv.second.size());
  }
  std::string_view method = method_of(info_);
  // A new head: this call is its transaction. Named before the copy, and
  // frozen: from now on the context is only read, so any thread may use
  // it (and the copy keeps no room for another name).
  if (stp_context_finish(&whole) != STP_OK)
    stp_context_set_transaction(&whole, method.data(), method.size());
  stp_context_freeze(&whole);
  return keep(&whole, method);
}

// Copies the decided context, then the method path (which a generic
// context holds only as long as itself), into the call's arena.
//
// The arena goes with the grpc_call, and the call outlives every use of
// the copy (grpc++ 1.51: server_context.h, server_context.cc; checked in
// the installed libgrpc++). The ServerContext holds a reference to the
// call in its first member, CallWrapper, "the last to be called", so it
// releases it after its destructor has dropped its reference to the
// ServerRpcInfo, which deletes the interceptors when it is the last. The
// other holder of a ServerRpcInfo reference, the CompletionOp that runs
// POST_RECV_CLOSE, holds its own reference to the call and drops the
// ServerRpcInfo first too. So end (from POST_RECV_CLOSE or ~server_call)
// and every call_context lookup, which needs the ServerContext, find the
// arena alive.
bool server_call::keep(const stp_context *whole, std::string_view method) {
  if (!call_)  // not seen: grpc++ sets the call before this hook
    return false;
  size_t size = stp_context_compact_size(whole);
  char *mem =
      static_cast<char *>(grpc_call_arena_alloc(call_, size + method.size()));
  if (!mem || stp_context_compact(&ctx_, mem, size, whole) != STP_OK)
    return false;
  if (!method.empty())
    std::memcpy(mem + size, method.data(), method.size());
  method_ = std::string_view(mem + size, method.size());
  arena_bytes_ = size + method.size();
  return true;
}

// From when on (Unix ns) the call counts as past its deadline; UINT64_MAX
// for a call without one. The server's deadline is the client's as it
// arrived: rounded up and counted from the arrival, so the client's own
// timer ends the call before it, by as much as the request took to
// arrive. The last 5 % of the timeout (at least 20 ms) before the
// deadline counts.
uint64_t server_call::late_ns() const {
  if (gpr_time_cmp(deadline_, gpr_inf_future(deadline_.clock_type)) == 0)
    return UINT64_MAX;
  uint64_t deadline = unix_ns(grpc::Timespec2Timepoint(deadline_));
  uint64_t timeout = deadline > start_ns_ ? deadline - start_ns_ : 0;
  uint64_t grace = std::max<uint64_t>(20000000, timeout / 20);
  return deadline > grace ? deadline - grace : 0;
}

// The status the client got, as far as the server can tell: what the
// handler sent, unless the call was cut short (a cancel, a message that
// could not be sent or received, no status by the time the call closed,
// or a status sent past the deadline, which gRPC had already ended the
// call at).
void server_call::end() {
  if (!started_ || ended_)
    return;
  ended_ = true;
  uint64_t end_ns = stp_time_now_ns();
  uint64_t late = late_ns();
  int code = sent_status_.load(std::memory_order_acquire);
  bool cut = code < 0 || cut_.load(std::memory_order_acquire) ||
             grpc_call_failed_before_recv_message(call_) ||
             sent_ns_.load(std::memory_order_relaxed) >= late;
  if (cut)
    code = static_cast<int>(end_ns >= late ? grpc::StatusCode::DEADLINE_EXCEEDED
                                           : grpc::StatusCode::CANCELLED);
  stp_span_record rec{};
  rec.span = *stp_context_span(ctx_);
  rec.op = "grpc.server";
  rec.start_ns = start_ns_;
  rec.end_ns = end_ns;
  rec.local_root = true;
  rec.continue_status = stp_context_status(ctx_);
  rec.ctx = ctx_;
  emit_record(sentry_, &rec, method_, code);
}

namespace {

class server_factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit server_factory(const sentry &s) : sentry_(s) {}
  grpc::experimental::Interceptor *
  CreateServerInterceptor(grpc::experimental::ServerRpcInfo *info) override {
    return sentry_.cfg ? new server_call(sentry_, info) : nullptr;
  }

 private:
  sentry sentry_;
};

}  // namespace
}  // namespace internal

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
sentry_server_factory(const sentry &s) {
  return std::make_unique<internal::server_factory>(s);
}

}  // namespace grpcpp
}  // namespace stp
