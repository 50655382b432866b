/* run.c: `parlab run`: parse and check options, bind a workload to a runner, time each
 * repeat the same way for every runner, verify, and print. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "parse.h"

#define MAX_WORKERS 4096u
#define MAX_TASKS (1u << 22)     /* 4M tasks: 256 MiB of result slots */
#define MAX_STEPS 100000u
#define MAX_REPEAT 10000u
#define MAX_TRACE_ROWS (1u << 24) /* 512 MiB of trace records */

struct run_opts {
    const struct workload *wl;
    const struct runner *runner;
    uint64_t size, tasks, steps, workers, cores, repeat, chunk, seed, io_ms, loops;
    int size_set, tasks_set, steps_set, workers_set, cores_set, chunk_set, loops_set;
    int sched_set;
    enum sched_kind schedule;
    enum out_format format;
    const char *trace_path;
    struct trace_file trace;  /* where the rows go until the run completes */
    const char *expect;
    double task_timeout;
    enum inject_kind inject;
    uint64_t inject_task, inject_step;   /* step + 1; 0: the default */
    int baseline;
};

static void run_usage(FILE *f)
{
    fprintf(f,
        "usage: parlab run -w WORKLOAD -r RUNNER [options]\n"
        "  -w, --workload W    what to compute (parlab list)\n"
        "  -r, --runner R      how to run it (parlab list)\n"
        "  -j, --workers N     workers; default: the CPUs this process may use\n"
        "  -n, --size N        problem size; accepts 2000000, 2M, 2e6\n"
        "  -t, --tasks T       tasks the job splits into; default per workload\n"
        "  -s, --schedule S    static | dynamic | guided (as OpenMP's schedule clause)\n"
        "  -c, --chunk C       tasks per claim; default: the schedule's own\n"
        "      --steps S       time steps for simulations (nbody)\n"
        "      --cores K       restrict the run, workers included, to K CPUs\n"
        "      --repeat R      run R times and report each, with mean and spread\n"
        "      --format F      text | csv | json\n"
        "      --trace FILE    write one CSV row per task and step of the last repeat:\n"
        "                      task,worker,step,start_ns,end_ns (ns from the run's start)\n"
        "      --seed S        seed of the counter-based random streams (default 1)\n"
        "      --io-ms MS      I/O workloads: how long each task waits (default 100)\n"
        "      --loops N       epoll: event-loop processes that split the tasks\n"
        "      --task-timeout SECONDS  fail the run if one task takes longer\n"
        "      --inject KIND@TASK[:STEP]  plant a fault: segv, kill, exit, hang or error\n"
        "                      (a crash strikes on the first step, an error on the last)\n"
        "      --expect RESULT fail unless the result equals RESULT (skips the seq check)\n"
        "      --baseline      also run seq R times and report the speedup\n"
        "  -h, --help          this help             -V, --version  the version\n"
        "exit status: 0 verified, 1 wrong result, 64 usage, 70 worker failure, 71 OS failure\n");
}

static int parse_inject(const char *val, struct run_opts *o)
{
    static const char *const kinds[] = { "", "segv", "kill", "exit", "hang", "error" };
    const char *at = strchr(val, '@');
    if (!at)
        return die(PARLAB_EXIT_USAGE, "--inject %s: expected KIND@TASK, e.g. segv@3", val);
    for (int k = 1; k < 6; k++)
        if ((size_t)(at - val) == strlen(kinds[k]) && strncmp(val, kinds[k], (size_t)(at - val)) == 0) {
            const char *why, *colon = strchr(at + 1, ':');
            char task[32];
            o->inject = (enum inject_kind)k;
            snprintf(task, sizeof task, "%.*s", colon ? (int)(colon - at - 1) : 31, at + 1);
            if (parse_count(task, 0, UINT32_MAX, &o->inject_task, &why))
                return die(PARLAB_EXIT_USAGE, "--inject %s: task %s", val, why);
            if (colon && parse_count(colon + 1, 0, MAX_STEPS - 1, &o->inject_step, &why))
                return die(PARLAB_EXIT_USAGE, "--inject %s: step %s", val, why);
            o->inject_step += colon != NULL;
            return 0;
        }
    return die(PARLAB_EXIT_USAGE, "--inject %s: unknown fault (segv, kill, exit, hang, error)", val);
}

