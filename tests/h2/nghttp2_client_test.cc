// The client side of the nghttp2 helpers: the trace into a request's
// nghttp2_nv array (stp_nghttp2_inject), propagation targets matched
// against the request's URL, and the URL composed from the pseudo-headers.
#include "tests/h2/nghttp2_test_util.h"

using namespace nghttp2_test;

namespace {

class Client : public ::testing::Test {
protected:
  void SetUp() override {
    cfg = MakeConfig();
    Continue(&ctx, cfg.get());
    char buf[STP_SENTRY_TRACE_MAX_LEN + 1];
    stp_context_sentry_trace(&ctx, buf, sizeof buf, nullptr, nullptr);
    our_trace = buf;
  }
  Config cfg;
  stp_context ctx;
  stp_nghttp2_headers hb;
  std::string our_trace;
};

TEST_F(Client, AddsLowercaseEntriesAfterTheOthers) {
  Request r = Get({{"accept", "*/*"}});
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
  EXPECT_EQ(r.Names(), (std::vector<std::string>{
                           ":method", ":scheme", ":authority", ":path",
                           "accept", "sentry-trace", "baggage"}));
  EXPECT_EQ(r.Values("sentry-trace"), std::vector<std::string>{our_trace});
  ASSERT_EQ(r.Values("baggage").size(), 1u);
  EXPECT_EQ(r.Values("baggage")[0], kDsc) << "the frozen DSC, as received";
  for (size_t i = 0; i < r.len; i++) {
    EXPECT_TRUE(ValidFieldValue(
        std::string((const char *)r.nva[i].value, r.nva[i].valuelen)));
    EXPECT_EQ(r.nva[i].flags, NGHTTP2_NV_FLAG_NONE);
  }
}

TEST_F(Client, ValuesLiveInTheCallerBuffer) {
  Request r = Get();
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
  EXPECT_EQ((const char *)r.nva[4].value, hb.sentry_trace);
  EXPECT_EQ((const char *)r.nva[5].value, hb.baggage);
}

TEST_F(Client, ChildSpanIsAnnounced) {
  stp_span child;
  stp_context_child_span(&ctx, &child);
  Request r = Get();
  ASSERT_EQ(stp_nghttp2_inject(&ctx, &hb, r.nva.data(), r.nva.size(), &r.len,
                               &child, nullptr, 0),
            STP_OK);
  char want[STP_SENTRY_TRACE_MAX_LEN + 1];
  stp_context_sentry_trace(&ctx, want, sizeof want, nullptr, &child);
  EXPECT_EQ(r.Values("sentry-trace"), std::vector<std::string>{want});
  EXPECT_NE(std::string(want), our_trace);
}

struct MergeCase {
  const char *what;
  Fields existing;
  std::string want_baggage;
};

TEST_F(Client, ReplacesSentryTraceAndMergesBaggage) {
  const std::string old = "0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-0";
  const MergeCase cases[] = {
      {"replaces an existing sentry-trace", {{"sentry-trace", old}}, kDsc},
      {"replaces one in any case", {{"Sentry-Trace", old}}, kDsc},
      {"replaces every copy",
       {{"sentry-trace", old}, {"sentry-trace", old}},
       kDsc},
      {"keeps third-party members first",
       {{"baggage", "vendor=abc;p=1,other=x"}},
       "vendor=abc;p=1,other=x," + kDsc},
      {"drops the caller's sentry- members",
       {{"baggage", "sentry-trace_id=" + old.substr(0, 32) + ",a=1"}},
       "a=1," + kDsc},
      {"merges repeated baggage into one",
       {{"baggage", "a=1"}, {"BAGGAGE", "b=2"}},
       "a=1,b=2," + kDsc},
      {"skips malformed members", {{"baggage", "junk,,a=1,=x"}}, "a=1," + kDsc},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    Request r = Get(c.existing);
    ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
    EXPECT_EQ(r.len, 4u + 2u);
    EXPECT_EQ(r.Values("sentry-trace"), std::vector<std::string>{our_trace});
    EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{c.want_baggage});
    for (const auto &n : r.Names())
      EXPECT_TRUE(n == "sentry-trace" || n == "baggage" || n[0] == ':') << n;
  }
}

