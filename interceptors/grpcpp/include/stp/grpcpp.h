/*
 * stp/grpcpp.h: Sentry trace propagation for grpc++ (C++17).
 *
 * Two interceptor factories for grpc++'s own interceptor API, and what a
 * handler needs to reach its call's trace. Everything else stays ordinary
 * grpc++ code: generated stubs, grpc::ServerBuilder, the synchronous,
 * completion-queue and callback APIs, your own threads.
 *
 * Client, once per channel:
 *
 *   stp::grpcpp::sentry sentry;              (copied by the factories)
 *   sentry.cfg = cfg;                        (must outlive every call)
 *   sentry.on_record = on_record;  (NULL: the config's record sink)
 *   std::vector<std::unique_ptr<
 *       grpc::experimental::ClientInterceptorFactoryInterface>> ics;
 *   ics.push_back(stp::grpcpp::sentry_client_factory(sentry, "api:443"));
 *   auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
 *       "api:443", creds, grpc::ChannelArguments(), std::move(ics));
 *
 * Server, once:
 *
 *   std::vector<std::unique_ptr<
 *       grpc::experimental::ServerInterceptorFactoryInterface>> ics;
 *   ics.push_back(stp::grpcpp::sentry_server_factory(sentry));
 *   builder.experimental().SetInterceptorCreators(std::move(ics));
 *
 * In a handler (any of the three APIs), from its grpc::ServerContext or
 * grpc::CallbackServerContext:
 *
 *   stp_context *trace = stp::grpcpp::call_context(ctx);
 *   stp::grpcpp::scope current(ctx);     (outgoing calls on this thread
 *                                         are now children of the call)
 *   ... or, on any thread:
 *   grpc::ClientContext out;
 *   stp::grpcpp::set_parent(&out, trace);
 *   stub->Method(&out, request, &reply);
 *
 * The client's parent for a call: the context given with set_parent, or
 * else the thread's current context (stp_current) when the call is
 * created, or else none, and the call starts a new trace.
 *
 * Where a call's trace lives. Server: a compact copy (stp_context_compact)
 * in the call's arena, kept by the server interceptor, which grpc++
 * creates for the call and destroys with its ServerContext
 * (ServerContextBase owns the call's ServerRpcInfo, which owns the
 * interceptors; the call and its arena outlive both). grpc++ offers no
 * per-call slot that a handler can read back from its ServerContext,
 * except the received metadata: the interceptor adds one entry to the
 * call's client_metadata() multimap (key STP_GRPCPP_CALL_KEY, an empty
 * value whose data pointer is the state), and call_context finds it, by
 * the address of the key's bytes, so that no entry that came from the
 * wire can pass for it. There is no table, no lock, and nothing that
 * depends on the thread; the entry goes away with the ServerContext.
 * Client: a compact copy kept by the client interceptor, which grpc++
 * creates for the call and destroys with its ClientContext; set_parent
 * hands it the parent's trace through one entry of the ClientContext's
 * metadata, which the interceptor removes before anything is sent.
 *
 * Memory: per call and side, a compact copy of the call's trace, sized by
 * what it holds, with the method name, and one interceptor object from
 * operator new, freed with the call's context object: under 1 KiB in all
 * for usual trace headers (docs/grpcpp.md has the figures). The server
 * keeps the copy in the call's arena; the client after its interceptor
 * object, in the same allocation, when the parent is the thread's current
 * context, else in the call's arena (it then holds a reference to the
 * call until the interceptor goes). The trace is decided in a whole
 * stp_context (STP_CONTEXT_SIZE) on the stack of the thread that runs
 * the interceptor, and only the copy is kept. The client adds up to three
 * metadata strings (set_parent one more), the server one map entry.
 * stp_config_should_propagate copies a target of 512 bytes or more.
 *
 * Threads: the factories are used by grpc++ from any thread. A server
 * call's context is frozen before its handler runs, so any number of
 * threads may read it, attach it and make it the parent of outgoing calls
 * at once. The client interceptor freezes the parent it copies (a write
 * when it was not frozen yet: the caller's context follows stp's rule of
 * one thread at a time until then).
 *
 * Errors and parameter order follow the API convention of stp/stp.h.
 * Interceptors never fail a call: whatever metadata arrives or is given,
 * the call proceeds, and docs/SPEC.md decides what is kept.
 */
#ifndef STP_GRPCPP_H
#define STP_GRPCPP_H

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "stp/stp.h"

/* The key of the entry the server interceptor adds to a call's
 * client_metadata() (see above): its value is empty. A name gRPC never
 * delivers (it begins with ':'), so that code reading the metadata can
 * skip it by its first byte. */
#define STP_GRPCPP_CALL_KEY ":stp-call"

/* The key set_parent adds to a ClientContext's metadata; the client
 * interceptor removes it. */
#define STP_GRPCPP_PARENT_KEY "stp-grpcpp-parent"

