// The server side of the nghttp2 helpers: the per-stream state fed from
// nghttp2's callbacks, and a client session talking to a server session in
// memory, both through the helpers.
#include <iostream>

#include "tests/h2/nghttp2_test_util.h"
#include "tests/reference_request.h"

using namespace nghttp2_test;

namespace {

nghttp2_frame HeadersFrame(int32_t stream_id, nghttp2_headers_category cat) {
  nghttp2_frame f;
  std::memset(&f, 0, sizeof f);
  f.hd.type = NGHTTP2_HEADERS;
  f.hd.flags = NGHTTP2_FLAG_END_HEADERS;
  f.hd.stream_id = stream_id;
  f.headers.cat = cat;
  return f;
}

// A session, deleted at the end of the scope.
struct Session {
  explicit Session(const stp_config *cfg, const stp_allocator *a = nullptr) {
    EXPECT_EQ(stp_nghttp2_session_new(&s, cfg, a), STP_OK);
  }
  ~Session() { stp_nghttp2_session_del(s); }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  stp_nghttp2_session *s = nullptr;
};

// A stream's state, deleted at the end of the scope.
struct Stream {
  ~Stream() { stp_nghttp2_stream_del(st); }
  stp_nghttp2_stream *st = nullptr;
};

void Feed(stp_nghttp2_session *s, const nghttp2_frame &f,
          const std::string &name, const std::string &value) {
  EXPECT_EQ(stp_nghttp2_session_on_header(
                s, &f, (const uint8_t *)name.data(), name.size(),
                (const uint8_t *)value.data(), value.size()),
            STP_OK);
}

// Ends the block of frame f: the stream's state, or nullptr.
stp_nghttp2_stream *End(stp_nghttp2_session *s, const nghttp2_frame &f) {
  stp_nghttp2_stream *st = reinterpret_cast<stp_nghttp2_stream *>(0x1);
  EXPECT_EQ(stp_nghttp2_session_on_frame_recv(s, &st, &f), STP_OK);
  return st;
}

TEST(ServerStream, ContextOnceTheRequestHeadersAreComplete) {
  Config cfg = MakeConfig();
  Session sess(cfg.get());
  const nghttp2_frame req = HeadersFrame(3, NGHTTP2_HCAT_REQUEST);
  ASSERT_EQ(stp_nghttp2_session_on_begin_headers(sess.s, &req), STP_OK);
  Feed(sess.s, req, ":method", "GET");
  Feed(sess.s, req, "sentry-trace", kIncoming);
  Feed(sess.s, req, "sentry-trace",
       "0af7651916cd43dd8448eb211c80319c-"
       "00f067aa0ba902b7-0"); // first valid wins
  Feed(sess.s, req, "baggage", kDsc.substr(0, 50));
  Feed(sess.s, req, "baggage", kDsc.substr(50)); // joined as with ','

  const nghttp2_frame other = HeadersFrame(5, NGHTTP2_HCAT_REQUEST);
  EXPECT_EQ(End(sess.s, other), nullptr) << "another stream's frame";
  Stream st;
  st.st = End(sess.s, req);
  ASSERT_NE(st.st, nullptr);
  stp_context *ctx = stp_nghttp2_stream_context(st.st);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_context_status(ctx), STP_OK);
  const stp_span *span = stp_context_span(ctx);
  EXPECT_EQ(Hex(span->trace_id), kTrace);
  EXPECT_EQ(Hex(span->parent_span_id), kSpan);
  EXPECT_NE(Hex(span->span_id), kSpan);
  EXPECT_EQ(span->sampled, STP_SAMPLED_YES);
  EXPECT_EQ(End(sess.s, req), nullptr) << "only once";
}

