/* false_sharing.c: `parlab pitfall false-sharing`: counters private to each worker but in
 * one cache line slow each other down; one line each does not. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "share.h"
#include "../lib/sync.h"

static int pf_false_sharing(struct exp_opts *o, struct outcome *oc)
{
    double ns[EXP_MAX_REPEAT], fin[EXP_MAX_REPEAT];
    exp_begin(o, "false-sharing: %u workers each add 1 to their own counter %llu times; time "
              "per increment over %d runs", o->workers, (unsigned long long)o->ops, o->R);
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        struct stats st[2];
        for (int u = 0; u < 2; u++) {
            const char *m = u ? "unpadded" : "padded";
            if (share_measure(m, k ? POOL_THREAD : POOL_FORK, o->workers, o->ops, o->R, ns, fin,
                              oc))
                return -1;
            for (int i = 0; i < o->R; i++)
                if (fin[i] != (double)o->ops * o->workers) {
                    exp_wrong(&o->tab, "pitfall false-sharing: %s counted %.0f, expected %llu",
                              m, fin[i], (unsigned long long)o->ops * o->workers);
                    return 0;
                }
            stats_of(ns, o->R, &st[u]);
            struct exp_fig main = { "", UNIT_NS, ns, o->R };
            exp_emit(o, "false-sh", o->workers, st[u].mean / st[0].mean, &main, NULL, 0, NULL,
                     "%s %s (%s)", exp_kind_name(k), m,
                     u ? "all in one cache line" : "a cache line each");
        }
        /* The verdict, from the two rows above. */
        int d = stats_differ(&st[1], &st[0]);
        double x = st[1].mean / st[0].mean;
        if (d > 0)
            exp_note(&o->tab, "%s: one shared line cost %.2f× the padded time per increment: "
                     "false sharing shows", exp_kind_name(k), x);
        else
            exp_note(&o->tab, "%s: unpadded %.2f× padded, %s: the expected slowdown did NOT "
                     "show here%s", exp_kind_name(k), x,
                     d < 0 ? "faster beyond the noise" : "within the noise",
                     o->workers < 2 ? " (one worker shares no line with anyone)"
                     : " (were the workers on one core, or taking turns on busy CPUs?)");
    }
    exp_note(&o->tab, "ratio: mean against padded. The counters are private to each worker; "
             "only their cache line is shared, and each write takes the line away from the "
             "other cores. Beyond the noise: the min … max ranges do not overlap and the means "
             "differ by more than 5%%.");
    return 0;
}

const struct experiment exp_false_sharing = {
    .name = "false-sharing", .command = "pitfall",
    .summary = "private counters in one cache line slow each other down; pad them",
    .opts = EO_RUNNER | EO_WORKERS | EO_OPS | EO_REPEAT, .default_kinds = 3,
    .run = pf_false_sharing,
};
