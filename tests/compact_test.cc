// Compact copies: a context at the size of what it holds (stp_context_
// compact, stp_context_clone), read and sent on like a whole one.
#include <vector>

#include "test_util.h"

using namespace stp_test;

namespace {

using Compact = ContextTest;

const std::string kBench321 = STP_REF_BAGGAGE;

// Storage for a compact copy, aligned for a context.
struct Storage {
  explicit Storage(size_t n) : words((n + 7) / 8 + 1) {}
  void *at(size_t offset = 0) {
    return reinterpret_cast<char *>(words.data()) + offset;
  }
  std::vector<uint64_t> words;
};

std::string MetaOf(stp_context *ctx) {
  std::vector<char> buf(STP_META_MAX_LEN + 1);
  size_t n = 0;
  EXPECT_EQ(stp_context_meta(ctx, buf.data(), buf.size(), &n), STP_OK);
  return std::string(buf.data(), n);
}

// Everything a whole context and its compact copy are read for.
void ExpectSame(stp_context *copy, stp_context *whole) {
  EXPECT_EQ(TraceOf(copy), TraceOf(whole));
  EXPECT_EQ(SpanOf(copy), SpanOf(whole));
  EXPECT_EQ(Parent(copy), Parent(whole));
  EXPECT_EQ(stp_context_continued(copy), stp_context_continued(whole));
  EXPECT_EQ(stp_context_status(copy), stp_context_status(whole));
  EXPECT_EQ(stp_context_sample_rand(copy), stp_context_sample_rand(whole));
  EXPECT_EQ(stp_context_baggage_skipped(copy),
            stp_context_baggage_skipped(whole));
  EXPECT_EQ(stp_context_baggage_dropped(copy),
            stp_context_baggage_dropped(whole));
  ASSERT_EQ(stp_context_member_count(copy), stp_context_member_count(whole));
  for (size_t i = 0; i < stp_context_member_count(whole); i++) {
    stp_baggage_member a, b;
    bool sa = false, sb = true;
    ASSERT_EQ(stp_context_member(copy, &a, &sa, i), STP_OK);
    ASSERT_EQ(stp_context_member(whole, &b, &sb, i), STP_OK);
    EXPECT_EQ(std::string(a.key, a.key_len), std::string(b.key, b.key_len));
    EXPECT_EQ(std::string(a.value, a.value_len),
              std::string(b.value, b.value_len));
    EXPECT_EQ(sa, sb);
  }
  EXPECT_EQ(Dsc(copy, "release"), Dsc(whole, "release"));
  EXPECT_EQ(SentryTraceOf(copy), SentryTraceOf(whole));
  EXPECT_EQ(BaggageOf(copy, "a=1"), BaggageOf(whole, "a=1"));
  EXPECT_EQ(MetaOf(copy), MetaOf(whole));
}

TEST_F(Compact, ReferenceRequestFitsInOneKibibyte) {
  ASSERT_EQ(kBench321.size(), 321u);
  for (const stp_config *cfg : {cfg_.get(), third_party_cfg_.get()}) {
    ASSERT_EQ(Continue(&ctx_, cfg,
                       {{"sentry-trace", kTS1}, {"baggage", kBench321}}),
              STP_OK);
    EXPECT_LE(stp_context_compact_size(&ctx_), 1024u);
  }
  size_t size = stp_context_compact_size(&ctx_);
  EXPECT_EQ(size % STP_CONTEXT_ALIGN, 0u);
  // The store holds the baggage's bytes: the copy is no smaller.
  EXPECT_GT(size, kBench321.size());
  Storage mem(size);
  memset(mem.at(), 0x5a, size);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_compact(&copy, mem.at(), size, &ctx_), STP_OK);
  EXPECT_EQ(copy, mem.at());
  ExpectSame(copy, &ctx_);
  EXPECT_EQ(stp_context_compact_size(copy), size);
}

TEST_F(Compact, AHeadReadsTheSameAndIsIndependent) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  size_t size = stp_context_compact_size(&ctx_);
  Storage mem(size);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_compact(&copy, mem.at(), size, &ctx_), STP_OK);
  ExpectSame(copy, &ctx_);
  stp_context_init(&ctx_, cfg_.get());
  EXPECT_NE(TraceOf(copy), TraceOf(&ctx_));
  EXPECT_EQ(Dsc(copy, "trace_id"), TraceOf(copy));
}

