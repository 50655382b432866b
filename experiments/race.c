/* race.c: `parlab race`'s interpreter: each worker's steps (load, add, store; an atomic
 * fetch-add; a lock's acquire and release) taken one at a time in a given order, and the
 * analysis that names every lost update, the store that dropped it and the stale read
 * that store was built on. Pure computation, no threads; any thread may call it on its
 * own race_run. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race.h"
#include "../workloads/rng.h"

static const struct race_case_info cases[RACE__COUNT] = {
    [RACE_COUNTER] = {
        .name = "counter",
        .code = { "counter += 1 on a shared int: load, add, store, with nothing held",
                  "__atomic_fetch_add(&counter, 1): the load, add and store as one step" },
        .word = { [RACE_LOAD] = "load counter", [RACE_ADD] = "add 1 in its register",
                  [RACE_STORE] = "store counter", [RACE_FETCH_ADD] = "atomic fetch-add",
                  [RACE_ACQUIRE] = "lock", [RACE_RELEASE] = "unlock" },
    },
    [RACE_MANAGER] = {
        .name = "manager",
        .code = { "v = Manager().Value('i', 0); v.value += 1: a get and a set, two round "
                  "trips to the manager, nothing held between them",
                  "with lock: v.value += 1 (lock = Manager().Lock()): the lock held from "
                  "the get to the set" },
        .word = { [RACE_LOAD] = "proxy get of v.value", [RACE_ADD] = "add 1 in the worker",
                  [RACE_STORE] = "proxy set of v.value", [RACE_FETCH_ADD] = "fetch-add",
                  [RACE_ACQUIRE] = "proxy lock.acquire()",
                  [RACE_RELEASE] = "proxy lock.release()" },
    },
    [RACE_ARRAY] = {
        .name = "array",
        .code = { "with arr.get_lock(): x = arr[0] + 1; then arr[0] = x after the with "
                  "block: the write outside the lock",
                  "with arr.get_lock(): arr[0] += 1: the lock held from the read to the "
                  "write" },
        .word = { [RACE_LOAD] = "x = arr[0]", [RACE_ADD] = "x = x + 1",
                  [RACE_STORE] = "arr[0] = x", [RACE_FETCH_ADD] = "fetch-add",
                  [RACE_ACQUIRE] = "get_lock().acquire()",
                  [RACE_RELEASE] = "get_lock().release()" },
    },
};

const struct race_case_info *race_case_info(enum race_case c)
{
    return &cases[c];
}

int race_case_find(const char *name)
{
    for (int c = 0; c < RACE__COUNT; c++)
        if (strcmp(cases[c].name, name) == 0)
            return c;
    return -ENOENT;
}

const char *race_op_name(enum race_op op)
{
    static const char *const names[] = { "load", "add", "store", "fetch_add", "acquire",
                                         "release" };
    return names[op];
}

unsigned race_program(enum race_case c, int fixed, enum race_op ops[5])
{
    static const enum race_op rmw[] = { RACE_LOAD, RACE_ADD, RACE_STORE },
        atomic[] = { RACE_FETCH_ADD },
        locked[] = { RACE_ACQUIRE, RACE_LOAD, RACE_ADD, RACE_STORE, RACE_RELEASE },
        part[] = { RACE_ACQUIRE, RACE_LOAD, RACE_ADD, RACE_RELEASE, RACE_STORE };
    const enum race_op *p;
    unsigned n;
    if (c == RACE_COUNTER && fixed) {
        p = atomic;
        n = 1;
    } else if (c == RACE_ARRAY && !fixed) {
        p = part;
        n = 5;
    } else if (fixed) {
        p = locked;
        n = 5;
    } else {
        p = rmw;
        n = 3;
    }
    memcpy(ops, p, n * sizeof *ops);
    return n;
}

int race_init(struct race_run *r, const struct race_spec *spec)
{
    memset(r, 0, sizeof *r);
    r->spec = *spec;
    r->prog_len = race_program(spec->c, spec->fixed, r->prog);
    r->per_worker = spec->increments * r->prog_len;
    r->total = spec->workers * r->per_worker;
    r->lock = -1;
    r->steps = calloc(r->total, sizeof *r->steps);
    r->order = calloc(r->total + 1, 1);
    return r->steps && r->order ? 0 : -ENOMEM;
}

void race_free(struct race_run *r)
{
    free(r->steps);
    free(r->order);
    free(r->lost);
    r->steps = NULL;
    r->order = NULL;
    r->lost = NULL;
}

void race_copy(struct race_run *dst, const struct race_run *src)
{
    struct race_step *steps = dst->steps;
    char *order = dst->order;
    struct race_lost *lost = dst->lost;
    *dst = *src;
    dst->steps = steps;
    dst->order = order;
    dst->lost = lost;
    dst->nlost = 0;
    memcpy(dst->steps, src->steps, src->nsteps * sizeof *src->steps);
    memcpy(dst->order, src->order, src->nsteps + 1);
}

/* The op worker w would take next (it has steps left). */
static enum race_op next_op(const struct race_run *r, unsigned w)
{
    return r->prog[r->w[w].pc % r->prog_len];
}

