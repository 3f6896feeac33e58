// stp_dsn_parse: every part of a DSN, and the DSNs it refuses.
#include "test_util.h"

namespace {

struct DsnCase {
  const char *what;
  const char *dsn;
  int err;
  // The parts, when it parses ("" for absent).
  const char *scheme, *key, *secret, *host, *port, *path, *project, *org;
};

const DsnCase kCases[] = {
    {"SaaS DSN", "https://abc@o447951.ingest.sentry.io/5", STP_OK, "https",
     "abc", "", "o447951.ingest.sentry.io", "", "", "5", "447951"},
    {"self-hosted with port and path", "http://k:s@sentry.local:9000/sub/dir/7",
     STP_OK, "http", "k", "s", "sentry.local", "9000", "sub/dir", "7", ""},
    {"uppercase scheme", "HTTPS://k@h/1", STP_OK, "HTTPS", "k", "", "h", "",
     "", "1", ""},
    {"loopback", "http://k@127.0.0.1:8080/42", STP_OK, "http", "k", "",
     "127.0.0.1", "8080", "", "42", ""},
    {"empty secret", "https://k:@h/1", STP_OK, "https", "k", "", "h", "", "",
     "1", ""},
    {"port not digits", "https://k@h:http/1", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"empty port", "https://k@h:/1", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"project not digits", "https://k@h/abc", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"project of 21 digits", "https://k@h/123456789012345678901",
     STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"key with a dash", "https://a-b@h/1", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"no scheme separator", "https:/k@h/1", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"at sign after the slash", "https://h/k@1", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"tab inside", "https://k@h/1\t", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
    {"empty", "", STP_ERR_DSN, "", "", "", "", "", "", "", ""},
};

std::string Part(const char *p, size_t n) {
  return p ? std::string(p, n) : std::string();
}

TEST(Dsn, PartsAndRefusals) {
  for (const auto &c : kCases) {
    SCOPED_TRACE(std::string(c.what) + ": " + c.dsn);
    stp_dsn d;
    ASSERT_EQ(stp_dsn_parse(&d, c.dsn, strlen(c.dsn)), c.err);
    if (c.err != STP_OK)
      continue;
    EXPECT_EQ(Part(d.scheme, d.scheme_len), c.scheme);
    EXPECT_EQ(Part(d.public_key, d.public_key_len), c.key);
    EXPECT_EQ(Part(d.secret, d.secret_len), c.secret);
    EXPECT_EQ(Part(d.host, d.host_len), c.host);
    EXPECT_EQ(Part(d.port, d.port_len), c.port);
    EXPECT_EQ(Part(d.path, d.path_len), c.path);
    EXPECT_EQ(Part(d.project_id, d.project_id_len), c.project);
    EXPECT_EQ(Part(d.org_id, d.org_id_len), c.org);
  }
}

TEST(Dsn, ReadsNothingPastTheLength) {
  // The length ends the DSN before "9": the project id is 4.
  const char text[] = "https://k@h/49";
  stp_dsn d;
  ASSERT_EQ(stp_dsn_parse(&d, text, sizeof text - 2), STP_OK);
  EXPECT_EQ(Part(d.project_id, d.project_id_len), "4");
}

TEST(Dsn, NullArguments) {
  stp_dsn d;
  EXPECT_EQ(stp_dsn_parse(nullptr, "https://k@h/1", 13), STP_ERR_DSN);
  EXPECT_EQ(stp_dsn_parse(&d, nullptr, 3), STP_ERR_DSN);
}

} // namespace
