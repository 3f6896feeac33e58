#include "harness.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

namespace stp_test {

namespace {

// Initialises gRPC once for the test binary and shuts it down at the end,
// so the leak checker sees a clean exit.
class GrpcEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    grpc_init();
  }
  void TearDown() override {
    grpc_shutdown_blocking();
  }
};
::testing::Environment *const grpc_env =
    ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

std::string SliceStr(grpc_slice s) {
  return std::string(reinterpret_cast<const char *>(GRPC_SLICE_START_PTR(s)),
                     GRPC_SLICE_LENGTH(s));
}

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
  const grpc_metadata *md = stp_grpc_call_request_metadata(call, &n);
  for (size_t i = 0; i < n; i++) {
    std::string key = SliceStr(md[i].key);
    if (IsBin(key))
      line("md", key + ": <" + std::to_string(GRPC_SLICE_LENGTH(md[i].value)) +
                     " bytes>");
    else
      line("md", key + ": " + SliceStr(md[i].value));
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

gpr_timespec In(int ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

gpr_timespec Forever() {
  return gpr_inf_future(GPR_CLOCK_REALTIME);
}

grpc_byte_buffer *Message(const std::string &s) {
  grpc_slice slice = grpc_slice_from_copied_buffer(s.data(), s.size());
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
  grpc_slice_unref(slice);
  return bb;
}

std::string Read(grpc_byte_buffer *bb) {
  grpc_byte_buffer_reader reader;
  grpc_byte_buffer_reader_init(&reader, bb);
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  std::string s = SliceStr(all);
  grpc_slice_unref(all);
  grpc_byte_buffer_reader_destroy(&reader);
  return s;
}

grpc_op Op(grpc_op_type type) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = type;
  return op;
}

Config::Config(const std::function<void(stp_options *)> &edit) {
  stp_options opts;
  stp_options_init(&opts);
  if (edit)
    edit(&opts);
  int rc = stp_config_new(&cfg, &opts, nullptr);
  EXPECT_EQ(rc, STP_OK) << stp_strerror(rc);
}

Config::~Config() {
  stp_config_del(cfg);
}

void Recorder::Fn(void *user, const stp_span_record *rec) {
  auto *self = static_cast<Recorder *>(user);
  Record r;
  r.trace_id = Hex(rec->span.trace_id);
  r.span_id = Hex(rec->span.span_id);
  r.parent_span_id = rec->span.has_parent ? Hex(rec->span.parent_span_id) : "";
  r.has_parent = rec->span.has_parent;
  r.op = rec->op;
  r.description.assign(rec->description, rec->description_len);
  r.sampled = rec->span.sampled;
  r.status = rec->code >= 0 ? rec->code : GRPC_STATUS_UNKNOWN;
  r.has_status = rec->code >= 0;
  r.sentry_status = rec->status;
  r.local_root = rec->local_root;
  r.has_ctx = rec->ctx != nullptr;
  r.start_ns = rec->start_ns;
  r.end_ns = rec->end_ns;
  r.continue_status = rec->continue_status;
  r.injected = rec->injected;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->records_.push_back(r);
  self->cv_.notify_all();
}

std::vector<Record> Recorder::All() {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

std::vector<Record> Recorder::WaitFor(size_t n, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return records_.size() >= n; });
  return records_;
}

void Recorder::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  records_.clear();
}

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

TestClient::TestClient(const std::string &address, const stp_config *cfg) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  channel_ = grpc_channel_create(address.c_str(), creds, nullptr);
  grpc_channel_credentials_release(creds);
  EXPECT_EQ(stp_grpc_channel_new(&ch_, channel_, nullptr), STP_OK);
  if (cfg) {
    sentry_.cfg = cfg;
    sentry_.on_record = Recorder::Fn;
    sentry_.record_user = &records;
    stp_grpc_interceptor ic;
    stp_grpc_sentry_client(&ic, &sentry_);
    EXPECT_EQ(stp_grpc_channel_add(ch_, &ic), STP_OK);
  }
}

TestClient::~TestClient() {
  stp_grpc_channel_del(ch_);
  grpc_channel_destroy(channel_);
}

