/* reference.h: answers recomputed from scratch for verify(), at sizes with no recorded
 * answer. Each reference is written apart from its workload's task code (reference.c):
 * one pass over the whole problem in global order, no task split, its own statement of
 * the problem's constants. It shares only the random-number generator (rng.h) with the
 * workload, so a bug or a mutation in the task code, its split or its constants shows as
 * a different answer. verify() runs after the timed region; the answers are cached, so
 * repeats of one job recompute once. */
#ifndef PARLAB_REFERENCE_H
#define PARLAB_REFERENCE_H
#include <stdint.h>
#include "workload.h"

/* The default limit on one recomputation's estimated time (job->check_limit_s == 0; below
 * 0, nothing is recomputed). */
#define WL_CHECK_LIMIT_S 30.0

/* How long recomputing job's answer is estimated to take, in seconds, from its size,
 * steps and a cost per unit of work measured on a slow core (reference.c), and whether
 * that is within the job's limit. */
double ref_cost_s(const struct job *job);
int ref_within_limit(const struct job *job);
/* The limit that applies to job, in seconds. */
double ref_limit_s(const struct job *job);

/*
 * The answers. Each returns 1 with the answer filled in; 0 when the estimate is over the
 * limit (nothing computed: why says so, for verify()'s message); -1 when memory ran out
 * (why says so).
 */
/* Hits among the first N points of the seed's stream. */
int ref_montecarlo(const struct job *job, uint64_t *hits, char *why, size_t n);
/* Iterations and position-weighted checksum of the side x side image, side = isqrt(N). */
int ref_mandelbrot(const struct job *job, uint64_t *iters, unsigned __int128 *checksum,
                   char *why, size_t n);
/* FNV-1a hash of the final positions and velocities after S steps from the seed. */
int ref_nbody(const struct job *job, uint64_t *hash, char *why, size_t n);

/* The check names and their sentences for people, shared by the three workloads. */
#define WL_CHECK_INDEPENDENT "independent"
#define WL_CHECK_OVER_LIMIT "over-limit"

#endif