enum { OPT_STEPS = 256, OPT_CORES, OPT_REPEAT, OPT_FORMAT, OPT_TRACE, OPT_SEED, OPT_IOMS,
       OPT_LOOPS, OPT_TIMEOUT, OPT_INJECT, OPT_EXPECT, OPT_BASELINE };

static const struct option long_opts[] = {
    { "workload", required_argument, 0, 'w' }, { "runner", required_argument, 0, 'r' },
    { "workers", required_argument, 0, 'j' },  { "size", required_argument, 0, 'n' },
    { "tasks", required_argument, 0, 't' },    { "schedule", required_argument, 0, 's' },
    { "chunk", required_argument, 0, 'c' },    { "steps", required_argument, 0, OPT_STEPS },
    { "cores", required_argument, 0, OPT_CORES }, { "repeat", required_argument, 0, OPT_REPEAT },
    { "format", required_argument, 0, OPT_FORMAT }, { "trace", required_argument, 0, OPT_TRACE },
    { "seed", required_argument, 0, OPT_SEED }, { "io-ms", required_argument, 0, OPT_IOMS },
    { "loops", required_argument, 0, OPT_LOOPS },
    { "task-timeout", required_argument, 0, OPT_TIMEOUT },
    { "inject", required_argument, 0, OPT_INJECT }, { "expect", required_argument, 0, OPT_EXPECT },
    { "baseline", no_argument, 0, OPT_BASELINE }, { "help", no_argument, 0, 'h' },
    { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 },
};

/* Parse argv into o, checking each value. Returns -1 on success, else an exit status. */
static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
    int c, rc;
    *o = (struct run_opts){ .repeat = 1, .seed = 1, .io_ms = 100, .loops = 1, .trace.fd = -1 };
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":w:r:j:n:t:s:c:hV", long_opts, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case 'w':
            if (!(o->wl = wl_find(optarg)))
                return die(PARLAB_EXIT_USAGE, "-w %s: unknown workload (parlab list shows them)", optarg);
            break;
        case 'r':
            if (!(o->runner = runner_find(optarg)))
                return die(PARLAB_EXIT_USAGE, "-r %s: unknown runner (parlab list shows them)", optarg);
            break;
        case 'j': rc = parse_opt_count("-j", optarg, 1, MAX_WORKERS, &o->workers); o->workers_set = 1; break;
        case 'n': rc = parse_opt_count("-n", optarg, 0, UINT64_MAX, &o->size); o->size_set = 1; break;
        case 't': rc = parse_opt_count("-t", optarg, 1, MAX_TASKS, &o->tasks); o->tasks_set = 1; break;
        case 'c': rc = parse_opt_count("-c", optarg, 1, MAX_TASKS, &o->chunk); o->chunk_set = 1; break;
        case 's':
            if (sched_parse(optarg, &o->schedule))
                return die(PARLAB_EXIT_USAGE, "-s %s: unknown schedule (static, dynamic, guided)", optarg);
            o->sched_set = 1;
            break;
        case OPT_STEPS: rc = parse_opt_count("--steps", optarg, 1, MAX_STEPS, &o->steps); o->steps_set = 1; break;
        case OPT_CORES: rc = parse_opt_count("--cores", optarg, 1, MAX_WORKERS, &o->cores); o->cores_set = 1; break;
        case OPT_REPEAT: rc = parse_opt_count("--repeat", optarg, 1, MAX_REPEAT, &o->repeat); break;
        case OPT_SEED: rc = parse_opt_count("--seed", optarg, 0, UINT64_MAX, &o->seed); break;
        case OPT_IOMS: rc = parse_opt_count("--io-ms", optarg, 0, 3600000, &o->io_ms); break;
        case OPT_LOOPS: rc = parse_opt_count("--loops", optarg, 1, MAX_WORKERS, &o->loops); o->loops_set = 1; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0) o->format = OUT_TEXT;
            else if (strcmp(optarg, "csv") == 0) o->format = OUT_CSV;
            else if (strcmp(optarg, "json") == 0) o->format = OUT_JSON;
            else return die(PARLAB_EXIT_USAGE, "--format %s: unknown format (text, csv, json)", optarg);
            break;
        case OPT_TRACE:
            if (!*optarg)
                return die(PARLAB_EXIT_USAGE, "--trace '': empty file name");
            o->trace_path = optarg;
            break;
        case OPT_TIMEOUT: {
            const char *why;
            if (parse_seconds(optarg, 86400, &o->task_timeout, &why))
                return die(PARLAB_EXIT_USAGE, "--task-timeout %s: %s", optarg, why);
            break;
        }
        case OPT_INJECT: rc = parse_inject(optarg, o); break;
        case OPT_EXPECT: o->expect = optarg; break;
        case OPT_BASELINE: o->baseline = 1; break;
        case 'h': run_usage(stdout); return 0;
        case 'V': printf("parlab %s\n", PARLAB_VERSION); return 0;
        case ':': return die(PARLAB_EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
        default:
            return die(PARLAB_EXIT_USAGE, "unknown option '%s' (parlab run --help)", argv[optind - 1]);
        }
        if (rc)
            return rc;
    }
    if (optind < argc)
        return die(PARLAB_EXIT_USAGE, "unexpected argument '%s' (parlab run --help)", argv[optind]);
    if (!o->wl)
        return die(PARLAB_EXIT_USAGE, "-w WORKLOAD is required (parlab list shows them)");
    if (!o->runner)
        return die(PARLAB_EXIT_USAGE, "-r RUNNER is required (parlab list shows them)");
    return -1;
}

