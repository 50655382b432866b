/* machine.c: what machine a timing came from, and the CPUs a run may use. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "harness.h"

int cores_option(uint64_t k, struct outcome *oc)
{
    unsigned have = cpus_allowed();
    if (k > have)
        return outcome_fail(oc, PARLAB_EXIT_USAGE, "--cores %llu: only %u CPUs are available",
                            (unsigned long long)k, have);
    int e = cpus_restrict((unsigned)k);
    if (e)
        return outcome_fail(oc, PARLAB_EXIT_OS, "--cores %llu: sched_setaffinity: %s",
                            (unsigned long long)k, strerror(-e));
    return 0;
}

int cpus_restrict(unsigned k)
{
    cpu_set_t set, keep;
    unsigned n = 0;
    if (sched_getaffinity(0, sizeof set, &set))
        return -errno;
    CPU_ZERO(&keep);
    for (int c = 0; c < CPU_SETSIZE && n < k; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &keep);
            n++;
        }
    return sched_setaffinity(0, sizeof keep, &keep) ? -errno : 0;
}

void machine_read(struct machine *m)
{
    struct utsname u;
    char line[256];
    memset(m, 0, sizeof *m);
    snprintf(m->host, sizeof m->host, "unknown");
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += strspn(v, ": \t");
                v[strcspn(v, "\n")] = '\0';
                snprintf(m->cpu, sizeof m->cpu, "%s", v);
            }
            break;
        }
    if (f)
        fclose(f);
    long on = sysconf(_SC_NPROCESSORS_ONLN);
    m->online = on > 0 ? (unsigned)on : 1;
    m->allowed = cpus_allowed();
    if (uname(&u) == 0) {
        snprintf(m->kernel, sizeof m->kernel, "%s", u.release);
        snprintf(m->host, sizeof m->host, "%s", u.nodename);
    }
}

double machine_busy_s(void)
{
    unsigned long long v[8] = { 0 };
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    /* cpu user nice system idle iowait irq softirq steal: all but idle and iowait are busy */
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (got < 7 || hz <= 0)
        return -1;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)hz;
}

double machine_meter_cpu_s(void)
{
    long hz = sysconf(_SC_CLK_TCK), on = sysconf(_SC_NPROCESSORS_ONLN);
    if (hz <= 0)
        hz = 100;
    /* The kernel charges each CPU a whole tick at a time (at most 1/USER_HZ, CONFIG_HZ >=
     * 100), and /proc/stat truncates the sum to one USER_HZ tick: at both ends together,
     * about one tick per CPU and one more. */
    return (double)((on > 0 ? on : 1) + 1) / (double)hz;
}

void machine_print(FILE *f, const struct machine *m)
{
    fprintf(f, "# parlab %s on %s: %s, %u CPUs online, %u allowed, Linux %s\n",
            PARLAB_VERSION, m->host, m->cpu, m->online, m->allowed, m->kernel);
}

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
