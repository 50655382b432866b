/* job.c: the steps of a run that every harness command shares: resource accounting and
 * combining the partial results in task order. */
#include <sys/resource.h>
#include <sys/time.h>
#include "harness.h"

void usage_now(struct rusage *u)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    *u = self;
    u->ru_utime.tv_sec += kids.ru_utime.tv_sec;
    u->ru_utime.tv_usec += kids.ru_utime.tv_usec;
    u->ru_stime.tv_sec += kids.ru_stime.tv_sec;
    u->ru_stime.tv_usec += kids.ru_stime.tv_usec;
    if (kids.ru_maxrss > u->ru_maxrss)
        u->ru_maxrss = kids.ru_maxrss;   /* a peak, not a sum */
    u->ru_nvcsw += kids.ru_nvcsw;
    u->ru_nivcsw += kids.ru_nivcsw;
    u->ru_minflt += kids.ru_minflt;
    u->ru_majflt += kids.ru_majflt;
}

double tv_seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int job_combine(const struct job *job, const struct partial *slots, struct partial *total,
                size_t *bad)
{
    *total = (struct partial){ 0 };
    for (size_t t = 0; t < job->tasks; t++) {
        if (slots[t].err) {
            *bad = t;
            return -1;
        }
        job->wl->combine(total, &slots[t]);
    }
    if (job->wl->finish)
        job->wl->finish(job, total);
    return 0;
}
