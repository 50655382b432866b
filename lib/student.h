/* student.h: the functions students write in the labs, one a lab, each in its own file
 * under labs/NN-name/student/. `make lab-N` builds the file into a plugin (FILE.so) that
 * `parlab run --student FILE.so` and `parlab share --student FILE.so` load; parlab then
 * runs the student's function where the lab says, checks what it did, and names the
 * student's file in every message about it.
 *
 * A student's file includes this header and defines one of the three functions below. It
 * is compiled with -DPARLAB_STUDENT_BUILD, which adds the file's own name to the plugin. */
#ifndef PARLAB_STUDENT_H
#define PARLAB_STUDENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include "outcome.h"
#include <stdint.h>

/* ---- lab 3: a scheduling policy, `parlab run -s student` ---------------------------------
 * A map runs tasks 0 .. n-1 on W workers. Each worker, whenever it is free, asks
 * student_claim which tasks to run next: the function writes a block [*lo, *hi) and returns
 * 1, or returns 0 when this worker is done with the map. Over all workers, every task must
 * be claimed exactly once. Every worker calls it at the same time as the others: anything
 * two workers change must be changed atomically (c->next is there for that). */
struct claim_state {
    size_t n;               /* tasks in this map */
    unsigned workers;       /* W */
    unsigned worker;        /* who asks: 0 .. W-1 */
    size_t chunk;           /* `-c`, or 0 when not given */
    _Atomic size_t *next;   /* one counter shared by every worker, 0 when the map starts */
    size_t *mine;           /* this worker's own number, 0 when the map starts */
};
int student_claim(struct claim_state *c, size_t *lo, size_t *hi);

/* ---- lab 1: a decomposition of the mandelbrot image, `parlab run -w mandelbrot` ----------
 * The image is `height` rows tall, rendered by `tasks` tasks. Write the rows that task
 * `task` renders into rows[] (room for `height` of them) and return how many. Over all
 * tasks, every row must be rendered exactly once. */
size_t student_rows(size_t task, size_t tasks, size_t height, size_t *rows);

/* ---- lab 4: one count from many workers, `parlab share --method student` -----------------
 * Every worker calls student_count at once, each with its own worker number; each must add
 * n to c->total, as n increments (a count of events, one at a time). When every worker has
 * returned, c->total must be workers x n. c->lock is a mutex every worker may use (it works
 * across processes too). A loop of n plain increments is folded by the compiler into one
 * add of n, which times no increment at all: STUDENT_KEEP(x) after each keeps it one add
 * per turn, as parlab's own methods do (lab 4 fails a count faster than that). */
#define STUDENT_KEEP(x) __asm__ volatile("" : "+r"(x))
struct shared_counter {
    volatile uint64_t total;   /* the count: parlab reads it when every worker is done */
    pthread_mutex_t lock;
};
void student_count(struct shared_counter *c, unsigned worker, unsigned workers, uint64_t n);

#ifdef PARLAB_STUDENT_BUILD
/* The student's file, as the compiler was given it: parlab's messages name it. */
__attribute__((used)) const char student_source_file[] = __BASE_FILE__;
#else
/* ---- parlab's side ----------------------------------------------------------------------
 * Load the plugin at PATH (once per process, before any worker starts: forked workers
 * inherit it). Returns 0, or -1 with out filled (code PARLAB_EXIT_USAGE: the reason). */
int student_load(const char *path, struct outcome *out);
/* Returns the student's file (the plugin's record of it, else the plugin's path), or ""
 * when none is loaded. */
const char *student_source(void);
/* What the plugin defines; NULL for what it does not (or when none is loaded). */
extern int (*student_claim_fn)(struct claim_state *c, size_t *lo, size_t *hi);
extern size_t (*student_rows_fn)(size_t task, size_t tasks, size_t height, size_t *rows);
extern void (*student_count_fn)(struct shared_counter *c, unsigned worker, unsigned workers,
                                uint64_t n);
#endif

#endif
