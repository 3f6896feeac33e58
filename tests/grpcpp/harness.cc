#include "harness.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "interceptors/grpcpp/internal.h"

namespace grpcpp_test {

uint64_t ThreadId() {
  return std::hash<std::thread::id>()(std::this_thread::get_id());
}

Config::Config(const std::function<void(stp_options *)> &edit) {
  stp_options o = stp_test::DefaultOptions();
  o.sample_rate = 1;
  if (edit)
    edit(&o);
  owned = stp_test::MakeConfig(o);
  cfg = owned.get();
}

Continued::Continued(const stp_config *cfg, const std::string &sentry_trace,
                     const std::string &baggage) {
  stp_test::Headers h{{"sentry-trace", sentry_trace}};
  if (!baggage.empty())
    h.list.push_back({"baggage", baggage});
  stp_carrier c = h.Carrier();
  EXPECT_EQ(stp_context_continue(&ctx, cfg, &c), STP_OK);
}

// ---- records ----------------------------------------------------------------

void Recorder::Fn(void *user, const stp_span_record *rec) {
  auto *self = static_cast<Recorder *>(user);
  Record r;
  r.op = rec->op;
  r.description.assign(rec->description, rec->description_len);
  r.trace_id = Hex(rec->span.trace_id);
  r.span_id = Hex(rec->span.span_id);
  r.has_parent = rec->span.has_parent;
  r.parent_span_id = rec->span.has_parent
                         ? Hex(rec->span.parent_span_id)
                         : std::string("-");
  r.sampled = rec->span.sampled;
  r.status = rec->status;
  r.code = rec->code;
  r.start_ns = rec->start_ns;
  r.end_ns = rec->end_ns;
  r.local_root = rec->local_root;
  r.continue_status = rec->continue_status;
  r.injected = rec->injected;
  r.has_ctx = rec->ctx != nullptr;
  if (rec->ctx) {
    r.ctx_span_id = Hex(stp_context_span(rec->ctx)->span_id);
    r.ctx_frozen = stp_context_frozen(rec->ctx);
    r.ctx_bytes = stp_context_compact_size(rec->ctx);
  }
  r.thread = ThreadId();
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

std::vector<Record> Recorder::Of(const std::string &op) {
  std::vector<Record> out;
  for (const Record &r : All())
    if (r.op == op)
      out.push_back(r);
  return out;
}

void Recorder::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  records_.clear();
}

// ---- names ------------------------------------------------------------------

const char *ApiName(Api api) {
  switch (api) {
  case Api::kSync:
    return "Sync";
  case Api::kAsync:
    return "Async";
  case Api::kCallback:
    return "Callback";
  }
  return "?";
}

const char *ShapeName(Shape shape) {
  switch (shape) {
  case Shape::kUnary:
    return "Unary";
  case Shape::kClientStream:
    return "ClientStream";
  case Shape::kServerStream:
    return "ServerStream";
  case Shape::kBidi:
    return "Bidi";
  }
  return "?";
}

std::string MethodPath(Shape shape) {
  return std::string("/stp.test.Echo/") + ShapeName(shape);
}

// ---- workers ----------------------------------------------------------------

Workers::~Workers() {
  StopAndJoin();
}

bool Workers::Run(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_)
    return false;
  threads_.emplace_back(std::move(fn));
  return true;
}

void Workers::Locked(const std::function<void(bool stopped)> &fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(stopped_);
}

void Workers::StopAndJoin() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    threads.swap(threads_);
  }
  for (std::thread &t : threads)
    t.join();
}

// ---- the handler --------------------------------------------------------------

