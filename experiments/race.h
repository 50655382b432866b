/* race.h: `parlab race`'s engine: workers' read-modify-write steps replayed one at a time
 * under an order given letter by letter (or drawn from a seed), and which updates were
 * lost and why. A small interpreter, no threads: every order replays exactly. The tests
 * walk every order of small cases through the same functions the command uses. */
#ifndef PARLAB_RACE_H
#define PARLAB_RACE_H

#include <stddef.h>
#include <stdint.h>

#define RACE_MAX_WORKERS 26        /* one letter each, A to Z */
#define RACE_MAX_INCREMENTS 100
#define RACE_MAX_SEED ((1ull << 53) - 1)   /* exact in JSON readers that hold doubles */

/* The three ways of sharing one count that lose updates, each with its fix. */
enum race_case { RACE_COUNTER, RACE_MANAGER, RACE_ARRAY, RACE__COUNT };

/* What one step does. LOAD copies the shared value into the worker's register, ADD adds 1
 * to the register, STORE copies the register back; FETCH_ADD is all three as one step (an
 * atomic); ACQUIRE and RELEASE take and give back the one lock (a worker whose next step
 * is ACQUIRE while another holds it cannot run). */
enum race_op { RACE_LOAD, RACE_ADD, RACE_STORE, RACE_FETCH_ADD, RACE_ACQUIRE, RACE_RELEASE };

/* A case as the command shows it: its name, the code it stands for (racy and fixed), and
 * the words of each step. */
struct race_case_info {
    const char *name;              /* counter, manager, array */
    const char *code[2];           /* [fixed]: the code being replayed, one line */
    const char *word[6];           /* [enum race_op]: what the step does, e.g. "x = arr[0]" */
};
/* The case c's names and code (c < RACE__COUNT). Returns a static entry. */
const struct race_case_info *race_case_info(enum race_case c);
/* The case named `name`: its enum race_case, or -ENOENT. */
int race_case_find(const char *name);

/* The steps of one increment of case c, racy or fixed: n (at most 5) into ops. */
unsigned race_program(enum race_case c, int fixed, enum race_op ops[5]);
/* "load", "add", "store", "fetch_add", "acquire", "release". */
const char *race_op_name(enum race_op op);

/* One step taken. Steps are numbered from 1; 0 names the initial value. */
struct race_step {
    unsigned worker;       /* 0 is A */
    unsigned increment;    /* the worker's 1st, 2nd, ... increment */
    enum race_op op;
    long reg, shared;      /* the worker's register and the shared value after the step */
    unsigned reads;        /* LOAD, STORE, FETCH_ADD: the step whose store the value read
                              came from (for a STORE: its load's), 0 the initial value */
    unsigned load_at;      /* STORE: the step of its load (FETCH_ADD: itself) */
    unsigned stale;        /* STORE: stores by others between its load and it: its read was
                              stale when this is above 0 */
    unsigned dropped;      /* STORE, FETCH_ADD: updates this store lost for good
                              (race_finish) */
};

/* A lost update: one increment whose effect the final count does not hold. */
struct race_lost {
    unsigned worker, increment;
    unsigned stored_at;        /* the step of its own store */
    unsigned held_until;       /* the last store whose value still held it (often its own) */
    unsigned overwritten_at;   /* the store after that one, which dropped it */
    unsigned stale_load_at;    /* that store's load: it came before held_until */
};

struct race_spec {
    enum race_case c;
    int fixed;
    unsigned workers;      /* 2 .. RACE_MAX_WORKERS (1 works too) */
    unsigned increments;   /* 1 .. RACE_MAX_INCREMENTS */
};

/* A replay in progress. Fields are read-only outside race.c. */
struct race_run {
    struct race_spec spec;
    enum race_op prog[5];
    unsigned prog_len, per_worker, total;   /* steps per increment, per worker, in all */
    unsigned nsteps;                         /* taken so far */
    struct race_step *steps;                 /* [total], steps[0] is step 1 */
    char *order;                             /* the letters taken, NUL-terminated */
    struct {
        unsigned pc;          /* steps taken */
        long reg;
        unsigned reads, load_at;
        unsigned stores_at_load;   /* `stores` when it loaded */
    } w[RACE_MAX_WORKERS];
    int lock;                 /* the worker holding the lock, -1 none */
    long shared;
    unsigned last_store;      /* the step of the latest store, 0 none yet */
    unsigned stores;          /* stores so far */
    /* race_finish: */
    long expected, final;
    unsigned nlost;
    struct race_lost *lost;   /* [nlost], in the order of their stores */
};

/* Set r up for spec (nothing taken yet). 0, or -ENOMEM. race_free(r) either way. */
int race_init(struct race_run *r, const struct race_spec *spec);
/* Free what race_init took; safe after a failed race_init. */
void race_free(struct race_run *r);
/* dst, set up by race_init with the same spec, becomes a copy of src (not its analysis). */
void race_copy(struct race_run *dst, const struct race_run *src);

/* The workers that may take the next step, bit w for worker w: those with steps left and
 * not waiting for a lock another holds. 0 when every worker has finished. */
uint32_t race_runnable(const struct race_run *r);
/* Worker w takes its next step. 0, or -EINVAL with why (it has no steps left, or waits for the
 * lock) in why[n]; r is unchanged then. */
int race_step(struct race_run *r, unsigned w, char *why, size_t n);

/* Take the steps `order` names, one letter a step (A is worker 0; lower case too), until
 * every worker has finished. 0, or -EINVAL with the one line that says what is wrong in why[n]
 * (not a letter, a worker beyond spec.workers, one with no steps left or waiting for the
 * lock, or an order that ends before every worker has finished). */
int race_replay(struct race_run *r, const char *order, char *why, size_t n);
/* Take every step in an order drawn from seed: at each step, one of the runnable workers
 * uniformly (rng.h's stream), so that the same seed gives the same order. */
void race_random(struct race_run *r, uint64_t seed);

/* After every step: the final count, the expected one, and each lost update with the
 * store that dropped it (steps[].dropped too). 0, or -ENOMEM, or -EPROTO when the count
 * and the updates it holds disagree (a bug: the command says so). */
int race_finish(struct race_run *r);

/* `parlab race`'s long options ({0}-terminated, getopt_long's table): for the completion. */
struct option;
const struct option *race_options(void);

#endif
