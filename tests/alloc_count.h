// Counts heap allocations made inside a window around the calls under
// test. A test that depends on //tests:alloc_count is linked with
// --wrap=malloc, --wrap=calloc and --wrap=realloc; it must link the
// library statically (linkstatic = True) for the wrap to reach it.
// googletest allocates too, so only the calls inside a window count.
#ifndef STP_TESTS_ALLOC_COUNT_H
#define STP_TESTS_ALLOC_COUNT_H

namespace stp_test {

// Opens the window and starts the count at zero; one window at a time.
class AllocWindow {
 public:
  AllocWindow();
  ~AllocWindow();  // closes the window
  AllocWindow(const AllocWindow &) = delete;
  AllocWindow &operator=(const AllocWindow &) = delete;

  // Closes the window; returns the calls to malloc, calloc and realloc
  // made while it was open, from any thread.
  int Close();
};

}  // namespace stp_test

#endif  // STP_TESTS_ALLOC_COUNT_H
