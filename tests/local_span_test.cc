// The config's record sink and a user's own spans (stp_local_span).
#include "test_util.h"

namespace {

using namespace stp_test;

struct Seen {
  stp_span span;
  std::string op, description, status, source;
  int code;
  bool local_root;
  uint64_t start_ns, end_ns;
  const stp_context *ctx;
};

void Record(void *user, const stp_span_record *rec) {
  auto *out = static_cast<std::vector<Seen> *>(user);
  out->push_back({rec->span, rec->op,
                  std::string(rec->description, rec->description_len),
                  rec->status, rec->source ? rec->source : "", rec->code,
                  rec->local_root, rec->start_ns, rec->end_ns, rec->ctx});
}

class LocalSpan : public ::testing::Test {
protected:
  void SetUp() override {
    stp_options o = DefaultOptions();
    o.on_record = Record;
    o.record_user = &seen;
    cfg = MakeConfig(o);
    Headers h({{"sentry-trace", kTS1}, {"baggage", kRefDsc}});
    stp_carrier carrier = h.Carrier();
    ASSERT_EQ(stp_context_continue(&ctx, cfg.get(), &carrier), STP_OK);
  }
  std::vector<Seen> seen;
  ConfigPtr cfg;
  stp_context ctx;
};

TEST_F(LocalSpan, ConfigKeepsTheSink) {
  void *user = nullptr;
  EXPECT_EQ(stp_config_record_sink(cfg.get(), &user), &Record);
  EXPECT_EQ(user, &seen);
  ConfigPtr plain = MakeConfig(DefaultOptions());
  EXPECT_EQ(stp_config_record_sink(plain.get(), &user), nullptr);
  EXPECT_EQ(user, nullptr);
  stp_span_record rec{};
  stp_config_emit(plain.get(), &rec); // no sink: nothing, no crash
  stp_config_emit(nullptr, &rec);
  EXPECT_TRUE(seen.empty());
}

TEST_F(LocalSpan, ChildOfTheContextSpan) {
  stp_local_span sp;
  ASSERT_EQ(stp_local_span_start(&sp, &ctx, nullptr, "db.query", "SELECT 1", 8),
            STP_OK);
  stp_local_span_set_status(&sp, "internal_error");
  ASSERT_EQ(stp_local_span_finish(&sp), STP_OK);
  ASSERT_EQ(seen.size(), 1u);
  const Seen &s = seen[0];
  const stp_span *own = stp_context_span(&ctx);
  EXPECT_EQ(Hex(s.span.trace_id), kTrace);
  EXPECT_TRUE(s.span.has_parent);
  EXPECT_EQ(Hex(s.span.parent_span_id), Hex(own->span_id));
  EXPECT_NE(Hex(s.span.span_id), Hex(own->span_id));
  EXPECT_EQ(s.span.sampled, STP_SAMPLED_YES);
  EXPECT_EQ(s.op, "db.query");
  EXPECT_EQ(s.description, "SELECT 1");
  EXPECT_EQ(s.status, "internal_error");
  EXPECT_EQ(s.code, -1);
  EXPECT_FALSE(s.local_root);
  EXPECT_LE(s.start_ns, s.end_ns);
  EXPECT_EQ(s.ctx, &ctx);
}

TEST_F(LocalSpan, NestedUnderAnotherAndUnderTheCurrentContext) {
  stp_token tok = stp_attach(&ctx);
  stp_local_span outer, inner;
  ASSERT_EQ(stp_local_span_start(&outer, nullptr, nullptr, nullptr, "a", 1),
            STP_OK);
  ASSERT_EQ(stp_local_span_start(&inner, nullptr, &outer.span, "x", "b", 1),
            STP_OK);
  stp_local_span_set_http_status(&inner, 404);
  ASSERT_EQ(stp_local_span_finish(&inner), STP_OK);
  stp_local_span_set_grpc_status(&outer, 4);
  ASSERT_EQ(stp_local_span_finish(&outer), STP_OK);
  EXPECT_EQ(stp_detach(tok), STP_OK);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(Hex(seen[0].span.parent_span_id),
            Hex(outer.span.span_id));
  EXPECT_EQ(seen[0].status, "not_found");
  EXPECT_EQ(seen[0].code, 404);
  EXPECT_EQ(seen[1].op, "function") << "the op when none is given";
  EXPECT_EQ(seen[1].status, "deadline_exceeded");
  EXPECT_EQ(seen[1].code, 4);
}

TEST_F(LocalSpan, RootIsTheContextsOwnSpan) {
  stp_local_span tx;
  ASSERT_EQ(stp_local_span_start_root(&tx, &ctx, "task", "nightly", 7),
            STP_OK);
  ASSERT_EQ(stp_local_span_finish(&tx), STP_OK);
  ASSERT_EQ(seen.size(), 1u);
  const stp_span *own = stp_context_span(&ctx);
  EXPECT_EQ(Hex(seen[0].span.span_id), Hex(own->span_id));
  EXPECT_EQ(Hex(seen[0].span.parent_span_id), kSpan);
  EXPECT_TRUE(seen[0].local_root);
  EXPECT_EQ(seen[0].source, "custom");
}

TEST_F(LocalSpan, FinishedOnceOnly) {
  stp_local_span sp;
  ASSERT_EQ(stp_local_span_start(&sp, &ctx, nullptr, "op", nullptr, 0),
            STP_OK);
  EXPECT_EQ(stp_local_span_finish(&sp), STP_OK);
  EXPECT_EQ(stp_local_span_finish(&sp), STP_ERR_STATE);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(LocalSpan, BadArguments) {
  stp_local_span sp;
  ASSERT_EQ(stp_current(), nullptr);
  EXPECT_EQ(stp_local_span_start(&sp, nullptr, nullptr, "op", "n", 1),
            STP_ERR_NO_CONTEXT);
  EXPECT_EQ(stp_local_span_start_root(&sp, nullptr, "op", "n", 1),
            STP_ERR_NO_CONTEXT);
  EXPECT_EQ(stp_local_span_start(nullptr, &ctx, nullptr, "op", "n", 1),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_local_span_start(&sp, &ctx, nullptr, "op", nullptr, 3),
            STP_ERR_INVALID_ARGUMENT);
  stp_span other = *stp_context_span(&ctx);
  other.trace_id.bytes[0] ^= 1;
  EXPECT_EQ(stp_local_span_start(&sp, &ctx, &other, "op", "n", 1),
            STP_ERR_INVALID_ARGUMENT)
      << "a parent of another trace";
  EXPECT_EQ(stp_local_span_finish(nullptr), STP_ERR_INVALID_ARGUMENT);
  stp_local_span_set_status(nullptr, "ok");
  stp_local_span_set_http_status(nullptr, 200);
  stp_local_span_set_grpc_status(nullptr, 0);
  EXPECT_TRUE(seen.empty());
}

TEST(Time, NowIsUnixTimeInNanoseconds) {
  uint64_t a = stp_time_now_ns(), b = stp_time_now_ns();
  EXPECT_LE(a, b);
  EXPECT_GT(a, 1600000000ull * 1000000000ull); // after September 2020
}

} // namespace
