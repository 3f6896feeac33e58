/*
 * Human-readable output of the stp command: text that is safe to print on
 * a terminal whatever bytes the headers held, and table cells.
 */
#ifndef STP_TOOLS_TEXT_H
#define STP_TOOLS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* s[0..n) with every byte that could move the cursor or start a terminal
 * escape written as an escape: \t, \r, \n, \\ and \xNN for other control
 * bytes (C0, DEL, the C1 range U+0080..U+009F) and for invalid UTF-8.
 * Valid printable UTF-8 goes out as it is. */
void text_put(FILE *out, const char *s, size_t n);

/* One table cell: text as text_put writes it, cut to at most CELL_COLS
 * columns with a trailing "..." when longer. */
#define CELL_COLS 40
typedef struct cell {
  char text[CELL_COLS * 4 + 8];
  size_t cols; /* columns it takes (one per character) */
} cell;

void cell_set(cell *c, const char *s, size_t n);
void cell_setc(cell *c, const char *s);

/* The cell, then spaces up to `width` columns. */
void cell_put(FILE *out, const cell *c, size_t width);

/* "  label   " : a label padded to `width` columns, indented by two. */
void text_label(FILE *out, const char *label, size_t width);

#endif /* STP_TOOLS_TEXT_H */