CallResult TestClient::Call(const CallOptions &o) {
  CallResult res;
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  stp_grpc_call *call;
  std::string method = o.method, host = o.host; // as the caller's strings
  gpr_timespec deadline = In(o.deadline_ms);
  res.deadline_ns = static_cast<uint64_t>(deadline.tv_sec) * 1000000000u +
                    static_cast<uint64_t>(deadline.tv_nsec);
  int rc = host.empty()
               ? stp_grpc_channel_create_call(ch_, &call, o.parent, cq,
                                              method.c_str(), deadline)
               : stp_grpc_channel_create_call_ex(
                     ch_, &call, o.parent, nullptr, GRPC_PROPAGATE_DEFAULTS, cq,
                     method.c_str(), host.c_str(), deadline);
  if (rc != STP_OK) {
    grpc_completion_queue_destroy(cq);
    return res;
  }
  if (o.clobber_names) { // they need only live through the create call
    method.assign(method.size(), 'z');
    host.assign(host.size(), 'z');
  }
  res.created = true;
  if (const stp_span *span = stp_grpc_call_span(call)) {
    res.has_span = true;
    res.span = *span;
  }

  std::vector<grpc_metadata> md(o.metadata.size());
  for (size_t i = 0; i < md.size(); i++) {
    memset(&md[i], 0, sizeof md[i]);
    md[i].key = grpc_slice_from_copied_buffer(o.metadata[i].first.data(),
                                              o.metadata[i].first.size());
    md[i].value = grpc_slice_from_copied_buffer(o.metadata[i].second.data(),
                                                o.metadata[i].second.size());
  }
  grpc_metadata_array initial_md, trailing_md;
  grpc_metadata_array_init(&initial_md);
  grpc_metadata_array_init(&trailing_md);
  grpc_slice details = grpc_empty_slice();
  grpc_status_code status = GRPC_STATUS_UNKNOWN;

  int next_tag = 1;
  auto run = [&](std::vector<grpc_op> ops) {
    void *tag = reinterpret_cast<void *>(static_cast<intptr_t>(next_tag++));
    grpc_call_error err =
        stp_grpc_call_start_batch(call, ops.data(), ops.size(), tag);
    EXPECT_EQ(err, GRPC_CALL_OK) << grpc_call_error_to_string(err);
    if (err != GRPC_CALL_OK)
      return false;
    grpc_event ev = grpc_completion_queue_pluck(cq, tag, Forever(), nullptr);
    return ev.type == GRPC_OP_COMPLETE && ev.success != 0;
  };
  grpc_op send_md = Op(GRPC_OP_SEND_INITIAL_METADATA);
  send_md.data.send_initial_metadata.count = md.size();
  send_md.data.send_initial_metadata.metadata = md.data();
  grpc_op recv_md = Op(GRPC_OP_RECV_INITIAL_METADATA);
  recv_md.data.recv_initial_metadata.recv_initial_metadata = &initial_md;
  grpc_op close = Op(GRPC_OP_SEND_CLOSE_FROM_CLIENT);
  grpc_op recv_status = Op(GRPC_OP_RECV_STATUS_ON_CLIENT);
  recv_status.data.recv_status_on_client.trailing_metadata = &trailing_md;
  recv_status.data.recv_status_on_client.status = &status;
  recv_status.data.recv_status_on_client.status_details = &details;
  auto send = [&](const std::string &body, std::vector<grpc_op> extra = {}) {
    grpc_byte_buffer *msg = Message(body);
    grpc_op op = Op(GRPC_OP_SEND_MESSAGE);
    op.data.send_message.send_message = msg;
    extra.push_back(op);
    bool ok = run(extra);
    grpc_byte_buffer_destroy(msg);
    return ok;
  };
  auto recv = [&](std::vector<grpc_op> extra = {}) {
    grpc_byte_buffer *bb = nullptr;
    grpc_op op = Op(GRPC_OP_RECV_MESSAGE);
    op.data.recv_message.recv_message = &bb;
    extra.push_back(op);
    run(extra);
    if (!bb)
      return false;
    res.responses.push_back(Read(bb));
    grpc_byte_buffer_destroy(bb);
    return true;
  };

  if (o.cancel) {
    send("ping", {send_md});
    // The status batch stays outstanding while the call is cancelled.
    void *tag = reinterpret_cast<void *>(static_cast<intptr_t>(next_tag++));
    EXPECT_EQ(stp_grpc_call_start_batch(call, &recv_status, 1, tag),
              GRPC_CALL_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    grpc_call_cancel(stp_grpc_call_get(call), nullptr);
    grpc_completion_queue_pluck(cq, tag, Forever(), nullptr);
  } else if (o.expect_hang) {
    send("ping", {send_md});
    run({recv_status});
  } else {
    switch (o.shape) {
    case Shape::kUnary:
      send("ping", {send_md, close});
      recv({recv_md});
      run({recv_status});
      break;
    case Shape::kClientStream:
      run({send_md});
      for (int i = 0; i < o.messages; i++)
        send("ping");
      run({close});
      recv({recv_md});
      run({recv_status});
      break;
    case Shape::kServerStream:
      send("ping", {send_md, close, recv_md});
      while (recv()) {
      }
      run({recv_status});
      break;
    case Shape::kBidi:
      run({send_md, recv_md});
      for (int i = 0; i < o.messages; i++) {
        send("ping");
        recv();
      }
      run({close});
      while (recv()) {
      }
      run({recv_status});
      break;
    }
  }
  res.status = status;
  res.details = SliceStr(details);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial_md);
  grpc_metadata_array_destroy(&trailing_md);
  for (grpc_metadata &m : md) {
    grpc_slice_unref(m.key);
    grpc_slice_unref(m.value);
  }
  stp_grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_pluck(cq, nullptr, Forever(), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  return res;
}

std::multimap<std::string, std::string> ParseBody(const std::string &body) {
  std::multimap<std::string, std::string> m;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos)
      nl = body.size();
    std::string line = body.substr(pos, nl - pos);
    size_t eq = line.find('=');
    if (eq != std::string::npos)
      m.emplace(line.substr(0, eq), line.substr(eq + 1));
    pos = nl + 1;
  }
  return m;
}

std::string One(const std::multimap<std::string, std::string> &m,
                const std::string &key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

std::vector<std::string> All(const std::multimap<std::string, std::string> &m,
                             const std::string &key) {
  std::vector<std::string> out;
  auto range = m.equal_range(key);
  for (auto it = range.first; it != range.second; ++it)
    out.push_back(it->second);
  return out;
}

std::vector<std::string> Wire(const std::multimap<std::string, std::string> &m,
                              const std::string &key) {
  std::vector<std::string> out;
  for (const std::string &md : All(m, "md"))
    if (md.compare(0, key.size() + 2, key + ": ") == 0)
      out.push_back(md.substr(key.size() + 2));
  return out;
}

} // namespace stp_test
