// Unit tests of the nghttp2 helpers: the client nv injection, the URL used
// for propagation targets, the per-stream server state, and both together
// over a pair of in-memory nghttp2 sessions.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "stp/nghttp2.h"

namespace {

const std::string kTrace = "771a43a4192642f0b136d5159a501700";
const std::string kSpan = "b1c2d3e4f5a6b7c8";
const std::string kIncoming = kTrace + "-" + kSpan + "-1";
const std::string kDsc = "sentry-trace_id=" + kTrace +
                         ",sentry-public_key=49d0f7386ad645858ae85020e393bef3"
                         ",sentry-sample_rate=0.25,sentry-sampled=true"
                         ",sentry-sample_rand=0.123456,sentry-custom=kept";

struct ConfigDel {
  void operator()(stp_config *c) const {
    stp_config_del(c);
  }
};
using Config = std::unique_ptr<stp_config, ConfigDel>;

Config MakeConfig(const std::vector<const char *> *targets = nullptr,
                  bool traceparent = false) {
  stp_options o;
  stp_options_init(&o);
  o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o123.ingest.sentry.io/42";
  o.has_sample_rate = true;
  o.sample_rate = 0.25;
  o.propagate_traceparent = traceparent;
  static const char *const kNone[1] = {nullptr};
  if (targets) {
    // An empty vector's data() may be NULL, which would mean "everything".
    o.targets = targets->empty() ? kNone : targets->data();
    o.targets_len = targets->size();
  }
  stp_config *c = nullptr;
  EXPECT_EQ(stp_config_new(&c, &o, nullptr), STP_OK);
  return Config(c);
}

// A context that continued kIncoming with kDsc.
void Continue(stp_context *ctx, const stp_config *cfg) {
  stp_context_begin(ctx, cfg);
  stp_context_feed(ctx, "sentry-trace", 12, kIncoming.data(), kIncoming.size());
  stp_context_feed(ctx, "baggage", 7, kDsc.data(), kDsc.size());
  ASSERT_EQ(stp_context_finish(ctx), STP_OK);
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// Header list whose nghttp2_nv entries point into its own strings (so it
// cannot be copied or moved).
struct Request {
  Fields fields;
  std::vector<nghttp2_nv> nva;
  size_t len = 0;

  explicit Request(Fields f, size_t extra = STP_NGHTTP2_NV_EXTRA)
      : fields(std::move(f)) {
    for (auto &kv : fields)
      nva.push_back(nghttp2_nv{(uint8_t *)kv.first.data(),
                               (uint8_t *)kv.second.data(), kv.first.size(),
                               kv.second.size(), NGHTTP2_NV_FLAG_NONE});
    len = nva.size();
    nva.resize(len + extra);
  }
  Request(const Request &) = delete;
  Request &operator=(const Request &) = delete;
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < len; i++)
      out.emplace_back((const char *)nva[i].name, nva[i].namelen);
    return out;
  }
  // Values of every entry named `name` (exact, lowercase).
  std::vector<std::string> Values(const std::string &name) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < len; i++)
      if (std::string((const char *)nva[i].name, nva[i].namelen) == name)
        out.emplace_back((const char *)nva[i].value, nva[i].valuelen);
    return out;
  }
};

Request Get(const Fields &more = {}) {
  Fields f = {{":method", "GET"},
              {":scheme", "http"},
              {":authority", "api.example.com:8080"},
              {":path", "/v1/users?id=7"}};
  f.insert(f.end(), more.begin(), more.end());
  return Request(f);
}

int Inject(stp_context *ctx, stp_nghttp2_headers *hb, Request &r,
           const char *url = nullptr) {
  return stp_nghttp2_inject(ctx, hb, r.nva.data(), r.nva.size(), &r.len,
                            nullptr, url, url ? std::strlen(url) : 0);
}

