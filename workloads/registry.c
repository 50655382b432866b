/* registry.c: every workload, in `parlab list` order. A workload is its file,
 * workloads/NAME.c, which defines `const struct workload wl_NAME`, and one line W(NAME)
 * below (docs/adding-a-workload.md). */
#include <string.h>
#include "workload.h"

#define EVERY_WORKLOAD(W) \
    W(primes)             \
    W(sumsq)              \
    W(montecarlo)         \
    W(mandelbrot)         \
    W(nbody)              \
    W(noop)               \
    W(spin)               \
    W(sleep)              \
    W(loopback)           \
    /* the end of the list */

#define DECLARE(name) extern const struct workload wl_##name;
EVERY_WORKLOAD(DECLARE)

#define ENTRY(name) &wl_##name,
const struct workload *const wl_registry[] = { EVERY_WORKLOAD(ENTRY) NULL };

const struct workload *wl_find(const char *name)
{
    for (const struct workload *const *w = wl_registry; *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}
