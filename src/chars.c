/* Character tables. Designated initialisers: what is not listed is 0. */
#include "internal.h"

#define T STP__TCHAR
#define B STP__BOCTET

/* The tables are laid out by hand. */
/* clang-format off */
const uint8_t stp__cclass[256] = {
    ['!'] = T | B, ['#'] = T | B, ['$'] = T | B, ['%'] = T | B,
    ['&'] = T | B, ['\''] = T | B, ['('] = B, [')'] = B,
    ['*'] = T | B, ['+'] = T | B, ['-'] = T | B, ['.'] = T | B,
    ['/'] = B, ['0'] = T | B, ['1'] = T | B, ['2'] = T | B,
    ['3'] = T | B, ['4'] = T | B, ['5'] = T | B, ['6'] = T | B,
    ['7'] = T | B, ['8'] = T | B, ['9'] = T | B, [':'] = B,
    ['<'] = B, ['='] = B, ['>'] = B, ['?'] = B,
    ['@'] = B, ['A'] = T | B, ['B'] = T | B, ['C'] = T | B,
    ['D'] = T | B, ['E'] = T | B, ['F'] = T | B, ['G'] = T | B,
    ['H'] = T | B, ['I'] = T | B, ['J'] = T | B, ['K'] = T | B,
    ['L'] = T | B, ['M'] = T | B, ['N'] = T | B, ['O'] = T | B,
    ['P'] = T | B, ['Q'] = T | B, ['R'] = T | B, ['S'] = T | B,
    ['T'] = T | B, ['U'] = T | B, ['V'] = T | B, ['W'] = T | B,
    ['X'] = T | B, ['Y'] = T | B, ['Z'] = T | B, ['['] = B,
    [']'] = B, ['^'] = T | B, ['_'] = T | B, ['`'] = T | B,
    ['a'] = T | B, ['b'] = T | B, ['c'] = T | B, ['d'] = T | B,
    ['e'] = T | B, ['f'] = T | B, ['g'] = T | B, ['h'] = T | B,
    ['i'] = T | B, ['j'] = T | B, ['k'] = T | B, ['l'] = T | B,
    ['m'] = T | B, ['n'] = T | B, ['o'] = T | B, ['p'] = T | B,
    ['q'] = T | B, ['r'] = T | B, ['s'] = T | B, ['t'] = T | B,
    ['u'] = T | B, ['v'] = T | B, ['w'] = T | B, ['x'] = T | B,
    ['y'] = T | B, ['z'] = T | B, ['{'] = B, ['|'] = T | B,
    ['}'] = B, ['~'] = T | B,
};

#undef T
#undef B

#define D STP__HEX_DIGIT
#define U (STP__HEX_DIGIT | STP__HEX_UPPER)

const uint8_t stp__hex[256] = {
    ['0'] = D | 0, ['1'] = D | 1, ['2'] = D | 2, ['3'] = D | 3,
    ['4'] = D | 4, ['5'] = D | 5, ['6'] = D | 6, ['7'] = D | 7,
    ['8'] = D | 8, ['9'] = D | 9,
    ['a'] = D | 10, ['b'] = D | 11, ['c'] = D | 12,
    ['d'] = D | 13, ['e'] = D | 14, ['f'] = D | 15,
    ['A'] = U | 10, ['B'] = U | 11, ['C'] = U | 12,
    ['D'] = U | 13, ['E'] = U | 14, ['F'] = U | 15,
};

#undef D
#undef U

/* The two lowercase hex digits of every byte, in order. */
const char stp__hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f"
    "101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f"
    "303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f"
    "505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f"
    "707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f"
    "909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
/* clang-format on */
const char stp__hex_upper[16] = "0123456789ABCDEF";