TEST_F(Client, InjectingTwiceKeepsOneOfEach) {
  Request r = Get({{"baggage", "a=1"}});
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK) << "reads its own previous values";
  EXPECT_EQ(r.Values("sentry-trace").size(), 1u);
  EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{"a=1," + kDsc});
}

TEST(ClientTargets, MatchedAgainstTheRequestUrl) {
  struct Case {
    const char *what;
    std::vector<const char *> targets;
    const char *url; // nullptr: composed from the pseudo-headers
    bool injected;
  };
  const Case cases[] = {
      {"host matches", {"api\\.example\\.com"}, nullptr, true},
      {"scheme and port are part of it",
       {"^http://api\\.example\\.com:8080/"},
       nullptr,
       true},
      {"path is part of it", {"/v1/users"}, nullptr, true},
      {"other host", {"^https?://other\\.example"}, nullptr, false},
      {"https only", {"^https://"}, nullptr, false},
      {"empty list never injects", {}, nullptr, false},
      {"explicit url wins", {"internal"}, "http://internal/x", true},
      {"explicit url not matching", {"internal"}, "http://public/x", false},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    Config cfg = MakeConfig(&c.targets);
    stp_context ctx;
    Continue(&ctx, cfg.get());
    stp_nghttp2_headers hb;
    Request r = Get({{"baggage", "a=1"}, {"sentry-trace", "theirs"}});
    ASSERT_EQ(Inject(&ctx, &hb, r, c.url), STP_OK);
    if (c.injected) {
      EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{"a=1," + kDsc});
    } else {
      EXPECT_EQ(r.len, 6u) << "nothing changed";
      EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{"a=1"});
      EXPECT_EQ(r.Values("sentry-trace"), std::vector<std::string>{"theirs"});
    }
  }
}

TEST(ClientTraceparent, AddedWhenTheConfigSaysSo) {
  Config cfg = MakeConfig(nullptr, /*traceparent=*/true);
  stp_context ctx;
  Continue(&ctx, cfg.get());
  stp_nghttp2_headers hb;
  Request r = Get({{"traceparent", "00-old-old-00"}});
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
  ASSERT_EQ(r.Values("traceparent").size(), 1u);
  const std::string tp = r.Values("traceparent")[0];
  EXPECT_EQ(tp.size(), (size_t)STP_TRACEPARENT_LEN);
  EXPECT_EQ(tp.substr(0, 36), "00-" + kTrace + "-");
  EXPECT_EQ(tp.substr(53), "01");
  EXPECT_EQ(r.len, 4u + 3u);
}

TEST_F(Client, TooSmallLeavesTheArrayAlone) {
  // Room needed: the entries kept plus sentry-trace and baggage.
  Request r(Fields{{":method", "GET"}, {":path", "/"}, {"baggage", "a=1"}},
            /*extra=*/0); // 2 kept + 2 > 3 entries of room
  const auto before = r.Names();
  EXPECT_EQ(Inject(&ctx, &hb, r), STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(r.Names(), before);
  EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{"a=1"});

  Request fits(Fields{{":method", "GET"}, {":path", "/"}, {"baggage", "a=1"}},
               /*extra=*/1); // 2 kept + 2 = 4 entries of room
  EXPECT_EQ(Inject(&ctx, &hb, fits), STP_OK);
}

// A full array whose room comes from the entries being replaced: they go
// before the new ones come in, whatever their order.
TEST_F(Client, FullArrayMakesRoomFromTheEntriesItReplaces) {
  Request r(Fields{{":method", "GET"},
                   {":path", "/"},
                   {"baggage", "a=1"},
                   {"baggage", "b=2"}},
            /*extra=*/0); // 2 kept + 2 = 4 entries of room
  ASSERT_EQ(Inject(&ctx, &hb, r), STP_OK);
  EXPECT_EQ(r.Names(), (std::vector<std::string>{":method", ":path",
                                                 "sentry-trace", "baggage"}));
  EXPECT_EQ(r.Values("baggage"), std::vector<std::string>{"a=1,b=2," + kDsc});
  EXPECT_EQ(r.Values("sentry-trace"), std::vector<std::string>{our_trace});

  Config tp_cfg = MakeConfig(nullptr, /*traceparent=*/true);
  stp_context tp_ctx;
  Continue(&tp_ctx, tp_cfg.get());
  Request t(Fields{{":method", "GET"},
                   {"baggage", "a=1"},
                   {"traceparent", "00-old-old-00"},
                   {"baggage", "b=2"},
                   {":path", "/"}},
            /*extra=*/0); // 2 kept + 3 = 5 entries of room
  ASSERT_EQ(Inject(&tp_ctx, &hb, t), STP_OK);
  EXPECT_EQ(t.Names(),
            (std::vector<std::string>{":method", ":path", "sentry-trace",
                                      "baggage", "traceparent"}));
  EXPECT_EQ(t.Values("baggage"), std::vector<std::string>{"a=1,b=2," + kDsc});
}