uint32_t race_runnable(const struct race_run *r)
{
    uint32_t m = 0;
    for (unsigned w = 0; w < r->spec.workers; w++)
        if (r->w[w].pc < r->per_worker &&
            !(next_op(r, w) == RACE_ACQUIRE && r->lock >= 0 && r->lock != (int)w))
            m |= 1u << w;
    return m;
}

int race_step(struct race_run *r, unsigned w, char *why, size_t n)
{
    if (r->w[w].pc >= r->per_worker) {
        snprintf(why, n, "%c has taken all its %u steps", 'A' + w, r->per_worker);
        return -EINVAL;
    }
    enum race_op op = next_op(r, w);
    if (op == RACE_ACQUIRE && r->lock >= 0) {
        snprintf(why, n, "%c waits for the lock %c holds (its next step is acquire)", 'A' + w,
                 'A' + r->lock);
        return -EINVAL;
    }
    unsigned at = r->nsteps + 1;
    struct race_step *s = &r->steps[r->nsteps];
    *s = (struct race_step){ .worker = w, .increment = r->w[w].pc / r->prog_len + 1, .op = op };
    switch (op) {
    case RACE_LOAD:
        r->w[w].reg = r->shared;
        r->w[w].reads = s->reads = r->last_store;
        r->w[w].load_at = at;
        r->w[w].stores_at_load = r->stores;
        break;
    case RACE_ADD:
        r->w[w].reg += 1;
        break;
    case RACE_STORE:
        r->shared = r->w[w].reg;
        s->reads = r->w[w].reads;
        s->load_at = r->w[w].load_at;
        s->stale = r->stores - r->w[w].stores_at_load;
        r->last_store = at;
        r->stores++;
        break;
    case RACE_FETCH_ADD:
        s->reads = r->last_store;
        s->load_at = at;
        r->w[w].reg = r->shared = r->shared + 1;
        r->last_store = at;
        r->stores++;
        break;
    case RACE_ACQUIRE:
        r->lock = (int)w;
        break;
    case RACE_RELEASE:
        r->lock = -1;
        break;
    }
    s->reg = r->w[w].reg;
    s->shared = r->shared;
    r->order[r->nsteps++] = (char)('A' + w);
    r->order[r->nsteps] = '\0';
    r->w[w].pc++;
    return 0;
}

int race_replay(struct race_run *r, const char *order, char *why, size_t n)
{
    char last = (char)('A' + r->spec.workers - 1), step_why[160];
    for (const char *p = order; *p; p++) {
        unsigned at = r->nsteps + 1;
        int c = toupper((unsigned char)*p);
        if (c < 'A' || c > 'Z') {
            snprintf(why, n, "step %u is '%c', not a worker's letter (A to %c)", at,
                     isprint((unsigned char)*p) ? *p : '?', last);
            return -EINVAL;
        }
        if (c > last) {
            snprintf(why, n, "step %u names %c, but there are %u workers (A to %c)", at, c,
                     r->spec.workers, last);
            return -EINVAL;
        }
        if (race_step(r, (unsigned)(c - 'A'), step_why, sizeof step_why)) {
            snprintf(why, n, "step %u: %s", at, step_why);
            return -EINVAL;
        }
    }
    if (r->nsteps < r->total) {
        size_t len = (size_t)snprintf(why, n, "it ends after %u step%s; %u more %s needed (",
                                      r->nsteps, r->nsteps == 1 ? "" : "s",
                                      r->total - r->nsteps,
                                      r->total - r->nsteps == 1 ? "is" : "are");
        const char *sep = "";
        for (unsigned w = 0; w < r->spec.workers && len < n; w++)
            if (r->w[w].pc < r->per_worker) {
                len += (size_t)snprintf(why + len, n - len, "%s%c %u", sep, 'A' + w,
                                        r->per_worker - r->w[w].pc);
                sep = ", ";
            }
        if (len < n)
            snprintf(why + len, n - len, ")");
        return -EINVAL;
    }
    return 0;
}

