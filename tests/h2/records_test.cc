// The nghttp2 helpers' span records: one `http.client` per request, one
// `http.server` per stream, over a client and a server session in memory.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stp/nghttp2.h"

namespace {

struct Seen {
  stp_span span;
  std::string op, description, status, source;
  int code, continue_status;
  bool local_root, injected;
};

void Record(void *user, const stp_span_record *rec) {
  static_cast<std::vector<Seen> *>(user)->push_back(
      {rec->span, rec->op, std::string(rec->description, rec->description_len),
       rec->status, rec->source ? rec->source : "", rec->code,
       rec->continue_status, rec->local_root, rec->injected});
}

std::string Hex(const stp_span_id &id) {
  char b[STP_SPAN_ID_HEX_LEN + 1];
  stp_span_id_format(&id, b);
  return b;
}

nghttp2_nv Nv(const char *n, const char *v) {
  return {(uint8_t *)n, (uint8_t *)v, strlen(n), strlen(v),
          NGHTTP2_NV_FLAG_NONE};
}

// Both ends of one connection, with their records.
struct Pair {
  std::vector<Seen> records;
  stp_config *cfg = nullptr;
  nghttp2_session *client = nullptr, *server = nullptr;
  struct StreamDel {
    void operator()(stp_nghttp2_stream *st) const { stp_nghttp2_stream_del(st); }
  };
  stp_nghttp2_session *traces = nullptr;
  std::map<int32_t, std::unique_ptr<stp_nghttp2_stream, StreamDel>> streams;
  std::map<int32_t, stp_nghttp2_request *> requests;
  const char *answer = "200"; // the :status the server sends; "" resets

  Pair() {
    stp_options o;
    stp_options_init(&o);
    o.has_sample_rate = true;
    o.sample_rate = 1;
    o.on_record = Record;
    o.record_user = &records;
    EXPECT_EQ(stp_config_new(&cfg, &o, nullptr), STP_OK);
    EXPECT_EQ(stp_nghttp2_session_new(&traces, cfg, nullptr), STP_OK);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, SBegin);
    nghttp2_session_callbacks_set_on_header_callback(cbs, SHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, SFrameRecv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, SFrameSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, SClose);
    nghttp2_session_server_new(&server, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, CHeader);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, CClose);
    nghttp2_session_client_new(&client, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0);
    nghttp2_submit_settings(server, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Pair() {
    nghttp2_session_del(client);
    nghttp2_session_del(server);
    streams.clear();
    stp_nghttp2_session_del(traces);
    stp_config_del(cfg);
  }

  static Pair *Of(void *u) { return static_cast<Pair *>(u); }

  static int SBegin(nghttp2_session *, const nghttp2_frame *f, void *u) {
    stp_nghttp2_session_on_begin_headers(Of(u)->traces, f);
    return 0;
  }
  static int SHeader(nghttp2_session *, const nghttp2_frame *f,
                     const uint8_t *n, size_t nl, const uint8_t *v, size_t vl,
                     uint8_t, void *u) {
    stp_nghttp2_session_on_header(Of(u)->traces, f, n, nl, v, vl);
    return 0;
  }
  static int SFrameRecv(nghttp2_session *s, const nghttp2_frame *f, void *u) {
    stp_nghttp2_stream *st = nullptr;
    EXPECT_EQ(stp_nghttp2_session_on_frame_recv(Of(u)->traces, &st, f), STP_OK);
    if (!st)
      return 0;
    Of(u)->streams[f->hd.stream_id].reset(st);
    if (!*Of(u)->answer)
      return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
                                       NGHTTP2_CANCEL);
    nghttp2_nv nv = Nv(":status", Of(u)->answer);
    return nghttp2_submit_response(s, f->hd.stream_id, &nv, 1, nullptr);
  }
  static int SFrameSend(nghttp2_session *, const nghttp2_frame *f, void *u) {
    auto it = Of(u)->streams.find(f->hd.stream_id);
    if (it != Of(u)->streams.end())
      stp_nghttp2_stream_on_frame_send(it->second.get(), f);
    return 0;
  }
  static int SClose(nghttp2_session *, int32_t id, uint32_t err, void *u) {
    auto it = Of(u)->streams.find(id);
    if (it != Of(u)->streams.end()) {
      EXPECT_EQ(stp_nghttp2_stream_on_close(it->second.get(), err), STP_OK);
    }
    return 0;
  }
  static int CHeader(nghttp2_session *, const nghttp2_frame *f,
                     const uint8_t *n, size_t nl, const uint8_t *v, size_t vl,
                     uint8_t, void *u) {
    stp_nghttp2_request_on_header(Of(u)->requests[f->hd.stream_id], f, n, nl,
                                  v, vl);
    return 0;
  }
  static int CClose(nghttp2_session *, int32_t id, uint32_t err, void *u) {
    EXPECT_EQ(stp_nghttp2_request_end(Of(u)->requests[id], err), STP_OK);
    return 0;
  }

