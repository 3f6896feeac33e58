// Configuration: options, DSN parsing, option validation, targets.
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace stp_test;

namespace {

constexpr const char *kNull = nullptr;

struct DsnCase {
  const char *what;
  const char *dsn;
  int err;
  const char *public_key;  // nullptr: unset
  const char *org_id;
};

const DsnCase kDsns[] = {
    {"reference DSN", kDsn.c_str(), STP_OK, kPublicKey.c_str(), "123"},
    {"US region host", "https://abc123@o447951.ingest.us.sentry.io/5",
     STP_OK, "abc123", "447951"},
    {"secret after the key", "https://pub:secret@o7.ingest.sentry.io/1",
     STP_OK, "pub", "7"},
    {"self-hosted, no org", "https://key@sentry.example.com/12", STP_OK,
     "key", kNull},
    {"http with port", "http://key@localhost:9000/3", STP_OK, "key", kNull},
    {"path before the project", "https://key@o12.ingest.sentry.io/sub/7",
     STP_OK, "key", "12"},
    {"org host with port", "https://key@o55.ingest.sentry.io:443/7", STP_OK,
     "key", "55"},
    {"'o' not followed by digits", "https://key@oabc.ingest.sentry.io/1",
     STP_OK, "key", kNull},
    {"host merely starting with o", "https://key@o12x.example.com/1", STP_OK,
     "key", kNull},
    {"empty", "", STP_ERR_DSN, kNull, kNull},
    {"not a URL", "not a dsn", STP_ERR_DSN, kNull, kNull},
    {"no scheme", "key@o1.ingest.sentry.io/1", STP_ERR_DSN, kNull, kNull},
    {"ftp scheme", "ftp://key@o1.ingest.sentry.io/1", STP_ERR_DSN, kNull,
     kNull},
    {"no public key", "https://o1.ingest.sentry.io/1", STP_ERR_DSN, kNull,
     kNull},
    {"empty public key", "https://@o1.ingest.sentry.io/1", STP_ERR_DSN, kNull,
     kNull},
    {"no host", "https://key@/1", STP_ERR_DSN, kNull, kNull},
    {"no path", "https://key@o1.ingest.sentry.io", STP_ERR_DSN, kNull, kNull},
    {"no project id", "https://key@o1.ingest.sentry.io/", STP_ERR_DSN, kNull,
     kNull},
    {"newline at the end", "https://key@o1.ingest.sentry.io/1\n", STP_ERR_DSN,
     kNull, kNull},
    {"CR LF inside the key", "https://ke\r\ny@o1.ingest.sentry.io/1",
     STP_ERR_DSN, kNull, kNull},
};

TEST(Config, DsnTable) {
  for (const auto &c : kDsns) {
    SCOPED_TRACE(std::string(c.what) + ": " + c.dsn);
    stp_options o;
    stp_options_init(&o);
    o.dsn = c.dsn;
    stp_config *cfg = reinterpret_cast<stp_config *>(0x1);
    int err = stp_config_new(&cfg, &o, nullptr);
    EXPECT_EQ(ErrName(err), ErrName(c.err));
    if (err != STP_OK) {
      EXPECT_EQ(cfg, nullptr);
      continue;
    }
    ConfigPtr hold(cfg);
    if (c.public_key)
      EXPECT_STREQ(stp_config_public_key(cfg), c.public_key);
    else
      EXPECT_EQ(stp_config_public_key(cfg), nullptr);
    if (c.org_id)
      EXPECT_STREQ(stp_config_org_id(cfg), c.org_id);
    else
      EXPECT_EQ(stp_config_org_id(cfg), nullptr);
  }
}

struct OptionCase {
  const char *what;
  void (*edit)(stp_options *);
  int err;
};

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

const OptionCase kOptions[] = {
    {"defaults", [](stp_options *) {}, STP_OK},
    {"rate 0", [](stp_options *o) { o->sample_rate = 0.0; }, STP_OK},
    {"rate 1", [](stp_options *o) { o->sample_rate = 1.0; }, STP_OK},
    {"rate -0.0", [](stp_options *o) { o->sample_rate = -0.0; }, STP_OK},
    {"rate -0.1", [](stp_options *o) { o->sample_rate = -0.1; },
     STP_ERR_SAMPLE_RATE},
    {"rate 1.0001", [](stp_options *o) { o->sample_rate = 1.0001; },
     STP_ERR_SAMPLE_RATE},
    {"rate NaN", [](stp_options *o) { o->sample_rate = kNaN; },
     STP_ERR_SAMPLE_RATE},
    {"rate +inf", [](stp_options *o) { o->sample_rate = kInf; },
     STP_ERR_SAMPLE_RATE},
    {"rate -inf", [](stp_options *o) { o->sample_rate = -kInf; },
     STP_ERR_SAMPLE_RATE},
    {"NaN ignored without has_sample_rate",
     [](stp_options *o) {
       o->has_sample_rate = false;
       o->sample_rate = kNaN;
     },
     STP_OK},
    {"org id override", [](stp_options *o) { o->org_id = "456"; }, STP_OK},
    {"org id not decimal", [](stp_options *o) { o->org_id = "12a"; },
     STP_ERR_ORG_ID},
    {"org id empty", [](stp_options *o) { o->org_id = ""; }, STP_ERR_ORG_ID},
    {"org id negative", [](stp_options *o) { o->org_id = "-1"; },
     STP_ERR_ORG_ID},
    {"org id with space", [](stp_options *o) { o->org_id = " 1"; },
     STP_ERR_ORG_ID},
    {"release with LF", [](stp_options *o) { o->release = "1.0\n"; },
     STP_ERR_OPTION_VALUE},
    {"release with CR LF injection",
     [](stp_options *o) { o->release = "1.0\r\nX-Evil: 1"; },
     STP_ERR_OPTION_VALUE},
    {"release with 0x01", [](stp_options *o) { o->release = "a\x01" "b"; },
     STP_ERR_OPTION_VALUE},
    {"release with DEL", [](stp_options *o) { o->release = "a\x7f"; },
     STP_ERR_OPTION_VALUE},
    {"release with tab", [](stp_options *o) { o->release = "a\tb"; },
     STP_ERR_OPTION_VALUE},
    {"environment with CR", [](stp_options *o) { o->environment = "prod\r"; },
     STP_ERR_OPTION_VALUE},
    {"environment with ESC",
     [](stp_options *o) { o->environment = "\x1b[31mprod"; },
     STP_ERR_OPTION_VALUE},
    {"release with UTF-8 and spaces",
     [](stp_options *o) { o->release = "caf\xc3\xa9 1,2;3"; }, STP_OK},
    {"no DSN at all", [](stp_options *o) { o->dsn = nullptr; }, STP_OK},
    {"bad DSN", [](stp_options *o) { o->dsn = "https://nohost"; },
     STP_ERR_DSN},
};

TEST(Config, OptionTable) {
  for (const auto &c : kOptions) {
    SCOPED_TRACE(c.what);
    stp_options o = DefaultOptions();
    c.edit(&o);
    stp_config *cfg = reinterpret_cast<stp_config *>(0x1);
    int err = stp_config_new(&cfg, &o, nullptr);
    EXPECT_EQ(ErrName(err), ErrName(c.err));
    if (err != STP_OK) {
      EXPECT_EQ(cfg, nullptr);
    }
    stp_config_del(err == STP_OK ? cfg : nullptr);
  }
}

TEST(Config, DefaultsOfOptionsInit) {
  stp_options o;
  memset(&o, 0x5a, sizeof o);
  stp_options_init(&o);
  EXPECT_EQ(o.dsn, nullptr);
  EXPECT_EQ(o.release, nullptr);
  EXPECT_EQ(o.environment, nullptr);
  EXPECT_EQ(o.org_id, nullptr);
  EXPECT_FALSE(o.has_sample_rate);
  EXPECT_FALSE(o.strict_trace_continuation);
  EXPECT_FALSE(o.propagate_traceparent);
  EXPECT_TRUE(o.accept_traceparent);
  EXPECT_FALSE(o.propagate_third_party_baggage);
  EXPECT_EQ(o.targets, nullptr);
  EXPECT_EQ(o.targets_len, 0u);
}

TEST(Config, AccessorsAndCopies) {
  std::string release = "my app 1.0", env = "prod", org = "456";
  std::string dsn = kDsn;
  stp_options o = DefaultOptions();
  o.release = release.c_str();
  o.environment = env.c_str();
  o.org_id = org.c_str();
  o.dsn = dsn.c_str();
  o.sample_rate = 0.3;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  // The strings were copied: changing ours changes nothing.
  release.assign(release.size(), 'X');
  env.assign(env.size(), 'X');
  org.assign(org.size(), '9');
  dsn.assign(dsn.size(), 'X');
  EXPECT_STREQ(stp_config_release(cfg.get()), "my app 1.0");
  EXPECT_STREQ(stp_config_environment(cfg.get()), "prod");
  EXPECT_STREQ(stp_config_org_id(cfg.get()), "456");  // overrides o123
  EXPECT_STREQ(stp_config_public_key(cfg.get()), kPublicKey.c_str());
  double rate = -1;
  EXPECT_TRUE(stp_config_sample_rate(cfg.get(), &rate));
  EXPECT_EQ(rate, 0.3);

  stp_options_init(&o);
  ConfigPtr empty = MakeConfig(o);
  ASSERT_TRUE(empty);
  EXPECT_EQ(stp_config_release(empty.get()), nullptr);
  EXPECT_EQ(stp_config_environment(empty.get()), nullptr);
  EXPECT_EQ(stp_config_org_id(empty.get()), nullptr);
  EXPECT_EQ(stp_config_public_key(empty.get()), nullptr);
  rate = -1;
  EXPECT_FALSE(stp_config_sample_rate(empty.get(), &rate));
}

// Every rate in [0, 1] is taken, and goes out in the DSC as the shortest
// text that reads back as the same double, digits and '.' only (before,
// rates whose text needs 17 digits, or far below 1e-22, were refused).
TEST(Config, EveryRateGoesOutAsTextThatReadsBackExactly) {
  std::vector<double> rates = {0.25,
                               1.0 / 3,
                               1.0 / 53,
                               1.0 / 65,
                               0.0018390248827526846,
                               1e-25,
                               1e-100,
                               std::numeric_limits<double>::denorm_min(),
                               std::nextafter(1.0, 0.0)};
  for (int k = 1; k <= 1000; k++)
    rates.push_back(1.0 / k);
  const std::string key = "sentry-sample_rate=";
  for (double r : rates) {
    SCOPED_TRACE(r);
    stp_options o = DefaultOptions();
    o.has_sample_rate = true;
    o.sample_rate = r;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    stp_context ctx;
    ASSERT_EQ(stp_context_init(&ctx, cfg.get()), STP_OK);
    std::string bag = BaggageOf(&ctx);
    size_t at = bag.find(key);
    ASSERT_NE(at, std::string::npos) << bag;
    std::string text = bag.substr(at + key.size());
    text = text.substr(0, text.find(','));
    EXPECT_EQ(text.find_first_not_of("0123456789.e-"), std::string::npos)
        << text;
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), r) << text;
    char shorter[40];
    for (int prec = 1; prec < 17; prec++) {
      snprintf(shorter, sizeof shorter, "%.*g", prec, r);
      if (std::strtod(shorter, nullptr) == r) {
        EXPECT_LE(text.size(), strlen(shorter)) << "not the shortest";
        break;
      }
    }
  }
}

