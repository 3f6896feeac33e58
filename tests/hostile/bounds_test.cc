// The parsers look at no more than the documented prefix of hostile input:
// every byte past a bound sits on memory that cannot be read, so a single
// look past it crashes the test. Memory is bounded too: the context is
// fixed-size and nothing is allocated.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "stp/stp.h"

extern "C" {
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
static std::atomic<long> g_allocs{0};
static std::atomic<bool> g_counting{false};
void *__wrap_malloc(size_t n) {
  if (g_counting)
    g_allocs++;
  return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b) {
  if (g_counting)
    g_allocs++;
  return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n) {
  if (g_counting)
    g_allocs++;
  return __real_realloc(p, n);
}
}

namespace {

const char kTrace[] = "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1";

// `total` bytes of which only the first `readable` can be read: the value
// starts `readable` bytes before a page boundary and the pages after it
// are PROT_NONE.
class Fence {
 public:
  Fence(size_t readable, size_t total) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t head = (readable + page_ - 1) / page_ * page_;
    size_t tail = (total - readable + page_ - 1) / page_ * page_ + page_;
    size_ = head + tail;
    void *m = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    base_ = static_cast<char *>(m);
    data_ = base_ + head - readable;
    readable_ = readable;
  }
  ~Fence() { munmap(base_, size_); }
  // Fill the readable part, then lock everything after it.
  char *data() { return data_; }
  void Lock() {
    EXPECT_EQ(0, mprotect(data_ + readable_, size_ - (data_ + readable_ - base_),
                          PROT_NONE));
  }

 private:
  size_t page_, size_, readable_;
  char *base_, *data_;
};

struct Header {
  const char *name;
  const char *value;
  size_t len;
};

int ForEach(void *user, stp_header_fn fn, void *arg) {
  for (const Header &h : *static_cast<std::vector<Header> *>(user)) {
    int rc = fn(arg, h.name, strlen(h.name), h.value, h.len);
    if (rc)
      return rc;
  }
  return 0;
}

class Bounds : public ::testing::Test {
 protected:
  void SetUp() override {
    stp_options o;
    stp_options_init(&o);
    o.has_sample_rate = true;
    o.sample_rate = 1;
    ASSERT_EQ(STP_OK, stp_config_new(&cfg_, &o, nullptr));
  }
  void TearDown() override { stp_config_del(cfg_); }

  // Continue from the headers with allocation counting on.
  int Continue(std::vector<Header> &hs) {
    stp_carrier c = {ForEach, nullptr, &hs};
    g_allocs = 0;
    g_counting = true;
    int rc = stp_context_continue(&ctx_, cfg_, &c);
    char out[STP_BAGGAGE_MAX_BYTES + 1];
    size_t n;
    EXPECT_EQ(STP_OK,
              stp_context_baggage(&ctx_, out, sizeof out, &n, nullptr, 0));
    EXPECT_LE(n, size_t{STP_BAGGAGE_MAX_BYTES});
    g_counting = false;
    EXPECT_EQ(0, g_allocs.load()) << "heap allocation while continuing";
    return rc;
  }

  stp_config *cfg_ = nullptr;
  stp_context ctx_;
};

TEST(ContextSize, IsFixedAndSmall) {
  // Everything a context holds, whatever the input: the documented bound.
  EXPECT_LE(sizeof(stp_context), size_t{10 * 1024});
  EXPECT_GE(sizeof(stp_context), size_t{STP_BAGGAGE_MAX_BYTES});
}

// A 1 MiB baggage header: only the first STP_BAGGAGE_SCAN_MAX_BYTES bytes
// may be read; the members kept are whole ones from that prefix.
TEST_F(Bounds, OneMebibyteBaggage) {
  const size_t total = 1 << 20, readable = STP_BAGGAGE_SCAN_MAX_BYTES;
  Fence f(readable, total);
  std::string pattern;
  for (int i = 0; pattern.size() < readable; i++)
    pattern += "sentry-k" + std::to_string(i) + "=" + std::string(200, 'v') +
               ",";
  memcpy(f.data(), pattern.data(), readable);
  f.Lock();
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", f.data(), total}};
  EXPECT_EQ(STP_OK, Continue(hs));
  EXPECT_LE(stp_context_member_count(&ctx_), size_t{STP_BAGGAGE_MAX_MEMBERS});
  EXPECT_GT(stp_context_member_count(&ctx_), size_t{10});
  EXPECT_GT(stp_context_baggage_dropped(&ctx_), size_t{0});
  char v[256];
  size_t n;
  ASSERT_EQ(STP_OK, stp_context_dsc_get(&ctx_, v, sizeof v, &n, "k0", 2));
  EXPECT_EQ(std::string(200, 'v'), std::string(v, n));
}

