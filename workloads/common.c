/* common.c: helpers every workload may use (shared memory, ranges, 128-bit printing) and
 * the check of a registry entry. */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/shm.h"

void *job_shared_alloc(size_t len)
{
    /* Populated: take the page faults now, not inside a timed run. A memfd (lib/shm.c), so
     * that workers of the forkserver and spawn start methods can map it too. */
    return shm_map(len, SHM_POPULATE);
}

void job_shared_free(void *p, size_t len)
{
    shm_unmap(p, len);
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
        return 0;
    snprintf(why, n, "%llu of %zu tasks reported", (unsigned long long)t->count, job->tasks);
    return -1;
}

/* Each trap a new entry can fall into, said in its own words. */
int wl_check(const struct workload *wl, char *why, size_t n)
{
    const struct wl_sizes *z = &wl->sizes;
    const char *bad = NULL;
    uint64_t sizes[] = { z->test, z->tiny, z->quick, z->bench, z->full, z->weak };
    uint64_t ladder[WL_LADDER_MAX];

    if (!wl->name || !*wl->name || strchr(wl->name, ',') || strchr(wl->name, ' '))
        bad = "name must be one word";
    else if (!wl->summary || !wl->check || !wl->check_how || strchr(wl->check, ','))
        bad = "summary, check (one token) and check_how are required";
    else if (!wl->run_task || !wl->combine || !wl->format || !wl->verify)
        bad = "run_task, combine, format and verify are required";
    else if (!wl->start_task != !wl->resume_task)
        bad = "start_task and resume_task come together";
    else if (wl->min_size < 1 || wl->max_size < wl->min_size)
        bad = "sizes need 1 <= min_size <= max_size (max_size 0 would reject every -n)";
    else if (wl->default_size < wl->min_size || wl->default_size > wl->max_size)
        bad = "default_size is outside [min_size, max_size]";
    else if (wl->split == WL_SPLIT_RANGE && wl->default_tasks < 1)
        bad = "default_tasks must be >= 1 (or split = WL_SPLIT_ITEMS)";
    else if (wl->default_steps < 1 || (!wl->stepped && wl->default_steps != 1))
        bad = "default_steps must be >= 1, and 1 unless stepped";
    else if (z->test < wl->min_size || z->test > wl->max_size)
        bad = "sizes.test is missing or outside [min_size, max_size]";
    if (!bad)
        for (size_t i = 1; i < sizeof sizes / sizeof sizes[0]; i++) {
            if (wl->kind == WL_CPU && (sizes[i] < wl->min_size || sizes[i] > wl->max_size))
                bad = "a CPU workload needs sizes.tiny, quick, bench, full and weak in [min_size, max_size]";
            else if (wl->kind != WL_CPU && sizes[i])
                bad = "only CPU workloads have bench sizes (tiny, quick, bench, full, weak)";
        }
    if (!bad && wl->kind == WL_CPU && (!wl->unit || !*wl->unit || strchr(wl->unit, ',')))
        bad = "a CPU workload needs unit, what one unit of N is (\"term\"), without commas";
    if (!bad && wl_ladder(wl, ladder, WL_LADDER_MAX) < 1)
        bad = "ladder must be ascending whole numbers in [min_size, max_size], at most 64";
    if (!bad)
        return 0;
    snprintf(why, n, "workload %s: %s", wl->name ? wl->name : "(no name)", bad);
    return -EINVAL;
}

int wl_ladder(const struct workload *wl, uint64_t *out, size_t max)
{
    size_t k = 0;
    if (!wl->ladder) {
        /* 1-2-5 steps from the power of ten at or below sizes.test up to max_size */
        uint64_t d = 1;
        while (d <= wl->sizes.test / 10)
            d *= 10;
        for (; k < max; d *= 10) {
            static const unsigned steps[] = { 1, 2, 5 };
            for (size_t i = 0; i < 3 && k < max; i++)
                if (d * steps[i] >= wl->min_size && d * steps[i] <= wl->max_size)
                    out[k++] = d * steps[i];
            if (d > wl->max_size / 10)
                break;
        }
        return k ? (int)k : -EINVAL;
    }
    for (const char *p = wl->ladder; *p;) {
        char *end;
        if (*p == ' ') {
            p++;
            continue;
        }
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || (*end && *end != ' ') || k == max || v < wl->min_size ||
            v > wl->max_size || (k && v <= out[k - 1]))
            return -EINVAL;
        out[k++] = v;
        p = end;
    }
    return k ? (int)k : -EINVAL;
}

char *wl_flag_names(const struct workload *wl, char *buf, size_t n)
{
    static const struct { unsigned flag; const char *name; } names[] = {
        { WL_COMBINE_ANY_ORDER, "any-order" }, { WL_GRAIN, "grain" },
        { WL_WORK_LINEAR, "linear" },
    };
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (wl->flags & names[i].flag && used < n) {
            int w = snprintf(buf + used, n - used, "%s%s", used ? " " : "", names[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
    return buf;
}

const struct wl_known *wl_known_find(const struct wl_known *table, size_t n, uint64_t size,
                                     uint64_t steps, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].size == size && table[i].steps == steps && table[i].seed == seed)
            return &table[i];
    return NULL;
}

const char *wl_check_name(const struct job *job, const char **how)
{
    const char *h = job->wl->check_how;
    const char *name = job->wl->check_for ? job->wl->check_for(job, &h) : job->wl->check;
    if (how)
        *how = h;
    return name;
}