  void Pump() {
    for (int round = 0; round < 100; round++) {
      bool moved = false;
      for (auto [from, to] : {std::pair{client, server}, {server, client}}) {
        const uint8_t *data;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(from, &data)) > 0) {
          ASSERT_EQ(nghttp2_session_mem_recv(to, data, (size_t)n), n);
          moved = true;
        }
      }
      if (!moved)
        return;
    }
    FAIL() << "sessions never went idle";
  }

  // One GET of `path` from a unit of work with context ctx.
  void Get(stp_context *ctx, stp_nghttp2_request *req, const char *path,
           const stp_span *span) {
    nghttp2_nv nva[4 + STP_NGHTTP2_NV_EXTRA] = {
        Nv(":method", "GET"), Nv(":scheme", "http"),
        Nv(":authority", "api:8080"), Nv(":path", path)};
    size_t len = 4;
    stp_nghttp2_headers hb;
    ASSERT_EQ(stp_nghttp2_request_begin(req, ctx, &hb, nva, 7, &len, span,
                                        nullptr, 0),
              STP_OK);
    int32_t id =
        nghttp2_submit_request(client, nullptr, nva, len, nullptr, nullptr);
    ASSERT_GT(id, 0);
    requests[id] = req;
    Pump();
  }
};

TEST(Records, OneClientAndOneServerRecordPerRequest) {
  Pair p;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, p.cfg), STP_OK);
  p.answer = "404";
  stp_nghttp2_request req;
  p.Get(&ctx, &req, "/users/42?token=secret", nullptr);
  ASSERT_EQ(p.records.size(), 2u);
  const Seen &server = p.records[0], &client = p.records[1];
  EXPECT_EQ(client.op, "http.client");
  EXPECT_EQ(client.description, "GET http://api:8080/users/42")
      << "the query is never kept";
  EXPECT_EQ(client.code, 404);
  EXPECT_EQ(client.status, "not_found");
  EXPECT_TRUE(client.injected);
  EXPECT_FALSE(client.local_root) << "a child of the context's span";
  EXPECT_EQ(Hex(client.span.parent_span_id),
            Hex(stp_context_span(&ctx)->span_id));
  EXPECT_EQ(server.op, "http.server");
  EXPECT_EQ(server.description, "GET /users/42");
  EXPECT_EQ(server.code, 404);
  EXPECT_EQ(server.status, "not_found");
  EXPECT_EQ(server.source, "url");
  EXPECT_TRUE(server.local_root);
  EXPECT_EQ(server.continue_status, STP_OK);
  EXPECT_EQ(Hex(server.span.parent_span_id), Hex(client.span.span_id))
      << "the server continued the client's span";
  EXPECT_EQ(stp_nghttp2_request_end(&req, 0), STP_ERR_STATE)
      << "a request ends once";
}