TEST_F(Compact, ChildSpansAndInjectFromACopy) {
  ASSERT_EQ(Continue(&ctx_, cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", kRefDsc}}),
            STP_OK);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_clone(&copy, &ctx_, nullptr), STP_OK);
  stp_span child;
  ASSERT_EQ(stp_context_child_span(copy, &child), STP_OK);
  EXPECT_EQ(Hex(child.trace_id), kTrace);
  EXPECT_EQ(Hex(child.parent_span_id), SpanOf(&ctx_));
  Headers out;
  stp_carrier carrier = out.Carrier();
  ASSERT_EQ(stp_context_inject(copy, &carrier, &child), STP_OK);
  EXPECT_EQ(out.All("sentry-trace"),
            std::vector<std::string>{kTrace + "-" + Hex(child.span_id) + "-1"});
  EXPECT_EQ(out.All("baggage"), std::vector<std::string>{kRefDsc});
  stp_context_del(copy);
}

TEST_F(Compact, AHeadHasRoomForItsTransactionName) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  size_t size = stp_context_compact_size(&ctx_);
  const std::string name = Repeat("n", STP_COMPACT_TRANSACTION_ROOM);
  const std::string longer = Repeat("l", STP_COMPACT_TRANSACTION_ROOM + 8);
  Storage tight(size);
  stp_context *copy = nullptr;
  // At its own size, a head takes a name of the room's length, as a
  // server names it once the request is routed...
  ASSERT_EQ(stp_context_compact(&copy, tight.at(), size, &ctx_), STP_OK);
  ASSERT_EQ(stp_context_set_transaction(copy, name.data(), name.size()),
            STP_OK);
  EXPECT_EQ(Dsc(copy, "transaction"), name);
  // ...and another in its place; a longer one does not fit, and the name
  // set before stays.
  ASSERT_EQ(stp_context_set_transaction(copy, "GET /a", 6), STP_OK);
  EXPECT_EQ(ErrName(stp_context_set_transaction(copy, longer.data(),
                                                longer.size())),
            ErrName(STP_ERR_LIMIT));
  EXPECT_EQ(Dsc(copy, "transaction"), "GET /a");
  // Room given past the size is room for a longer name.
  Storage roomy(size + 128);
  ASSERT_EQ(stp_context_compact(&copy, roomy.at(), size + 128, &ctx_), STP_OK);
  ASSERT_EQ(stp_context_set_transaction(copy, longer.data(), longer.size()),
            STP_OK);
  EXPECT_EQ(Dsc(copy, "transaction"), longer);
}

TEST_F(Compact, AFrozenContextKeepsNoRoomForAName) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  size_t head = stp_context_compact_size(&ctx_);
  stp_context_freeze(&ctx_);
  size_t frozen = stp_context_compact_size(&ctx_);
  // `sentry-transaction=`, the name and a comma, to a multiple of 8.
  const size_t spare = sizeof "sentry-transaction=" - 1 +
                       STP_COMPACT_TRANSACTION_ROOM + 1;
  EXPECT_GE(head - frozen, spare - 7);
  EXPECT_LE(head - frozen, spare + 7);
  Storage mem(frozen);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_compact(&copy, mem.at(), frozen, &ctx_), STP_OK);
  EXPECT_EQ(ErrName(stp_context_set_transaction(copy, "x", 1)),
            ErrName(STP_ERR_FROZEN));
}

TEST_F(Compact, CopyBackToAWholeContextGrowsAgain) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  size_t size = stp_context_compact_size(&ctx_);
  Storage mem(size);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_compact(&copy, mem.at(), size, &ctx_), STP_OK);
  auto whole = std::make_unique<stp_context>();
  memset(whole.get(), 0x5a, sizeof *whole);
  stp_context_copy(whole.get(), copy);
  // Room for a name no compact copy had room for (before reading the
  // baggage freezes the DSC).
  auto grown = std::make_unique<stp_context>();
  stp_context_copy(grown.get(), copy);
  const std::string name = Repeat("w", 4000);
  EXPECT_EQ(stp_context_set_transaction(grown.get(), name.data(), name.size()),
            STP_OK);
  EXPECT_EQ(Dsc(grown.get(), "transaction"), name);
  ExpectSame(whole.get(), copy);
  // And a compact copy of a compact copy is the same size.
  Storage again(size);
  stp_context *copy2 = nullptr;
  ASSERT_EQ(stp_context_compact(&copy2, again.at(), size, copy), STP_OK);
  ExpectSame(copy2, copy);
}

