// The Sentry client interceptor: per call, a copy of the parent and a
// child span; the trace headers in the initial metadata; one grpc.client
// record.
#include <grpc/grpc.h>

#include <cstring>
#include <new>

#include "internal.h"

namespace stp {
namespace grpcpp {
namespace internal {

namespace {

using send_map = std::multimap<std::string, std::string>;

// A carrier over the metadata grpc++ is about to send.
int md_foreach(void *user, stp_header_fn fn, void *arg) {
  for (const auto &kv : *static_cast<const send_map *>(user)) {
    int r = fn(arg, kv.first.data(), kv.first.size(), kv.second.data(),
               kv.second.size());
    if (r)
      return r;
  }
  return 0;
}

// Removes every entry of `name`, whatever its case (gRPC would refuse an
// uppercase key, and two trace headers would contradict each other), then
// adds one. Called from C: nothing may be thrown through it.
int md_set(void *user, const char *name, size_t name_len, const char *value,
           size_t value_len) {
  auto *md = static_cast<send_map *>(user);
  try {
    for (auto it = md->begin(); it != md->end();) {
      if (stp_header_name_equal(it->first.data(), it->first.size(), name,
                                name_len))
        it = md->erase(it);
      else
        ++it;
    }
    if (value)
      md->emplace(std::string(name, name_len), std::string(value, value_len));
  } catch (const std::bad_alloc &) {
    return STP_ERR_NOMEM;
  }
  return 0;
}

}  // namespace

void *client_call::operator new(size_t size, tail t) {
  return ::operator new(size + t.bytes);
}

void client_call::operator delete(void *p, tail) {
  ::operator delete(p);
}

void client_call::operator delete(void *p) {
  ::operator delete(p);
}

client_call *client_call::make(const sentry &s, const std::string *authority,
                               grpc::experimental::ClientRpcInfo *info) {
  // The thread that creates the call is the caller's: its current context
  // is the parent unless set_parent names another.
  stp_context *current = stp_current();
  size_t room = 0;
  if (current) {
    stp_context_freeze(current);
    room = stp_context_compact_size(current);
  }
  std::string_view method = info->method() ? info->method() : "";
  return new (tail{room + method.size()})
      client_call(s, authority, info, room, current, method);
}

// The room after the object starts aligned for a context: the object's
// size is a multiple of its alignment, and operator new's alignment is
// larger than a context's.
static_assert(alignof(client_call) % STP_CONTEXT_ALIGN == 0 &&
                  __STDCPP_DEFAULT_NEW_ALIGNMENT__ % STP_CONTEXT_ALIGN == 0,
              "the room after a client_call holds a context");

client_call::client_call(const sentry &s, const std::string *authority,
                         grpc::experimental::ClientRpcInfo *info, size_t room,
                         stp_context *current, std::string_view method)
    : sentry_(s), authority_(authority), info_(info),
      start_ns_(stp_time_now_ns()), room_(room),
      tail_bytes_(room + method.size()) {
  char *at = tail_at();
  // ctx_ stays NULL for a context not decided yet (between begin and
  // finish): no parent, as for a new trace.
  if (current)
    stp_context_compact(&ctx_, at, room, current);
  if (!method.empty())
    std::memcpy(at + room, method.data(), method.size());
  method_ = std::string_view(at + room, method.size());
}

client_call::~client_call() {
  end(-1);  // the status never came (a stream left unfinished)
  if (call_)
    grpc_call_unref(call_);  // after the last use of the arena
}

void client_call::Intercept(batch *m) {
  if (m->QueryInterceptionHookPoint(hook::PRE_SEND_INITIAL_METADATA))
    start(m->GetSendInitialMetadata());
  if (m->QueryInterceptionHookPoint(hook::POST_RECV_STATUS))
    end(static_cast<int>(m->GetRecvStatus()->error_code()));
  m->Proceed();
}

// The call's context: set_parent's entry continued, else a child span of
// the copy of the current context, else a new head. A context of the
// call's own is made in a whole context on this thread's stack, for the
// reasons server_call::decide gives, and kept as a compact copy (keep).
void client_call::start(send_map *md) {
  if (started_)
    return;
  stp_context whole;
  if (md && continue_parent(&whole, sentry_.cfg, md)) {
    if (!keep(&whole))
      return;
    span_ = *stp_context_span(ctx_);  // a child of the parent span
  } else if (ctx_) {
    stp_context_child_span(ctx_, &span_);
  } else {
    // A new trace of the call's own, whose DSC goes out with it: frozen
    // before the copy, which then keeps no room for a transaction name.
    if (stp_context_init(&whole, sentry_.cfg) != STP_OK)
      return;
    stp_context_freeze(&whole);
    if (!keep(&whole))
      return;
    span_ = *stp_context_span(ctx_);
  }
  started_ = true;
  if (md && propagate()) {
    stp_carrier carrier{md_foreach, md_set, md};
    injected_ = stp_context_inject(ctx_, &carrier, &span_) == STP_OK;
  }
}

// Copies whole into the room after the object when it fits there (it
// replaces the copy of the current context, which set_parent's parent
// usually is), else into the call's arena.
//
// The arena lives as long as the grpc_call, which the ClientContext
// releases in its destructor before it destroys the interceptors (grpc++
// 1.51: ~ClientContext unrefs call_, then its rpc_info_ member goes), so
// the record of a call whose status never came (~client_call) could
// outlive it: this holds a reference to the call until then.
bool client_call::keep(const stp_context *whole) {
  size_t size = stp_context_compact_size(whole);
  stp_context *copy = nullptr;
  if (size <= room_) {
    if (stp_context_compact(&copy, tail_at(), room_, whole) != STP_OK)
      return false;
    ctx_ = copy;
    return true;
  }
  // Set before the first batch, so before this hook.
  grpc_call *call = info_->client_context()->c_call();
  if (!call)
    return false;
  void *mem = grpc_call_arena_alloc(call, size);
  if (!mem || stp_context_compact(&copy, mem, size, whole) != STP_OK)
    return false;
  grpc_call_ref(call);
  call_ = call;
  arena_bytes_ = size;
  ctx_ = copy;
  return true;
}

// Whether authority + method matches the propagation targets.
bool client_call::propagate() const {
  char buf[512];
  std::string long_target;
  const char *target = buf;
  size_t len = authority_->size() + method_.size();
  if (len <= sizeof buf) {
    std::memcpy(buf, authority_->data(), authority_->size());
    std::memcpy(buf + authority_->size(), method_.data(), method_.size());
  } else {
    long_target = *authority_;
    long_target.append(method_.data(), method_.size());
    target = long_target.data();
  }
  bool match = false;
  int err = stp_config_should_propagate(sentry_.cfg, &match, target, len);
  return err == STP_OK && match;
}

void client_call::end(int code) {
  if (!started_ || ended_)
    return;
  ended_ = true;
  stp_span_record rec{};
  rec.span = span_;
  rec.op = "grpc.client";
  rec.start_ns = start_ns_;
  rec.end_ns = stp_time_now_ns();
  // A call that started a new trace is the root of its unit of work.
  rec.local_root = !span_.has_parent;
  rec.injected = injected_;
  rec.ctx = ctx_;
  emit_record(sentry_, &rec, method_, code);
}

namespace {

class client_factory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  client_factory(const sentry &s, const std::string &authority)
      : sentry_(s), authority_(authority) {}
  grpc::experimental::Interceptor *
  CreateClientInterceptor(grpc::experimental::ClientRpcInfo *info) override {
    return sentry_.cfg ? client_call::make(sentry_, &authority_, info)
                       : nullptr;
  }

 private:
  sentry sentry_;
  std::string authority_;
};

}  // namespace
}  // namespace internal

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
sentry_client_factory(const sentry &s, const std::string &authority) {
  return std::make_unique<internal::client_factory>(s, authority);
}

}  // namespace grpcpp
}  // namespace stp
