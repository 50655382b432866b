/* common.c: helpers every workload may use: shared memory, ranges, 128-bit printing. */
#include "workload.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

void *job_shared_alloc(size_t len)
{
    /* MAP_POPULATE: take the page faults now, not inside a timed run. */
    void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void job_shared_free(void *p, size_t len)
{
    if (p)
        munmap(p, len ? len : 1);
}

void wl_combine_add(struct partial *acc, const struct partial *part)
{
    acc->sum += part->sum;
    acc->count += part->count;
    acc->value += part->value;
    acc->hash ^= part->hash;
    if (!acc->err)
        acc->err = part->err;
}

void wl_task_range(uint64_t n, size_t tasks, size_t task, uint64_t *lo, uint64_t *hi)
{
    unsigned __int128 t = task, T = tasks;
    *lo = (uint64_t)(t * n / T);
    *hi = (uint64_t)((t + 1) * n / T);
}

char *wl_u128_str(unsigned __int128 v, char *buf, size_t n)
{
    char tmp[48];
    size_t i = sizeof tmp;
    tmp[--i] = '\0';
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    if (n) {
        strncpy(buf, tmp + i, n - 1);
        buf[n - 1] = '\0';
    }
    return buf;
}

void wl_format_count(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    (void)job;
    snprintf(buf, n, "%llu", (unsigned long long)t->count);
}

int wl_verify_task_count(const struct job *job, const struct partial *t, char *why, size_t n)
{
    if (t->count == job->tasks)
        return 1;
    snprintf(why, n, "%llu of %zu tasks reported", (unsigned long long)t->count, job->tasks);
    return 0;
}

const struct wl_known *wl_known_find(const struct wl_known *table, size_t n, uint64_t size,
                                     uint64_t steps, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].size == size && table[i].steps == steps && table[i].seed == seed)
            return &table[i];
    return NULL;
}

const char *wl_check_name(const struct job *job)
{
    return job->wl->check_for ? job->wl->check_for(job) : job->wl->check;
}
