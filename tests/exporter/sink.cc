#include "sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace stp_test {

Sink::Sink() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listen_fd_, (sockaddr *)&a, sizeof a) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, (sockaddr *)&a, &len) != 0 || pipe(stop_) != 0)
    abort();
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Run(); });
}

Sink::~Sink() {
  if (write(stop_[1], "x", 1) != 1)
    abort();
  thread_.join();
  close(listen_fd_);
  close(stop_[0]);
  close(stop_[1]);
}

std::string Sink::Url(const std::string &path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void Sink::Set(const Answer &a) {
  std::lock_guard<std::mutex> l(mu_);
  answer_ = a;
}

void Sink::Queue(const Answer &a) {
  std::lock_guard<std::mutex> l(mu_);
  queued_.push_back(a);
}

std::vector<Posted> Sink::Requests() {
  std::lock_guard<std::mutex> l(mu_);
  return posted_;
}

bool Sink::WaitFor(size_t n, int timeout_ms) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::milliseconds(timeout_ms),
                      [&] { return posted_.size() >= n; });
}

void Sink::Run() {
  std::map<int, std::string> conns; // fd -> bytes not yet read as a request
  for (;;) {
    std::vector<pollfd> fds = {{stop_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (auto &c : conns)
      fds.push_back({c.first, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 1000) < 0)
      continue;
    if (fds[0].revents)
      break;
    if (fds[1].revents & POLLIN) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0)
        conns[fd];
    }
    for (size_t i = 2; i < fds.size(); i++) {
      if (!fds[i].revents)
        continue;
      int fd = fds[i].fd;
      char chunk[65536];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      bool keep = n > 0;
      if (keep) {
        conns[fd].append(chunk, (size_t)n);
        keep = Handle(fd, &conns[fd]);
      }
      if (!keep) {
        close(fd);
        conns.erase(fd);
      }
    }
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    cpu_ns_ = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  }
  for (auto &c : conns)
    close(c.first);
}

// Parses every complete request in *buf and answers it.
bool Sink::Handle(int fd, std::string *buf) {
  for (;;) {
    size_t end = buf->find("\r\n\r\n");
    if (end == std::string::npos)
      return true;
    Posted p;
    size_t line_end = buf->find("\r\n");
    std::string first = buf->substr(0, line_end);
    size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    p.method = first.substr(0, sp1);
    p.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    for (size_t at = line_end + 2; at < end;) {
      size_t e = buf->find("\r\n", at);
      std::string h = buf->substr(at, e - at);
      size_t colon = h.find(':');
      std::string name = h.substr(0, colon), value = h.substr(colon + 1);
      for (auto &c : name)
        c = (char)tolower((unsigned char)c);
      value.erase(0, value.find_first_not_of(' '));
      p.headers[name] = value;
      at = e + 2;
    }
    size_t length = std::strtoul(p.headers["content-length"].c_str(), nullptr,
                                 10);
    if (buf->size() < end + 4 + length)
      return true;
    p.body = buf->substr(end + 4, length);
    buf->erase(0, end + 4 + length);
    Answer a;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!queued_.empty()) {
        a = queued_.front();
        queued_.erase(queued_.begin());
      } else {
        a = answer_;
      }
      posted_.push_back(p);
    }
    cv_.notify_all();
    if (a.delay_ms)
      std::this_thread::sleep_for(std::chrono::milliseconds(a.delay_ms));
    if (a.close)
      return false;
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\n";
    for (auto &h : a.headers)
      out += h.first + ": " + h.second + "\r\n";
    out += "Content-Length: 2\r\n\r\n{}";
    if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != (ssize_t)out.size())
      return false;
  }
}

} // namespace stp_test
