/* share.h: the ways of adding up one count across workers that `parlab share` times
 * (share_measure.c), for the experiment that prints them (share.c) and for pitfall
 * false-sharing, which measures two of them. */
#ifndef PARLAB_SHARE_H
#define PARLAB_SHARE_H

#include "experiment.h"

enum share_method { SHARE_NONE, SHARE_LOCK, SHARE_ATOMIC, SHARE_LOCAL, SHARE_PADDED,
                    SHARE_UNPADDED, SHARE_PIPE, SHARE_MANAGER, SHARE_STUDENT, SHARE__COUNT };

/* A method as --method names it and --help describes it. */
struct share_method_info {
    const char *name, *summary;
    uint64_t default_ops;      /* per worker: the slow ones get fewer */
};
/* Every method, in enum share_method's order. */
extern const struct share_method_info share_methods[SHARE__COUNT];

#define MAX_SHARE_WORKERS 1024u

/* The method called name: its enum share_method, or -ENOENT. */
int share_method_find(const char *name);

/*
 * Run `method` (a name of share_methods) on a pool of `kind` with W workers doing `ops`
 * increments each, `repeat` times. Fills ns_per_op[] (a worker's wall time / ops) and
 * finals[] (the count reached). SHARE_STUDENT needs the student's code loaded
 * (lib/student.h). Returns 0, or -1 with oc filled. Parent only.
 */
int share_measure(const char *method, enum pool_kind kind, unsigned workers, uint64_t ops,
                  int repeat, double *ns_per_op, double *finals, struct outcome *oc);

#endif
