#include "grpc_util.h"

#include <grpc/support/time.h>
#include <string.h>

#include "examples/common/cli.h"

int metadata_from_header(char *arg, grpc_metadata *md) {
  size_t name_len;
  const char *value;
  if (cli_header_lower(arg, &name_len, &value) != 0)
    return -1;
  memset(md, 0, sizeof *md);
  md->key = grpc_slice_from_static_buffer(arg, name_len);
  md->value = grpc_slice_from_static_string(value);
  return 0;
}

void cq_drain(grpc_completion_queue *cq) {
  grpc_completion_queue_shutdown(cq);
  while (
      grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
          .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
}
