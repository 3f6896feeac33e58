// A server call's trace, found from its ServerContext; the scope that
// makes a context current on a thread.
#include "internal.h"

namespace stp {
namespace grpcpp {

namespace {

// The one copy of the key's bytes: an entry whose key points here was
// added by register_call, whatever else has the same text.
const char kCallKey[] = STP_GRPCPP_CALL_KEY;
const size_t kCallKeyLen = sizeof kCallKey - 1;

}  // namespace

namespace internal {

void register_call(std::multimap<grpc::string_ref, grpc::string_ref> *md,
                   server_call *call) {
  // The value is empty: code that prints the metadata shows nothing of
  // it. Its data pointer is the call.
  md->emplace(grpc::string_ref(kCallKey, kCallKeyLen),
              grpc::string_ref(reinterpret_cast<const char *>(call), 0));
}

server_call *find_call(const grpc::ServerContextBase *server_ctx) {
  if (!server_ctx)
    return nullptr;
  const auto &md = server_ctx->client_metadata();
  auto range = md.equal_range(grpc::string_ref(kCallKey, kCallKeyLen));
  for (auto it = range.first; it != range.second; ++it) {
    if (it->first.data() != kCallKey)
      continue;
    return reinterpret_cast<server_call *>(
        const_cast<char *>(it->second.data()));
  }
  return nullptr;
}

}  // namespace internal

stp_context *call_context(const grpc::ServerContextBase *server_ctx) {
  internal::server_call *call = internal::find_call(server_ctx);
  return call ? call->context() : nullptr;
}

scope::scope(stp_context *ctx) : token_{}, attached_(ctx != nullptr) {
  if (attached_)
    token_ = stp_attach(ctx);
}

scope::scope(const grpc::ServerContextBase *server_ctx)
    : scope(call_context(server_ctx)) {}

scope::~scope() {
  if (attached_)
    stp_detach(token_);
}

}  // namespace grpcpp
}  // namespace stp
