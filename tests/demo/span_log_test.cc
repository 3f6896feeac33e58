// The span log writer of the examples: one line per record, every string
// escaped, appends from several writers kept whole, statuses mapped.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" {
#include "examples/common/span_log.h"
}

namespace {

std::string TempPath(const char *name) {
  const char *dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<std::string> Lines(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line))
    out.push_back(line);
  return out;
}

stp_span Span(bool has_parent) {
  stp_span s = {};
  for (int i = 0; i < 16; i++)
    s.trace_id.bytes[i] = static_cast<uint8_t>(0x10 + i);
  for (int i = 0; i < 8; i++) {
    s.span_id.bytes[i] = static_cast<uint8_t>(0xa0 + i);
    s.parent_span_id.bytes[i] = static_cast<uint8_t>(0xb0 + i);
  }
  s.has_parent = has_parent;
  s.sampled = STP_SAMPLED_YES;
  return s;
}

TEST(SpanLog, WritesOneJsonLine) {
  std::string path = TempPath("one.jsonl");
  std::remove(path.c_str());
  stp_span s = Span(true);
  span_log_header h[] = {{"sentry-trace", 12, "abc-def-1", 9}};
  span_log_entry e = {"proc", "http.server", "GET /x", 6, &s, "ok",
                      2000000000ull, 2001500000ull, h, 1};
  ASSERT_EQ(span_log_write(path.c_str(), &e), 0);
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "{\"process\":\"proc\",\"op\":\"http.server\","
            "\"description\":\"GET /x\","
            "\"trace_id\":\"101112131415161718191a1b1c1d1e1f\","
            "\"span_id\":\"a0a1a2a3a4a5a6a7\","
            "\"parent_span_id\":\"b0b1b2b3b4b5b6b7\",\"sampled\":true,"
            "\"status\":\"ok\",\"start_us\":2000000,\"duration_us\":1500,"
            "\"headers\":[[\"sentry-trace\",\"abc-def-1\"]]}");
}

TEST(SpanLog, RootAndDeferred) {
  std::string path = TempPath("root.jsonl");
  std::remove(path.c_str());
  stp_span s = Span(false);
  s.sampled = STP_SAMPLED_DEFERRED;
  span_log_entry e = {"p", "task", "", 0, &s, "ok", 5000, 1000, nullptr, 0};
  ASSERT_EQ(span_log_write(path.c_str(), &e), 0);
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"parent_span_id\":null"), std::string::npos);
  EXPECT_NE(lines[0].find("\"sampled\":null"), std::string::npos);
  // An end before the start (clock stepped back) is a zero duration.
  EXPECT_NE(lines[0].find("\"duration_us\":0,"), std::string::npos);
  EXPECT_NE(lines[0].find("\"headers\":[]"), std::string::npos);
}

TEST(SpanLog, HostileValuesStayInsideTheirString) {
  std::string path = TempPath("hostile.jsonl");
  std::remove(path.c_str());
  stp_span s = Span(true);
  // CR LF, NUL, quote, backslash, ESC, DEL and a byte >= 0x80.
  const char value[] = "a\r\n\"},{\"x\":\"\\\0\x1b\x7f\xc3";
  const char desc[] = "GET /\"\n";
  span_log_header h[] = {{"baggage", 7, value, sizeof value - 1}};
  span_log_entry e = {"p", "http.server", desc, sizeof desc - 1, &s, "ok",
                      0, 0, h, 1};
  ASSERT_EQ(span_log_write(path.c_str(), &e), 0);
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 1u) << "a raw newline split the record";
  const std::string &l = lines[0];
  for (unsigned char c : l)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c);
  EXPECT_NE(l.find("\"a\\u000d\\u000a\\\"},{\\\"x\\\":\\\"\\\\\\u0000"
                   "\\u001b\\u007f\\u00c3\""),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("\"description\":\"GET /\\\"\\u000a\""), std::string::npos)
      << l;
}

TEST(SpanLog, NullPathWritesNothing) {
  stp_span s = Span(true);
  span_log_entry e = {"p", "op", "", 0, &s, "ok", 0, 0, nullptr, 0};
  EXPECT_EQ(span_log_write(nullptr, &e), 0);
}

