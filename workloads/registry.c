/* registry.c: every workload, in `parlab list` order. Add a workload here and in its file. */
#include <string.h>
#include "workload.h"

extern const struct workload wl_primes, wl_sumsq, wl_montecarlo, wl_mandelbrot, wl_nbody,
    wl_noop, wl_spin, wl_sleep, wl_loopback;

const struct workload *const wl_registry[] = {
    &wl_primes, &wl_sumsq, &wl_montecarlo, &wl_mandelbrot, &wl_nbody, &wl_noop, &wl_spin, &wl_sleep, &wl_loopback,
    NULL,
};

const struct workload *wl_find(const char *name)
{
    for (const struct workload *const *w = wl_registry; *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}
