// A grpc++ service (callback API) that continues the caller's trace for
// every call and, with --downstream, calls on as a child of its span.
//
//   grpcpp_server [--port N] [--port-file FILE] [--spans FILE]
//                 [--dsn DSN] [--release R] [--environment E]
//                 [--sample-rate X] [--org-id N] [--strict] [--traceparent]
//                 [--third-party] [--downstream HOST:PORT]
//                 [--downstream-method /pkg.Svc/M]
//
// Listens on 127.0.0.1:N (N = 0, the default, picks a free port; FILE then
// receives the number). Any method is accepted (a generic service: the
// messages are bytes). The answer is one message of `key=value` lines, as
// the C gRPC example server's: trace_id, span_id, parent_span_id, sampled,
// sample_rand, continued, sentry-trace and baggage (what this server
// would send on), one dsc.KEY=VALUE per DSC entry. With --downstream the
// request message is sent on, to the same method or to the one given,
// through the Sentry client interceptor with the call's trace as the
// parent (set_parent: no thread is involved), and the answer goes on with
// `downstream_status=N` and the downstream's own answer. A `grpc.server`
// record per call, and a `grpc.client` record per downstream call, are
// printed and appended to the span log (--spans) with the trace headers of
// the hop, and handed to the config's record sink: with SENTRY_SPOTLIGHT
// set, an exporter that sends them to Spotlight as transactions (the
// options and the exporter are the other examples', examples/common/cli.h).
// SIGTERM or SIGINT stops the server cleanly (exit 0).
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "stp/grpcpp.h"

extern "C" {  // C headers without a guard of their own
#include "examples/common/cli.h"
#include "examples/common/span_log.h"
}

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::atomic<bool> stopping{false};

void OnSignal(int) {
  stopping = true;
}

// A value from the wire as the examples print it: printable ASCII but the
// backslash as it is, any other byte as \xNN (it never starts a line).
std::string Escaped(const char *s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char hex[5];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string Hex(const stp_span_id &id) {
  char buf[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&id, buf);
  return buf;
}

std::string Hex(const stp_trace_id &id) {
  char buf[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&id, buf);
  return buf;
}

const char *Sampled(stp_sampled s) {
  return s == STP_SAMPLED_YES  ? "true"
         : s == STP_SAMPLED_NO ? "false"
                               : "deferred";
}

// Span records: a line on stdout, and an entry of the span log with the
// trace headers of the hop.
class Recorder {
 public:
  Recorder(const char *spans, const stp_config *cfg)
      : spans_(spans ? spans : ""), cfg_(cfg) {}

  static void Fn(void *user, const stp_span_record *rec) {
    static_cast<Recorder *>(user)->Write(rec);
  }

  // The trace headers a server call received, kept for its record.
  void Received(const stp_span_id &span, Headers headers) {
    std::lock_guard<std::mutex> lock(mu_);
    received_[Hex(span)] = std::move(headers);
  }

 private:
  void Write(const stp_span_record *rec) {
    Headers headers;
    if (std::strcmp(rec->op, "grpc.server") == 0)
      headers = TakeReceived(rec->span.span_id);
    else if (rec->injected)
      headers = Sent(rec);
    std::vector<span_log_header> h;
    for (const auto &kv : headers)
      h.push_back({kv.first.data(), kv.first.size(), kv.second.data(),
                   kv.second.size()});
    span_log_entry e{};
    e.process = "grpcpp_server";
    e.op = rec->op;
    e.description = rec->description;
    e.description_len = rec->description_len;
    e.span = &rec->span;
    e.status = rec->status;
    e.start_ns = rec->start_ns;
    e.end_ns = rec->end_ns;
    e.headers = h.data();
    e.n_headers = h.size();
    std::lock_guard<std::mutex> lock(mu_);
    std::printf(
        "span op=%s description=%s trace_id=%s span_id=%s "
        "parent_span_id=%s sampled=%s status=%d duration_us=%llu\n",
        rec->op, Escaped(rec->description, rec->description_len).c_str(),
        Hex(rec->span.trace_id).c_str(), Hex(rec->span.span_id).c_str(),
        rec->span.has_parent ? Hex(rec->span.parent_span_id).c_str() : "-",
        Sampled(rec->span.sampled), rec->code,
        static_cast<unsigned long long>((rec->end_ns - rec->start_ns) / 1000));
    std::fflush(stdout);
    if (!spans_.empty() && span_log_write(spans_.c_str(), &e) != 0)
      std::perror(spans_.c_str());
    stp_config_emit(cfg_, rec);  // an exporter, with SENTRY_SPOTLIGHT
  }

  Headers TakeReceived(const stp_span_id &span) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = received_.find(Hex(span));
    if (it == received_.end())
      return {};
    Headers h = std::move(it->second);
    received_.erase(it);
    return h;
  }

  // What the client interceptor sent: the core writes the same values
  // from the same span and (frozen) DSC; these calls add no baggage of
  // their own.
  static Headers Sent(const stp_span_record *rec) {
    Headers h;
    std::string buf(STP_BAGGAGE_MAX_BYTES + 1, '\0');
    size_t len;
    if (stp_context_sentry_trace(rec->ctx, &buf[0], buf.size(), &len,
                                 &rec->span) == STP_OK)
      h.push_back({"sentry-trace", buf.substr(0, len)});
    stp_context copy;  // the baggage is asked of a context that may change
    stp_context_copy(&copy, rec->ctx);
    if (stp_context_baggage(&copy, &buf[0], buf.size(), &len, nullptr, 0) ==
            STP_OK &&
        len > 0)
      h.push_back({"baggage", buf.substr(0, len)});
    if (stp_config_propagate_traceparent(stp_context_config(rec->ctx)) &&
        stp_context_traceparent(rec->ctx, &buf[0], buf.size(), &len,
                                &rec->span) == STP_OK)
      h.push_back({"traceparent", buf.substr(0, len)});
    return h;
  }

  std::string spans_;
  const stp_config *cfg_;
  std::mutex mu_;
  std::map<std::string, Headers> received_;
};