TEST_F(Compact, TheLargestInputStaysWithinAWholeContext) {
  // Sixty-four members filling the store: a copy is never bigger than the
  // context it comes from.
  std::string bag;
  for (int i = 0; bag.size() < STP_BAGGAGE_MAX_BYTES - 200; i++)
    bag += (bag.empty() ? "" : ",") + ("k" + std::to_string(i)) + "=" +
           Repeat("v", 120);
  ASSERT_EQ(Continue(&ctx_, third_party_cfg_.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  EXPECT_GT(stp_context_member_count(&ctx_), 60u);
  size_t size = stp_context_compact_size(&ctx_);
  EXPECT_LE(size, sizeof(stp_context));
  EXPECT_GT(size, 8000u);
  Storage mem(size);
  stp_context *copy = nullptr;
  ASSERT_EQ(stp_context_compact(&copy, mem.at(), size, &ctx_), STP_OK);
  ExpectSame(copy, &ctx_);

  // The largest head, its room for a name included: a release as long as
  // the config takes.
  stp_options o = DefaultOptions();
  std::string release = Repeat("r", STP_BAGGAGE_MAX_BYTES);
  stp_config *big = nullptr;
  for (o.release = release.c_str(); stp_config_new(&big, &o, nullptr) != STP_OK;
       o.release = release.c_str())
    release.resize(release.size() - 1);
  ConfigPtr big_cfg(big);
  ASSERT_EQ(stp_context_init(&ctx_, big), STP_OK);
  EXPECT_GT(stp_context_compact_size(&ctx_), 8000u);
  EXPECT_LE(stp_context_compact_size(&ctx_), sizeof(stp_context));
}

TEST_F(Compact, BadArgumentsAreRefused) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  size_t size = stp_context_compact_size(&ctx_);
  Storage mem(size + 8);
  stp_context *copy = reinterpret_cast<stp_context *>(0x1);
  EXPECT_EQ(stp_context_compact(&copy, mem.at(), size - 8, &ctx_),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(copy, nullptr);
  EXPECT_EQ(stp_context_compact(&copy, mem.at(1), size, &ctx_),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_compact(&copy, nullptr, size, &ctx_),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_compact(&copy, mem.at(), size, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_compact(nullptr, mem.at(), size, &ctx_),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_compact_size(nullptr), 0u);
  EXPECT_EQ(stp_context_clone(nullptr, &ctx_, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_context_clone(&copy, nullptr, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  // Between begin and finish the context is not decided yet.
  ASSERT_EQ(stp_context_begin(&ctx_, cfg_.get()), STP_OK);
  EXPECT_EQ(stp_context_compact(&copy, mem.at(), size, &ctx_),
            STP_ERR_STATE);
  EXPECT_EQ(stp_context_clone(&copy, &ctx_, nullptr), STP_ERR_STATE);
  EXPECT_EQ(copy, nullptr);
}

struct OneShotAllocator {
  static void *Fail(size_t, void *) { return nullptr; }
  static void Free(void *p, void *) { free(p); }
};

// An allocator that breaks the rule: its blocks are 4 bytes off malloc's
// alignment.
struct MisalignedAllocator {
  static void *Malloc(size_t n, void *) {
    char *p = static_cast<char *>(malloc(n + 4));
    return p ? p + 4 : nullptr;
  }
  static void Free(void *p, void *) { free(static_cast<char *>(p) - 4); }
};

TEST_F(Compact, CloneGivesBackAMisalignedBlock) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  stp_allocator off = {MisalignedAllocator::Malloc, MisalignedAllocator::Free,
                       nullptr};
  stp_context *copy = reinterpret_cast<stp_context *>(0x1);
  EXPECT_EQ(ErrName(stp_context_clone(&copy, &ctx_, &off)),
            ErrName(STP_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(copy, nullptr);
}

TEST_F(Compact, CloneReportsAFailedAllocation) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  stp_allocator fail = {OneShotAllocator::Fail, OneShotAllocator::Free,
                        nullptr};
  stp_context *copy = reinterpret_cast<stp_context *>(0x1);
  EXPECT_EQ(stp_context_clone(&copy, &ctx_, &fail), STP_ERR_NOMEM);
  EXPECT_EQ(copy, nullptr);
}

}  // namespace