TEST_F(Client, BadArguments) {
  Request r = Get();
  size_t len = r.len;
  EXPECT_EQ(stp_nghttp2_inject(nullptr, &hb, r.nva.data(), r.nva.size(), &len,
                               nullptr, nullptr, 0),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_nghttp2_inject(&ctx, nullptr, r.nva.data(), r.nva.size(), &len,
                               nullptr, nullptr, 0),
            STP_ERR_INVALID_ARGUMENT);
  len = r.nva.size() + 1;
  EXPECT_EQ(stp_nghttp2_inject(&ctx, &hb, r.nva.data(), r.nva.size(), &len,
                               nullptr, nullptr, 0),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(len, r.nva.size() + 1);
}

// Without propagation targets the URL is not looked at: a request with a
// path longer than STP_NGHTTP2_URL_MAX carries the trace (it carried none
// while the URL was composed regardless). With targets, a URL too long to
// compose is an error, not a match on part of it.
TEST_F(Client, LongPathCarriesTheTraceWithoutTargets) {
  std::string path(STP_NGHTTP2_URL_MAX, 'a');
  path[0] = '/';
  Request r(Fields{{":scheme", "http"}, {":authority", "h"}, {":path", path}});
  EXPECT_EQ(Inject(&ctx, &hb, r), STP_OK);
  EXPECT_EQ(r.len, 5u);
  EXPECT_EQ(r.Values("sentry-trace").size(), 1u);

  std::vector<const char *> targets = {"^http://h/"};
  Config with = MakeConfig(&targets);
  stp_context tctx;
  Continue(&tctx, with.get());
  Request t(Fields{{":scheme", "http"}, {":authority", "h"}, {":path", path}});
  EXPECT_EQ(Inject(&tctx, &hb, t), STP_ERR_TOO_LONG);
  EXPECT_EQ(t.len, 3u);
  EXPECT_EQ(Inject(&tctx, &hb, t, "http://h/short"), STP_OK)
      << "an explicit URL has no such limit";
  EXPECT_EQ(t.len, 5u);
}

TEST(RequestUrl, ComposedFromPseudoHeaders) {
  struct Case {
    const char *what;
    Fields fields;
    std::string want;
  };
  const Case cases[] = {
      {"all parts",
       {{":scheme", "http"}, {":authority", "h:8080"}, {":path", "/a?b"}},
       "http://h:8080/a?b"},
      {"host when no :authority",
       {{":scheme", "https"}, {"Host", "h:1"}, {":path", "/p"}},
       "https://h:1/p"},
      {"host when :authority is empty",
       {{":scheme", "https"}, {":authority", ""}, {"host", "h"}, {":path", "/"}},
       "https://h/"},
      {":authority wins over host",
       {{"host", "b"}, {":authority", "a"}, {":path", "/"}},
       "://a/"},
      {"nothing", {{"accept", "*/*"}}, "://"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.what);
    Request req(c.fields);
    char buf[256];
    size_t len = 0;
    ASSERT_EQ(
        stp_nghttp2_request_url(buf, sizeof buf, &len, req.nva.data(), req.len),
        STP_OK);
    EXPECT_EQ(std::string(buf, len), c.want);
    EXPECT_EQ(std::strlen(buf), len);
  }
  Request r = Get();
  size_t need = 0;
  EXPECT_EQ(stp_nghttp2_request_url(nullptr, 0, &need, r.nva.data(), r.len),
            STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(need, std::strlen("http://api.example.com:8080/v1/users?id=7") + 1);
}

}  // namespace
