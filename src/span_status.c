/* Sentry's span status for the protocols' own status codes, as the Sentry
 * SDKs map them. */
#include "internal.h"

const char *stp_span_status_grpc(int code) {
  /* Indexed by the gRPC status code (grpc/impl/codegen/status.h). */
  static const char *const names[] = {
      [0] = "ok",
      [1] = "cancelled",
      [2] = "unknown_error",
      [3] = "invalid_argument",
      [4] = "deadline_exceeded",
      [5] = "not_found",
      [6] = "already_exists",
      [7] = "permission_denied",
      [8] = "resource_exhausted",
      [9] = "failed_precondition",
      [10] = "aborted",
      [11] = "out_of_range",
      [12] = "unimplemented",
      [13] = "internal_error",
      [14] = "unavailable",
      [15] = "data_loss",
      [16] = "unauthenticated",
  };
  return code >= 0 && code < (int)(sizeof names / sizeof names[0])
             ? names[code]
             : "unknown_error";
}

const char *stp_span_status_http(int code) {
  switch (code) {
  case 400:
    return "invalid_argument";
  case 401:
    return "unauthenticated";
  case 403:
    return "permission_denied";
  case 404:
    return "not_found";
  case 409:
    return "already_exists";
  case 413:
    return "failed_precondition";
  case 429:
    return "resource_exhausted";
  case 499:
    return "cancelled";
  case 501:
    return "unimplemented";
  case 503:
    return "unavailable";
  case 504:
    return "deadline_exceeded";
  default:
    break;
  }
  if (code >= 200 && code < 400)
    return "ok";
  if (code >= 400 && code < 500)
    return "invalid_argument";
  if (code >= 500 && code < 600)
    return "internal_error";
  return "unknown_error";
}
