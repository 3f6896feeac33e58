/* Plain gRPC core helpers that the gRPC examples and benchmarks share,
 * with no stp in them: -H entries as metadata, completion queues
 * drained. */
#ifndef STP_EXAMPLES_GRPC_UTIL_H
#define STP_EXAMPLES_GRPC_UTIL_H

#include <grpc/grpc.h>

/* The -H argument `name: value` as a metadata entry: the name lowercased
 * in arg, both slices pointing into arg, which must outlive the entry.
 * Returns 0, or -1 when it is not `name: value`. */
int metadata_from_header(char *arg, grpc_metadata *md);

/* Shuts down a completion queue read with grpc_completion_queue_next,
 * waits until it is drained, and destroys it. */
void cq_drain(grpc_completion_queue *cq);

#endif /* STP_EXAMPLES_GRPC_UTIL_H */
