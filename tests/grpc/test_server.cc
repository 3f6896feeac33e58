// The test server: the answer that describes each call, the handlers of
// the /test.Echo methods and the worker threads that serve them.
#include <grpc/byte_buffer.h>
#include <grpc/grpc_security.h>
#include <gtest/gtest.h>

#include "harness.h"

namespace stp_test {

namespace {

bool IsBin(const std::string &key) {
  return key.size() >= 4 && key.compare(key.size() - 4, 4, "-bin") == 0;
}

// Runs one batch on a server call and waits for it on the worker's queue
// (the only outstanding operation there).
bool Run(stp_grpc_call *call, grpc_completion_queue *cq,
         std::vector<grpc_op> ops) {
  int tag;
  if (stp_grpc_call_start_batch(call, ops.data(), ops.size(), &tag) !=
      GRPC_CALL_OK)
    return false;
  grpc_event ev = grpc_completion_queue_next(cq, Forever(), nullptr);
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

// The body the server answers with.
std::string Describe(stp_grpc_call *call, int received) {
  std::string out;
  auto line = [&out](const std::string &k, const std::string &v) {
    out += k + "=" + v + "\n";
  };
  stp_context *ctx = stp_grpc_call_context(call);
  if (ctx) {
    const stp_span *span = stp_grpc_call_span(call);
    line("trace", Hex(span->trace_id));
    line("span", Hex(span->span_id));
    line("parent", span->has_parent ? Hex(span->parent_span_id) : "-");
    line("sampled", std::to_string(static_cast<int>(span->sampled)));
    line("status", std::to_string(stp_context_status(ctx)));
    line("continued", stp_context_continued(ctx) ? "1" : "0");
    line("context_bytes", std::to_string(stp_context_compact_size(ctx)));
    line("arena_bytes", std::to_string(stp_grpc_call_arena_bytes(call)));
    // What a handler sees once the call's context is current.
    stp_token tok = stp_attach(ctx);
    char buf[STP_BAGGAGE_MAX_BYTES + 1];
    size_t len;
    if (stp_get_sentry_trace(buf, sizeof buf, &len) == STP_OK)
      line("current", std::string(buf, len));
    if (stp_get_baggage(buf, sizeof buf, &len) == STP_OK)
      line("baggage", std::string(buf, len));
    stp_detach(tok);
  }
  size_t n;
  const stp_grpc_md *md = stp_grpc_call_request_metadata(call, &n);
  for (size_t i = 0; i < n; i++) {
    std::string key(md[i].key, md[i].key_len);
    if (IsBin(key))
      line("md", key + ": <" + std::to_string(md[i].value_len) + " bytes>");
    else
      line("md", key + ": " + std::string(md[i].value, md[i].value_len));
  }
  size_t len;
  const char *s = stp_grpc_call_method(call, &len);
  line("method", std::string(s, len));
  s = stp_grpc_call_authority(call, &len);
  line("authority", std::string(s, len));
  line("received", std::to_string(received));
  return out;
}

// Serves one call and ends it. The unref stays in this scope: it reads the
// `cancelled` flag given to GRPC_OP_RECV_CLOSE_ON_SERVER.
void Handle(stp_grpc_call *call, grpc_completion_queue *cq) {
  size_t len;
  const char *m = stp_grpc_call_method(call, &len);
  std::string method(m, len);
  int cancelled = 0;
  grpc_op close_op = Op(GRPC_OP_RECV_CLOSE_ON_SERVER);
  close_op.data.recv_close_on_server.cancelled = &cancelled;

  auto finish = [&](grpc_status_code code, grpc_byte_buffer *msg) {
    std::vector<grpc_op> ops;
    if (msg) {
      grpc_op send = Op(GRPC_OP_SEND_MESSAGE);
      send.data.send_message.send_message = msg;
      ops.push_back(send);
    }
    grpc_op status = Op(GRPC_OP_SEND_STATUS_FROM_SERVER);
    status.data.send_status_from_server.status = code;
    ops.push_back(status);
    ops.push_back(close_op);
    Run(call, cq, ops);
    if (msg)
      grpc_byte_buffer_destroy(msg);
  };
  // Receives one message; false at the end of the client's stream.
  auto recv = [&](grpc_op *first, std::vector<grpc_op> extra = {}) {
    grpc_byte_buffer *bb = nullptr;
    grpc_op op = Op(GRPC_OP_RECV_MESSAGE);
    op.data.recv_message.recv_message = &bb;
    std::vector<grpc_op> ops = std::move(extra);
    if (first)
      ops.push_back(*first);
    ops.push_back(op);
    bool ok = Run(call, cq, ops);
    if (!bb)
      return false;
    grpc_byte_buffer_destroy(bb);
    return ok;
  };
  grpc_op initial = Op(GRPC_OP_SEND_INITIAL_METADATA);

  if (method == "/test.Echo/Unary" || method == "/test.Echo/Registered" ||
      method == "/test.Echo/ClientStream") {
    int n = 0;
    if (recv(&initial))
      n++;
    while (method == "/test.Echo/ClientStream" && recv(nullptr))
      n++;
    finish(GRPC_STATUS_OK, Message(Describe(call, n)));
  } else if (method == "/test.Echo/ServerStream") {
    recv(&initial);
    for (int i = 0; i < 3; i++) {
      grpc_op send = Op(GRPC_OP_SEND_MESSAGE);
      grpc_byte_buffer *msg = Message(Describe(call, 1));
      send.data.send_message.send_message = msg;
      Run(call, cq, {send});
      grpc_byte_buffer_destroy(msg);
    }
    finish(GRPC_STATUS_OK, nullptr);
  } else if (method == "/test.Echo/Bidi") {
    Run(call, cq, {initial});
    int n = 0;
    while (recv(nullptr)) {
      n++;
      grpc_op send = Op(GRPC_OP_SEND_MESSAGE);
      grpc_byte_buffer *msg = Message(Describe(call, n));
      send.data.send_message.send_message = msg;
      Run(call, cq, {send});
      grpc_byte_buffer_destroy(msg);
    }
    finish(GRPC_STATUS_OK, nullptr);
  } else if (method == "/test.Echo/Fail") {
    recv(&initial);
    finish(GRPC_STATUS_NOT_FOUND, nullptr);
  } else if (method == "/test.Echo/Override") {
    // The record's status is set by hand, then another one is sent.
    recv(&initial);
    stp_grpc_call_set_status(call, GRPC_STATUS_INTERNAL);
    finish(GRPC_STATUS_OK, Message(Describe(call, 1)));
  } else if (method == "/test.Echo/Hang") {
    // Until the client cancels or its deadline passes.
    Run(call, cq, {initial, close_op});
    grpc_op status = Op(GRPC_OP_SEND_STATUS_FROM_SERVER);
    status.data.send_status_from_server.status = GRPC_STATUS_OK;
    Run(call, cq, {status});
  } else {
    recv(&initial);
    finish(GRPC_STATUS_UNIMPLEMENTED, nullptr);
  }
  stp_grpc_call_unref(call);
}

} // namespace

TestServer::TestServer(const stp_config *cfg, int workers) {
  // Room for the hostile tests' large metadata.
  grpc_arg arg;
  arg.type = GRPC_ARG_INTEGER;
  arg.key = const_cast<char *>(GRPC_ARG_MAX_METADATA_SIZE);
  arg.value.integer = 1 << 20;
  grpc_channel_args args = {1, &arg};
  server_ = grpc_server_create(&args, nullptr);
  registered_ = grpc_server_register_method(server_, "/test.Echo/Registered",
                                            nullptr, GRPC_SRM_PAYLOAD_NONE, 0);
  for (int i = 0; i < workers + 1; i++) {
    cqs_.push_back(grpc_completion_queue_create_for_next(nullptr));
    grpc_server_register_completion_queue(server_, cqs_.back(), nullptr);
  }
  shutdown_cq_ = grpc_completion_queue_create_for_next(nullptr);
  grpc_server_register_completion_queue(server_, shutdown_cq_, nullptr);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  port_ = grpc_server_add_http2_port(server_, "127.0.0.1:0", creds);
  grpc_server_credentials_release(creds);
  EXPECT_GT(port_, 0);
  EXPECT_EQ(stp_grpc_server_new(&srv_, server_), STP_OK);
  sentry_.cfg = cfg;
  sentry_.on_record = Recorder::Fn;
  sentry_.record_user = &records;
  stp_grpc_interceptor ic;
  stp_grpc_sentry_server(&ic, &sentry_);
  EXPECT_EQ(stp_grpc_server_add(srv_, &ic), STP_OK);
  grpc_server_start(server_);
  for (size_t i = 0; i < cqs_.size(); i++)
    threads_.emplace_back(&TestServer::Work, this, cqs_[i], i == 0);
}

TestServer::~TestServer() {
  int tag;
  grpc_server_shutdown_and_notify(server_, shutdown_cq_, &tag);
  grpc_server_cancel_all_calls(server_);
  grpc_completion_queue_next(shutdown_cq_, Forever(), nullptr);
  for (auto &t : threads_)
    t.join();
  grpc_server_destroy(server_);
  cqs_.push_back(shutdown_cq_);
  for (grpc_completion_queue *cq : cqs_) {
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, Forever(), nullptr).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
  }
  stp_grpc_server_del(srv_);
}

std::string TestServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void TestServer::Work(grpc_completion_queue *cq, bool registered) {
  for (;;) {
    stp_grpc_request req;
    grpc_call_error err =
        registered ? stp_grpc_server_request_registered_call(
                         srv_, &req, registered_, "/test.Echo/Registered",
                         GRPC_SRM_PAYLOAD_NONE, cq, cq, &req)
                   : stp_grpc_server_request_call(srv_, &req, cq, cq, &req);
    if (err != GRPC_CALL_OK) {
      stp_grpc_request_destroy(&req);
      return;
    }
    grpc_event ev = grpc_completion_queue_next(cq, Forever(), nullptr);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
      stp_grpc_request_destroy(&req); // the server is shutting down
      return;
    }
    stp_grpc_call *call;
    if (stp_grpc_server_accept(srv_, &call, &req) != STP_OK) {
      stp_grpc_request_destroy(&req);
      continue;
    }
    accepted_++;
    Handle(call, cq);
  }
}

} // namespace stp_test
