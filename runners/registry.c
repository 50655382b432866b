/* registry.c: every runner, in `parlab list` order. Add a runner here and in its file. */
#include <string.h>
#include "runner.h"

extern const struct runner runner_seq, runner_fork, runner_thread, runner_epoll,
    runner_process, runner_omp, runner_mpi;

const struct runner *const runner_registry[] = {
    &runner_seq, &runner_fork, &runner_thread, &runner_epoll, &runner_process, &runner_omp, &runner_mpi,
    NULL,
};

const struct runner *runner_find(const char *name)
{
    for (const struct runner *const *r = runner_registry; *r; r++)
        if (strcmp((*r)->name, name) == 0)
            return *r;
    return NULL;
}
