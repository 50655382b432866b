/* student.c: loads the plugin a lab built from a student's file (`--student FILE.so`) and
 * hands its functions to where parlab runs them (lib/pool.c, workloads/mandelbrot.c,
 * experiments/share.c). One plugin per process, loaded before any worker starts. */
#define _GNU_SOURCE
#include "student.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int (*student_claim_fn)(struct claim_state *c, size_t *lo, size_t *hi);
size_t (*student_rows_fn)(size_t task, size_t tasks, size_t height, size_t *rows);
void (*student_count_fn)(struct shared_counter *c, unsigned worker, unsigned workers,
                         uint64_t n);

static char source[512];

int student_load(const char *path, struct outcome *out)
{
    /* A path without a slash would be looked up in the library path, not here. */
    char local[4096];
    snprintf(local, sizeof local, "%s%s", strchr(path, '/') ? "" : "./", path);
    void *h = dlopen(local, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s", e ? e : "cannot load it");
    }
    student_claim_fn = (int (*)(struct claim_state *, size_t *, size_t *))dlsym(h, "student_claim");
    student_rows_fn = (size_t (*)(size_t, size_t, size_t, size_t *))dlsym(h, "student_rows");
    student_count_fn = (void (*)(struct shared_counter *, unsigned, unsigned, uint64_t))
        dlsym(h, "student_count");
    const char *file = dlsym(h, "student_source_file");
    snprintf(source, sizeof source, "%s", file && *file ? file : path);
    if (!student_claim_fn && !student_rows_fn && !student_count_fn) {
        return outcome_fail(out, PARLAB_EXIT_USAGE, "defines none of student_claim, "
                            "student_rows, student_count (lib/student.h)");
    }
    return 0;   /* never closed: workers run its code until the process ends */
}

const char *student_source(void)
{
    return source;
}