/* Fill in defaults and check the options against each other. -1 if fine, else status. */
static int resolve_opts(struct run_opts *o)
{
    const struct workload *wl = o->wl;
    const struct runner *r = o->runner;

    if (wl->default_tasks == 0) {   /* one task per item: -n and -t say the same */
        if (o->tasks_set && o->size_set && o->tasks != o->size)
            return die(PARLAB_EXIT_USAGE, "-t %llu: for %s, -n and -t both count tasks and differ",
                       (unsigned long long)o->tasks, wl->name);
        if (!o->size_set)
            o->size = o->tasks_set ? o->tasks : wl->default_size;
        if (o->size > MAX_TASKS)
            return die(PARLAB_EXIT_USAGE, "-n %llu: too large for %s (at most %u tasks)",
                       (unsigned long long)o->size, wl->name, MAX_TASKS);
        o->tasks = o->size;
    } else {
        if (!o->size_set)
            o->size = wl->default_size;
        if (!o->tasks_set)
            o->tasks = wl->default_tasks;
    }
    if (o->size < wl->min_size)
        return die(PARLAB_EXIT_USAGE, "-n %llu: too small for %s (at least %llu)",
                   (unsigned long long)o->size, wl->name, (unsigned long long)wl->min_size);
    if (o->size > wl->max_size)
        return die(PARLAB_EXIT_USAGE, "-n %llu: too large for %s (at most %llu)",
                   (unsigned long long)o->size, wl->name, (unsigned long long)wl->max_size);
    if (o->steps_set && wl->default_steps == 0 && o->steps != 1)
        return die(PARLAB_EXIT_USAGE, "--steps %llu: %s has no time steps",
                   (unsigned long long)o->steps, wl->name);
    if (!o->steps_set)
        o->steps = wl->default_steps ? wl->default_steps : 1;
    if (o->sched_set && !(r->schedules & SCHED_BIT(o->schedule))) {
        char can[64] = "";
        for (int k = 0; k < SCHED__COUNT; k++)
            if (r->schedules & SCHED_BIT(k))
                snprintf(can + strlen(can), sizeof can - strlen(can), "%s%s", *can ? ", " : "",
                         sched_name((enum sched_kind)k));
        return die(PARLAB_EXIT_USAGE, "-s %s: runner %s cannot honour it (it honours %s)",
                   sched_name(o->schedule), r->name, can);
    }
    if (!o->sched_set)
        o->schedule = r->default_schedule;
    if (o->loops_set && !(r->flags & RUNNER_HAS_LOOPS))
        return die(PARLAB_EXIT_USAGE, "--loops %llu: runner %s has no event loops (only epoll)",
                   (unsigned long long)o->loops, r->name);
    if (o->loops > o->tasks)
        o->loops = o->tasks;
    /* epoll --loops N forks N-1 loops, but loop 0 is parlab's own process: a task it
     * claims would take the run down with it, so the fault is refused there too. */
    if ((o->inject == INJECT_KILL || o->inject == INJECT_EXIT) && !(r->flags & RUNNER_PROCESSES))
        return die(PARLAB_EXIT_USAGE, "--inject %s@%llu: under %s it would end the whole process, "
                   "not one worker (its workers share it%s); use fork or spawn",
                   o->inject == INJECT_KILL ? "kill" : "exit", (unsigned long long)o->inject_task,
                   r->name, r->flags & RUNNER_HAS_LOOPS ? ", and with --loops loop 0 is parlab itself" : "");
    if (o->inject_step > o->steps)
        return die(PARLAB_EXIT_USAGE, "--inject %llu:%llu: no such step (the job has %llu)",
                   (unsigned long long)o->inject_task, (unsigned long long)o->inject_step - 1,
                   (unsigned long long)o->steps);
    /* Each step overwrites every slot: an error reported before the last would vanish. */
    if (o->inject == INJECT_ERROR && o->inject_step && o->inject_step != o->steps)
        return die(PARLAB_EXIT_USAGE, "--inject error@%llu:%llu: a task reports an error on the "
                   "last step (%llu) only: earlier slots are overwritten",
                   (unsigned long long)o->inject_task, (unsigned long long)o->inject_step - 1,
                   (unsigned long long)o->steps - 1);
    if (o->inject && o->inject_task >= o->tasks)
        return die(PARLAB_EXIT_USAGE, "--inject %llu: no such task (the job has %llu)",
                   (unsigned long long)o->inject_task, (unsigned long long)o->tasks);
    if (o->trace_path) {
        if (o->tasks * o->steps > MAX_TRACE_ROWS)
            return die(PARLAB_EXIT_USAGE, "--trace %s: %llu tasks x %llu steps is more than %u rows",
                       o->trace_path, (unsigned long long)o->tasks, (unsigned long long)o->steps,
                       MAX_TRACE_ROWS);
    }
    if (o->cores_set) {
        unsigned have = cpus_allowed();
        if (o->cores > have)
            return die(PARLAB_EXIT_USAGE, "--cores %llu: only %u CPUs are available",
                       (unsigned long long)o->cores, have);
        int e = cpus_restrict((unsigned)o->cores);
        if (e)
            return die(PARLAB_EXIT_OS, "--cores %llu: sched_setaffinity: %s",
                       (unsigned long long)o->cores, strerror(-e));
    }
    o->cores = cpus_allowed();
    if (!o->workers_set)
        o->workers = o->cores;
    if (o->trace_path) {   /* last: find out now, not after the run; FILE stays as it is */
        char why[128];
        if (trace_file_open(&o->trace, o->trace_path, why, sizeof why))
            return die(PARLAB_EXIT_USAGE, "--trace %s: %s", o->trace_path, why);
    }
    return -1;
}

