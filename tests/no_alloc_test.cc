// Parsing, continuing and injecting never touch the heap: malloc, calloc
// and realloc are counted while an AllocWindow is open (alloc_count.h).
#include "alloc_count.h"
#include "test_util.h"

using namespace stp_test;

namespace {

TEST(NoAlloc, TheWrapperCounts) {
  // Make sure the wrap is in effect for code linked into this binary.
  // volatile: the compiler may not drop the malloc/free pair.
  AllocWindow w;
  void *volatile p = malloc(16);
  void *volatile q = calloc(2, 8);
  q = realloc(q, 64);
  int n = w.Close();
  free(p);
  free(q);
  EXPECT_EQ(n, 3);
}

TEST(NoAlloc, ParsingTraceHeaders) {
  const std::string tp = "00-" + kTrace + "-" + kSpan + "-01";
  const std::string folded = "bad, ," + kTS1;
  stp_trace_header h1, h2, h3, h4;
  int e1, e2, e3, e4;
  AllocWindow w;
  e1 = stp_sentry_trace_parse(&h1, kTS1.data(), kTS1.size());
  e2 = stp_sentry_trace_parse(&h2, folded.data(), folded.size());
  e3 = stp_traceparent_parse(&h3, tp.data(), tp.size());
  e4 = stp_sentry_trace_parse(&h4, "nonsense", 8);
  int calls = w.Close();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(e1, STP_OK);
  EXPECT_EQ(e2, STP_OK);
  EXPECT_EQ(e3, STP_OK);
  EXPECT_LT(e4, 0);
}

TEST(NoAlloc, ParsingBaggage) {
  char out[512];
  size_t members = 0, total = 0;
  AllocWindow w;
  stp_baggage_iter it;
  stp_baggage_member m;
  stp_baggage_iter_init(&it, kRefBaggage.data(), kRefBaggage.size());
  while (stp_baggage_iter_next(&it, &m)) {
    size_t n = 0;
    if (stp_baggage_decode(out, sizeof out, &n, m.value, m.value_len) ==
        STP_OK)
      total += n;
    members++;
  }
  size_t n = 0;
  stp_baggage_encode(out, sizeof out, &n, "GET /x", 6);
  int calls = w.Close();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(members, 10u);
  EXPECT_GT(total, 0u);
}

// A carrier that does not allocate: fixed arrays.
struct FixedCarrier {
  struct Entry {
    char name[32];
    size_t name_len;
    char value[STP_BAGGAGE_MAX_BYTES + 1];
    size_t value_len;
    bool used;
  };
  Entry e[4];

  void Add(const char *n, const std::string &v) {
    for (auto &x : e)
      if (!x.used) {
        x.used = true;
        x.name_len = strlen(n);
        memcpy(x.name, n, x.name_len);
        x.value_len = v.size();
        memcpy(x.value, v.data(), v.size());
        return;
      }
  }
  static int Foreach(void *user, stp_header_fn fn, void *arg) {
    auto *self = static_cast<FixedCarrier *>(user);
    for (auto &x : self->e)
      if (x.used) {
        int rc = fn(arg, x.name, x.name_len, x.value, x.value_len);
        if (rc)
          return rc;
      }
    return 0;
  }
  static int Set(void *user, const char *name, size_t name_len,
                 const char *value, size_t value_len) {
    auto *self = static_cast<FixedCarrier *>(user);
    for (auto &x : self->e)
      if (x.used && x.name_len == name_len &&
          strncasecmp(x.name, name, name_len) == 0)
        x.used = false;
    if (!value)
      return 0;
    for (auto &x : self->e)
      if (!x.used) {
        if (name_len >= sizeof x.name || value_len >= sizeof x.value)
          return -1;
        x.used = true;
        memcpy(x.name, name, name_len);
        x.name_len = name_len;
        memcpy(x.value, value, value_len);
        x.value_len = value_len;
        return 0;
      }
    return -1;
  }
};

TEST(NoAlloc, ContinueAndInjectWithAStackContext) {
  stp_options o = DefaultOptions();
  o.propagate_traceparent = true;
  o.propagate_third_party_baggage = true;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  auto in = std::make_unique<FixedCarrier>();
  auto out = std::make_unique<FixedCarrier>();
  memset(in.get(), 0, sizeof *in);
  memset(out.get(), 0, sizeof *out);
  in->Add("sentry-trace", kTS1);
  in->Add("baggage", kRefBaggage);
  in->Add("traceparent", "00-" + kTrace2 + "-" + kSpan2 + "-01");
  out->Add("baggage", "mine=1,sentry-x=2");
  stp_carrier cin = {FixedCarrier::Foreach, FixedCarrier::Set, in.get()};
  stp_carrier cout = {FixedCarrier::Foreach, FixedCarrier::Set, out.get()};

  // Warm up once (per-thread generator seeding) outside the window too,
  // then count a second round.
  stp_context warm;
  ASSERT_EQ(stp_context_init(&warm, cfg.get()), STP_OK);

  stp_context ctx;
  int e_cont, e_inj, e_head, e_meta;
  char meta[2048];
  size_t meta_len = 0;
  AllocWindow w;
  e_cont = stp_context_continue(&ctx, cfg.get(), &cin);
  stp_span child;
  stp_context_child_span(&ctx, &child);
  e_inj = stp_context_inject(&ctx, &cout, &child);
  e_head = stp_context_init(&warm, cfg.get());
  e_meta = stp_context_meta(&warm, meta, sizeof meta, &meta_len);
  int calls = w.Close();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(e_cont, STP_OK);
  EXPECT_EQ(e_inj, STP_OK);
  EXPECT_EQ(e_head, STP_OK);
  EXPECT_EQ(e_meta, STP_OK);
  int headers = 0;
  for (auto &x : out->e)
    headers += x.used;
  EXPECT_EQ(headers, 3);  // sentry-trace, baggage, traceparent
}

TEST(NoAlloc, ImplicitApi) {
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  ASSERT_TRUE(cfg);
  auto in = std::make_unique<FixedCarrier>();
  memset(in.get(), 0, sizeof *in);
  in->Add("sentry-trace", kTS1);
  stp_carrier c = {FixedCarrier::Foreach, nullptr, in.get()};
  stp_context ctx;
  char buf[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n;
  int e1, e2, e3, e4;
  AllocWindow w;
  stp_token tok;
  e1 = stp_continue_trace(&ctx, &tok, cfg.get(), &c);
  e2 = stp_get_sentry_trace(buf, sizeof buf, &n);
  e3 = stp_get_baggage(buf, sizeof buf, &n);
  e4 = stp_detach(tok);
  int calls = w.Close();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(e1, STP_OK);
  EXPECT_EQ(e2, STP_OK);
  EXPECT_EQ(e3, STP_OK);
  EXPECT_EQ(e4, STP_OK);
}

}  // namespace