TEST(ServerStream, IgnoresWhatIsNotTheRequestBlock) {
  Config cfg = MakeConfig();
  Session sess(cfg.get());
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  ASSERT_EQ(stp_nghttp2_session_on_begin_headers(sess.s, &req), STP_OK);
  const nghttp2_frame other = HeadersFrame(7, NGHTTP2_HCAT_REQUEST);
  Feed(sess.s, other, "sentry-trace", kIncoming); // not this stream
  nghttp2_frame push = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  push.hd.type = NGHTTP2_PUSH_PROMISE;
  Feed(sess.s, push, "sentry-trace", kIncoming);
  Stream st;
  st.st = End(sess.s, req);
  stp_context *ctx = stp_nghttp2_stream_context(st.st);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_context_status(ctx), STP_ERR_ABSENT) << "a new head";
  EXPECT_FALSE(stp_context_continued(ctx));

  // Trailers begin no block, and change nothing.
  const nghttp2_frame trailers = HeadersFrame(1, NGHTTP2_HCAT_HEADERS);
  ASSERT_EQ(stp_nghttp2_session_on_begin_headers(sess.s, &trailers), STP_OK);
  Feed(sess.s, trailers, "sentry-trace", kIncoming);
  EXPECT_EQ(End(sess.s, trailers), nullptr);
  EXPECT_FALSE(stp_context_continued(ctx)) << "trailers change nothing";
}

