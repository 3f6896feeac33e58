// Micro-benchmarks of the core, on the reference input of the performance
// targets. Each benchmark reports heap allocations per operation, counted
// by wrapping malloc/calloc/realloc at link time.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "stp/stp.h"
#include "tests/reference_request.h"

extern "C" {
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
static std::atomic<long> g_allocs{0};
void *__wrap_malloc(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __real_realloc(p, n);
}
}

namespace {

// The reference request (tests/reference_request.h).
const char kTrace[] = STP_REF_SENTRY_TRACE;
const char kBaggage[] = STP_REF_BAGGAGE;

// Allocation count per iteration, as a benchmark counter.
class AllocCounter {
 public:
  explicit AllocCounter(benchmark::State &state)
      : state_(state), start_(g_allocs.load()) {}
  ~AllocCounter() {
    state_.counters["allocs/op"] = benchmark::Counter(
        static_cast<double>(g_allocs.load() - start_),
        benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State &state_;
  long start_;
};

// A header as HTTP/2 libraries hand them over (nghttp2_nv, gRPC's
// metadata slices): the name with its length.
struct Header {
  const char *name;
  size_t name_len;
  std::string value;
};

// A small fixed header list, as a server or client would hold.
struct Headers {
  Header h[8];
  int n = 0;
};

int ForEach(void *user, stp_header_fn fn, void *arg) {
  auto *hs = static_cast<Headers *>(user);
  for (int i = 0; i < hs->n; i++) {
    int rc = fn(arg, hs->h[i].name, hs->h[i].name_len, hs->h[i].value.data(),
                hs->h[i].value.size());
    if (rc)
      return rc;
  }
  return 0;
}

// The names stp writes, to keep: the carrier's name is valid only during
// the call.
const Header kNames[] = {{"sentry-trace", 12, {}},
                         {"baggage", 7, {}},
                         {"traceparent", 11, {}}};

int Set(void *user, const char *name, size_t name_len, const char *value,
        size_t value_len) {
  auto *hs = static_cast<Headers *>(user);
  for (int i = 0; i < hs->n; i++) {
    if (hs->h[i].name_len == name_len &&
        memcmp(hs->h[i].name, name, name_len) == 0) {
      if (value) {
        hs->h[i].value.assign(value, value_len);
      } else {
        std::swap(hs->h[i], hs->h[hs->n - 1]);
        hs->n--;
      }
      return 0;
    }
  }
  if (!value)
    return 0;
  for (const Header &k : kNames)
    if (k.name_len == name_len && memcmp(k.name, name, name_len) == 0 &&
        hs->n < 8) {
      hs->h[hs->n] = {k.name, k.name_len, std::string(value, value_len)};
      hs->n++;
      return 0;
    }
  return STP_ERR_CARRIER;
}

// The carriers of the unit of work: a request holding both reference
// headers, and an outgoing request whose trace headers have their
// capacity reserved, so that injecting allocates nothing.
Headers IncomingRequest() {
  Headers in;
  in.h[0] = {":path", 5, "/api/users"};
  in.h[1] = {"sentry-trace", 12, kTrace};
  in.h[2] = {"baggage", 7, kBaggage};
  in.n = 3;
  return in;
}

Headers OutgoingRequest() {
  Headers out;
  out.h[0] = {":path", 5, "/downstream"};
  out.h[1] = {"sentry-trace", 12, std::string(64, 'x')};
  out.h[2] = {"baggage", 7, std::string(1024, 'x')};
  out.n = 3;
  return out;
}

const stp_config *Config() {
  static stp_config *cfg = [] {
    stp_options o;
    stp_options_init(&o);
    o.dsn = "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5";
    o.has_sample_rate = true;
    o.sample_rate = 0.25;
    stp_config *c = nullptr;
    if (stp_config_new(&c, &o, nullptr) != STP_OK)
      abort();
    return c;
  }();
  return cfg;
}

void BM_ParseSentryTrace(benchmark::State &state) {
  stp_trace_header h;
  AllocCounter ac(state);
  for (auto _ : state) {
    int rc = stp_sentry_trace_parse(&h, kTrace, sizeof kTrace - 1);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseSentryTrace);

void BM_FormatSentryTraceNewSpan(benchmark::State &state) {
  stp_trace_header h;
  stp_sentry_trace_parse(&h, kTrace, sizeof kTrace - 1);
  char buf[STP_SENTRY_TRACE_MAX_LEN + 1];
  size_t n;
  AllocCounter ac(state);
  for (auto _ : state) {
    stp_span_id span;
    stp_span_id_random(&span);
    int rc = stp_sentry_trace_format(buf, sizeof buf, &n, &h.trace_id, &span,
                                     h.sampled);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(buf);
  }
}
BENCHMARK(BM_FormatSentryTraceNewSpan);

void BM_ParseTraceparent(benchmark::State &state) {
  static const char tp[] =
      "00-771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-01";
  stp_trace_header h;
  AllocCounter ac(state);
  for (auto _ : state) {
    int rc = stp_traceparent_parse(&h, tp, sizeof tp - 1);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ParseTraceparent);

void BM_SpanIdRandom(benchmark::State &state) {
  AllocCounter ac(state);
  for (auto _ : state) {
    stp_span_id id;
    stp_span_id_random(&id);
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_SpanIdRandom);

// The baggage iterator alone: members as slices, nothing stored.
void BM_BaggageIterate(benchmark::State &state) {
  AllocCounter ac(state);
  for (auto _ : state) {
    stp_baggage_iter it;
    stp_baggage_member m;
    int n = 0;
    stp_baggage_iter_init(&it, kBaggage, sizeof kBaggage - 1);
    while (stp_baggage_iter_next(&it, &m))
      n++;
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_BaggageIterate);

// Baggage parsed into a context: DSC and third-party members stored.
void BaggageIntoContext(stp_context *ctx, const stp_config *cfg) {
  stp_context_begin(ctx, cfg);
  stp_context_feed(ctx, "baggage", 7, kBaggage, sizeof kBaggage - 1);
  benchmark::DoNotOptimize(stp_context_member_count(ctx));
}

void BM_ParseBaggageIntoContext(benchmark::State &state) {
  static stp_context ctx;
  const stp_config *cfg = Config();
  AllocCounter ac(state);
  for (auto _ : state)
    BaggageIntoContext(&ctx, cfg);
}
BENCHMARK(BM_ParseBaggageIntoContext);

// The whole unit of work: continue from a carrier holding both headers,
// make a child span, inject both headers into an outgoing carrier. The
// context lives in caller storage.
struct UnitCarriers {
  Headers in = IncomingRequest(), out = OutgoingRequest();
  stp_carrier cin = {ForEach, nullptr, &in};
  stp_carrier cout = {ForEach, Set, &out};
  UnitCarriers() = default;
  UnitCarriers(const UnitCarriers &) = delete;  // the carriers point here
};

void UnitOfWork(stp_context *ctx, const stp_config *cfg, UnitCarriers *c) {
  c->out.h[2].value.clear();
  int rc = stp_context_continue(ctx, cfg, &c->cin);
  stp_span child;
  stp_context_child_span(ctx, &child);
  rc |= stp_context_inject(ctx, &c->cout, &child);
  benchmark::DoNotOptimize(rc);
}

void BM_UnitOfWork(benchmark::State &state) {
  static stp_context ctx;
  const stp_config *cfg = Config();
  UnitCarriers c;
  AllocCounter ac(state);
  for (auto _ : state)
    UnitOfWork(&ctx, cfg, &c);
}
BENCHMARK(BM_UnitOfWork);

// The same unit of work written by hand with no API and no checks: the
// floor any propagation code on this carrier can reach. Takes the two
// values from the carrier, copies the trace id and flag behind a new span
// id, and copies the `sentry-*` members of the baggage, trusting the input
// to be well formed.
struct Found {
  const char *trace = nullptr, *baggage = nullptr;
  size_t trace_len = 0, baggage_len = 0;
};

int Collect(void *arg, const char *name, size_t name_len, const char *value,
            size_t value_len) {
  auto *f = static_cast<Found *>(arg);
  if (name_len == 12 && memcmp(name, "sentry-trace", 12) == 0) {
    f->trace = value;
    f->trace_len = value_len;
  } else if (name_len == 7 && memcmp(name, "baggage", 7) == 0) {
    f->baggage = value;
    f->baggage_len = value_len;
  }
  return 0;
}

void HandWrittenLowerBound(Headers *in, Headers *out, uint64_t *rng) {
  static const char hex[] = "0123456789abcdef";
  out->h[2].value.clear();
  Found f;
  ForEach(in, Collect, &f);
  char st[51];
  memcpy(st, f.trace, 32);
  st[32] = '-';
  uint64_t r = *rng;
  r ^= r << 13, r ^= r >> 7, r ^= r << 17;
  *rng = r;
  for (int i = 0; i < 16; i++)
    st[33 + i] = hex[(r >> (4 * i)) & 15];
  st[49] = '-';
  st[50] = f.trace[50];
  char bag[512];
  size_t n = 0;
  const char *p = f.baggage, *end = f.baggage + f.baggage_len;
  while (p < end) {
    const char *comma = static_cast<const char *>(memchr(p, ',', end - p));
    const char *stop = comma ? comma : end;
    if (stop - p > 7 && memcmp(p, "sentry-", 7) == 0) {
      if (n)
        bag[n++] = ',';
      memcpy(bag + n, p, stop - p);
      n += stop - p;
    }
    p = stop + 1;
  }
  Set(out, "sentry-trace", 12, st, sizeof st);
  Set(out, "baggage", 7, bag, n);
  benchmark::DoNotOptimize(out->h[2].value.data());
}

void BM_HandWrittenLowerBound(benchmark::State &state) {
  Headers in = IncomingRequest(), out = OutgoingRequest();
  uint64_t rng = 0x9e3779b97f4a7c15u;
  AllocCounter ac(state);
  for (auto _ : state)
    HandWrittenLowerBound(&in, &out, &rng);
}
BENCHMARK(BM_HandWrittenLowerBound);

// The outgoing baggage of a context made ready beforehand.
void OutgoingBaggage(benchmark::State &state, stp_context *ctx) {
  char buf[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n;
  AllocCounter ac(state);
  for (auto _ : state) {
    int rc = stp_context_baggage(ctx, buf, sizeof buf, &n, nullptr, 0);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(buf);
  }
}

// ... of a trace continued from the reference headers.
void BM_OutgoingBaggage(benchmark::State &state) {
  static stp_context ctx;
  stp_context_begin(&ctx, Config());
  stp_context_feed(&ctx, "sentry-trace", 12, kTrace, sizeof kTrace - 1);
  stp_context_feed(&ctx, "baggage", 7, kBaggage, sizeof kBaggage - 1);
  stp_context_finish(&ctx);
  OutgoingBaggage(state, &ctx);
}
BENCHMARK(BM_OutgoingBaggage);

// ... of a new head (a trace that starts here): the members the
// configuration gives, sample_rand and sampled.
void BM_OutgoingBaggageOfAHead(benchmark::State &state) {
  static stp_context ctx;
  stp_context_init(&ctx, Config());
  OutgoingBaggage(state, &ctx);
}
BENCHMARK(BM_OutgoingBaggageOfAHead);

// Hostile size: the reference baggage followed by 100 000 one-byte
// third-party members (about 1 MB), both incoming and as the outgoing
// request's own baggage. Continuing stops at the scan bounds; the
// outgoing request's baggage is read whole.
void BM_HundredThousandMembers(benchmark::State &state) {
  static stp_context ctx;
  const stp_config *cfg = Config();
  std::string bag = kBaggage;
  for (int i = 0; i < 100000; i++)
    bag += ",k" + std::to_string(i) + "=v";
  static char out[STP_BAGGAGE_MAX_BYTES + 1];
  size_t n;
  AllocCounter ac(state);
  for (auto _ : state) {
    stp_context_begin(&ctx, cfg);
    stp_context_feed(&ctx, "sentry-trace", 12, kTrace, sizeof kTrace - 1);
    stp_context_feed(&ctx, "baggage", 7, bag.data(), bag.size());
    stp_context_finish(&ctx);
    int rc =
        stp_context_baggage(&ctx, out, sizeof out, &n, bag.data(), bag.size());
    benchmark::DoNotOptimize(rc);
  }
}
BENCHMARK(BM_HundredThousandMembers);

// What the gRPC client interceptor does per call to keep the caller's
// context: stp_context_copy (the used part) against copying the whole
// structure.
void CopyBench(benchmark::State &state, bool whole) {
  static stp_context src, dst;
  stp_context_begin(&src, Config());
  stp_context_feed(&src, "sentry-trace", 12, kTrace, sizeof kTrace - 1);
  stp_context_feed(&src, "baggage", 7, kBaggage, sizeof kBaggage - 1);
  stp_context_finish(&src);
  AllocCounter ac(state);
  for (auto _ : state) {
    if (whole)
      memcpy(&dst, &src, sizeof dst);
    else
      stp_context_copy(&dst, &src);
    benchmark::DoNotOptimize(&dst);
    benchmark::ClobberMemory();
  }
}
void BM_ContextCopy(benchmark::State &state) { CopyBench(state, false); }
void BM_ContextMemcpyWhole(benchmark::State &state) { CopyBench(state, true); }
BENCHMARK(BM_ContextCopy);
BENCHMARK(BM_ContextMemcpyWhole);

void BM_NewHead(benchmark::State &state) {
  static stp_context ctx;
  const stp_config *cfg = Config();
  AllocCounter ac(state);
  for (auto _ : state) {
    stp_context_init(&ctx, cfg);
    benchmark::DoNotOptimize(stp_context_member_count(&ctx));
  }
}
BENCHMARK(BM_NewHead);

// ---- --states=SECONDS ------------------------------------------------------
// This machine's speed changes within seconds (bench/README.md): one
// process measured the unit of work at 354 ns for some seconds and at
// 650 ns for the next. --states shows it, and what each figure is at
// either speed: for SECONDS it runs slices of the unit of work, the
// hand-written lower bound and the baggage into a context, one after the
// other (each about 10 ms), and prints the spread of each over the slices,
// the unit of work per lower bound in the same slice, and each at the
// speed of the quarter of the slices where the lower bound was fastest
// and of the quarter where it was slowest. It also gives, for the unit of
// work and the lower bound, the thread's CPU time per op in each quarter,
// and the time the hypervisor took from the machine's CPUs during the run
// (steal, /proc/stat): when the CPU time matches the elapsed time and the
// steal is nil, a slow slice was the CPU running slower, not time taken
// from the thread. With --states_log=FILE it also writes one line per
// slice to FILE: when its unit of work phase started and ended
// (CLOCK_MONOTONIC, seconds), then its three figures in ns/op, then the
// CPU time per op of the unit of work and of the lower bound;
// bench/profile_speeds.sh uses it to split a perf profile by speed.

double MonotonicSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double ThreadCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs fn n times and returns the elapsed ns per run; the thread's CPU ns
// per run in *cpu_ns, when it started and ended in *start and *end, if
// given.
template <typename Fn>
double NsPerOp(int n, Fn fn, double *cpu_ns = nullptr, double *start = nullptr,
               double *end = nullptr) {
  double c0 = ThreadCpuSeconds();
  double t0 = MonotonicSeconds();
  for (int i = 0; i < n; i++)
    fn();
  double t1 = MonotonicSeconds();
  if (cpu_ns)
    *cpu_ns = (ThreadCpuSeconds() - c0) * 1e9 / n;
  if (start)
    *start = t0;
  if (end)
    *end = t1;
  return (t1 - t0) * 1e9 / n;
}

// The steal time of all CPUs so far, in clock ticks (/proc/stat); -1 when
// it cannot be read.
long long StealTicks() {
  FILE *f = fopen("/proc/stat", "r");
  if (!f)
    return -1;
  long long v[8];
  int got = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  return got == 8 ? v[7] : -1;
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

int RunStates(const char *arg, const char *log_path) {
  char *rest;
  double seconds = strtod(arg, &rest);
  if (rest == arg || *rest || !(seconds >= 1 && seconds <= 600)) {
    fprintf(stderr, "--states=SECONDS: SECONDS from 1 to 600, not \"%s\"\n",
            arg);
    return 2;
  }
  static stp_context ctx;
  const stp_config *cfg = Config();
  UnitCarriers c;
  Headers in = IncomingRequest(), out = OutgoingRequest();
  uint64_t rng = 0x9e3779b97f4a7c15u;
  struct Slice {
    double unit, lower, baggage;
    double unit_cpu, lower_cpu;
    double unit_start, unit_end;
  };
  std::vector<Slice> slices;
  long long steal0 = StealTicks();
  double start = MonotonicSeconds(), stop = start + seconds;
  while (MonotonicSeconds() < stop) {
    Slice s;
    s.unit = NsPerOp(20000, [&] { UnitOfWork(&ctx, cfg, &c); }, &s.unit_cpu,
                     &s.unit_start, &s.unit_end);
    s.lower = NsPerOp(
        50000, [&] { HandWrittenLowerBound(&in, &out, &rng); }, &s.lower_cpu);
    s.baggage = NsPerOp(50000, [&] { BaggageIntoContext(&ctx, cfg); });
    slices.push_back(s);
  }
  double elapsed = MonotonicSeconds() - start;
  long long steal1 = StealTicks();
  if (slices.size() < 8) {
    fprintf(stderr, "--states: too few slices (%zu)\n", slices.size());
    return 1;
  }
  if (log_path) {
    FILE *log = fopen(log_path, "w");
    if (!log) {
      perror(log_path);
      return 1;
    }
    for (const Slice &s : slices)
      fprintf(log, "%.9f %.9f %.2f %.2f %.2f %.2f %.2f\n", s.unit_start,
              s.unit_end, s.unit, s.lower, s.baggage, s.unit_cpu, s.lower_cpu);
    if (fclose(log) != 0) {
      perror(log_path);
      return 1;
    }
  }
  auto column = [&](double Slice::*f, size_t from, size_t to) {
    std::vector<double> v;
    for (size_t i = from; i < to; i++)
      v.push_back(slices[i].*f);
    return v;
  };
  std::vector<double> ratio;
  for (const Slice &s : slices)
    ratio.push_back(s.unit / s.lower);
  printf("%zu slices in %.0f s, ns/op (ratio: unit of work / lower bound, "
         "same slice)\n",
         slices.size(), seconds);
  printf("%-26s %8s %8s %8s\n", "", "p10", "median", "p90");
  auto row = [](const char *name, const std::vector<double> &v) {
    printf("%-26s %8.1f %8.1f %8.1f\n", name, Quantile(v, 0.1),
           Quantile(v, 0.5), Quantile(v, 0.9));
  };
  size_t n = slices.size();
  row("unit of work", column(&Slice::unit, 0, n));
  row("hand-written lower bound", column(&Slice::lower, 0, n));
  row("baggage into a context", column(&Slice::baggage, 0, n));
  printf("%-26s %8.2f %8.2f %8.2f\n", "ratio", Quantile(ratio, 0.1),
         Quantile(ratio, 0.5), Quantile(ratio, 0.9));
  std::sort(slices.begin(), slices.end(),
            [](const Slice &a, const Slice &b) { return a.lower < b.lower; });
  size_t q = n / 4;
  printf("medians by the lower bound's speed: %8s %8s %8s\n", "unit", "lower",
         "baggage");
  auto medians = [&](const char *which, size_t from, size_t to) {
    printf("  %s quarter of slices        %8.1f %8.1f %8.1f\n", which,
           Quantile(column(&Slice::unit, from, to), 0.5),
           Quantile(column(&Slice::lower, from, to), 0.5),
           Quantile(column(&Slice::baggage, from, to), 0.5));
  };
  medians("fastest", 0, q);
  medians("slowest", n - q, n);
  printf("thread CPU time per op, medians:    %8s %8s\n", "unit", "lower");
  auto cpu = [&](const char *which, size_t from, size_t to) {
    printf("  %s quarter of slices        %8.1f %8.1f\n", which,
           Quantile(column(&Slice::unit_cpu, from, to), 0.5),
           Quantile(column(&Slice::lower_cpu, from, to), 0.5));
  };
  cpu("fastest", 0, q);
  cpu("slowest", n - q, n);
  long ticks = sysconf(_SC_CLK_TCK);
  if (steal0 >= 0 && steal1 >= 0 && ticks > 0)
    printf("steal (all CPUs, whole run): %.2f s of %.1f s\n",
           static_cast<double>(steal1 - steal0) / static_cast<double>(ticks),
           elapsed);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  const char *states = nullptr, *log_path = nullptr;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--states=", 9) == 0)
      states = argv[i] + 9;
    else if (strncmp(argv[i], "--states_log=", 13) == 0)
      log_path = argv[i] + 13;
  }
  if (log_path && !states) {
    fprintf(stderr, "--states_log=FILE needs --states=SECONDS\n");
    return 2;
  }
  if (states)
    return RunStates(states, log_path);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
