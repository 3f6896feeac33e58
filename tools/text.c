/* Human-readable output of the stp command. */
#include "text.h"

#include <string.h>

#include "stp/stp.h"

static const char hex[] = "0123456789abcdef";

/* \xNN for byte c. */
static const char *hex_escape(unsigned char c, char buf[5]) {
  buf[0] = '\\';
  buf[1] = 'x';
  buf[2] = hex[c >> 4];
  buf[3] = hex[c & 15];
  buf[4] = '\0';
  return buf;
}

/* The escape for ASCII byte c when it must not reach the terminal as it
 * is; NULL when it may. */
static const char *ascii_escape(unsigned char c, char buf[5]) {
  switch (c) {
  case '\t':
    return "\\t";
  case '\r':
    return "\\r";
  case '\n':
    return "\\n";
  case '\\':
    return "\\\\";
  default:
    return c >= 0x20 && c != 0x7f ? NULL : hex_escape(c, buf);
  }
}

/* Calls put(arg, bytes, len) for each piece of s[0..n) as printed: an
 * escape, or one character; stops when put returns false. */
typedef bool (*piece_fn)(void *arg, const char *p, size_t len);

static void each_piece(const char *s, size_t n, piece_fn put, void *arg) {
  char esc[5];
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    const char *e = NULL;
    size_t len = 1;
    if (c < 0x80) {
      e = ascii_escape(c, esc);
    } else {
      bool valid;
      len = stp_utf8_char_len(&valid, s + i, n - i);
      /* U+0080..U+009F (C2 80..C2 9F) are the C1 controls, CSI among
       * them. Invalid bytes and these go out one escaped byte at a time. */
      if (!valid || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
        e = hex_escape(c, esc);
        len = 1;
      }
    }
    if (!(e ? put(arg, e, strlen(e)) : put(arg, s + i, len)))
      return;
    i += len;
  }
}

static bool put_file(void *arg, const char *p, size_t len) {
  fwrite(p, 1, len, (FILE *)arg);
  return true;
}

void text_put(FILE *out, const char *s, size_t n) {
  each_piece(s, n, put_file, out);
}

typedef struct {
  cell *c;
  size_t used;  /* bytes of c->text */
  size_t limit; /* columns that may be filled */
  bool cut;
} cell_fill;

/* An escape takes one column per byte; a character one column. */
static size_t cols_of(const char *p, size_t len) {
  return p[0] == '\\' ? len : 1;
}

static bool count_cols(void *arg, const char *p, size_t len) {
  *(size_t *)arg += cols_of(p, len);
  return true;
}

static bool put_cell(void *arg, const char *p, size_t len) {
  cell_fill *f = arg;
  size_t cols = cols_of(p, len);
  if (f->c->cols + cols > f->limit) {
    f->cut = true;
    return false;
  }
  memcpy(f->c->text + f->used, p, len);
  f->used += len;
  f->c->cols += cols;
  return true;
}

void cell_set(cell *c, const char *s, size_t n) {
  size_t cols = 0;
  each_piece(s, n, count_cols, &cols);
  cell_fill f = {c, 0, cols > CELL_COLS ? CELL_COLS - 3 : CELL_COLS, false};
  c->cols = 0;
  each_piece(s, n, put_cell, &f);
  if (f.cut) {
    memcpy(c->text + f.used, "...", 3);
    f.used += 3;
    c->cols += 3;
  }
  c->text[f.used] = '\0';
}

void cell_setc(cell *c, const char *s) {
  cell_set(c, s, strlen(s));
}

void cell_put(FILE *out, const cell *c, size_t width) {
  fputs(c->text, out);
  for (size_t i = c->cols; i < width; i++)
    fputc(' ', out);
}

void text_label(FILE *out, const char *label, size_t width) {
  fprintf(out, "  %-*s", (int)width, label);
}