static int write_trace(const struct trace_file *tf, const struct trace_rec *t, size_t n, uint64_t t0)
{
    FILE *f = trace_file_stream(tf);
    if (!f)
        return -errno;
    fprintf(f, "task,worker,step,start_ns,end_ns\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u,%u,%u,%llu,%llu\n", t[i].task, t[i].worker, t[i].step,
                (unsigned long long)(t[i].start_ns - t0), (unsigned long long)(t[i].end_ns - t0));
    return fclose(f) ? -errno : 0;
}

/*
 * One repeat: set up, run under r, combine in task order, verify. Fills row. Returns 0,
 * or an exit status with the message printed.
 */
static int run_once(const struct run_opts *o, const struct runner *r, struct result_row *row,
                    const char *trace_path)
{
    struct job job = { .wl = o->wl, .size = o->size, .tasks = o->tasks,
                       .steps = (unsigned)o->steps, .seed = o->seed, .io_ms = (unsigned)o->io_ms };
    struct plan plan = { .workers = (unsigned)o->workers, .cores = (unsigned)o->cores,
                         .schedule = r == o->runner ? o->schedule : r->default_schedule,
                         .chunk = o->chunk, .loops = (unsigned)o->loops,
                         .task_timeout_s = o->task_timeout,
                         .inject = r == o->runner ? o->inject : INJECT_NONE,
                         .inject_task = o->inject_task,
                         .inject_step = (unsigned)o->inject_step };
    struct outcome oc = { 0 };
    struct partial total = { 0 };
    unsigned watchers = plan.workers > plan.loops ? plan.workers : plan.loops;
    int watching = o->task_timeout > 0 && !(r->flags & RUNNER_OWN_TIMEOUT);
    size_t watch_len = watchers * sizeof(struct task_watch);
    size_t slots_len = job.tasks * sizeof(struct partial);
    size_t trace_len = job.tasks * job.steps * sizeof(struct trace_rec);
    struct rusage u0, u1;
    int status = 0;
    char why[256] = "";

    if (o->wl->setup && o->wl->setup(&job))
        return die(PARLAB_EXIT_OS, "%s: setup for N=%llu: %s", o->wl->name,
                   (unsigned long long)job.size, strerror(errno));
    struct partial *slots = job_shared_alloc(slots_len);
    if (trace_path)
        plan.trace = job_shared_alloc(trace_len);
    if (watching && (plan.watch = job_shared_alloc(watch_len)))
        for (unsigned w = 0; w < watchers; w++)
            plan.watch[w].task = -1;
    if (!slots || (trace_path && !plan.trace) || (watching && !plan.watch)) {
        status = die(PARLAB_EXIT_OS, "mmap of %s: %s",
                     !slots ? "the result slots" : !plan.watch && watching ? "the task watch"
                                                                       : "the trace buffer",
                     strerror(errno));
        goto out;
    }
    if (watching && (errno = -guard_watch_start(&plan, watchers)) != 0) {
        status = die(PARLAB_EXIT_OS, "task-timeout watchdog: %s", strerror(errno));
        watching = 0;
        goto out;
    }

    usage_now(&u0);
    uint64_t t0 = runner_now_ns();
    int rc = r->run(&job, &plan, slots, &oc);
    uint64_t t1 = runner_now_ns();
    usage_now(&u1);
    if (watching) {
        guard_watch_stop();
        watching = 0;
    }
    if (rc) {
        status = die(oc.code ? oc.code : PARLAB_EXIT_SOFTWARE, "%s", oc.msg);
        goto out;
    }
    size_t bad;
    if (job_combine(&job, slots, &total, &bad)) {
        status = die(PARLAB_EXIT_SOFTWARE, "task %zu reported error %d (%s)", bad,
                     slots[bad].err, strerror(slots[bad].err));
        goto out;
    }

    *row = (struct result_row){
        .workload = o->wl->name, .runner = r->name, .schedule = sched_name(plan.schedule),
        .size = job.size, .steps = job.steps, .cores = plan.cores,
        /* the workers that actually ran: seq has one, an event-loop runner one per loop */
        .workers = !(r->flags & (RUNNER_PARALLEL | RUNNER_HAS_LOOPS)) ? 1
                   : r->flags & RUNNER_HAS_LOOPS ? plan.loops : plan.workers,
        .tasks = job.tasks, .chunk = plan.chunk, .wall_s = (double)(t1 - t0) / 1e9,
        .user_s = tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime),
        .sys_s = tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime), .max_rss_kb = u1.ru_maxrss,
        .vol_cs = u1.ru_nvcsw - u0.ru_nvcsw, .invol_cs = u1.ru_nivcsw - u0.ru_nivcsw,
    };
    o->wl->format(&job, &total, row->result, sizeof row->result);
    if (o->wl->describe)
        o->wl->describe(&job, &total, row->detail, sizeof row->detail);
    else
        snprintf(row->detail, sizeof row->detail, "%s", row->result);
    row->verified = o->wl->verify(&job, &total, why, sizeof why);
    row->check = row->verified < 0 ? "seq" : o->wl->check;
    if (row->verified == 0)
        fprintf(stderr, "parlab: %s %s: wrong result: %s\n", o->wl->name, r->name, why);
    if (trace_path) {
        int e = write_trace(&o->trace, plan.trace, job.tasks * job.steps, t0);
        if (e)
            status = die(PARLAB_EXIT_OS, "--trace %s: %s", trace_path, strerror(-e));
    }
