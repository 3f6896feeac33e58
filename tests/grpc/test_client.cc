// The test client: one call of any shape, through the channel's
// interceptors, with what came back.
#include <grpc/byte_buffer.h>
#include <grpc/grpc_security.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "harness.h"

namespace stp_test {

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
  res.arena_bytes = stp_grpc_call_arena_bytes(call);
  res.context_bytes =
      stp_context_compact_size(stp_grpc_call_context(call));
  stp_grpc_call_unref(call);
  DestroyPluckQueue(cq);
  return res;
}

} // namespace stp_test
