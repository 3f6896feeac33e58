#include "tests/alloc_count.h"

#include <stddef.h>

#include <atomic>

extern "C" {
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
}

namespace {

std::atomic<bool> g_window{false};
std::atomic<int> g_calls{0};

void Count() {
  if (g_window.load(std::memory_order_relaxed))
    g_calls.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {

void *__wrap_malloc(size_t size) {
  Count();
  return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size) {
  Count();
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size) {
  Count();
  return __real_realloc(p, size);
}

}  // extern "C"

namespace stp_test {

AllocWindow::AllocWindow() {
  g_calls = 0;
  g_window = true;
}

AllocWindow::~AllocWindow() {
  g_window = false;
}

int AllocWindow::Close() {
  g_window = false;
  return g_calls.load();
}

}  // namespace stp_test
