// HTML meta tags (SPEC section 8): the two tags, their content escaped.
#include "test_util.h"

using namespace stp_test;

namespace {

using MetaTags = ContextTest;

// The text an HTML parser reads from attribute content.
std::string Unescape(const std::string &s) {
  static const std::pair<const char *, char> kEntities[] = {
      {"&amp;", '&'},   {"&lt;", '<'},   {"&gt;", '>'},   {"&quot;", '"'},
      {"&#34;", '"'},   {"&#x22;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''},
      {"&apos;", '\''},
  };
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool done = false;
    for (const auto &e : kEntities) {
      size_t n = strlen(e.first);
      if (s.compare(i, n, e.first) == 0) {
        out += e.second;
        i += n;
        done = true;
        break;
      }
    }
    if (!done)
      out += s[i++];
  }
  return out;
}

// The context's two meta tags.
std::string Meta(stp_context *ctx) {
  std::vector<char> buf(STP_META_MAX_LEN + 1);
  size_t n = 0;
  EXPECT_EQ(stp_context_meta(ctx, buf.data(), buf.size(), &n), STP_OK);
  return std::string(buf.data(), n);
}

TEST_F(MetaTags, EscapeTheirContent) {
  const ConfigPtr &cfg = third_party_cfg_;
  // Props may hold < > " and '; values may hold & and '.
  std::string bag = "sentry-trace_id=" + kTrace +
                    ",sentry-transaction=%22><script>alert('x')&amp,"
                    "sentry-sample_rand=0.5,v=1;p=\"<b>\"'&";
  ASSERT_EQ(Continue(&ctx_, cfg.get(),
                     {{"sentry-trace", kTS1}, {"baggage", bag}}),
            STP_OK);
  std::string baggage = BaggageOf(&ctx_);
  std::string meta = Meta(&ctx_);
  const std::string head = "<meta name=\"sentry-trace\" content=\"";
  const std::string mid = "\"><meta name=\"baggage\" content=\"";
  const std::string tail = "\">";
  ASSERT_TRUE(StartsWith(meta, head)) << meta;
  size_t m1 = meta.find(mid);
  ASSERT_NE(m1, std::string::npos) << meta;
  ASSERT_EQ(meta.compare(meta.size() - tail.size(), tail.size(), tail), 0)
      << meta;
  std::string trace_content = meta.substr(head.size(), m1 - head.size());
  std::string content = meta.substr(
      m1 + mid.size(), meta.size() - tail.size() - m1 - mid.size());
  for (const std::string *part : {&trace_content, &content})
    EXPECT_EQ(part->find_first_of("\"<>'"), std::string::npos) << *part;
  EXPECT_EQ(trace_content, kTrace + "-" + SpanOf(&ctx_) + "-1");
  EXPECT_EQ(Unescape(content), baggage);
  // Every & in the content starts an entity.
  for (size_t i = content.find('&'); i != std::string::npos;
       i = content.find('&', i + 1))
    EXPECT_TRUE(content.compare(i, 5, "&amp;") == 0 ||
                content.compare(i, 4, "&lt;") == 0 ||
                content.compare(i, 4, "&gt;") == 0 ||
                content.compare(i, 6, "&quot;") == 0 ||
                content.compare(i, 2, "&#") == 0 ||
                content.compare(i, 6, "&apos;") == 0)
        << content.substr(i);
  EXPECT_FALSE(Contains(meta, "<script>"));
  EXPECT_TRUE(stp_context_frozen(&ctx_));
}

TEST_F(MetaTags, OfAHeadWithAHostileTransactionName) {
  ASSERT_EQ(stp_context_init(&ctx_, cfg_.get()), STP_OK);
  std::string name = "\"><script>alert(1)</script>&'";
  ASSERT_EQ(stp_context_set_transaction(&ctx_, name.data(), name.size()),
            STP_OK);
  std::string meta = Meta(&ctx_);
  EXPECT_TRUE(StartsWith(meta, "<meta name=\"sentry-trace\" content=\"" +
                                   TraceOf(&ctx_) + "-" + SpanOf(&ctx_)))
      << meta;
  EXPECT_FALSE(Contains(meta, "<script>")) << meta;
  EXPECT_FALSE(Contains(meta, "'")) << meta;
  EXPECT_TRUE(Contains(meta, "&gt;&lt;script&gt;")) << meta;
  EXPECT_EQ(Dsc(&ctx_, "transaction"), name);
  EXPECT_EQ(stp_context_set_transaction(&ctx_, "x", 1), STP_ERR_FROZEN);
  size_t n = 0;
  EXPECT_EQ(stp_context_meta(&ctx_, nullptr, 0, &n), STP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, meta.size() + 1);
}

}  // namespace
