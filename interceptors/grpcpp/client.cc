// The Sentry client interceptor: per call, a copy of the parent and a
// child span; the trace headers in the initial metadata; one grpc.client
// record.
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

class client_call final : public grpc::experimental::Interceptor {
 public:
  client_call(const sentry &s, const std::string *authority,
              grpc::experimental::ClientRpcInfo *info);
  ~client_call() override {
    end(-1);  // the status never came (a stream left unfinished)
  }
  void Intercept(batch *m) override;

 private:
  void start(send_map *md);
  bool propagate() const;
  void end(int code);

  sentry sentry_;
  const std::string *authority_;  // the factory's: it outlives the call
  std::string method_;
  uint64_t start_ns_;
  bool copied_ = false;  // ctx_ holds a copy of the current context
  bool started_ = false;
  bool ended_ = false;
  bool injected_ = false;
  stp_span span_{};
  stp_context ctx_;  // last: large, written only as far as it is used
};

client_call::client_call(const sentry &s, const std::string *authority,
                         grpc::experimental::ClientRpcInfo *info)
    : sentry_(s), authority_(authority),
      method_(info->method() ? info->method() : ""), start_ns_(now_ns()) {
  // The thread that creates the call is the caller's: its current context
  // is the parent unless set_parent names another. Copied now, as the
  // caller may detach it before the call starts.
  if (stp_context *current = stp_current()) {
    stp_context_freeze(current);
    stp_context_copy(&ctx_, current);
    copied_ = true;
  }
}

void client_call::Intercept(batch *m) {
  if (m->QueryInterceptionHookPoint(hook::PRE_SEND_INITIAL_METADATA))
    start(m->GetSendInitialMetadata());
  if (m->QueryInterceptionHookPoint(hook::POST_RECV_STATUS))
    end(static_cast<int>(m->GetRecvStatus()->error_code()));
  m->Proceed();
}

void client_call::start(send_map *md) {
  if (started_)
    return;
  if (md && continue_parent(&ctx_, sentry_.cfg, md)) {
    span_ = *stp_context_span(&ctx_);  // a child of the parent span
  } else if (copied_) {
    stp_context_child_span(&ctx_, &span_);
  } else {
    if (stp_context_init(&ctx_, sentry_.cfg) != STP_OK)
      return;
    span_ = *stp_context_span(&ctx_);
  }
  started_ = true;
  if (md && propagate()) {
    stp_carrier carrier{md_foreach, md_set, md};
    injected_ = stp_context_inject(&ctx_, &carrier, &span_) == STP_OK;
  }
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
    long_target = *authority_ + method_;
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
  rec.end_ns = now_ns();
  // A call that started a new trace is the root of its unit of work.
  rec.local_root = !span_.has_parent;
  rec.injected = injected_;
  rec.ctx = &ctx_;
  emit_record(sentry_, &rec, method_, code);
}

class client_factory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  client_factory(const sentry &s, const std::string &authority)
      : sentry_(s), authority_(authority) {}
  grpc::experimental::Interceptor *
  CreateClientInterceptor(grpc::experimental::ClientRpcInfo *info) override {
    return sentry_.cfg ? new client_call(sentry_, &authority_, info) : nullptr;
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
