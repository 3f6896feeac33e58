// The server side of the nghttp2 helpers: the per-stream state fed from
// nghttp2's callbacks, and a client session talking to a server session in
// memory, both through the helpers.
#include "tests/h2/nghttp2_test_util.h"

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

void Feed(stp_nghttp2_stream *st, const nghttp2_frame &f,
          const std::string &name, const std::string &value) {
  EXPECT_EQ(stp_nghttp2_stream_on_header(
                st, &f, (const uint8_t *)name.data(), name.size(),
                (const uint8_t *)value.data(), value.size()),
            STP_OK);
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

}  // namespace
