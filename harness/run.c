/* run.c: `parlab run`: bind a workload to a runner (the options are run_opts.c's), time
 * each repeat the same way for every runner, verify, and print. Each repeat goes through
 * the one job lifecycle (job.h). Only cmd_run prints and picks the exit status: the
 * helpers return 0 or -1 with a struct outcome filled. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "harness.h"
#include "run_opts.h"
#include "suggest.h"

/* The trace rows of the last repeat, times from the run's start t0, into the trace file.
 * Returns 0, or -errno of the first write that failed. */
static int write_trace(const struct trace_file *tf, const struct trace_rec *t, size_t n,
                       uint64_t t0)
{
    FILE *f = trace_file_stream(tf);
    if (!f)
        return -errno;
    /* The first failed write's errno is the reason (ENOSPC): stdio keeps no record. */
    int e = fprintf(f, "task,worker,step,start_ns,end_ns\n") < 0 ? -errno : 0;
    for (size_t i = 0; i < n && !e; i++)
        if (fprintf(f, "%u,%u,%u,%llu,%llu\n", t[i].task, t[i].worker, t[i].step,
                    (unsigned long long)(t[i].start_ns - t0),
                    (unsigned long long)(t[i].end_ns - t0)) < 0)
            e = -errno;
    int ec = out_fclose(f);
    return e ? e : ec;
}

/* The first wrong answer of a run is told, on one line; the repeats after it are wrong
 * rows in the output and the exit status, not more lines. Here it is kept (in wrong,
 * WRONG_LEN bytes, "" until then) for cmd_run to tell. */
