// docs/grpcpp.md: a grpc++ server and client with the Sentry interceptors.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "examples/grpcpp/shop.grpc.pb.h"
#include "stp/grpcpp.h"

using ClientFactory = grpc::experimental::ClientInterceptorFactoryInterface;
using ServerFactory = grpc::experimental::ServerInterceptorFactoryInterface;

// The handler finds its call's trace from its ServerContext.
class Orders final : public shop::Orders::Service {
  grpc::Status Checkout(grpc::ServerContext *ctx, const shop::CheckoutRequest *,
                        shop::CheckoutReply *reply) override {
    stp_context *trace = stp::grpcpp::call_context(ctx);
    char id[STP_TRACE_ID_HEX_LEN + 1];
    stp_trace_id_format(&stp_context_span(trace)->trace_id, id);
    reply->set_trace_id(id);
    // Calls made on this thread from here on are children of this call.
    stp::grpcpp::scope current(ctx);
    return grpc::Status::OK;
  }
};

// One line per finished call, client and server side.
void print_record(void *, const stp_span_record *r) {
  char span[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&r->span.span_id, span);
  std::printf("%s %.*s span %s status %s\n", r->op, (int)r->description_len,
              r->description, span, r->status);
}

int main() {
  stp_options opts;
  stp_options_init(&opts);
  opts.dsn =
      "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5";
  opts.release = "shop@1.4.2";
  stp_config *cfg;
  if (stp_config_new(&cfg, &opts, nullptr) != STP_OK)
    return 1;
  stp::grpcpp::sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = print_record;

  // The server, with the server interceptor.
  Orders service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<ServerFactory>> server_interceptors;
  server_interceptors.push_back(stp::grpcpp::sentry_server_factory(sentry));
  builder.experimental().SetInterceptorCreators(std::move(server_interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();

  // The client, with the client interceptor.
  std::string target = "127.0.0.1:" + std::to_string(port);
  std::vector<std::unique_ptr<ClientFactory>> client_interceptors;
  client_interceptors.push_back(
      stp::grpcpp::sentry_client_factory(sentry, target));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(),
      std::move(client_interceptors));
  auto stub = shop::Orders::NewStub(channel);

  // A unit of work of this process that continues an incoming trace, the
  // parent of the call.
  const std::string incoming_trace_id = "771a43a4192642f0b136d5159a501700";
  const std::string incoming = incoming_trace_id + "-b1c2d3e4f5a6b7c8-1";
  stp_context work;
  stp_context_begin(&work, cfg);
  stp_context_feed(&work, "sentry-trace", 12, incoming.data(), incoming.size());
  stp_context_finish(&work);

  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  stp::grpcpp::set_parent(&call, &work);
  shop::CheckoutReply reply;
  grpc::Status status = stub->Checkout(&call, shop::CheckoutRequest(), &reply);
  std::printf("the server's trace: %s\n", reply.trace_id().c_str());
  bool ok = status.ok() && reply.trace_id() == incoming_trace_id;

  server->Shutdown();
  stp_config_del(cfg);
  return ok ? 0 : 1;
}