// A request without a trace gets a new head, which the handler names once
// it has routed the request: its stream's context has room for the name.
TEST(ServerStream, AHeadIsNamedOnceRouted) {
  Config cfg = MakeConfig();
  Session sess(cfg.get());
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  ASSERT_EQ(stp_nghttp2_session_on_begin_headers(sess.s, &req), STP_OK);
  Feed(sess.s, req, ":method", "GET");
  Feed(sess.s, req, ":path", "/api/users/42");
  Stream st;
  st.st = End(sess.s, req);
  stp_context *ctx = stp_nghttp2_stream_context(st.st);
  ASSERT_NE(ctx, nullptr);
  ASSERT_FALSE(stp_context_continued(ctx));
  const std::string route = "GET /api/users/{id}";
  ASSERT_STREQ(stp_error_name(stp_context_set_transaction(ctx, route.data(),
                                                          route.size())),
               stp_error_name(STP_OK));
  char bag[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n = 0;
  ASSERT_EQ(stp_context_dsc_get(ctx, bag, sizeof bag, &n, "transaction", 11),
            STP_OK);
  EXPECT_EQ(std::string(bag, n), route);
  ASSERT_EQ(stp_context_baggage(ctx, bag, sizeof bag, &n, nullptr, 0), STP_OK);
  EXPECT_NE(std::string(bag, n).find(
                "sentry-transaction=GET%20/api/users/{id}"),
            std::string::npos)
      << std::string(bag, n);
}

// One block at a time per connection: each stream gets its own trace, and
// a block begun and never ended (its connection failed it) is dropped.
TEST(ServerStream, StreamsOfOneSessionKeepTheirOwnTrace) {
  Config cfg = MakeConfig();
  Session sess(cfg.get());
  const nghttp2_frame a = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  const nghttp2_frame b = HeadersFrame(3, NGHTTP2_HCAT_REQUEST);
  const nghttp2_frame c = HeadersFrame(5, NGHTTP2_HCAT_REQUEST);
  stp_nghttp2_session_on_begin_headers(sess.s, &a);
  Feed(sess.s, a, "sentry-trace", kIncoming);
  Stream sa;
  sa.st = End(sess.s, a);
  stp_nghttp2_session_on_begin_headers(sess.s, &b);
  Feed(sess.s, b, "sentry-trace", "0af7651916cd43dd8448eb211c80319c-"
                                  "00f067aa0ba902b7-0");
  stp_nghttp2_session_on_begin_headers(sess.s, &c); // b never ends
  Stream sb, sc;
  sc.st = End(sess.s, c);
  sb.st = End(sess.s, b);
  EXPECT_EQ(sb.st, nullptr);
  ASSERT_NE(sa.st, nullptr);
  ASSERT_NE(sc.st, nullptr);
  EXPECT_EQ(Hex(stp_context_span(stp_nghttp2_stream_context(sa.st))->trace_id),
            kTrace);
  EXPECT_FALSE(stp_context_continued(stp_nghttp2_stream_context(sc.st)));
}

TEST(ServerStream, HostileHeadersAreBoundedAndHarmless) {
  Config cfg = MakeConfig();
  Session sess(cfg.get());
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  stp_nghttp2_session_on_begin_headers(sess.s, &req);
  std::string many;
  for (int i = 0; i < 5000; i++)
    many += "k" + std::to_string(i) + "=v,";
  const std::string junk("\x00\r\n\x7f\xff,=;%", 10);
  Feed(sess.s, req, "sentry-trace", junk);
  Feed(sess.s, req, "sentry-trace", kIncoming);
  Feed(sess.s, req, "baggage", std::string(64 * 1024, 'x'));
  Feed(sess.s, req, "baggage", many);
  Feed(sess.s, req, "baggage", junk);
  Feed(sess.s, req, "baggage", kDsc); // past the scan bound: ignored
  Stream st;
  st.st = End(sess.s, req);
  stp_context *ctx = stp_nghttp2_stream_context(st.st);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(stp_context_status(ctx), STP_OK) << "trace still continued";
  EXPECT_LE(stp_context_member_count(ctx), (size_t)STP_BAGGAGE_MAX_MEMBERS);
  // What is kept is bounded by what a whole context holds.
  EXPECT_LE(stp_nghttp2_stream_bytes(st.st), sizeof(stp_context) + 512);
  char out[STP_BAGGAGE_MAX_BYTES + 1];
  size_t len = 0;
  ASSERT_EQ(stp_context_baggage(ctx, out, sizeof out, &len, nullptr, 0),
            STP_OK);
  EXPECT_LE(len, (size_t)STP_BAGGAGE_MAX_BYTES);
  for (size_t i = 0; i < len; i++)
    EXPECT_TRUE(out[i] >= 0x20 && out[i] <= 0x7e);
}

// The reference request (sentry-trace and the 321-byte baggage of
// tests/reference_request.h) costs under 1 KiB per stream, records on or off.
TEST(ServerStream, TheReferenceRequestKeepsUnderOneKibibyte) {
  const std::string baggage = STP_REF_BAGGAGE;
  ASSERT_EQ(baggage.size(), 321u);
  for (bool with_records : {false, true}) {
    stp_options o;
    stp_options_init(&o);
    o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o123.ingest.sentry.io/42";
    if (with_records)
      o.on_record = [](void *, const stp_span_record *) {};
    stp_config *c = nullptr;
    ASSERT_EQ(stp_config_new(&c, &o, nullptr), STP_OK);
    Config cfg(c);
    Session sess(cfg.get());
    const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
    stp_nghttp2_session_on_begin_headers(sess.s, &req);
    Feed(sess.s, req, ":method", "POST");
    Feed(sess.s, req, ":path", "/api/users?page=2");
    Feed(sess.s, req, "sentry-trace", kIncoming);
    Feed(sess.s, req, "baggage", baggage);
    Stream st;
    st.st = End(sess.s, req);
    ASSERT_NE(st.st, nullptr);
    size_t bytes = stp_nghttp2_stream_bytes(st.st);
    EXPECT_GT(bytes, baggage.size());
    EXPECT_LE(bytes, 1024u) << (with_records ? "records" : "no records");
    std::cout << "stream state, records " << (with_records ? "on" : "off")
              << ": " << bytes << " bytes\n";
    EXPECT_EQ(Hex(stp_context_span(stp_nghttp2_stream_context(st.st))
                      ->trace_id),
              kTrace);
  }
}

TEST(ServerStream, NullsAreRefused) {
  Config cfg = MakeConfig();
  stp_nghttp2_session *s = reinterpret_cast<stp_nghttp2_session *>(0x1);
  EXPECT_EQ(stp_nghttp2_session_new(&s, nullptr, nullptr),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(stp_nghttp2_session_new(nullptr, cfg.get(), nullptr),
            STP_ERR_INVALID_ARGUMENT);
  stp_allocator half = {nullptr, [](void *, void *) {}, nullptr};
  EXPECT_EQ(stp_nghttp2_session_new(&s, cfg.get(), &half),
            STP_ERR_INVALID_ARGUMENT);
  stp_nghttp2_session_del(nullptr);
  stp_nghttp2_stream_del(nullptr);
  EXPECT_EQ(stp_nghttp2_stream_context(nullptr), nullptr);
  EXPECT_EQ(stp_nghttp2_stream_bytes(nullptr), 0u);
  EXPECT_EQ(stp_nghttp2_stream_on_close(nullptr, 0), STP_ERR_INVALID_ARGUMENT);
  const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
  EXPECT_EQ(stp_nghttp2_session_on_begin_headers(nullptr, &req),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(
      stp_nghttp2_session_on_header(nullptr, nullptr, nullptr, 0, nullptr, 0),
      STP_ERR_INVALID_ARGUMENT);
  stp_nghttp2_stream *st = reinterpret_cast<stp_nghttp2_stream *>(0x1);
  EXPECT_EQ(stp_nghttp2_session_on_frame_recv(nullptr, &st, &req),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(st, nullptr);
  Session sess(cfg.get());
  EXPECT_EQ(stp_nghttp2_session_on_frame_recv(sess.s, nullptr, &req),
            STP_ERR_INVALID_ARGUMENT);
}

// The session and its streams come from the allocator given, which they
// remember: del takes the object alone. A failed allocation is
// STP_ERR_NOMEM, and the stream has no state.
TEST(ServerStream, AllocationsGoThroughTheAllocatorGiven) {
  struct Counts {
    int allocs = 0, frees = 0, fail_at = 0, misalign_at = 0;
    char *off = nullptr; // the misaligned block given
  } n;
  // A block misaligned by 4 bytes (an allocator that breaks the rule) is
  // given back, not used.
  stp_allocator a = {
      [](size_t size, void *u) -> void * {
        auto *c = static_cast<Counts *>(u);
        if (++c->allocs == c->fail_at)
          return nullptr;
        char *p = static_cast<char *>(malloc(size + 4));
        if (c->allocs != c->misalign_at)
          return p;
        return c->off = p + 4;
      },
      [](void *p, void *u) {
        auto *c = static_cast<Counts *>(u);
        c->frees++;
        free(static_cast<char *>(p) - (p == c->off ? 4 : 0));
      },
      &n};
  Config cfg = MakeConfig();
  {
    Session sess(cfg.get(), &a);
    EXPECT_EQ(n.allocs, 1);
    const nghttp2_frame req = HeadersFrame(1, NGHTTP2_HCAT_REQUEST);
    stp_nghttp2_session_on_begin_headers(sess.s, &req);
    Feed(sess.s, req, "sentry-trace", kIncoming);
    Stream st;
    st.st = End(sess.s, req);
    EXPECT_EQ(n.allocs, 2);
    n.fail_at = 3;
    const nghttp2_frame next = HeadersFrame(3, NGHTTP2_HCAT_REQUEST);
    stp_nghttp2_session_on_begin_headers(sess.s, &next);
    stp_nghttp2_stream *failed = reinterpret_cast<stp_nghttp2_stream *>(0x1);
    EXPECT_EQ(stp_nghttp2_session_on_frame_recv(sess.s, &failed, &next),
              STP_ERR_NOMEM);
    EXPECT_EQ(failed, nullptr);
    n.misalign_at = 4;
    const nghttp2_frame third = HeadersFrame(5, NGHTTP2_HCAT_REQUEST);
    stp_nghttp2_session_on_begin_headers(sess.s, &third);
    failed = reinterpret_cast<stp_nghttp2_stream *>(0x1);
    EXPECT_EQ(stp_nghttp2_session_on_frame_recv(sess.s, &failed, &third),
              STP_ERR_NOMEM);
    EXPECT_EQ(failed, nullptr);
    EXPECT_EQ(n.frees, 1) << "the misaligned block, given back";
  }
  EXPECT_EQ(n.frees, 3);
}

// ---- a client session talking to a server session, in memory
// ------------------

struct ServerSide {
  explicit ServerSide(const stp_config *c) : cfg(c), sess(c) {}
  const stp_config *cfg;
  Session sess;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<stp_span> seen;
  std::vector<std::string> baggage_out;
};

int OnBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  stp_nghttp2_session_on_begin_headers(srv->sess.s, frame);
  return 0;
}

int OnHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
             size_t namelen, const uint8_t *value, size_t valuelen, uint8_t,
             void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  stp_nghttp2_session_on_header(srv->sess.s, frame, name, namelen, value,
                                valuelen);
  return 0;
}

int OnFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *u) {
  auto *srv = static_cast<ServerSide *>(u);
  stp_nghttp2_stream *st = nullptr;
  EXPECT_EQ(stp_nghttp2_session_on_frame_recv(srv->sess.s, &st, frame),
            STP_OK);
  if (st) {
    srv->streams.push_back(std::make_unique<Stream>());
    srv->streams.back()->st = st;
    stp_context *ctx = stp_nghttp2_stream_context(st);
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
  ServerSide srv(cfg.get());

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

}  // namespace