void Describe(grpc::ServerContextBase *ctx, Trace *t) {
  for (const auto &kv : ctx->client_metadata()) {
    std::string key(kv.first.data(), kv.first.size());
    if (key.size() >= 4 && key.compare(key.size() - 4, 4, "-bin") == 0)
      t->add_metadata(key + ": <" + std::to_string(kv.second.size()) +
                      " bytes>");
    else
      t->add_metadata(key + ": " +
                      std::string(kv.second.data(), kv.second.size()));
  }
  stp_context *c = stp::grpcpp::call_context(ctx);
  t->set_found(c != nullptr);
  if (!c)
    return;
  const stp_span *span = stp_context_span(c);
  t->set_trace_id(Hex(span->trace_id));
  t->set_span_id(Hex(span->span_id));
  t->set_parent_span_id(span->has_parent ? Hex(span->parent_span_id)
                                         : "-");
  t->set_sampled(span->sampled);
  t->set_continue_status(stp_context_status(c));
  t->set_call_bytes(stp::grpcpp::internal::find_call(ctx)->bytes());
  t->set_context_bytes(stp_context_compact_size(c));
  std::string baggage(STP_BAGGAGE_MAX_BYTES + 1, '\0');
  size_t baggage_len = 0;
  if (stp_context_baggage(c, &baggage[0], baggage.size(), &baggage_len,
                          nullptr, 0) == STP_OK)
    t->set_baggage(baggage.substr(0, baggage_len));
  for (size_t i = 0; i < stp_context_member_count(c); i++) {
    stp_baggage_member m;
    bool is_sentry = false;
    char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t len = 0;
    if (stp_context_member(c, &m, &is_sentry, i) == STP_OK && is_sentry &&
        stp_baggage_decode(value, sizeof value, &len, m.value, m.value_len) ==
            STP_OK)
      t->add_dsc(std::string(m.key + 7, m.key_len - 7) + "=" +
                 std::string(value, len));
  }
  stp::grpcpp::scope current(ctx);
  t->set_current_is_call(stp_current() == c);
}

namespace {

// The outgoing call a request asks for, to the test service at
// req.nested_address().
void Nested(const HandlerEnv &env, grpc::ServerContextBase *ctx,
            const EchoRequest &req, EchoReply *reply) {
  auto call = [&](bool tie, bool in_scope) {
    std::optional<stp::grpcpp::scope> current;
    if (in_scope)
      current.emplace(ctx);
    auto channel =
        NewChannel(req.nested_address(), env.cfg, env.records);
    auto stub = stp::test::Echo::NewStub(channel);
    grpc::ClientContext cc;
    cc.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
    if (tie)
      stp::grpcpp::set_parent(&cc, stp::grpcpp::call_context(ctx));
    EchoRequest r;
    r.set_text("nested");
    EchoReply answer;
    grpc::Status st = stub->Unary(&cc, r, &answer);
    reply->set_nested_status(st.error_code());
    *reply->mutable_nested() = answer.trace();
    reply->set_nested_thread(ThreadId());
  };
  switch (req.nested()) {
  case stp::test::SCOPE:
    call(false, true);
    break;
  case stp::test::OTHER_THREAD_SET_PARENT:
    std::thread(call, true, false).join();
    break;
  case stp::test::OTHER_THREAD_SCOPE:
    std::thread(call, false, true).join();
    break;
  case stp::test::OTHER_THREAD_BARE:
    std::thread(call, false, false).join();
    break;
  default:
    break;
  }
}

} // namespace

void Handle(const HandlerEnv &env, grpc::ServerContextBase *ctx,
            const EchoRequest &req, uint64_t delivered, EchoReply *reply) {
  {
    std::lock_guard<std::mutex> lock(*env.mu);
    env.started->fetch_add(1);
    env.cv->notify_all();
  }
  reply->set_text(req.text());
  Describe(ctx, reply->mutable_trace());
  reply->mutable_trace()->set_thread(delivered);
  if (!req.nested_address().empty())
    Nested(env, ctx, req, reply);
  if (req.server_cancel())
    ctx->TryCancel();
  auto wait = std::chrono::milliseconds(req.delay_ms());
  if (!req.until_cancelled()) {
    std::this_thread::sleep_for(wait);
    return;
  }
  auto until = std::chrono::steady_clock::now() + wait;
  // A status sent after the cancel but before gRPC ran the interceptor's
  // POST_RECV_CLOSE would count as the call's (docs/grpcpp.md).
  while (std::chrono::steady_clock::now() < until &&
         !(ctx->IsCancelled() && !env.records->Of("grpc.server").empty()))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// ---- server -----------------------------------------------------------------

TestServer::TestServer(Api api, const ServerOptions &options)
    : api_(api), env_{options.cfg, &records, &started_, &mu_, &cv_} {
  switch (api) {
  case Api::kSync:
    impl_ = NewSyncService(env_);
    break;
  case Api::kAsync:
    impl_ = NewAsyncService(env_);
    break;
  case Api::kCallback:
    impl_ = NewCallbackService(env_);
    break;
  }
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                     &port_);
  if (options.max_metadata_size > 0)
    b.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                         options.max_metadata_size);
  if (options.cfg) {
    stp::grpcpp::sentry s;
    s.cfg = options.cfg;
    if (!options.records_to_config_sink) {
      s.on_record = Recorder::Fn;
      s.record_user = &records;
    }
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        ics;
    ics.push_back(stp::grpcpp::sentry_server_factory(s));
    b.experimental().SetInterceptorCreators(std::move(ics));
  }
  impl_->Register(&b);
  server_ = b.BuildAndStart();
  EXPECT_TRUE(server_ != nullptr);
  EXPECT_GT(port_, 0);
  if (server_)
    impl_->Start(server_.get());
}