struct App {
  Recorder *recorder;
  std::unique_ptr<grpc::GenericStub> downstream;  // null without one
  std::string downstream_method;
};

std::string Text(const grpc::ByteBuffer &bb) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (bb.Valid() && bb.Dump(&slices).ok())
    for (const grpc::Slice &s : slices)
      out.append(reinterpret_cast<const char *>(s.begin()), s.size());
  return out;
}

// One call: read the request, describe the trace, call on, answer.
class Call final : public grpc::ServerGenericBidiReactor {
 public:
  Call(const App *app, grpc::GenericCallbackServerContext *ctx)
      : app_(app), ctx_(ctx) {
    // The trace as it arrived, for the span log.
    Headers received;
    for (const auto &kv : ctx->client_metadata()) {
      std::string key(kv.first.data(), kv.first.size());
      if (key == "sentry-trace" || key == "baggage" || key == "traceparent")
        received.push_back(
            {key, std::string(kv.second.data(), kv.second.size())});
    }
    if (stp_context *trace = stp::grpcpp::call_context(ctx))
      app->recorder->Received(stp_context_span(trace)->span_id,
                              std::move(received));
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    answer_ = Describe();
    if (!ok || !app_->downstream) {
      Reply();
      return;
    }
    // The downstream call is a child of this call: its parent is tied to
    // its ClientContext, whichever thread the call runs on.
    down_ctx_.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
    stp::grpcpp::set_parent(&down_ctx_, stp::grpcpp::call_context(ctx_));
    const std::string &method = app_->downstream_method.empty()
                                    ? ctx_->method()
                                    : app_->downstream_method;
    app_->downstream->UnaryCall(
        &down_ctx_, method, grpc::StubOptions(), &request_, &response_,
        [this](grpc::Status status) {
          answer_ +=
              "downstream_status=" + std::to_string(status.error_code()) + "\n";
          answer_ += Text(response_);
          Reply();
        });
  }

  void OnDone() override {
    delete this;
  }