TEST(Records, TheContextsOwnSpanIsALocalRoot) {
  Pair p;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, p.cfg), STP_OK);
  stp_nghttp2_request req;
  p.Get(&ctx, &req, "/", stp_context_span(&ctx));
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_TRUE(p.records[1].local_root);
  EXPECT_EQ(Hex(p.records[1].span.span_id),
            Hex(stp_context_span(&ctx)->span_id));
  EXPECT_EQ(p.records[1].status, "ok");
}

TEST(Records, ResetStreamsTakeTheirStatusFromTheErrorCode) {
  Pair p;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, p.cfg), STP_OK);
  p.answer = "";
  stp_nghttp2_request req;
  p.Get(&ctx, &req, "/slow", nullptr);
  ASSERT_EQ(p.records.size(), 2u);
  for (const Seen &s : p.records) {
    EXPECT_EQ(s.status, "cancelled") << s.op;
    EXPECT_EQ(s.code, -1) << s.op;
  }
}

TEST(Records, LongPathsAreCut) {
  Pair p;
  stp_context ctx;
  ASSERT_EQ(stp_context_init(&ctx, p.cfg), STP_OK);
  std::string path = "/" + std::string(5000, 'a') + "%ff";
  stp_nghttp2_request req;
  p.Get(&ctx, &req, "/\"quoted\"\\", nullptr);
  p.Get(&ctx, &req, path.c_str(), nullptr);
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_EQ(p.records[0].description, "GET /\"quoted\"\\");
  EXPECT_LE(p.records[2].description.size(), 256u + 20);
  EXPECT_LT(p.records[3].description.size(), size_t{STP_NGHTTP2_DESCRIPTION_MAX});
}

TEST(Records, NoSinkNoRecordAndNoCost) {
  stp_options o;
  stp_options_init(&o);
  stp_config *cfg;
  ASSERT_EQ(stp_config_new(&cfg, &o, nullptr), STP_OK);
  stp_nghttp2_session *sess = nullptr;
  ASSERT_EQ(stp_nghttp2_session_new(&sess, cfg, nullptr), STP_OK);
  nghttp2_frame f;
  memset(&f, 0, sizeof f);
  f.hd.type = NGHTTP2_HEADERS;
  f.hd.stream_id = 1;
  f.headers.cat = NGHTTP2_HCAT_REQUEST;
  ASSERT_EQ(stp_nghttp2_session_on_begin_headers(sess, &f), STP_OK);
  const char path[] = "/not/kept";
  stp_nghttp2_session_on_header(sess, &f, (const uint8_t *)":path", 5,
                                (const uint8_t *)path, sizeof path - 1);
  stp_nghttp2_stream *st = nullptr;
  ASSERT_EQ(stp_nghttp2_session_on_frame_recv(sess, &st, &f), STP_OK);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(stp_nghttp2_stream_on_close(st, 0), STP_OK);
  EXPECT_EQ(stp_nghttp2_stream_on_close(st, 0), STP_ERR_STATE)
      << "closed already";
  stp_nghttp2_stream_del(st);
  stp_nghttp2_session_del(sess);
  stp_config_del(cfg);
}

TEST(Records, BadArguments) {
  stp_nghttp2_request req;
  stp_nghttp2_headers hb;
  size_t len = 0;
  EXPECT_EQ(stp_nghttp2_request_begin(nullptr, nullptr, &hb, nullptr, 0, &len,
                                      nullptr, nullptr, 0),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_nghttp2_request_begin(&req, nullptr, &hb, nullptr, 0, &len,
                                      nullptr, nullptr, 0),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_nghttp2_request_end(nullptr, 0), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_nghttp2_stream_on_close(nullptr, 0), STP_ERR_INVALID_ARGUMENT);
  stp_nghttp2_request_on_header(nullptr, nullptr, nullptr, 0, nullptr, 0);
  stp_nghttp2_stream_on_frame_send(nullptr, nullptr);
}

} // namespace
