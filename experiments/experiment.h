/* experiment.h: what `parlab share`, `parlab pitfall NAME` and `parlab overhead` are made
 * of: one experiment per file, each a {name, summary, run} entry in one table
 * (experiments/registry.c), sharing one option parser and one table printer. */
#ifndef PARLAB_EXPERIMENT_H
#define PARLAB_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>
#include "../harness/bench_util.h"
#include "../harness/stats.h"

#define EXP_MAX_REPEAT BENCH_MAX_REPEAT

/* The options an experiment may take; each names those it accepts (struct experiment). */
enum {
    EO_RUNNER = 1 << 0, EO_WORKERS = 1 << 1, EO_SIZE = 1 << 2, EO_TASKS = 1 << 3,
    EO_OPS = 1 << 4, EO_MB = 1 << 5, EO_REPEAT = 1 << 6, EO_LOCK_MS = 1 << 7,
    EO_METHOD = 1 << 8, EO_QUICK = 1 << 9, EO_STUDENT = 1 << 10,
};

/*
 * Rows as text for people or CSV for machines. Text: aligned columns section, what,
 * "mean ± σ", "min … max", runs, ratio, note. CSV: one header, then one row per figure:
 * command,section,what,workers,unit,median,min,max,q1,q3,n,ratio,host,experiment,mean,stddev,
 * ci_low,ci_high,note (raw numbers in the row's unit: times in ns). JSON: one document at the
 * end (exp_end), a row per figure with the same fields under the same names (results/
 * README.md). The table remembers whether the CSV header went out.
 */
struct exp_table {
    FILE *f;
    enum out_format fmt;
    const char *command, *experiment, *host;
    int started;
    struct json_t *rows, *notes;   /* JSON: collected, written by exp_end */
    int wrong;                /* wrong results said so far (exp_wrong): the command exits 1 */
};

/* One printed figure: the summary of its samples, and what it is. */
struct exp_row {
    const char *section;      /* a short group name: "process", "dispatch", "cow" ... */
    char what[96];            /* no commas: it becomes a CSV field */
    unsigned workers;         /* 0 when it does not apply */
    enum unit unit;
    struct stats st;
    double ratio;             /* a comparison the experiment defines; NAN for none */
    char note[200];           /* text: the note column; CSV and JSON: the note field */
};

/* What the option parser hands an experiment: every option, defaulted or given. */
struct exp_opts {
    int kinds;                /* bit 0 fork, bit 1 thread */
    unsigned workers;
    uint64_t size, tasks, ops, mb, lock_ms;
    int ops_set;
    const char *method;       /* --method as given; NULL: all (the experiment checks it) */
    const char *student;      /* --student FILE.so as given, or NULL (the experiment loads it) */
    int R;
    int quick;
    int methods;              /* the experiment's own reading of --method (its check) */
    struct exp_table tab;
    struct machine machine;
};

struct experiment {
    const char *name, *summary;
    const char *command;      /* the parlab subcommand it runs under: share, pitfall, overhead */
    unsigned opts;            /* EO_* it accepts */
    int default_kinds;        /* 1 fork, 2 thread, 3 both */
    int default_repeat;       /* 0: 3 */
    unsigned max_workers;     /* 0: 4096 */
    /* Lines for --help after the options (NULL for none). */
    void (*help)(FILE *f);
    /* The options only this experiment reads (--method, --student), checked before
     * anything is printed; NULL: none. Returns 0, or -1 with oc filled (64). */
    int (*check)(struct exp_opts *o, struct outcome *oc);
    /* Measure and print the rows; a wrong result is said with exp_wrong and the run goes
     * on or stops as the experiment sees fit. Returns 0, or -1 with oc filled (oc->code
     * the exit status). Parent only. */
    int (*run)(struct exp_opts *o, struct outcome *oc);
};

/* The long options the experiments take, all of them ({0}-terminated, getopt_long's
 * table): for the shell completion. */
struct option;
const struct option *exp_options(void);

/* The table of every experiment, NULL-terminated (experiments/registry.c). */
extern const struct experiment *const exp_registry[];

/* Rows and context lines (experiments/table.c). Parent only. */
void exp_row(struct exp_table *t, const struct exp_row *r);
/* JSON: the document (kind "experiment") with every row and note collected; nothing in
 * text or CSV, whose rows went out as they came. Once, when the experiment has ended
 * (failed too: the rows so far). */
void exp_end(struct exp_table *t);
/* A wrong result (a count or an answer that is not what it must be), said at once as
 * "parlab: <line>" on stderr and counted in t->wrong, from which the command picks exit
 * status 1. Returns nothing: the experiment decides whether to go on. */
void exp_wrong(struct exp_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure from below, said in the experiment's words: oc->msg becomes fmt's text
 * followed by the message it held (as far as it fits); oc->code stays. Returns -1. */
int exp_fail_in(struct outcome *oc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A context line: "# ..." in text; nothing in CSV (data rows only); JSON: in notes. */
void exp_note(struct exp_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A context line with the load average: other work on these CPUs widens every spread. */
void exp_load(struct exp_table *t, const char *when);
/* The head of a text table: the machine, the load, `about` (a "#" line) and the column
 * names. Nothing in CSV. Call once, after checking the options, before the first row. */
void exp_begin(struct exp_opts *o, const char *about, ...) __attribute__((format(printf, 2, 3)));

/* A figure shown with others on one text line; in CSV every figure is its own row. */
struct exp_fig {
    const char *label;
    enum unit unit;
    const double *v;
    int n;
};
/*
 * Print `main` as the row's figure with `extra` in its note (text), or each as a CSV row
 * named "<what> <label>". Returns main's summary in *out when out is not NULL.
 */
void exp_emit(struct exp_opts *o, const char *section, unsigned workers, double ratio,
              const struct exp_fig *main, const struct exp_fig *extra, int nextra,
              struct stats *out, const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* "fork" or "thread" for kind bit k (0 or 1). */
const char *exp_kind_name(int k);

extern const struct experiment exp_share, exp_oversubscribe, exp_cow, exp_false_sharing,
    exp_deadlock, exp_pickling, exp_chunking, exp_overhead;

#endif
