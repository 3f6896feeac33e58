// Memory that ends at an unreadable page, so that a parser reading one
// byte past its input crashes the test at once (as picohttpparser's tests
// do).
#ifndef STP_TESTS_GUARD_PAGE_H
#define STP_TESTS_GUARD_PAGE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace stp_test {

// `readable` bytes that can be read and written, right before at least
// `unreadable` bytes (whole pages, at least one) that cannot be touched.
// Gives out pointers to the readable bytes that end at the boundary.
class GuardedBuffer {
 public:
  // Sixteen readable pages, one guard page.
  GuardedBuffer() : GuardedBuffer(16 * PageSize(), 1) {}
  GuardedBuffer(size_t readable, size_t unreadable) {
    size_t page = PageSize();
    size_t head = (readable + page - 1) / page * page;
    size_t tail = unreadable ? (unreadable + page - 1) / page * page : page;
    size_ = head + tail;
    void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      Fail("mmap");
    base_ = static_cast<char *>(p);
    boundary_ = base_ + head;
    capacity_ = readable;
    if (mprotect(boundary_, tail, PROT_NONE) != 0)
      Fail("mprotect");
  }
  ~GuardedBuffer() {
    munmap(base_, size_);
  }
  GuardedBuffer(const GuardedBuffer &) = delete;
  GuardedBuffer &operator=(const GuardedBuffer &) = delete;

  // The last `n` readable bytes (n <= capacity()), to fill in place.
  char *Tail(size_t n) {
    if (n > capacity_)
      abort();
    return boundary_ - n;
  }
  // A copy of the bytes that ends at the boundary; valid until the next
  // call that writes the buffer.
  const char *Place(const char *s, size_t n) {
    char *dst = Tail(n);
    if (n)
      memcpy(dst, s, n);
    return dst;
  }
  const char *Place(const std::string &s) {
    return Place(s.data(), s.size());
  }
  size_t capacity() const {
    return capacity_;
  }

 private:
  static size_t PageSize() {
    return static_cast<size_t>(sysconf(_SC_PAGESIZE));
  }
  // Without the guard no test here means anything.
  [[noreturn]] static void Fail(const char *what) {
    perror(what);
    abort();
  }

  char *base_, *boundary_;
  size_t size_, capacity_;
};

}  // namespace stp_test

#endif  // STP_TESTS_GUARD_PAGE_H
