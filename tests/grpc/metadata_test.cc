// The generic interceptor layer: hooks, order, call data, the metadata
// builder's checks.
#include <grpc/grpc_security.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

namespace stp_test {
namespace {

struct Log {
  std::vector<std::string> events;
  std::vector<int> set_results;
};

struct Data {
  uint64_t magic;
  int starts;
};

// Adds `x-<tag>: <tag>` and logs every hook; the second one also checks
// what the first one did.
struct Tagger {
  const char *tag;
  Log *log;
};

void TagStart(void *user, stp_grpc_call *call, void *data) {
  auto *t = static_cast<Tagger *>(user);
  auto *d = static_cast<Data *>(data);
  EXPECT_EQ(d->magic, 0u); // zeroed
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 16, 0u);
  d->magic = 0xfeed;
  d->starts++;
  t->log->events.push_back(
      std::string("start ") + t->tag +
      (stp_grpc_call_is_server(call) ? " server" : " client"));
}

void TagSend(void *user, stp_grpc_call *, void *data, stp_grpc_metadata *md) {
  auto *t = static_cast<Tagger *>(user);
  EXPECT_EQ(static_cast<Data *>(data)->magic, 0xfeedu);
  t->log->events.push_back(std::string("send ") + t->tag + " " +
                           std::to_string(stp_grpc_metadata_count(md)));
  std::string key = std::string("x-") + t->tag;
  t->log->set_results.push_back(stp_grpc_metadata_set(
      md, key.data(), key.size(), t->tag, std::strlen(t->tag)));
  // Illegal keys and values are refused, nothing changes.
  size_t before = stp_grpc_metadata_count(md);
  t->log->set_results.push_back(
      stp_grpc_metadata_set(md, "X-Upper", 7, "v", 1));
  t->log->set_results.push_back(
      stp_grpc_metadata_set(md, "x-ctl", 5, "a\r\nb", 4));
  t->log->set_results.push_back(
      stp_grpc_metadata_set(md, "x-bin", 5, "a\r\nb\0", 5)); // binary: ok
  t->log->set_results.push_back(stp_grpc_metadata_set(md, "x-bin", 5, NULL, 0));
  EXPECT_EQ(stp_grpc_metadata_count(md), before);
  // Removing a user entry.
  stp_grpc_metadata_set(md, "x-remove-me", 11, NULL, 0);
}

void TagEnd(void *user, stp_grpc_call *call, void *data) {
  auto *t = static_cast<Tagger *>(user);
  EXPECT_EQ(static_cast<Data *>(data)->starts, 1);
  grpc_status_code code;
  stp_grpc_call_status(call, &code);
  t->log->events.push_back(std::string("end ") + t->tag + " " +
                           std::to_string(code));
  EXPECT_GE(stp_grpc_call_end_ns(call), stp_grpc_call_start_ns(call));
}

// An interceptor with raw (not zeroed) call data, placed between zeroed
// ones: it fills its block with a pattern, which must still be there at the
// end (nobody zeroes over it), while its neighbours' blocks still arrive
// zeroed (Tagger checks) in an arena that earlier calls left dirty.
constexpr size_t kRawSize = 200; // not a multiple of 16
void RawStart(void *user, stp_grpc_call *, void *data) {
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % 16, 0u);
  std::memset(data, 0xab, kRawSize);
  ++*static_cast<int *>(user);
}
void RawEnd(void *, stp_grpc_call *, void *data) {
  const unsigned char *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < kRawSize; i++)
    ASSERT_EQ(p[i], 0xab) << i;
}
stp_grpc_interceptor MakeRaw(int *starts) {
  stp_grpc_interceptor ic = {};
  ic.call_data_size = kRawSize;
  ic.call_data_raw = true;
  ic.start = RawStart;
  ic.end = RawEnd;
  ic.user = starts;
  return ic;
}

stp_grpc_interceptor Make(Tagger *t) {
  stp_grpc_interceptor ic;
  std::memset(&ic, 0, sizeof ic);
  ic.call_data_size = sizeof(Data);
  ic.start = TagStart;
  ic.send_initial_metadata = TagSend;
  ic.end = TagEnd;
  ic.user = t;
  return ic;
}

