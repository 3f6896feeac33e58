// The parsers look at no more than the documented prefix of hostile input:
// every byte past a bound sits on memory that cannot be read, so a single
// look past it crashes the test. Memory is bounded too: the context is
// fixed-size and nothing is allocated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "stp/stp.h"
#include "tests/alloc_count.h"
#include "tests/guard_page.h"

namespace {

using stp_test::AllocWindow;
using stp_test::GuardedBuffer;

const char kTrace[] = "771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1";

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
    AllocWindow window;
    int rc = stp_context_continue(&ctx_, cfg_, &c);
    char out[STP_BAGGAGE_MAX_BYTES + 1];
    size_t n;
    EXPECT_EQ(STP_OK,
              stp_context_baggage(&ctx_, out, sizeof out, &n, nullptr, 0));
    EXPECT_LE(n, size_t{STP_BAGGAGE_MAX_BYTES});
    EXPECT_EQ(0, window.Close()) << "heap allocation while continuing";
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
  GuardedBuffer f(readable, total - readable);
  char *data = f.Tail(readable);
  std::string pattern;
  for (int i = 0; pattern.size() < readable; i++)
    pattern += "sentry-k" + std::to_string(i) + "=" + std::string(200, 'v') +
               ",";
  memcpy(data, pattern.data(), readable);
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", data, total}};
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
  GuardedBuffer f(pieces * each, 0);
  char *data = f.Tail(pieces * each);
  for (size_t i = 0; i < pieces; i++)
    memcpy(data + i * each, i % 2 ? "a=1," : "b=2;", each);
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", data, pieces * each}};
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
  GuardedBuffer f(readable, members * each - readable);
  char *data = f.Tail(readable);
  for (size_t i = 0; i < readable; i += each)  // the last member cut short
    memcpy(data + i, "a=1,", std::min(each, readable - i));
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1},
                            {"baggage", data, members * each}};
  EXPECT_EQ(STP_OK, Continue(hs));
  EXPECT_LE(stp_context_member_count(&ctx_), size_t{STP_BAGGAGE_MAX_MEMBERS});
}

// 10 000 repeated baggage entries: once the byte bound is used up, later
// entries are not touched at all (they all point at unreadable memory).
TEST_F(Bounds, TenThousandBaggageEntries) {
  const size_t each = 4096;
  const size_t readable_entries = STP_BAGGAGE_SCAN_MAX_BYTES / each;
  GuardedBuffer f(readable_entries * each, each);
  char *data = f.Tail(readable_entries * each);
  for (size_t i = 0; i < readable_entries * each; i += 8)
    memcpy(data + i, "x-k=vvv,", 8);
  const char *locked = data + readable_entries * each;
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1}};
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"baggage", i < readable_entries ? data + i * each : locked,
                  each});
  EXPECT_EQ(STP_OK, Continue(hs));
  EXPECT_GT(stp_context_baggage_dropped(&ctx_), size_t{9000});
}

// Many small entries: the member bound stops the scan just the same.
TEST_F(Bounds, TenThousandSmallEntries) {
  GuardedBuffer f(4, 4096);
  char *data = f.Tail(4);
  memcpy(data, "a=1,", 4);
  const char *locked = data + 4;
  std::vector<Header> hs = {{"sentry-trace", kTrace, sizeof kTrace - 1}};
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"baggage",
                  i < STP_BAGGAGE_SCAN_MAX_MEMBERS ? data : locked, 4});
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
    GuardedBuffer f(readable, total - readable);
    char *data = f.Tail(readable);
    std::string v = c.prefix + std::string(readable - c.prefix.size(), c.fill);
    memcpy(data, v.data(), readable);
    stp_trace_header h;
    AllocWindow window;
    EXPECT_EQ(stp_error_name(c.want),
              std::string(stp_error_name(
                  stp_sentry_trace_parse(&h, data, total))));
    // A traceparent that long is refused without being read.
    EXPECT_EQ(STP_ERR_TOO_LONG, stp_traceparent_parse(&h, data, total));
    EXPECT_EQ(0, window.Close());
  }
}

// 10 000 sentry-trace headers, all invalid: only the first 16 are parsed.
TEST_F(Bounds, TenThousandSentryTraceEntries) {
  GuardedBuffer f(8, 4096);
  char *data = f.Tail(8);
  memcpy(data, "bad-bad1", 8);
  const char *locked = data + 8;
  std::vector<Header> hs;
  for (size_t i = 0; i < 10000; i++)
    hs.push_back({"sentry-trace", i < 16 ? data : locked,
                  i < 16 ? size_t{8} : size_t{4096}});
  EXPECT_EQ(STP_ERR_TRACE_ID, Continue(hs));
  EXPECT_FALSE(stp_context_continued(&ctx_));
}

}  // namespace