void race_random(struct race_run *r, uint64_t seed)
{
    uint64_t key = rng_key(seed);
    uint32_t m;
    char why[160];
    while ((m = race_runnable(r))) {
        unsigned k = (unsigned)(rng_at(key, r->nsteps) % (uint64_t)__builtin_popcount(m)), w = 0;
        for (;; w++)
            if ((m >> w & 1) && k-- == 0)
                break;
        race_step(r, w, why, sizeof why);   /* runnable: it cannot refuse */
    }
}

static int stores_value(enum race_op op)
{
    return op == RACE_STORE || op == RACE_FETCH_ADD;
}

/*
 * Each store's value is the count of the updates it holds: those of the store its value
 * was read from, plus its own. So the updates the final value holds are a chain of
 * "read from" links back to the initial 0, and every update off that chain is lost. An
 * update is lost at the store after the last one that still held it; that store's value
 * was read before the store it overwrote (else it would hold the update): a stale read.
 */
int race_finish(struct race_run *r)
{
    unsigned W = r->spec.workers, N = r->spec.increments, ninc = W * N, k = 0;
    size_t words = (ninc + 63) / 64;
    unsigned *ord = calloc(r->total + 1, sizeof *ord);      /* step -> store number */
    unsigned *at = calloc(ninc + 1, sizeof *at);            /* store number -> step */
    uint64_t *held = calloc((ninc + 1) * words, sizeof *held);   /* per store; 0: none */
    int rc = -ENOMEM;
    free(r->lost);
    r->lost = calloc(ninc, sizeof *r->lost);
    r->nlost = 0;
    if (!ord || !at || !held || !r->lost)
        goto out;
    rc = -EPROTO;
    for (unsigned s = 1; s <= r->nsteps; s++) {
        struct race_step *st = &r->steps[s - 1];
        st->dropped = 0;
        if (!stores_value(st->op))
            continue;
        if (++k > ninc)
            goto out;
        ord[s] = k;
        at[k] = s;
        unsigned id = st->worker * N + st->increment - 1;
        memcpy(held + k * words, held + ord[st->reads] * words, words * sizeof *held);
        held[k * words + id / 64] |= 1ull << (id % 64);
    }
#define HOLDS(store, id) (held[(size_t)(store) * words + (id) / 64] >> ((id) % 64) & 1)
    unsigned last = ord[r->last_store], count = 0;
    for (unsigned id = 0; id < ninc; id++)
        count += (unsigned)HOLDS(last, id);
    r->expected = (long)ninc;
    r->final = r->shared;
    if (k != ninc || (long)count != r->final)
        goto out;   /* a store missing, or a value that is not the updates it holds */
    for (unsigned j = 1; j <= k; j++) {
        const struct race_step *st = &r->steps[at[j] - 1];
        unsigned id = st->worker * N + st->increment - 1, h = j;
        if (HOLDS(last, id))
            continue;
        for (unsigned i = j + 1; i <= k; i++)
            if (HOLDS(i, id))
                h = i;
        struct race_step *over = &r->steps[at[h + 1] - 1];   /* h < last: it lacks id */
        over->dropped++;
        r->lost[r->nlost++] = (struct race_lost){
            .worker = st->worker, .increment = st->increment, .stored_at = at[j],
            .held_until = at[h], .overwritten_at = at[h + 1], .stale_load_at = over->load_at,
        };
    }
#undef HOLDS
    rc = (long)r->nlost == r->expected - r->final ? 0 : -EPROTO;
out:
    free(ord);
    free(at);
    free(held);
    return rc;
}
