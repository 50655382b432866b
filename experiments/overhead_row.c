/* overhead_row.c: what the sections of `parlab overhead` share (overhead.h): a row from
 * the samples in o->v, their mean, and the check of a job's answer. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "overhead.h"

void ov_emit(struct ov *o, const char *section, unsigned workers, enum unit u,
             double ratio, const char *note, const char *fmt, ...)
{
    struct exp_row r = { .section = section, .workers = workers, .unit = u, .ratio = ratio };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.what, sizeof r.what, fmt, ap);
    va_end(ap);
    snprintf(r.note, sizeof r.note, "%s", note ? note : "");
    stats_of(o->v, o->R, &r.st);
    exp_row(&o->tab, &r);
}

void ov_check_answer(struct ov *o, struct bench_job *bj, const char *runner, const char *want)
{
    char res[128];
    struct outcome wrong;
    if (bench_job_check(bj, want, res, sizeof res, &wrong))
        exp_wrong(&o->tab, "%s %s: %s", bj->job.wl->name, runner, wrong.msg);
}

double ov_mean(const struct ov *o)
{
    struct stats s;
    stats_of(o->v, o->R, &s);
    return s.mean;
}