 private:
  std::string Describe() {
    stp_context *trace = stp::grpcpp::call_context(ctx_);
    if (!trace)
      return "trace=none\n";
    const stp_span *span = stp_context_span(trace);
    int status = stp_context_status(trace);
    std::string st(STP_SENTRY_TRACE_MAX_LEN + 1, '\0');
    std::string bag(STP_BAGGAGE_MAX_BYTES + 1, '\0');
    size_t st_len = 0, bag_len = 0;
    {
      // What a handler does to use the implicit API: make the call's
      // trace current on this thread.
      stp::grpcpp::scope current(ctx_);
      stp_get_sentry_trace(&st[0], st.size(), &st_len);
      stp_get_baggage(&bag[0], bag.size(), &bag_len);
    }
    st.resize(st_len);
    bag.resize(bag_len);
    char rand[32];
    std::snprintf(rand, sizeof rand, "%.6f", stp_context_sample_rand(trace));
    std::string out =
        "trace_id=" + Hex(span->trace_id) + "\nspan_id=" + Hex(span->span_id) +
        "\nparent_span_id=" +
        (span->has_parent ? Hex(span->parent_span_id) : "-") +
        "\nsampled=" + Sampled(span->sampled) + "\nsample_rand=" + rand +
        "\ncontinued=" + (status == 0 ? "yes" : stp_error_name(status)) +
        "\nsentry-trace=" + st + "\nbaggage=" + bag + "\n";
    for (size_t i = 0; i < stp_context_member_count(trace); i++) {
      stp_baggage_member m;
      bool is_sentry;
      if (stp_context_member(trace, &m, &is_sentry, i) != STP_OK || !is_sentry)
        continue;
      std::string value(m.value_len + 1, '\0');
      size_t n;
      if (stp_baggage_decode(&value[0], value.size(), &n, m.value,
                             m.value_len) == STP_OK)
        out += "dsc." + std::string(m.key + 7, m.key_len - 7) + "=" +
               Escaped(value.data(), n) + "\n";
    }
    return out;
  }

  void Reply() {
    grpc::Slice slice(answer_);
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
  }

  const App *app_;
  grpc::GenericCallbackServerContext *ctx_;
  grpc::ByteBuffer request_, response_, out_;
  grpc::ClientContext down_ctx_;
  std::string answer_;
};

class Service final : public grpc::CallbackGenericService {
 public:
  explicit Service(const App *app) : app_(app) {}
  grpc::ServerGenericBidiReactor *
  CreateReactor(grpc::GenericCallbackServerContext *ctx) override {
    return new Call(app_, ctx);
  }

 private:
  const App *app_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: grpcpp_server [--port N] [--port-file FILE] [--spans "
               "FILE]\n"
               "                     [--dsn DSN] [--release R] [--environment "
               "E]\n"
               "                     [--sample-rate X] [--org-id N] [--strict] "
               "[--traceparent]\n"
               "                     [--third-party] [--downstream HOST:PORT]\n"
               "                     [--downstream-method /pkg.Svc/M]\n");
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  cli_options o;
  cli_options_init(&o, 1, 0);
  std::string downstream, downstream_method;
  for (int i = 1; i < argc; i++) {
    int r = cli_option(&o, argc, argv, &i);
    if (r == 1)
      continue;
    if (r == 0 && i + 1 < argc && std::strcmp(argv[i], "--downstream") == 0)
      downstream = argv[++i];
    else if (r == 0 && i + 1 < argc &&
             std::strcmp(argv[i], "--downstream-method") == 0)
      downstream_method = argv[++i];
    else
      return Usage();
  }
  stp_config *cfg;
  if (cli_config(&cfg, &o, "grpcpp_server") != STP_OK)
    return 2;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  Recorder recorder(o.spans, cfg);
  stp::grpcpp::sentry sentry;
  sentry.cfg = cfg;
  sentry.on_record = Recorder::Fn;
  sentry.record_user = &recorder;

  App app{&recorder, nullptr, downstream_method};
  if (!downstream.empty()) {
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        ics;
    ics.push_back(stp::grpcpp::sentry_client_factory(sentry, downstream));
    app.downstream = std::make_unique<grpc::GenericStub>(
        grpc::experimental::CreateCustomChannelWithInterceptors(
            downstream, grpc::InsecureChannelCredentials(),
            grpc::ChannelArguments(), std::move(ics)));
  }

  Service service(&app);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(o.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      ics;
  ics.push_back(stp::grpcpp::sentry_server_factory(sentry));
  builder.experimental().SetInterceptorCreators(std::move(ics));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "grpcpp_server: cannot listen on 127.0.0.1:%d\n",
                 o.port);
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  if (o.port_file && cli_write_port_file(o.port_file, port) != 0) {
    std::perror(o.port_file);
    return 1;
  }

  while (!stopping)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server.reset();
  app.downstream.reset();
  cli_config_del(&o, cfg);  // the exporter sends what it still holds
  std::printf("stopped\n");
  return 0;
}