out:
    if (watching)
        guard_watch_stop();
    job_shared_free(plan.watch, watch_len);
    job_shared_free(slots, slots_len);
    if (plan.trace)
        job_shared_free(plan.trace, trace_len);
    if (o->wl->teardown)
        o->wl->teardown(&job);
    return status;
}

/*
 * Settle what the workload's own verify() could not. --expect, when given, must match
 * whatever the workload says. A result only seq can vouch for is compared with one
 * untimed seq run (cached in ref); seq's own such result is the reference, marked so.
 */
static int check_against_seq(const struct run_opts *o, struct result_row *row, char *ref,
                             size_t reflen)
{
    const char *by = "seq";
    if (o->expect) {
        if (row->verified == 0)
            return 0;
        snprintf(ref, reflen, "%s", o->expect);
        by = "--expect";
        if (row->verified < 0)
            row->check = "expect";
    } else if (row->verified >= 0) {
        return 0;
    } else if (strcmp(row->runner, "seq") == 0) {
        row->verified = VERIFIED_REF;
        row->check = "reference";
        return 0;
    } else if (!*ref) {
        struct result_row seq_row;
        int st = run_once(o, runner_find("seq"), &seq_row, NULL);
        if (st)
            return st;
        snprintf(ref, reflen, "%s", seq_row.result);
    }
    if (strcmp(ref, row->result) == 0) {
        if (row->verified < 0)
            row->verified = 1;
        return 0;
    }
    row->verified = 0;
    fprintf(stderr, "parlab: %s %s: wrong result: %s, but %s gives %s\n", row->workload,
            row->runner, row->result, by, ref);
    return 0;
}

