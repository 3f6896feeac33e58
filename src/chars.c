/* Character tables. Designated initialisers: what is not listed is 0. */
#include "internal.h"

#define T STP__TCHAR
#define B STP__BOCTET

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

const char stp__hex_lower[16] = "0123456789abcdef";
const char stp__hex_upper[16] = "0123456789ABCDEF";