TEST(Interceptors, RunInOrderWithTheirOwnCallDataAndEditMetadata) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg); // Sentry first
  Log log;
  Tagger a{"a", &log}, b{"b", &log};
  stp_grpc_interceptor ia = Make(&a), ib = Make(&b);
  int raw_starts = 0;
  stp_grpc_interceptor raw = MakeRaw(&raw_starts);
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &raw), STP_OK);
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &ia), STP_OK);
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &raw), STP_OK);
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &ib), STP_OK);
  for (int i = 0; i < 2; i++) {
    CallOptions o;
    o.shape = i ? Shape::kBidi : Shape::kUnary;
    o.method = i ? "/test.Echo/Bidi" : "/test.Echo/Unary";
    o.metadata = {{"x-user", "u"}, {"x-remove-me", "r"}};
    CallResult r = client.Call(o);
    ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
    auto body = ParseBody(r.responses.at(0));
    EXPECT_EQ(Wire(body, "x-a"), std::vector<std::string>{"a"});
    EXPECT_EQ(Wire(body, "x-b"), std::vector<std::string>{"b"});
    EXPECT_EQ(Wire(body, "x-user"), std::vector<std::string>{"u"});
    EXPECT_TRUE(Wire(body, "x-remove-me").empty());
    EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u);
    EXPECT_EQ(One(body, "trace"), Hex(r.span.trace_id));
  }
  // user's 2 entries + sentry-trace + baggage, then x-a, minus x-remove-me.
  std::vector<std::string> expected = {"start a client", "start b client",
                                       "send a 4",       "send b 4",
                                       "end a 0",        "end b 0"};
  std::vector<std::string> once = expected;
  expected.insert(expected.end(), once.begin(), once.end());
  EXPECT_EQ(log.events, expected);
  EXPECT_EQ(raw_starts, 4); // two per call
  for (size_t i = 0; i < log.set_results.size(); i += 5) {
    EXPECT_EQ(log.set_results[i], STP_OK);
    EXPECT_EQ(log.set_results[i + 1], STP_ERR_HEADER_NAME);
    EXPECT_EQ(log.set_results[i + 2], STP_ERR_CONTROL_CHAR);
    EXPECT_EQ(log.set_results[i + 3], STP_OK);
    EXPECT_EQ(log.set_results[i + 4], STP_OK);
  }
}

// Adds x-f0 .. x-f5.
void Fill(void *, stp_grpc_call *, void *, stp_grpc_metadata *md) {
  for (int i = 0; i < 6; i++) {
    std::string key = "x-f" + std::to_string(i);
    EXPECT_EQ(stp_grpc_metadata_set(md, key.data(), key.size(), "f", 1),
              STP_OK);
  }
}

// The first batch's items live in room kept in the call's arena block (8)
// when the user's entries and four more fit, else in an arena array of
// their own; either grows when hooks add more (here 9 more). Every entry
// arrives, once, whatever the count.
TEST(Interceptors, EveryEntryArrivesWhateverTheCount) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg); // Sentry: two entries
  Log log;
  Tagger a{"a", &log};
  stp_grpc_interceptor ia = Make(&a); // one entry (and a removal)
  stp_grpc_interceptor fill = {};
  fill.send_initial_metadata = Fill; // six entries
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &ia), STP_OK);
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &fill), STP_OK);
  for (int n : {0, 1, 3, 4, 5, 6, 9, 13}) {
    CallOptions o;
    o.shape = Shape::kUnary;
    o.method = "/test.Echo/Unary";
    for (int i = 0; i < n; i++)
      o.metadata.push_back(
          {"x-u" + std::to_string(i), "v" + std::to_string(i)});
    CallResult r = client.Call(o);
    ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
    auto body = ParseBody(r.responses.at(0));
    for (int i = 0; i < n; i++)
      EXPECT_EQ(Wire(body, "x-u" + std::to_string(i)),
                std::vector<std::string>{"v" + std::to_string(i)})
          << n;
    EXPECT_EQ(Wire(body, "x-a"), std::vector<std::string>{"a"}) << n;
    for (int i = 0; i < 6; i++)
      EXPECT_EQ(Wire(body, "x-f" + std::to_string(i)),
                std::vector<std::string>{"f"})
          << n;
    EXPECT_EQ(Wire(body, "sentry-trace").size(), 1u) << n;
    EXPECT_EQ(Wire(body, "baggage").size(), 1u) << n;
  }
}