TestServer::~TestServer() {
  if (server_)
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  impl_->Stop();
}

bool TestServer::WaitStarted(int n, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return started_.load() >= n; });
}

// ---- client -----------------------------------------------------------------

std::shared_ptr<grpc::Channel> NewChannel(const std::string &address,
                                          const stp_config *cfg,
                                          Recorder *records,
                                          int max_metadata_size) {
  grpc::ChannelArguments args;
  if (max_metadata_size > 0)
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, max_metadata_size);
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      ics;
  if (cfg) {
    stp::grpcpp::sentry s;
    s.cfg = cfg;
    if (records) {
      s.on_record = Recorder::Fn;
      s.record_user = records;
    }
    ics.push_back(stp::grpcpp::sentry_client_factory(s, address));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), args, std::move(ics));
}

TestClient::TestClient(const std::string &address, const stp_config *cfg,
                       int max_metadata_size)
    : channel_(NewChannel(address, cfg, &records, max_metadata_size)),
      stub_(stp::test::Echo::NewStub(channel_)) {}

CallResult TestClient::Call(const CallOptions &o) {
  CallResult r;
  grpc::ClientContext cc;
  cc.set_deadline(std::chrono::system_clock::now() +
                  std::chrono::milliseconds(o.deadline_ms));
  for (const auto &kv : o.metadata)
    cc.AddMetadata(kv.first, kv.second);
  if (o.parent)
    stp::grpcpp::set_parent(&cc, o.parent, o.parent_span);
  std::thread canceller;
  if (o.cancel_server) {
    canceller = std::thread([&] {
      o.cancel_server->WaitStarted(o.cancel_when_started);
      cc.TryCancel();
    });
  }
  EchoReply reply;
  switch (o.shape) {
  case Shape::kUnary:
    r.status = stub_->Unary(&cc, o.request, &reply);
    if (r.status.ok())
      r.replies.push_back(reply);
    break;
  case Shape::kClientStream: {
    auto writer = stub_->ClientStream(&cc, &reply);
    for (int i = 0; i < kMessages && writer->Write(o.request); i++) {
    }
    writer->WritesDone();
    r.status = writer->Finish();
    if (r.status.ok())
      r.replies.push_back(reply);
    break;
  }
  case Shape::kServerStream: {
    auto reader = stub_->ServerStream(&cc, o.request);
    while (reader->Read(&reply))
      r.replies.push_back(reply);
    r.status = reader->Finish();
    break;
  }
  case Shape::kBidi: {
    auto stream = stub_->Bidi(&cc);
    for (int i = 0; i < kMessages; i++) {
      if (!stream->Write(o.request) || !stream->Read(&reply))
        break;
      r.replies.push_back(reply);
    }
    stream->WritesDone();
    r.status = stream->Finish();
    break;
  }
  }
  if (canceller.joinable())
    canceller.join();
  return r;
}

std::vector<std::string> Received(const Trace &t, const std::string &key) {
  std::vector<std::string> out;
  std::string prefix = key + ": ";
  for (const std::string &m : t.metadata())
    if (m.compare(0, prefix.size(), prefix) == 0)
      out.push_back(m.substr(prefix.size()));
  return out;
}

} // namespace grpcpp_test
