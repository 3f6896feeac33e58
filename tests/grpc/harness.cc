// What the test server and client share: gRPC set up once per binary,
// messages and ops, configs, span records and the server's answers.
#include "harness.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
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

std::string SliceStr(grpc_slice s) {
  return std::string(reinterpret_cast<const char *>(GRPC_SLICE_START_PTR(s)),
                     GRPC_SLICE_LENGTH(s));
}

void DestroyPluckQueue(grpc_completion_queue *cq) {
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_pluck(cq, nullptr, Forever(), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
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