bool ValidFieldValue(const std::string &v) {
  if (v.empty() || v.front() == ' ' || v.back() == ' ')
    return false;
  for (unsigned char c : v)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

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

// ---- server side
// --------------------------------------------------------------

nghttp2_frame HeadersFrame(int32_t stream_id, nghttp2_headers_category cat) {
  nghttp2_frame f;
  std::memset(&f, 0, sizeof f);
  f.hd.type = NGHTTP2_HEADERS;
  f.hd.flags = NGHTTP2_FLAG_END_HEADERS;
  f.hd.stream_id = stream_id;
  f.headers.cat = cat;
  return f;
}

void Feed(stp_nghttp2_stream *st, const nghttp2_frame &f,
          const std::string &name, const std::string &value) {
  EXPECT_EQ(stp_nghttp2_stream_on_header(
                st, &f, (const uint8_t *)name.data(), name.size(),
                (const uint8_t *)value.data(), value.size()),
            STP_OK);
}

std::string Hex(const stp_trace_id &id) {
  char b[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&id, b);
  return b;
}
std::string Hex(const stp_span_id &id) {
  char b[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&id, b);
  return b;
}

TEST(ServerStream, ContextOnceTheRequestHeadersAreComplete) {
  Config cfg = MakeConfig();
  stp_nghttp2_stream st;
  stp_nghttp2_stream_begin(&st, cfg.get(), 3);
  const nghttp2_frame req = HeadersFrame(3, NGHTTP2_HCAT_REQUEST);
  Feed(&st, req, ":method", "GET");
  Feed(&st, req, "sentry-trace", kIncoming);
  Feed(&st, req, "sentry-trace",
       "0af7651916cd43dd8448eb211c80319c-"
       "00f067aa0ba902b7-0"); // first valid wins
  Feed(&st, req, "baggage", kDsc.substr(0, 50));
  Feed(&st, req, "baggage", kDsc.substr(50)); // joined as with ','
  EXPECT_EQ(stp_nghttp2_stream_context(&st), nullptr);

  const nghttp2_frame other = HeadersFrame(5, NGHTTP2_HCAT_REQUEST);
  EXPECT_EQ(stp_nghttp2_stream_on_frame_recv(&st, &other), nullptr)
      << "another stream's frame";
  stp_context *ctx = stp_nghttp2_stream_on_frame_recv(&st, &req);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_nghttp2_stream_context(&st), ctx);
  EXPECT_EQ(stp_context_status(ctx), STP_OK);
  const stp_span *span = stp_context_span(ctx);
  EXPECT_EQ(Hex(span->trace_id), kTrace);
  EXPECT_EQ(Hex(span->parent_span_id), kSpan);
  EXPECT_NE(Hex(span->span_id), kSpan);
  EXPECT_EQ(span->sampled, STP_SAMPLED_YES);
  EXPECT_EQ(stp_nghttp2_stream_on_frame_recv(&st, &req), nullptr)
      << "only once";
}

TEST(ServerStream, IgnoresWhatIsNotTheRequestBlock) {
  Config cfg = MakeConfig();
  stp_nghttp2_stream st;
  stp_nghttp2_stream_begin(&st, cfg.get(), 1);
  const nghttp2_frame other = HeadersFrame(7, NGHTTP2_HCAT_REQUEST);
  Feed(&st, other, "sentry-trace", kIncoming); // not this stream
  nghttp2_frame push = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  push.hd.type = NGHTTP2_PUSH_PROMISE;
  Feed(&st, push, "sentry-trace", kIncoming);
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  stp_context *ctx = stp_nghttp2_stream_on_frame_recv(&st, &req);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_context_status(ctx), STP_ERR_ABSENT) << "a new head";
  EXPECT_FALSE(stp_context_continued(ctx));

  const nghttp2_frame trailers = HeadersFrame(1, NGHTTP2_HCAT_HEADERS);
  Feed(&st, trailers, "sentry-trace", kIncoming);
  EXPECT_EQ(stp_nghttp2_stream_on_frame_recv(&st, &trailers), nullptr);
  EXPECT_FALSE(stp_context_continued(ctx)) << "trailers change nothing";
}

