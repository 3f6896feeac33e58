// Span records: what the interceptors know of a finished call, handed to
// the application's callback as the core's stp_span_record.
#include "internal.h"

namespace stp {
namespace grpcpp {
namespace internal {

void emit_record(const sentry &s, stp_span_record *rec, std::string_view method,
                 int code) {
  void *user = s.record_user;
  stp_span_record_fn fn = s.on_record;
  if (!fn)
    fn = stp_config_record_sink(s.cfg, &user);
  if (!fn)
    return;
  rec->description = method.data();
  rec->description_len = method.size();
  rec->code = code;
  rec->status = code >= 0 ? stp_span_status_grpc(code) : "unknown";
  fn(user, rec);
}

}  // namespace internal
}  // namespace grpcpp
}  // namespace stp