// A value that fits in the context's store is copied there whole and
// scanned there: it is read to its last byte and not one byte further,
// and still only STP_BAGGAGE_SCAN_MAX_MEMBERS of its members are examined.
TEST_F(Bounds, ValueThatFitsTheStoreIsReadToItsLengthOnly) {
  const size_t pieces = 2000, each = 4;  // 1000 members "b=2;a=1,"
  Fence f(pieces * each, pieces * each);
  for (size_t i = 0; i < pieces; i++)
    memcpy(f.data() + i * each, i % 2 ? "a=1," : "b=2;", each);
  f.Lock();
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", f.data(), pieces * each}};
  EXPECT_EQ(STP_OK, Continue(hs));
  // Of the 512 members examined, the first 64 are kept and the other 448
  // dropped; then one of those kept gives way to the sample_rand added at
  // the end.
  EXPECT_EQ(stp_context_member_count(&ctx_), size_t{STP_BAGGAGE_MAX_MEMBERS});
  EXPECT_EQ(stp_context_baggage_dropped(&ctx_),
            size_t{STP_BAGGAGE_SCAN_MAX_MEMBERS - STP_BAGGAGE_MAX_MEMBERS + 1});
  EXPECT_EQ(stp_context_baggage_skipped(&ctx_), 0u);
}

// 100 000 members in one header: only STP_BAGGAGE_SCAN_MAX_MEMBERS are
// looked at, so no byte is read more than 15 past them (the documented
// read-ahead of a value scanned 16 bytes at a time).
TEST_F(Bounds, HundredThousandMembers) {
  const size_t members = 100000, each = 4;  // "a=1,"
  const size_t readable = STP_BAGGAGE_SCAN_MAX_MEMBERS * each + 15;
  Fence f(readable, members * each);
  for (size_t i = 0; i < readable; i += each)
    memcpy(f.data() + i, "a=1,", each);
  f.Lock();
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", f.data(), members * each}};
  EXPECT_EQ(STP_OK, Continue(hs));
  EXPECT_LE(stp_context_member_count(&ctx_), size_t{STP_BAGGAGE_MAX_MEMBERS});
}

// 10 000 repeated baggage entries: once the byte bound is used up, later
// entries are not touched at all (they all point at unreadable memory).
TEST_F(Bounds, TenThousandBaggageEntries) {
  const size_t each = 4096;
  const size_t readable_entries = STP_BAGGAGE_SCAN_MAX_BYTES / each;
  Fence f(readable_entries * each, readable_entries * each + each);
  for (size_t i = 0; i < readable_entries * each; i += 8)
    memcpy(f.data() + i, "x-k=vvv,", 8);
  f.Lock();
  const char *locked = f.data() + readable_entries * each;
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1}};
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"baggage", i < readable_entries ? f.data() + i * each : locked,
                  each});
  EXPECT_EQ(STP_OK, Continue(hs));
  EXPECT_GT(stp_context_baggage_dropped(&ctx_), size_t{9000});
}

// Many small entries: the member bound stops the scan just the same.
TEST_F(Bounds, TenThousandSmallEntries) {
  Fence f(4, 4 + 4096);
  memcpy(f.data(), "a=1,", 4);
  f.Lock();
  const char *locked = f.data() + 4;
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1}};
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"baggage",
                  i < STP_BAGGAGE_SCAN_MAX_MEMBERS ? f.data() : locked, 4});
  EXPECT_EQ(STP_OK, Continue(hs));
}

// A 1 MiB sentry-trace: judged on its first STP_SENTRY_TRACE_SCAN_MAX
// bytes, valid element first or not.
TEST_F(Bounds, OneMebibyteSentryTrace) {
  const size_t total = 1 << 20, readable = STP_SENTRY_TRACE_SCAN_MAX;
  struct Case {
    const char *name;
    std::string prefix;
    char fill;
    int want;
  } cases[] = {
      {"valid element, then junk", std::string(kTrace) + ",", 'j', STP_OK},
      {"junk only", "", 'j', STP_ERR_TOO_LONG},
      {"bad element, junk", "x-y-z,", 'j', STP_ERR_TRACE_ID},
      {"spaces after a valid value", std::string(kTrace) + " ", ' ',
       STP_ERR_TOO_LONG},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    Fence f(readable, total);
    std::string v = c.prefix + std::string(readable - c.prefix.size(), c.fill);
    memcpy(f.data(), v.data(), readable);
    f.Lock();
    stp_trace_header h;
    g_allocs = 0;
    g_counting = true;
    EXPECT_EQ(stp_error_name(c.want),
              std::string(stp_error_name(
                  stp_sentry_trace_parse(&h, f.data(), total))));
    // A traceparent that long is refused without being read.
    EXPECT_EQ(STP_ERR_TOO_LONG, stp_traceparent_parse(&h, f.data(), total));
    g_counting = false;
    EXPECT_EQ(0, g_allocs.load());
  }
}

// 10 000 sentry-trace headers, all invalid: only the first 16 are parsed.
TEST_F(Bounds, TenThousandSentryTraceEntries) {
  Fence f(8, 8 + 4096);
  memcpy(f.data(), "bad-bad1", 8);
  f.Lock();
  const char *locked = f.data() + 8;
  std::vector<Header> hs;
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"sentry-trace", i < 16 ? f.data() : locked,
                  i < 16 ? size_t{8} : size_t{4096}});
  EXPECT_EQ(STP_ERR_TRACE_ID, Continue(hs));
  EXPECT_FALSE(stp_context_continued(&ctx_));
}

}  // namespace
