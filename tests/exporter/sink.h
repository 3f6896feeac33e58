// A test-side HTTP/1.1 endpoint on 127.0.0.1 that records exactly what was
// posted (method, target, headers, body) and answers as told: a status with
// headers, after a delay, or by closing the connection without a word.
#ifndef STP_TESTS_EXPORTER_SINK_H
#define STP_TESTS_EXPORTER_SINK_H

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace stp_test {

struct Posted {
  std::string method, target;
  std::map<std::string, std::string> headers; // names lowercased
  std::string body;
};

struct Answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;   // before answering
  bool close = false; // close the connection instead of answering
};

class Sink {
public:
  Sink();
  ~Sink();
  int port() const { return port_; }
  // The answer to every request from now on.
  void Set(const Answer &a);
  // Answers to the next requests, in order; then the one Set gave.
  void Queue(const Answer &a);
  std::vector<Posted> Requests();
  // Waits until n requests arrived, at most timeout_ms. True when they did.
  bool WaitFor(size_t n, int timeout_ms);
  std::string Url(const std::string &path) const;
  // CPU time the endpoint's thread has used, in microseconds (for the
  // benchmark, which runs it in its own process).
  double CpuUs() const { return cpu_ns_.load() / 1e3; }

private:
  void Run();
  bool Handle(int fd, std::string *buf); // false: close the connection
  int listen_fd_ = -1, port_ = 0, stop_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Posted> posted_;
  Answer answer_;
  std::vector<Answer> queued_;
  std::atomic<long long> cpu_ns_{0};
};

} // namespace stp_test

#endif // STP_TESTS_EXPORTER_SINK_H
