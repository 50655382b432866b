/* progress.c: a line per step of a long command, as scripts/progress.py draws the scripts'
 * (progress.h). */
#define _GNU_SOURCE
#include "progress.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void progress_begin(struct progress *p, FILE *f, int n)
{
    *p = (struct progress){ .f = f, .n = n, .t0_ns = now_ns() };
}

/* Seconds as m:ss, or h:mm:ss from an hour on. */
static void hms(char *buf, size_t n, double s)
{
    long t = s > 0 ? (long)s : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t % 3600 / 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

char *progress_prefix(char *buf, size_t size, int i, int n, double elapsed_s, int done)
{
    char e[24], l[24];
    hms(e, sizeof e, elapsed_s);
    if (done > 0 && n >= done) {
        hms(l, sizeof l, elapsed_s / done * (n - done));
        snprintf(buf, size, "[%d/%d %s elapsed, ~%s left]", i, n, e, l);
    } else {
        snprintf(buf, size, "[%d/%d %s elapsed]", i, n, e);
    }
    return buf;
}

/* Columns of the len bytes at s: UTF-8 code points ("±", "×", "…" are one each). */
static size_t cols_of(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t k = 0; k < len; k++)
        w += ((unsigned char)s[k] & 0xC0) != 0x80;
    return w;
}

/* The next word of s at or after *at: its start, and its length in *len; NULL at the end. */
static const char *next_word(const char **at, size_t *len)
{
    const char *s = *at, *e;
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    for (e = s; *e && !isspace((unsigned char)*e); e++)
        ;
    *len = (size_t)(e - s);
    *at = e;
    return s;
}

char *progress_wrap(char *dst, size_t size, const char *src, size_t width, size_t indent)
{
    size_t used = 0, w = 0, len;   /* bytes in dst; columns on the current line */
    const char *at = src, *word;
    if (!size)
        return dst;
    dst[0] = '\0';
    if (indent + 1 > width)
        indent = 0;
    while ((word = next_word(&at, &len))) {
        size_t ww = cols_of(word, len), need;
        int newline = w > 0 && w + 1 + ww > width;
        need = newline ? 1 + indent + len : (w > 0) + len;
        if (used + need >= size)
            break;
        if (newline) {
            dst[used++] = '\n';
            memset(dst + used, ' ', indent);
            used += indent;
            w = indent;
        } else if (w > 0) {
            dst[used++] = ' ';
            w++;
        }
        memcpy(dst + used, word, len);
        used += len;
        w += ww;
    }
    dst[used] = '\0';
    return dst;
}

unsigned progress_columns(FILE *f)
{
    struct winsize ws;
    int fd = fileno(f);
    if (fd < 0 || !isatty(fd))
        return 0;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v = c ? strtol(c, NULL, 10) : 0;
    return v > 0 && v < 10000 ? (unsigned)v : 80;
}

void progress_step(struct progress *p, const char *fmt, ...)
{
    char text[512], head[96], line[640], body[800];
    va_list ap;
    p->i++;
    if (p->off || !p->f)
        return;
    if (out_flushed(stdout)) {   /* the rows are being lost: their one line says so, later */
        p->off = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    progress_prefix(head, sizeof head, p->i, p->n, (double)(now_ns() - p->t0_ns) / 1e9, p->i);
    unsigned cols = progress_columns(p->f);
    snprintf(line, sizeof line, "%s %s", head, text);
    /* On a terminal, a line wider than it is wrapped at words (the last column left free:
     * some terminals wrap there): the step's result stays, whole. */
    if (cols > 1 && stats_text_width(line) > cols - 1)
        progress_wrap(body, sizeof body, line, cols - 1, 2);
    else
        snprintf(body, sizeof body, "%s", line);
    fprintf(p->f, "%s\n", body);
    fflush(p->f);
}