namespace stp {
namespace grpcpp {

/* What the interceptors need, as stp_grpc_sentry for the C layer. Copied
 * by the factories; cfg must outlive every channel, server and call that
 * uses them. */
struct sentry {
  const stp_config *cfg = nullptr; /* NULL: the interceptors do nothing */
  /* Where the span records go instead of the config's record sink
   * (stp_options.on_record); NULL: to that sink (none without one). */
  stp_span_record_fn on_record = nullptr;
  void *record_user = nullptr;
};

/* ------------------------------------------------------------------------ */
/* Client.                                                                  */

/* A factory for grpc::experimental::CreateCustomChannelWithInterceptors
 * (the channel owns it). Per call: a frozen copy of the parent (see above)
 * or a new head, a child span for the call, and at
 * PRE_SEND_INITIAL_METADATA one `sentry-trace`, one `baggage` (merged with
 * a `baggage` already on the ClientContext, its `sentry-*` members
 * replaced) and, with propagate_traceparent, one `traceparent`; entries of
 * those names already there are replaced, whatever their case. Nothing is
 * added when `authority` followed by the method path
 * ("api:443/pkg.Service/Method") matches none of the config's propagation
 * targets. At the end of the call (POST_RECV_STATUS, or the ClientContext's
 * destruction if the status never came), a `grpc.client` record: the
 * method path, the gRPC status code (-1 when none was received), a local
 * root when the call started a new trace, `injected`, and as ctx the
 * call's copy of the parent's trace (read it for its DSC: after set_parent
 * its own span is the call's).
 *
 * authority: what propagation targets see before the method, normally
 * the channel's target without its scheme ("dns:///api:443" ->
 * "api:443"); copied. */
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
sentry_client_factory(const sentry &s, const std::string &authority);

/* Choose the parent of the call that client_ctx will make: parent's span,
 * or `span` when given (a span of parent's trace, such as a step the
 * handler timed itself; one of another trace is ignored). What the call
 * needs of the parent is copied now, so parent may change or go as soon
 * as this returns; it is frozen (a write when it was not frozen yet). A
 * second call replaces the first. Returns 0, STP_ERR_INVALID_ARGUMENT
 * (client_ctx or parent NULL), or what stp_context_sentry_trace or
 * stp_context_baggage returned for parent (nothing is added then).
 *
 * It adds one entry, STP_GRPCPP_PARENT_KEY: the parent's `sentry-trace`
 * and `baggage` joined by a space, which the Sentry client interceptor
 * continues and removes before anything is sent. On a channel without
 * that interceptor the entry is sent as it is. The interceptor reads no
 * pointer from it: an entry that came from elsewhere (a proxy that
 * forwards incoming metadata) is at worst a trace to continue. */
int set_parent(grpc::ClientContext *client_ctx, stp_context *parent,
               const stp_span *span = nullptr);

/* ------------------------------------------------------------------------ */
/* Server.                                                                  */

/* A factory for ServerBuilder::experimental().SetInterceptorCreators (the
 * server owns it). Per call, at POST_RECV_INITIAL_METADATA, before any
 * handler code runs: the trace continued from the request metadata (SPEC
 * section 5: the first valid `sentry-trace`, all `baggage` entries,
 * `traceparent`; `-bin` keys never read), or a new head, whose DSC then
 * takes the method path as its `sentry-transaction`; the context is then
 * frozen and reachable with call_context. At the end of the call
 * (POST_RECV_CLOSE, or the ServerContext's destruction if the call never
 * closed), a `grpc.server` record, a local root: the method path, the
 * context as ctx, continue_status, and the status the handler sent,
 * unless the call was cut short (a cancel from either side, a message
 * that could not be sent or received, no status by the time the call
 * closed, or a status sent past the deadline): then CANCELLED, or
 * DEADLINE_EXCEEDED when it ended past its deadline. The deadline a
 * server knows is the client's, rounded up and counted from the call's
 * arrival, so the client's own timer ends a call a little before it: an
 * end within 5 % of the timeout (at least 20 ms) before the deadline
 * counts as past it. */
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
sentry_server_factory(const sentry &s);

/* The trace of the call `server_ctx` belongs to (a grpc::ServerContext,
 * grpc::CallbackServerContext or a generic one): its span is the server
 * span. NULL when the call has no Sentry server interceptor, or has not
 * arrived yet. Valid as long as server_ctx; frozen, so share it freely
 * between threads. Call it once the call has arrived (in the handler, or
 * after an async request's tag came back): before, there is nothing to
 * find, and grpc++ builds a context's metadata map once, on first use.
 * O(log n) in the number of metadata entries. */
stp_context *call_context(const grpc::ServerContextBase *server_ctx);

/* Makes a context the calling thread's current one (stp_attach) for the
 * scope's lifetime, so that calls made on this thread, through the Sentry
 * client interceptor or any other stp layer, become its children; the
 * previous one is current again afterwards. Create and destroy it on the
 * same thread, nested like any other scope. Nothing is attached when the
 * context is NULL (such as a call without the server interceptor). */
class scope {
 public:
  explicit scope(stp_context *ctx);
  /* The same with call_context(server_ctx). */
  explicit scope(const grpc::ServerContextBase *server_ctx);
  ~scope();
  scope(const scope &) = delete;
  scope &operator=(const scope &) = delete;

  /* The context attached, or NULL. */
  stp_context *context() const {
    return attached_ ? token_.self : nullptr;
  }

 private:
  stp_token token_;
  bool attached_;
};

}  // namespace grpcpp
}  // namespace stp

#endif /* STP_GRPCPP_H */
