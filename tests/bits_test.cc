// The core's bit helpers for 64-bit member sets: the compiler's builtins
// (what gcc and clang builds use) against the loops other compilers get.
#include <cstdint>
#include <vector>

#include "test_util.h"

extern "C" {
#include "src/internal.h"
}

namespace {

TEST(Bits, BuiltinsAndLoopsAgree) {
  std::vector<uint64_t> sets = {1, 2, 3, 0x80, 0x8000000000000000u,
                                0xffffffffffffffffu, 0x8000000000000001u,
                                0x00f0000000000f00u};
  for (int i = 0; i < 64; i++)
    sets.push_back(uint64_t{1} << i);
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < 10000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    sets.push_back(x);
    sets.push_back(x & (x >> 17) & (x << 9)); // sparse
  }
  for (uint64_t s : sets) {
    if (s == 0)
      continue;
    EXPECT_EQ(stp__lowest_bit(s), stp__lowest_bit_loop(s)) << s;
    EXPECT_EQ(stp__highest_bit(s), stp__highest_bit_loop(s)) << s;
    EXPECT_EQ(stp__bit_count(s), stp__bit_count_loop(s)) << s;
  }
  EXPECT_EQ(stp__bit_count_loop(0), 0u);
}

// The loops by definition, on sets built bit by bit.
TEST(Bits, LoopsFindTheBitsTheySay) {
  for (unsigned lo = 0; lo < 64; lo++)
    for (unsigned hi = lo; hi < 64; hi += 7) {
      uint64_t s = (uint64_t{1} << lo) | (uint64_t{1} << hi);
      EXPECT_EQ(stp__lowest_bit_loop(s), lo);
      EXPECT_EQ(stp__highest_bit_loop(s), hi);
      EXPECT_EQ(stp__bit_count_loop(s), lo == hi ? 1u : 2u);
    }
}

}  // namespace