TEST(Config, NullArguments) {
  stp_options o;
  stp_options_init(&o);
  stp_config *cfg = nullptr;
  EXPECT_EQ(stp_config_new(nullptr, &o, nullptr), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_config_new(&cfg, nullptr, nullptr), STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(cfg, nullptr);
  stp_config_del(nullptr);  // does nothing
  stp_context_del(nullptr);
}

// ---- propagation targets ----------------------------------------------------

struct TargetCase {
  const char *what;
  std::vector<const char *> targets;
  bool null_list;  // targets == NULL: the default
  const char *url;
  bool propagate;
};

const TargetCase kTargets[] = {
    {"default matches anything", {}, true, "https://example.com/x", true},
    {"default matches the empty URL", {}, true, "", true},
    {"empty list matches nothing", {}, false, "https://example.com/x", false},
    {"empty list, empty URL", {}, false, "", false},
    {"search, not full match", {"example"}, false, "https://www.example.org/x",
     true},
    {"anchored prefix matches", {"^https://api\\.example\\.com/"}, false,
     "https://api.example.com/v1/users", true},
    {"anchored prefix, other host", {"^https://api\\.example\\.com/"}, false,
     "https://evil.com/https://api.example.com/", false},
    {"escaped dot is literal", {"api\\.example\\.com"}, false,
     "https://apiXexample.com/", false},
    {"ERE alternation", {"^https://(a|b)\\.example\\.com"}, false,
     "https://b.example.com/", true},
    {"ERE interval", {"/v[0-9]{2}/"}, false, "https://h/v12/x", true},
    {"ERE interval, too short", {"/v[0-9]{2}/"}, false, "https://h/v1/x",
     false},
    {"second pattern matches", {"nomatch", "localhost"}, false,
     "http://localhost:8080/", true},
    {"none of several", {"a\\.com", "b\\.com"}, false, "https://c.com/", false},
    {"gRPC authority and method", {"^backend:50051/pkg\\.Users/"}, false,
     "backend:50051/pkg.Users/Get", true},
    {"gRPC other service", {"^backend:50051/pkg\\.Users/"}, false,
     "backend:50051/pkg.Orders/Get", false},
    {"end anchor", {"\\.json$"}, false, "https://h/data.json", true},
    {"end anchor, not at end", {"\\.json$"}, false, "https://h/data.json?x=1",
     false},
};

TEST(Config, PropagationTargetTable) {
  for (const auto &c : kTargets) {
    SCOPED_TRACE(std::string(c.what) + ": " + c.url);
    stp_options o = DefaultOptions();
    o.targets = c.null_list ? nullptr : c.targets.data();
    o.targets_len = c.targets.size();
    // A non-NULL array with zero entries: make sure the pointer is not NULL.
    static const char *const kNone[1] = {nullptr};
    if (!c.null_list && c.targets.empty())
      o.targets = kNone;
    ConfigPtr cfg = MakeConfig(o);
    ASSERT_TRUE(cfg);
    EXPECT_EQ(ShouldPropagate(cfg.get(), c.url, strlen(c.url)), c.propagate);
  }
}

TEST(Config, ShouldPropagateRefusesBadArguments) {
  ConfigPtr cfg = MakeConfig(DefaultOptions());
  bool match = true;
  EXPECT_EQ(stp_config_should_propagate(cfg.get(), nullptr, "u", 1),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(stp_config_should_propagate(nullptr, &match, "u", 1),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(match);
  match = true;
  EXPECT_EQ(stp_config_should_propagate(cfg.get(), &match, nullptr, 1),
            STP_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(match);
  // Without targets every URL matches, the empty one too.
  EXPECT_EQ(stp_config_should_propagate(cfg.get(), &match, nullptr, 0), STP_OK);
  EXPECT_TRUE(match);
}

TEST(Config, TargetsUseTheGivenLength) {
  const char *t[] = {"\\.com$"};
  stp_options o = DefaultOptions();
  o.targets = t;
  o.targets_len = 1;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  std::string url = "https://a.com/path";
  EXPECT_TRUE(ShouldPropagate(cfg.get(), url.data(), 13));
  EXPECT_FALSE(ShouldPropagate(cfg.get(), url.data(), url.size()));
}

TEST(Config, TargetsAreCopied) {
  std::string pattern = "^https://api\\.example\\.com";
  const char *t[] = {pattern.c_str()};
  stp_options o = DefaultOptions();
  o.targets = t;
  o.targets_len = 1;
  ConfigPtr cfg = MakeConfig(o);
  ASSERT_TRUE(cfg);
  pattern.assign(pattern.size(), 'z');
  std::string url = "https://api.example.com/x";
  EXPECT_TRUE(ShouldPropagate(cfg.get(), url.data(), url.size()));
}

struct PatternCase {
  const char *what;
  const char *pattern;
  int err;
};

const PatternCase kPatterns[] = {
    {"valid", "^https://", STP_OK},
    {"unbalanced parenthesis", "(abc", STP_ERR_PATTERN},
    {"unterminated bracket", "[a-", STP_ERR_PATTERN},
    {"bad interval", "a{2,1}", STP_ERR_PATTERN},
    {"trailing backslash", "abc\\", STP_ERR_PATTERN},
};

TEST(Config, BadPatternTable) {
  for (const auto &c : kPatterns) {
    SCOPED_TRACE(std::string(c.what) + ": " + c.pattern);
    // The bad pattern comes second, after a valid one that was compiled.
    const char *t[] = {"^ok", c.pattern};
    stp_options o = DefaultOptions();
    o.targets = t;
    o.targets_len = 2;
    stp_config *cfg = reinterpret_cast<stp_config *>(0x1);
    int err = stp_config_new(&cfg, &o, nullptr);
    EXPECT_EQ(ErrName(err), ErrName(c.err));
    if (err != STP_OK) {
      EXPECT_EQ(cfg, nullptr);
    }
    stp_config_del(err == STP_OK ? cfg : nullptr);
  }
}

}  // namespace
