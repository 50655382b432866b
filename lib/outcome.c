/* outcome.c: filling an outcome, and the fatal end (outcome.h). */
#include "outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int outcome_fail(struct outcome *out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof out->msg, fmt, ap);
    va_end(ap);
    out->code = code;
    return -1;
}

void (*outcome_fatal_hook)(int code, const char *msg);

void outcome_fatal(int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (outcome_fatal_hook)
        outcome_fatal_hook(code, msg);
    fflush(stdout);
    fprintf(stderr, "%s\n", msg);
    _exit(code);
}
