// set_parent: the parent of one client call, handed from the caller to
// the client interceptor through the ClientContext's metadata, as trace
// headers (no pointer: an entry that came from anywhere else is at worst
// a trace to continue, as a forwarded sentry-trace would be).
#include <cstring>
#include <iterator>

#include "internal.h"

namespace stp {
namespace grpcpp {

namespace {

const std::string &parent_key() {
  static const std::string key(STP_GRPCPP_PARENT_KEY);
  return key;
}

}  // namespace

int set_parent(grpc::ClientContext *client_ctx, stp_context *parent,
               const stp_span *span) {
  if (!client_ctx || !parent)
    return STP_ERR_INVALID_ARGUMENT;
  const stp_span *own = stp_context_span(parent);
  if (!span ||
      std::memcmp(&span->trace_id, &own->trace_id, sizeof own->trace_id) != 0)
    span = own;
  // `sentry-trace` of the parent span, a space (which neither value can
  // hold), the parent's `baggage`.
  char value[STP_SENTRY_TRACE_MAX_LEN + 1 + STP_BAGGAGE_MAX_BYTES + 1];
  size_t trace_len = 0, baggage_len = 0;
  int err = stp_context_sentry_trace(
      parent, value, STP_SENTRY_TRACE_MAX_LEN + 1, &trace_len, span);
  if (err == STP_OK) {
    value[trace_len] = ' ';
    err = stp_context_baggage(parent, value + trace_len + 1,
                              STP_BAGGAGE_MAX_BYTES + 1, &baggage_len, nullptr,
                              0);
  }
  if (err != STP_OK)
    return err;
  client_ctx->AddMetadata(parent_key(),
                          std::string(value, trace_len + 1 + baggage_len));
  return STP_OK;
}

namespace internal {

bool continue_parent(stp_context *ctx, const stp_config *cfg,
                     std::multimap<std::string, std::string> *md) {
  if (md->empty())
    return false;
  auto range = md->equal_range(parent_key());
  if (range.first == range.second)
    return false;
  const std::string &v = std::prev(range.second)->second;  // the last one
  size_t sp = v.find(' ');
  if (sp == std::string::npos)
    sp = v.size();
  stp_context_begin(ctx, cfg);
  stp_context_feed(ctx, "sentry-trace", 12, v.data(), sp);
  if (sp < v.size())
    stp_context_feed(ctx, "baggage", 7, v.data() + sp + 1, v.size() - sp - 1);
  stp_context_finish(ctx);  // a new head when the entry was not set_parent's
  md->erase(range.first, range.second);
  return true;
}

}  // namespace internal
}  // namespace grpcpp
}  // namespace stp