TEST(ServerStream, HostileHeadersAreBoundedAndHarmless) {
  Config cfg = MakeConfig();
  stp_nghttp2_stream st;
  stp_nghttp2_stream_begin(&st, cfg.get(), 1);
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  std::string many;
  for (int i = 0; i < 5000; i++)
    many += "k" + std::to_string(i) + "=v,";
  const std::string junk("\x00\r\n\x7f\xff,=;%", 10);
  Feed(&st, req, "sentry-trace", junk);
  Feed(&st, req, "sentry-trace", kIncoming);
  Feed(&st, req, "baggage", std::string(64 * 1024, 'x'));
  Feed(&st, req, "baggage", many);
  Feed(&st, req, "baggage", junk);
  Feed(&st, req, "baggage", kDsc); // past the scan bound: ignored
  stp_context *ctx = stp_nghttp2_stream_on_frame_recv(&st, &req);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_context_status(ctx), STP_OK) << "trace still continued";
  EXPECT_LE(stp_context_member_count(ctx), (size_t)STP_BAGGAGE_MAX_MEMBERS);
  char out[STP_BAGGAGE_MAX_BYTES + 1];
  size_t len = 0;
  ASSERT_EQ(stp_context_baggage(ctx, out, sizeof out, &len, nullptr, 0),
            STP_OK);
  EXPECT_LE(len, (size_t)STP_BAGGAGE_MAX_BYTES);
  for (size_t i = 0; i < len; i++)
    EXPECT_TRUE(out[i] >= 0x20 && out[i] <= 0x7e);
}

TEST(ServerStream, NewAndDel) {
  Config cfg = MakeConfig();
  stp_nghttp2_stream *st = nullptr;
  EXPECT_EQ(stp_nghttp2_stream_new(&st, nullptr, 1, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(st, nullptr);
  ASSERT_EQ(stp_nghttp2_stream_new(&st, cfg.get(), 1, nullptr), STP_OK);
  EXPECT_EQ(stp_nghttp2_stream_context(st), nullptr);
  stp_nghttp2_stream_del(st);
  stp_nghttp2_stream_del(nullptr);
  EXPECT_EQ(stp_nghttp2_stream_context(nullptr), nullptr);
  EXPECT_EQ(stp_nghttp2_stream_begin(nullptr, cfg.get(), 1),
            STP_ERR_INVALID_ARGUMENT);
  stp_nghttp2_stream local;
  EXPECT_EQ(stp_nghttp2_stream_begin(&local, nullptr, 1),
            STP_ERR_INVALID_ARGUMENT);
}

// A heap stream remembers its allocator: del takes the stream alone and
// frees through the allocator that made it.
TEST(ServerStream, DelFreesThroughTheAllocatorThatMadeIt) {
  struct Counts {
    int allocs = 0, frees = 0;
    void *last = nullptr;
  } n;
  stp_allocator a = {
      [](size_t size, void *u) -> void * {
        auto *c = static_cast<Counts *>(u);
        c->allocs++;
        return c->last = malloc(size);
      },
      [](void *p, void *u) {
        auto *c = static_cast<Counts *>(u);
        EXPECT_EQ(p, c->last);
        c->frees++;
        free(p);
      },
      &n};
  Config cfg = MakeConfig();
  stp_nghttp2_stream *st = nullptr;
  ASSERT_EQ(stp_nghttp2_stream_new(&st, cfg.get(), 3, &a), STP_OK);
  EXPECT_EQ(n.allocs, 1);
  stp_nghttp2_stream_del(st);
  EXPECT_EQ(n.frees, 1);
  EXPECT_EQ(
      stp_nghttp2_stream_on_header(nullptr, nullptr, nullptr, 0, nullptr, 0),
      STP_ERR_INVALID_ARGUMENT);
}

// ---- a client session talking to a server session, in memory
// ------------------

struct ServerSide {
  const stp_config *cfg;
  // Stream ids and their state.
  std::vector<std::pair<int32_t, std::unique_ptr<stp_nghttp2_stream>>> streams;
  std::vector<stp_span> seen;
  std::vector<std::string> baggage_out;

  stp_nghttp2_stream *Find(int32_t id) {
    for (auto &s : streams)
      if (s.first == id)
        return s.second.get();
    return nullptr;
  }
};

int OnBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    srv->streams.emplace_back(frame->hd.stream_id, new stp_nghttp2_stream);
    stp_nghttp2_stream_begin(srv->streams.back().second.get(), srv->cfg,
                             frame->hd.stream_id);
  }
  return 0;
}

int OnHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
             size_t namelen, const uint8_t *value, size_t valuelen, uint8_t,
             void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  stp_nghttp2_stream_on_header(srv->Find(frame->hd.stream_id), frame, name,
                               namelen, value, valuelen);
  return 0;
}

int OnFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  stp_nghttp2_stream *st = srv->Find(frame->hd.stream_id);
  if (stp_context *ctx =
          st ? stp_nghttp2_stream_on_frame_recv(st, frame) : nullptr) {
    srv->seen.push_back(*stp_context_span(ctx));
    char b[STP_BAGGAGE_MAX_BYTES + 1];
    size_t n = 0;
    stp_context_baggage(ctx, b, sizeof b, &n, nullptr, 0);
    srv->baggage_out.emplace_back(b, n);
  }
  return 0;
}

// Moves every pending byte from one session to the other until both idle.
void Pump(nghttp2_session *a, nghttp2_session *b) {
  for (int round = 0; round < 100; round++) {
    bool moved = false;
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      const uint8_t *data;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(from, &data)) > 0) {
        ASSERT_EQ(nghttp2_session_mem_recv(to, data, (size_t)n), n);
        moved = true;
      }
      ASSERT_GE(n, 0);
    }
    if (!moved)
      return;
  }
  FAIL() << "sessions never went idle";
}

TEST(InMemory, ClientInjectsAndServerContinues) {
  Config cfg = MakeConfig();
  ServerSide srv{cfg.get(), {}, {}, {}};

  nghttp2_session_callbacks *cbs;
  ASSERT_EQ(nghttp2_session_callbacks_new(&cbs), 0);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecv);
  nghttp2_session *server, *client;
  ASSERT_EQ(nghttp2_session_server_new(&server, cbs, &srv), 0);
  nghttp2_session_callbacks_del(cbs);
  ASSERT_EQ(nghttp2_session_callbacks_new(&cbs), 0);
  ASSERT_EQ(nghttp2_session_client_new(&client, cbs, nullptr), 0);
  nghttp2_session_callbacks_del(cbs);
  ASSERT_EQ(nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0), 0);
  ASSERT_EQ(nghttp2_submit_settings(server, NGHTTP2_FLAG_NONE, nullptr, 0), 0);

  stp_context ctx;
  Continue(&ctx, cfg.get());
  std::vector<stp_span> sent;
  for (int i = 0; i < 3; i++) {
    stp_span child;
    stp_context_child_span(&ctx, &child);
    sent.push_back(child);
    // The header storage is reused at once: nghttp2 copied the values.
    stp_nghttp2_headers hb;
    Request r = Get({{"baggage", "third=party"}});
    ASSERT_EQ(stp_nghttp2_inject(&ctx, &hb, r.nva.data(), r.nva.size(), &r.len,
                                 &child, nullptr, 0),
              STP_OK);
    ASSERT_GT(nghttp2_submit_request(client, nullptr, r.nva.data(), r.len,
                                     nullptr, nullptr),
              0);
    std::memset(&hb, 'X', sizeof hb);
  }
  Pump(client, server);

  ASSERT_EQ(srv.seen.size(), 3u);
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ(Hex(srv.seen[i].trace_id), kTrace);
    EXPECT_EQ(Hex(srv.seen[i].parent_span_id), Hex(sent[i].span_id));
    EXPECT_EQ(srv.seen[i].sampled, STP_SAMPLED_YES);
    EXPECT_EQ(srv.baggage_out[i], kDsc) << "DSC carried, third party not";
  }
  nghttp2_session_del(client);
  nghttp2_session_del(server);
}

} // namespace