#define WRONG_LEN 512
static void note_wrong(char *wrong, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_wrong(char *wrong, const char *fmt, ...)
{
    va_list ap;
    if (*wrong)
        return;
    va_start(ap, fmt);
    vsnprintf(wrong, WRONG_LEN, fmt, ap);
    va_end(ap);
}

/*
 * One repeat through the job lifecycle (job.h): set up, run under r, combine in task
 * order, verify, tear down; then the trace, when trace_path is given. Fills row, and
 * wrong (note_wrong) for a wrong answer. Returns 0, or -1 with oc filled.
 */
static int run_once(const struct run_opts *o, const struct runner *r, struct result_row *row,
                    const char *trace_path, char *wrong, struct outcome *oc)
{
    struct job job = { .wl = o->wl, .size = o->size, .tasks = o->tasks,
                       .steps = (unsigned)o->steps, .seed = o->seed, .io_ms = (unsigned)o->io_ms,
                       /* --expect checks the answer: nothing to recompute */
                       .check_limit_s = o->expect ? -1 : o->check_limit,
                       .grain_ns = o->grain };
    struct plan plan = { .workers = (unsigned)o->workers, .cores = (unsigned)o->cores,
                         .schedule = r == o->runner ? o->schedule : r->default_schedule,
                         .chunk = o->chunk, .loops = (unsigned)o->loops,
                         .task_timeout_s = o->task_timeout,
                         .inject = r == o->runner ? o->inject : INJECT_NONE,
                         .inject_task = o->inject_task,
                         .inject_step = (unsigned)o->inject_step,
                         .start = r == o->runner ? (unsigned)o->start : 0 };
    unsigned watchers = plan.workers > plan.loops ? plan.workers : plan.loops;
    int watching = o->task_timeout > 0 && !(r->flags & RUNNER_OWN_TIMEOUT);
    struct job_ctx c;
    struct job_sample smp;
    struct job_result res;
    int status = 0;

    if (job_open(&c, &job, &plan, trace_path ? JOB_TRACE : 0, watching ? watchers : 0, oc))
        return -1;
    if (job_exec(&c, r, &smp, oc) || job_answer(&c, &res, oc)) {
        status = -1;
        goto out;
    }
    *row = (struct result_row){
        .workload = o->wl->name, .runner = r->name, .schedule = sched_name(plan.schedule),
        .size = c.job.size, .steps = c.job.steps, .cores = plan.cores,
        /* the workers that actually ran: seq has one, an event-loop runner one per loop */
        .workers = !(r->flags & (RUNNER_PARALLEL | RUNNER_HAS_LOOPS)) ? 1
                   : r->flags & RUNNER_HAS_LOOPS ? plan.loops : plan.workers,
        .tasks = c.job.tasks, .chunk = plan.chunk, .wall_s = smp.wall_ns / 1e9,
        .user_s = smp.user_s, .sys_s = smp.sys_s, .other_cpu = smp.other_cpu,
        .start_s = smp.start_s, .max_rss_kb = smp.max_rss_kb,
        .vol_cs = smp.vol_cs, .invol_cs = smp.invol_cs,
    };
    snprintf(row->result, sizeof row->result, "%s", res.result);
    snprintf(row->detail, sizeof row->detail, "%s", res.detail);
    row->verified = res.verified;
    row->check = row->verified == VERIFIED_SEQ ? "seq" : wl_check_name(&c.job, &row->check_how);
    if (row->verified == VERIFIED_SEQ)
        row->check_how = NULL;
    if (row->verified == VERIFIED_WRONG)
        note_wrong(wrong, "%s %s: wrong result: %s", o->wl->name, r->name, res.why);
    if (row->verified == VERIFIED_UNCHECKED)
        snprintf(row->why, sizeof row->why, "%s", res.why);
    if (trace_path) {
        int e = write_trace(&o->trace, c.plan.trace, c.job.tasks * c.job.steps, smp.start_ns);
        if (e)
            status = fail_msg(oc, out_errno_status(e), "--trace %s: writing the trace: %s; "
                              "the file is left as it was", trace_path, strerror(-e));
    }
out:
    job_close(&c);
    return status;
}

/*
 * Settle what the workload's own verify() could not. --expect, when given, must match
 * whatever the workload says. A result only seq can vouch for is compared with one
 * untimed seq run (cached in ref); seq's own such result is the reference, marked so.
 * A wrong one goes to wrong (note_wrong). Returns 0, or -1 with oc filled (the seq run).
 */
static int check_against_seq(const struct run_opts *o, struct result_row *row, char *ref,
                             size_t reflen, char *wrong, struct outcome *oc)
{
    const char *by = "seq";
    /* open: the workload could not vouch for it (only seq can, or it is unchecked) */
    int open = row->verified < 0 || row->verified == VERIFIED_UNCHECKED;
    if (o->expect) {
        if (row->verified == 0)
            return 0;
        snprintf(ref, reflen, "%s", o->expect);
        by = "--expect";
        if (open)
            row->check = "expect";
    } else if (row->verified >= 0) {
        return 0;
    } else if (strcmp(row->runner, "seq") == 0) {
        row->verified = VERIFIED_REF;
        row->check = "reference";
        return 0;
    } else if (!*ref) {
        struct result_row seq_row;
        if (run_once(o, runner_find("seq"), &seq_row, NULL, wrong, oc))
            return -1;
        snprintf(ref, reflen, "%s", seq_row.result);
    }
    if (strcmp(ref, row->result) == 0) {
        if (open)
            row->verified = 1;
        return 0;
    }
    row->verified = VERIFIED_WRONG;
    note_wrong(wrong, "%s %s: wrong result: %s, but %s gives %s", row->workload, row->runner,
               row->result, by, ref);
    return 0;
}

/* How the answer was verified, for people: the workload says so for its own checks; the
 * seq comparison and --expect are the harness's. */
static const char *verify_how(const struct result_row *row)
{
    if (strcmp(row->check, "seq") == 0)
        return "equal to the seq runner's answer";
    if (strcmp(row->check, "expect") == 0)
        return "equal to --expect";
    return row->check_how ? row->check_how : row->check;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct machine m;
    struct outcome oc = { 0 };
    char wrong_msg[WRONG_LEN] = "";
    int told = 0, st;
    if (run_opts_parse(argc, argv, &o, &oc))
        return die(oc.code, "%s", oc.msg);
    if (o.help || o.version) {
        if (o.help)
            run_usage(stdout);
        else
            print_version(stdout);
        return 0;
    }
    if (run_opts_resolve(&o, &oc))
        return die(oc.code, "%s", oc.msg);
    /* The forkserver forks before any job state exists: before the first setup. */
    if (o.start == POOL_START_FORKSERVER && (st = pool_forkserver_start()))
        return die(PARLAB_EXIT_OS, "--start forkserver: cannot start the server: %s", strerror(-st));
    st = 0;
    machine_read(&m);
    guard_set_runner(o.runner->name);

    int R = (int)o.repeat, wrong = 0, nbase = 0;
    double *wall = calloc((size_t)R, sizeof *wall), *base = calloc((size_t)R, sizeof *base);
    double *other = calloc((size_t)R, sizeof *other), *base_other = calloc((size_t)R, sizeof *base_other);
    char ref[128] = "";
    struct result_row row;
    if (!wall || !base || !other || !base_other) {
        free(wall);
        free(base);
        free(other);
        free(base_other);
        trace_file_discard(&o.trace);
        return die(PARLAB_EXIT_OS, "out of memory");
    }

    out_begin(stdout, o.format);
    if (o.format == OUT_TEXT) {
        machine_print(stdout, &m);
        printf("# %s  N=%llu  runner=%s  workers=%llu  cores=%llu  tasks=%llu  schedule=%s  chunk=%llu%s",
               o.wl->name, (unsigned long long)o.size, o.runner->name,
               (unsigned long long)o.workers, (unsigned long long)o.cores,
               (unsigned long long)o.tasks, sched_name(o.schedule), (unsigned long long)o.chunk,
               o.chunk ? "" : " (schedule's default)");
        if (o.steps > 1)
            printf("  steps=%llu", (unsigned long long)o.steps);
        printf("\n");
        if (o.baseline)
            printf("# --baseline: seq and %s take turns, run by run (warm-ups too), so that a "
                   "change in load hits both\n", o.runner->name);
    }
    st = out_flushed(stdout);   /* output that cannot be stored stops the run before it starts */
    /* With --baseline, seq and the runner alternate: seq, runner, seq, runner, ... A load
     * that comes or goes mid-way then slows both sides alike, instead of one of them. */
    int idx = 0, total = R * (o.baseline ? 2 : 1), sides = o.baseline ? 2 : 1;
    const struct runner *seq = runner_find("seq");
    /* A runner that starts processes of its own (mpi: mpirun and its ranks) starts them
     * once for the warm-up and every repeat (keep), and says what that start took
     * (start_s): the first reported row carries it, even when a warm-up paid it. */
    double start_s = 0;
    if (!st && o.runner->keep)
        o.runner->keep(1, NULL);
    for (int i = -(int)o.warmup; i < R && !st; i++) {
        for (int side = 2 - sides; side < 2; side++) {   /* 0: seq, 1: the runner */
            const struct runner *r = side == 0 ? seq : o.runner;
            int last = side == 1 && i == R - 1;
            /* i < 0: warm-up runs, checked but neither reported nor timed. */
            int e = run_once(&o, r, &row, last ? o.trace_path : NULL, wrong_msg, &oc);
            if (!e)
                e = check_against_seq(&o, &row, ref, sizeof ref, wrong_msg, &oc);
            if (*wrong_msg && !told++)
                complain("%s", wrong_msg);
            if (e) {
                st = die(oc.code, "%s", oc.msg);
                break;
            }
            wrong |= row.verified == VERIFIED_WRONG;
            if (row.start_s > 0) {
                start_s = row.start_s;
                row.start_s = 0;
            }
            if (i < 0)
                continue;
            row.host = m.host;
            if (side == 1 && start_s > 0) {
                row.start_s = start_s;
                start_s = 0;
            }
            if (side == 0) {
                base_other[nbase] = row.other_cpu;
                base[nbase++] = row.wall_s;
            } else {
                other[i] = row.other_cpu;
                wall[i] = row.wall_s;
            }
            out_row(stdout, o.format, &row, idx++, total);
            if ((st = out_flushed(stdout)))   /* the rows cannot be stored: stop now */
                break;
        }
    }
    if (o.runner->keep) {   /* its processes end here: the rows are out, the verdict not */
        oc = (struct outcome){ 0 };
        if (o.runner->keep(0, &oc) && !st)
            st = die(oc.code ? oc.code : PARLAB_EXIT_SOFTWARE, "%s", oc.msg);
    }
    /* CSV and JSON carry the verdict, not its reason: say that on stderr, once */
    if (!st && !wrong && o.format != OUT_TEXT && row.verified == VERIFIED_UNCHECKED)
        complain("%s %s: unchecked: %s", o.wl->name, o.runner->name, row.why);
    if (!st && o.format == OUT_TEXT) {
        printf("answer: %s\n", row.detail);
        if (wrong)
            printf("verified: NO, the answer is WRONG (see the message above)\n");
        else if (row.verified == VERIFIED_REF)
            printf("verified: not checked; seq is the reference at a size with no known answer\n");
        else if (row.verified == VERIFIED_UNCHECKED)
            printf("verified: unchecked (not shown wrong, not shown right): %s\n", row.why);
        else
            printf("verified: yes, %s\n", verify_how(&row));
        double meter = machine_meter_cpu_s();
        struct run_times runs = { wall, other, R, meter }, seqs = { base, base_other, nbase, meter };
        out_summary(stdout, &runs, o.baseline ? &seqs : NULL, (int)o.warmup);
    }
    if (st < 0) {   /* a failed write to stdout (st is -errno): the one line says so */
        st = die(PARLAB_EXIT_IO, "writing standard output: %s", strerror(-st));
    } else {
        out_end(stdout, o.format, o.baseline);   /* after a failure too: JSON holds the rows so far */
        int e = st ? 0 : out_flushed(stdout);
        if (e)
            st = die(PARLAB_EXIT_IO, "writing standard output: %s", strerror(-e));
    }
    free(wall);
    free(base);
    free(other);
    free(base_other);
    /* The trace replaces FILE only for a run that completed, verified, with its results
     * written: a failed run, a wrong answer or lost output leaves FILE as it was. */
    if (!st && !wrong && o.trace_path) {
        int e = trace_file_commit(&o.trace);
        if (e)
            st = die(out_errno_status(e), "--trace %s: %s; the file is left as it was",
                     o.trace_path, strerror(-e));
    }
    trace_file_discard(&o.trace);
    pool_forkserver_stop();
    if (st)
        return st;
    return wrong ? PARLAB_EXIT_WRONG : PARLAB_EXIT_OK;
}
