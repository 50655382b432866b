/* progress.h: where a long command stands, a line per step on stderr, in the form the
 * scripts print theirs (scripts/progress.py): "[3/6 0:12 elapsed, ~0:24 left] what". The
 * lines are for people: stdout keeps the data. Each is printed whole once its step has
 * ended (the step's own rows may go to the same terminal meanwhile); on a terminal one
 * that is wider than the terminal is wrapped at words, never cut; elsewhere lines are
 * plain and whole, never "\r". Main thread. */
#ifndef PARLAB_PROGRESS_H
#define PARLAB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *f;          /* where the lines go: stderr */
    int i, n;         /* steps ended, of n */
    uint64_t t0_ns;   /* CLOCK_MONOTONIC when the first step began */
    int off;          /* stdout failed: its one line at the end says so, and nothing else */
};

/* A job of n steps begins now; lines go to f. */
void progress_begin(struct progress *p, FILE *f, int n);

/* The next step has ended: its line, "[i/n elapsed, ~left] " and the text of fmt. stdout
 * is flushed first, so that rows printed before stand before the line; once that flush
 * fails, no more lines (the command's one line about lost output comes at its end). */
void progress_step(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "[i/n 0:12 elapsed, ~0:24 left]" after `done` of n steps in `elapsed_s` seconds: the time
 * left is the mean time per step so far times the steps to go (none while done is 0).
 * Into buf (n bytes, always terminated); returns buf. */
char *progress_prefix(char *buf, size_t size, int i, int n, double elapsed_s, int done);

/* src broken into lines of at most `width` columns (UTF-8 code points: "±", "×", "…" are
 * one each) at word boundaries (whitespace runs as one space), later lines indented by `indent` spaces; a word longer than a line stands
 * alone on its own, whole. No word is ever cut: where dst (size bytes, always terminated)
 * is too small, the words that do not fit are left out whole. Returns dst. */
char *progress_wrap(char *dst, size_t size, const char *src, size_t width, size_t indent);

/* The terminal's width when f is one, else 0 (plain lines). */
unsigned progress_columns(FILE *f);

#endif