/* A sentence for each kind of check, for people. */
static const char *verify_how(const char *check)
{
    static const struct { const char *check, *how; } hows[] = {
        { "known", "equal to the published value for this size" },
        { "closed-form", "equal to the closed form (N-1)N(2N-1)/6" },
        { "5-sigma", "within 5 standard errors of pi" },
        { "energy", "total energy conserved within the drift limit" },
        { "task-count", "every task ran exactly once" },
        { "seq", "equal to the seq runner's answer" },
        { "expect", "equal to --expect" },
    };
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++)
        if (strcmp(hows[i].check, check) == 0)
            return hows[i].how;
    return check;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct machine m;
    int st = parse_run_opts(argc, argv, &o);
    if (st >= 0)
        return st;
    if ((st = resolve_opts(&o)) >= 0)
        return st;
    st = 0;
    machine_read(&m);
    guard_set_runner(o.runner->name);

    int R = (int)o.repeat, wrong = 0, nbase = 0;
    double *wall = calloc((size_t)R, sizeof *wall), *base = calloc((size_t)R, sizeof *base);
    char ref[128] = "";
    struct result_row row;
    if (!wall || !base) {
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
    }
    int idx = 0, total = R * (o.baseline ? 2 : 1);
    for (int pass = o.baseline ? 0 : 1; pass < 2 && !st; pass++) {
        const struct runner *r = pass == 0 ? runner_find("seq") : o.runner;
        for (int i = 0; i < R; i++) {
            int last = pass == 1 && i == R - 1;
            st = run_once(&o, r, &row, last ? o.trace_path : NULL);
            if (!st)
                st = check_against_seq(&o, &row, ref, sizeof ref);
            if (st)
                break;
            row.host = m.host;
            wrong |= row.verified == 0;
            if (pass == 0)
                base[nbase++] = row.wall_s;
            else
                wall[i] = row.wall_s;
            out_row(stdout, o.format, &row, idx++, total);
            fflush(stdout);
        }
    }
    if (!st && o.format == OUT_TEXT) {
        printf("answer: %s\n", row.detail);
        if (wrong)
            printf("verified: NO, the answer is WRONG (see the message above)\n");
        else if (row.verified == VERIFIED_REF)
            printf("verified: not checked; seq is the reference at a size with no known answer\n");
        else
            printf("verified: yes, %s\n", verify_how(row.check));
        out_summary(stdout, wall, R, base, nbase);
    }
    out_end(stdout, o.format);
    free(wall);
    free(base);
    /* The trace replaces FILE only for a run that completed (a wrong answer included:
     * its trace is whole and may show why); otherwise FILE stays as it was. */
    if (!st && o.trace_path) {
        int e = trace_file_commit(&o.trace);
        if (e)
            st = die(PARLAB_EXIT_OS, "--trace %s: %s", o.trace_path, strerror(-e));
    }
    trace_file_discard(&o.trace);
    if (st)
        return st;
    return wrong ? PARLAB_EXIT_WRONG : PARLAB_EXIT_OK;
}