// stp_grpc_metadata_set checks keys, and values (of keys not ending in
// "-bin") eight bytes at a time, with code of its own; it must accept and
// refuse exactly what gRPC core does: every byte value at every position
// of a 10-byte key and of a 27-byte value (two words, one word, a tail).
void CheckValues(void *user, stp_grpc_call *, void *, stp_grpc_metadata *md) {
  int *mismatches = static_cast<int *>(user);
  for (int pos = 0; pos < 10; pos++)
    for (int byte = 0; byte < 256; byte++) {
      char key[] = "x-checking";
      key[pos] = static_cast<char>(byte);
      bool legal = grpc_header_key_is_legal(
          grpc_slice_from_static_buffer(key, sizeof key - 1));
      int rc = stp_grpc_metadata_set(md, key, sizeof key - 1, "v", 1);
      if (rc != (legal ? STP_OK : STP_ERR_HEADER_NAME)) {
        ADD_FAILURE() << "key byte " << byte << " at " << pos << ": " << rc;
        ++*mismatches;
      }
      stp_grpc_metadata_set(md, key, sizeof key - 1, nullptr, 0);
    }
  EXPECT_EQ(stp_grpc_metadata_set(md, "", 0, "v", 1), STP_ERR_HEADER_NAME);
  EXPECT_EQ(stp_grpc_metadata_set(md, nullptr, 0, "v", 1),
            STP_ERR_INVALID_ARGUMENT);
  for (int pos = 0; pos < 27; pos++)
    for (int byte = 0; byte < 256; byte++) {
      char value[27];
      std::memset(value, 'v', sizeof value);
      value[pos] = static_cast<char>(byte);
      bool legal = grpc_header_nonbin_value_is_legal(
          grpc_slice_from_static_buffer(value, sizeof value));
      int rc = stp_grpc_metadata_set(md, "x-check", 7, value, sizeof value);
      if (rc != (legal ? STP_OK : STP_ERR_CONTROL_CHAR)) {
        ADD_FAILURE() << "value byte " << byte << " at " << pos << ": " << rc;
        ++*mismatches;
      }
      stp_grpc_metadata_set(md, "x-check", 7, nullptr, 0);
    }
}

TEST(Interceptors, KeyAndValueChecksAgreeWithGrpc) {
  Config cfg;
  TestServer server(cfg.cfg);
  TestClient client(server.address(), cfg.cfg);
  int mismatches = 0;
  stp_grpc_interceptor ic = {};
  ic.send_initial_metadata = CheckValues;
  ic.user = &mismatches;
  ASSERT_EQ(stp_grpc_channel_add(client.channel(), &ic), STP_OK);
  CallOptions o;
  o.shape = Shape::kUnary;
  o.method = "/test.Echo/Unary";
  CallResult r = client.Call(o);
  ASSERT_EQ(r.status, GRPC_STATUS_OK) << r.details;
  EXPECT_TRUE(Wire(ParseBody(r.responses.at(0)), "x-check").empty());
  EXPECT_EQ(mismatches, 0);
}

TEST(Interceptors, ChannelLimitAndAuthorityOverride) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create("127.0.0.1:1", creds, nullptr);
  grpc_channel_credentials_release(creds);
  stp_grpc_channel *ch;
  ASSERT_EQ(stp_grpc_channel_new(&ch, channel, "api.example.com:443"), STP_OK);
  EXPECT_EQ(stp_grpc_channel_get(ch), channel);
  stp_grpc_interceptor ic = {};
  for (int i = 0; i < STP_GRPC_MAX_INTERCEPTORS; i++)
    EXPECT_EQ(stp_grpc_channel_add(ch, &ic), STP_OK);
  EXPECT_EQ(stp_grpc_channel_add(ch, &ic), STP_ERR_LIMIT);
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  stp_grpc_call *call;
  ASSERT_EQ(stp_grpc_channel_create_call(ch, &call, nullptr, cq, "/a.B/C",
                                         gpr_inf_future(GPR_CLOCK_REALTIME)),
            STP_OK);
  size_t len;
  const char *t = stp_grpc_call_target(call, &len);
  EXPECT_EQ(std::string(t, len), "api.example.com:443/a.B/C");
  t = stp_grpc_call_authority(call, &len);
  EXPECT_EQ(std::string(t, len), "api.example.com:443");
  EXPECT_EQ(stp_grpc_call_context(call), nullptr); // no Sentry interceptor
  EXPECT_FALSE(stp_grpc_call_is_server(call));
  stp_grpc_call_unref(call);
  ASSERT_EQ(stp_grpc_channel_create_call_ex(
                ch, &call, nullptr, nullptr, GRPC_PROPAGATE_DEFAULTS, cq,
                "/a.B/C", "other:1", gpr_inf_future(GPR_CLOCK_REALTIME)),
            STP_OK);
  t = stp_grpc_call_target(call, &len);
  EXPECT_EQ(std::string(t, len), "other:1/a.B/C");
  stp_grpc_call_unref(call);
  DestroyPluckQueue(cq);
  stp_grpc_channel_del(ch);
  grpc_channel_destroy(channel);
}

} // namespace
} // namespace stp_test
