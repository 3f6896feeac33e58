// The interleaved rounds of the gRPC and grpc++ overhead benchmarks
// (bench/grpc_bench.cc, tests/grpcpp/grpcpp_bench.cc), written once: five
// modes a, b, p, m, c, each round `per_round` calls of every mode in
// slices of 100 taken in turn (a b p m c, then b p m c a, ...), so that
// every mode sees the same machine; then the medians, the ratios of the
// pairs and the per-round ratios of c against b and p.
#ifndef STP_BENCH_AB_ROUNDS_H
#define STP_BENCH_AB_ROUNDS_H

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ab {

enum { kA, kB, kP, kM, kC, kModes };
inline constexpr char kLetters[] = "abpmc";

inline double NowUs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2]
                      : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Calls/s and CPU time per call of each mode, a value per round.
struct Rounds {
  std::vector<double> rates[kModes], cpus[kModes];
};

// Runs the modes whose letter is in `modes` (call(m) makes one call of
// mode m): 200 calls each to warm up, then the rounds, printing a line per
// round and mode.
template <class Call>
Rounds Run(const char *modes, const char *const names[kModes], int per_round,
           int rounds, Call call) {
  bool run[kModes];
  for (int m = 0; m < kModes; m++)
    run[m] = std::strchr(modes, kLetters[m]) != nullptr;
  for (int i = 0; i < 200; i++)
    for (int m = 0; m < kModes; m++)
      if (run[m])
        call(m);
  enum { kSlice = 100 };
  Rounds out;
  for (int r = 0; r < rounds; r++) {
    double wall[kModes] = {0}, cpu[kModes] = {0};
    for (int done = 0, turn = 0; done < per_round; done += kSlice, turn++) {
      int n = std::min<int>(kSlice, per_round - done);
      for (int k = 0; k < kModes; k++) {
        int m = (turn + k) % kModes;
        if (!run[m])
          continue;
        double t0 = NowUs(CLOCK_MONOTONIC);
        double c0 = NowUs(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < n; i++)
          call(m);
        cpu[m] += NowUs(CLOCK_PROCESS_CPUTIME_ID) - c0;
        wall[m] += NowUs(CLOCK_MONOTONIC) - t0;
      }
    }
    for (int m = 0; m < kModes; m++) {
      if (!run[m])
        continue;
      out.rates[m].push_back(per_round / (wall[m] / 1e6));
      out.cpus[m].push_back(cpu[m] / per_round);
      std::printf("round %d  %-16s %9.0f calls/s  %7.2f us CPU/call\n",
                  r + 1, names[m], out.rates[m].back(), out.cpus[m].back());
    }
  }
  return out;
}

// The medians of each mode that ran, the ratios and CPU differences of
// the pairs that ran, and c against b and p round by round (neighbouring
// rounds cancel slow drift better than medians taken apart).
inline void Report(const Rounds &r, const char *const names[kModes],
                   const char *ratios_title, int failures) {
  double med[kModes] = {0}, cpu[kModes] = {0};
  for (int m = 0; m < kModes; m++) {
    if (r.rates[m].empty())
      continue;
    med[m] = Median(r.rates[m]);
    cpu[m] = Median(r.cpus[m]);
    std::printf("median   %-16s %9.0f calls/s  %7.2f us/call  %7.2f us "
                "CPU/call\n",
                names[m], med[m], 1e6 / med[m], cpu[m]);
  }
  const int pairs[][2] = {{kC, kB}, {kC, kP}, {kP, kB},
                          {kC, kA}, {kB, kA}, {kM, kB}};
  std::printf("calls/s ratios (%s):", ratios_title);
  for (auto &q : pairs)
    if (med[q[0]] && med[q[1]])
      std::printf(" %c/%c %.3f", kLetters[q[0]], kLetters[q[1]],
                  med[q[0]] / med[q[1]]);
  std::printf("\nCPU per call:");
  for (auto &q : pairs)
    if (med[q[0]] && med[q[1]])
      std::printf(" %c-%c %+.2f us (%+.1f%%)", kLetters[q[0]], kLetters[q[1]],
                  cpu[q[0]] - cpu[q[1]], 100 * (cpu[q[0]] / cpu[q[1]] - 1));
  std::printf("\n");
  for (int base : {kB, kP}) {
    if (r.rates[base].empty() || r.rates[kC].empty())
      continue;
    std::vector<double> ratios, diffs;
    for (size_t i = 0; i < r.rates[kC].size(); i++) {
      ratios.push_back(r.rates[kC][i] / r.rates[base][i]);
      diffs.push_back(r.cpus[kC][i] - r.cpus[base][i]);
    }
    std::printf("per round: c/%c median %.3f (from %.3f to %.3f), CPU c-%c "
                "median %+.2f us\n",
                kLetters[base], Median(ratios),
                *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()),
                kLetters[base], Median(diffs));
  }
  std::printf("failed calls: %d\n", failures);
}

}  // namespace ab

#endif  // STP_BENCH_AB_ROUNDS_H