TEST(SpanLog, UnwritablePathFails) {
  stp_span s = Span(true);
  span_log_entry e = {"p", "op", "", 0, &s, "ok", 0, 0, nullptr, 0};
  EXPECT_EQ(span_log_write("/nonexistent-dir/spans.jsonl", &e), -1);
}

TEST(SpanLog, ConcurrentWritersKeepLinesWhole) {
  std::string path = TempPath("many.jsonl");
  std::remove(path.c_str());
  const int kProcs = 4, kRecords = 200;
  std::string big(3000, 'x'); // records of about 3.4 KB
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; p++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      stp_span s = Span(true);
      span_log_header h[] = {{"baggage", 7, big.data(), big.size()}};
      span_log_entry e = {"p", "op", "", 0, &s, "ok", 0, 0, h, 1};
      for (int i = 0; i < kRecords; i++)
        if (span_log_write(path.c_str(), &e) != 0)
          _exit(1);
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto lines = Lines(path);
  ASSERT_EQ(lines.size(), size_t{kProcs * kRecords});
  for (const auto &l : lines) {
    EXPECT_EQ(l.front(), '{');
    EXPECT_EQ(l.substr(l.size() - 2), "]}");
    EXPECT_NE(l.find(big), std::string::npos);
  }
}

TEST(SpanLogKeep, KeepsTraceHeadersOnly) {
  span_log_kept k = {};
  EXPECT_EQ(span_log_keep(&k, "sentry-trace", 12, "abc-def-1", 9), 1);
  EXPECT_EQ(span_log_keep(&k, "x-other", 7, "v", 1), 0);
  EXPECT_EQ(span_log_keep(&k, "Baggage", 7, "k=v", 3), 0); // not lowercase
  ASSERT_EQ(k.n_headers, 1u);
  EXPECT_STREQ(k.headers[0].name, "sentry-trace");
  EXPECT_EQ(std::string(k.headers[0].value, k.headers[0].value_len),
            "abc-def-1");
  span_log_kept_free(&k);
  EXPECT_EQ(k.n_headers, 0u);
}

TEST(SpanLogKeep, HoldsAtMostItsBoundWhateverIsSent) {
  // What a peer sends does not decide what a request holds: 3 values of
  // 40 KB keep 8 KiB in all, the first cut to it and the rest empty.
  std::string big(40000, 'v');
  span_log_kept k = {};
  EXPECT_EQ(span_log_keep(&k, "sentry-trace", 12, big.data(), big.size()), 1);
  EXPECT_EQ(span_log_keep(&k, "baggage", 7, big.data(), big.size()), 1);
  EXPECT_EQ(span_log_keep(&k, "traceparent", 11, big.data(), big.size()), 1);
  EXPECT_EQ(span_log_keep(&k, "baggage", 7, "a=1", 3), 0); // a 4th: no room
  ASSERT_EQ(k.n_headers, size_t{SPAN_LOG_KEPT_HEADERS});
  EXPECT_EQ(k.headers[0].value_len, size_t{SPAN_LOG_KEPT_BYTES});
  EXPECT_EQ(k.headers[1].value_len, 0u);
  EXPECT_EQ(k.headers[2].value_len, 0u);
  EXPECT_EQ(k.bytes, size_t{SPAN_LOG_KEPT_BYTES});
  span_log_kept_free(&k);
}

TEST(SpanLogKeep, SharesTheBoundInOrder) {
  std::string a(5000, 'a'), b(5000, 'b');
  span_log_kept k = {};
  span_log_keep(&k, "baggage", 7, a.data(), a.size());
  span_log_keep(&k, "baggage", 7, b.data(), b.size());
  ASSERT_EQ(k.n_headers, 2u);
  EXPECT_EQ(k.headers[0].value_len, 5000u);
  EXPECT_EQ(k.headers[1].value_len, size_t{SPAN_LOG_KEPT_BYTES - 5000});
  EXPECT_EQ(std::string(k.headers[1].value, k.headers[1].value_len),
            b.substr(0, SPAN_LOG_KEPT_BYTES - 5000));
  span_log_kept_free(&k);
}

} // namespace
