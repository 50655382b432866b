/* run_opts.c: `parlab run`'s options (run_opts.h): each value checked as it is read, then
 * against each other, the workload and the runner, before anything runs. Every refusal
 * is one line in a struct outcome, for cmd_run to print. */
#define _GNU_SOURCE
#include "run_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "suggest.h"
#include "../mpi/wire.h"
#include "../lib/student.h"

#define MAX_WORKERS 4096u
/* 16M tasks: folded results take a few lines per worker; a workload that needs a slot
 * per task would take 1 GiB (and says so when mmap refuses). */
#define MAX_TASKS (1u << 24)
#define MAX_STEPS 100000u
#define MAX_REPEAT 10000u
#define MAX_TRACE_ROWS (1u << 24) /* 512 MiB of trace records */

void run_usage(FILE *f)
{
    fprintf(f,
        "usage: parlab run -w WORKLOAD -r RUNNER [options]\n"
        "  -w, --workload W    what to compute (parlab list)\n"
        "  -r, --runner R      how to run it (parlab list)\n"
        "  -j, --workers N     workers; default: the CPUs this process may use\n"
        "  -n, --size N        problem size; accepts 2000000, 2M, 2e6\n"
        "  -t, --tasks T       tasks the job splits into; default per workload\n"
        "  -s, --schedule S    static | dynamic | guided (as OpenMP's schedule clause);\n"
        "                      student: --student's claim (thread runner, lab 3)\n"
        "  -c, --chunk C       tasks per claim; default: the schedule's own\n"
        "      --steps S       time steps for simulations (nbody)\n"
        "      --cores K       restrict the run, workers included, to K CPUs\n"
        "      --repeat R      timed runs, each reported, then mean ± σ (default 3)\n"
        "      --warmup N      untimed runs first, not reported (default 1)\n"
        "      --format F      text | csv | json\n"
        "      --trace FILE    write one CSV row per task and step of the last repeat:\n"
        "                      task,worker,step,start_ns,end_ns (ns from the run's start)\n"
        "      --seed S        seed of the counter-based random streams (default 1)\n"
        "      --io-ms MS      I/O workloads: how long each task waits (default 100)\n"
        "      --start M       fork: how pool workers start: fork, forkserver, spawn\n"
        "      --grain NS      spin: how long each task runs, 1 ns to 10 s (default: 1024 steps)\n"
        "      --loops N       epoll: event-loop processes that split the tasks\n"
        "      --task-timeout SECONDS  fail the run if one task takes longer\n"
        "      --inject KIND@TASK[:STEP]  plant a fault: segv, kill, exit, hang, error, or\n"
        "                      drop (a task that skips its work: a wrong answer for verify\n"
        "                      to catch); a crash strikes on the first step, an error on\n"
        "                      the last\n"
        "      --expect RESULT fail unless the result equals RESULT (instead of the seq\n"
        "                      check and of recomputing the answer)\n"
        "      --check-limit SECONDS  recompute an answer with no recorded value only when\n"
        "                      that is estimated to take at most this long (default 30,\n"
        "                      0: never); beyond, the row says verified=unchecked\n"
        "      --student FILE.so  a lab's student code, built by make lab-N: its\n"
        "                      student_claim runs under -s student, its student_rows\n"
        "                      splits -w mandelbrot (lib/student.h)\n"
        "      --baseline      also run seq R times, taking turns with the runner, and\n"
        "                      report the speedup with its 95%% interval and a verdict\n"
        "  -h, --help          this help             -V, --version  the version\n"
        "exit status: 0 verified (or unchecked, said so), 1 wrong result, 64 usage,\n"
        "             70 worker failure, 71 OS failure, 74 output lost (a write to stdout\n"
        "             or the trace failed)\n");
}

static int parse_inject(const char *val, struct run_opts *o, struct outcome *oc)
{
    static const char *const kinds[] = { "", "segv", "kill", "exit", "hang", "error", "drop" };
    const char *at = strchr(val, '@');
    if (!at)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s: expected KIND@TASK, e.g. segv@3", val);
    for (int k = 1; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        if ((size_t)(at - val) == strlen(kinds[k]) && strncmp(val, kinds[k], (size_t)(at - val)) == 0) {
            const char *why, *colon = strchr(at + 1, ':');
            char task[32];
            size_t len = colon ? (size_t)(colon - at - 1) : strlen(at + 1);
            o->inject = (enum inject_kind)k;
            if (len >= sizeof task)   /* cut, it would read as another number */
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s: task too long to be a number", val);
            snprintf(task, sizeof task, "%.*s", (int)len, at + 1);
            if (parse_count(task, 0, UINT32_MAX, &o->inject_task, &why))
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s: task %s", val, why);
            if (colon && parse_count(colon + 1, 0, MAX_STEPS - 1, &o->inject_step, &why))
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s: step %s", val, why);
            o->inject_step += colon != NULL;
            return 0;
        }
    return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s: unknown fault (segv, kill, exit, hang, error, drop)", val);
}

enum { OPT_STEPS = 256, OPT_CORES, OPT_REPEAT, OPT_FORMAT, OPT_TRACE, OPT_SEED, OPT_IOMS,
       OPT_LOOPS, OPT_TIMEOUT, OPT_INJECT, OPT_EXPECT, OPT_BASELINE, OPT_WARMUP, OPT_START,
       OPT_CHECK_LIMIT, OPT_GRAIN, OPT_STUDENT };

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
    { "warmup", required_argument, 0, OPT_WARMUP },
    { "start", required_argument, 0, OPT_START },
    { "check-limit", required_argument, 0, OPT_CHECK_LIMIT },
    { "grain", required_argument, 0, OPT_GRAIN },
    { "student", required_argument, 0, OPT_STUDENT },
    { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 },
};

const struct option *run_options(void)
{
    return long_opts;
}

int run_opts_parse(int argc, char **argv, struct run_opts *o, struct outcome *oc)
{
    int c, rc;
    *o = (struct run_opts){ .repeat = 3, .warmup = 1, .seed = 1, .io_ms = 100, .loops = 1,
                            .trace.fd = -1 };
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":w:r:j:n:t:s:c:hV", long_opts, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case 'w':
            if (!(o->wl = wl_find(optarg))) {
                struct suggest sg;
                char hint[96];
                suggest_init(&sg, optarg);
                for (const struct workload *const *w = wl_registry; *w; w++)
                    suggest_add(&sg, (*w)->name);
                return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown workload '%s'%s (parlab list)", optarg,
                           suggest_hint(&sg, hint, sizeof hint));
            }
            break;
        case 'r':
            if (strcmp(optarg, "spawn") == 0)   /* the runner's old name */
                return fail_msg(oc, PARLAB_EXIT_USAGE, "-r spawn: the fork-per-task runner is now -r process "
                           "(spawn is a start method: -r fork --start spawn)");
            if (!(o->runner = runner_find(optarg))) {
                struct suggest sg;
                char hint[96];
                suggest_init(&sg, optarg);
                for (const struct runner *const *rr = runner_registry; *rr; rr++)
                    suggest_add(&sg, (*rr)->name);
                return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown runner '%s'%s (parlab list)", optarg,
                           suggest_hint(&sg, hint, sizeof hint));
            }
            break;
        case 'j': rc = parse_opt_count("-j", optarg, 1, MAX_WORKERS, &o->workers, oc); o->workers_set = 1; break;
        case 'n': rc = parse_opt_count("-n", optarg, 0, UINT64_MAX, &o->size, oc); o->size_set = 1; break;
        case 't': rc = parse_opt_count("-t", optarg, 1, MAX_TASKS, &o->tasks, oc); o->tasks_set = 1; break;
        case 'c': rc = parse_opt_count("-c", optarg, 1, MAX_TASKS, &o->chunk, oc); o->chunk_set = 1; break;
        case 's':
            if (sched_parse(optarg, &o->schedule)) {
                struct suggest sg;
                char hint[96];
                suggest_init(&sg, optarg);
                for (int k = 0; k <= SCHED_STUDENT; k++)
                    suggest_add(&sg, sched_name((enum sched_kind)k));
                return fail_msg(oc, PARLAB_EXIT_USAGE, "-s %s: unknown schedule%s (static, dynamic, guided, "
                           "student)",
                           optarg, suggest_hint(&sg, hint, sizeof hint));
            }
            o->sched_set = 1;
            break;
        case OPT_STEPS: rc = parse_opt_count("--steps", optarg, 1, MAX_STEPS, &o->steps, oc); o->steps_set = 1; break;
        case OPT_CORES: rc = parse_opt_count("--cores", optarg, 1, MAX_WORKERS, &o->cores, oc); o->cores_set = 1; break;
        case OPT_REPEAT: rc = parse_opt_count("--repeat", optarg, 1, MAX_REPEAT, &o->repeat, oc); break;
        case OPT_WARMUP: rc = parse_opt_count("--warmup", optarg, 0, MAX_REPEAT, &o->warmup, oc); break;
        case OPT_SEED: rc = parse_opt_count("--seed", optarg, 0, UINT64_MAX, &o->seed, oc); break;
        case OPT_IOMS: rc = parse_opt_count("--io-ms", optarg, 0, 3600000, &o->io_ms, oc); break;
        case OPT_GRAIN: rc = parse_opt_count("--grain", optarg, 1, 10000000000ull, &o->grain, oc); break;
        case OPT_LOOPS: rc = parse_opt_count("--loops", optarg, 1, MAX_WORKERS, &o->loops, oc); o->loops_set = 1; break;
        case OPT_FORMAT: rc = out_format_opt(optarg, &o->format, oc); break;
        case OPT_TRACE: {
            const char *why;
            if (parse_path(optarg, &why))
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--trace '%s': %s", optarg, why);
            o->trace_path = optarg;
            break;
        }
        case OPT_TIMEOUT: {
            const char *why;
            if (parse_seconds(optarg, 86400, &o->task_timeout, &why))
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--task-timeout %s: %s", optarg, why);
            break;
        }
        case OPT_CHECK_LIMIT: {
            const char *why;
            if (*optarg && strspn(optarg, "0") == strlen(optarg))
                o->check_limit = -1;   /* 0: recompute nothing */
            else if (parse_seconds(optarg, 86400, &o->check_limit, &why))
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--check-limit %s: %s", optarg, why);
            break;
        }
        case OPT_INJECT: rc = parse_inject(optarg, o, oc); break;
        case OPT_EXPECT: o->expect = optarg; break;
        case OPT_STUDENT: o->student = optarg; break;
        case OPT_BASELINE: o->baseline = 1; break;
        case OPT_START:
            if (pool_start_parse(optarg, &o->start)) {
                struct suggest sg;
                char hint[96];
                suggest_init(&sg, optarg);
                for (int k = 0; k < POOL_START__COUNT; k++)
                    suggest_add(&sg, pool_start_name((enum pool_start)k));
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--start %s: unknown start method%s (fork, "
                           "forkserver, spawn)", optarg, suggest_hint(&sg, hint, sizeof hint));
            }
            o->start_set = 1;
            break;
        case 'h': o->help = 1; return 0;
        case 'V': o->version = 1; return 0;
        case ':': return fail_msg(oc, PARLAB_EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
        default:
            return suggest_unknown_option(argv[optind - 1], optopt, long_opts, "run", oc);
        }
        if (rc)
            return rc;
    }
    if (optind < argc)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "unexpected argument '%s' (parlab run --help)", argv[optind]);
    if (!o->wl)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-w WORKLOAD is required (parlab list shows them)");
    if (!o->runner)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-r RUNNER is required (parlab list shows them)");
    return 0;
}

/* --student FILE.so and -s student: load the plugin and check that this run has a place
 * for what it defines (a workload's split runs in every worker, so only where workers are
 * copies of this process or share it). Returns 0, or -1 with oc filled (64). */
static int student_option(const struct run_opts *o, struct outcome *oc)
{
    const struct runner *r = o->runner;
    if (!o->student)
        return o->schedule == SCHED_STUDENT
            ? fail_msg(oc, PARLAB_EXIT_USAGE, "-s student: give the policy with --student "
                   "FILE.so (make lab-3 builds labs/03-scheduling/student/schedule.c into one)")
            : 0;
    struct outcome lo;
    if (student_load(o->student, &lo))
        return fail_msg(oc, lo.code, "--student %s: %s", o->student, lo.msg);
    if (o->schedule == SCHED_STUDENT && !student_claim_fn)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-s student: %s defines no student_claim",
                   student_source());
    int rows = student_rows_fn && strcmp(o->wl->name, "mandelbrot") == 0;
    if (o->schedule != SCHED_STUDENT && !rows)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--student %s: nothing in this run uses it (its "
                   "student_claim runs under -s student, its student_rows under -w mandelbrot)",
                   student_source());
    if (rows && ((r->flags & RUNNER_EXTERNAL) || (o->start_set && o->start != POOL_START_FORK)))
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--student %s: runner %s%s starts workers that do not "
                   "have it loaded (use thread, fork, omp, epoll or seq)", student_source(),
                   r->name, o->start_set && o->start != POOL_START_FORK ? " with --start" : "");
    return 0;
}

int run_opts_resolve(struct run_opts *o, struct outcome *oc)
{
    const struct workload *wl = o->wl;
    const struct runner *r = o->runner;
    char why[160];
    if (wl_check(wl, why, sizeof why))
        return fail_msg(oc, PARLAB_EXIT_SOFTWARE, "%s (workloads/%s.c)", why, wl->name);
    if (wl->split == WL_SPLIT_ITEMS) {   /* one task per item: -n and -t say the same */
        if (o->tasks_set && o->size_set && o->tasks != o->size)
            return fail_msg(oc, PARLAB_EXIT_USAGE, "-t %llu: for %s, -n and -t both count tasks and differ",
                       (unsigned long long)o->tasks, wl->name);
        if (!o->size_set)
            o->size = o->tasks_set ? o->tasks : wl->default_size;
        if (o->size > MAX_TASKS)
            return fail_msg(oc, PARLAB_EXIT_USAGE, "-n %llu: too large for %s (at most %u tasks)",
                       (unsigned long long)o->size, wl->name, MAX_TASKS);
        o->tasks = o->size;
    } else {
        if (!o->size_set)
            o->size = wl->default_size;
        if (!o->tasks_set)
            o->tasks = wl->default_tasks;
    }
    if (o->size < wl->min_size)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-n %llu: too small for %s (at least %llu)",
                   (unsigned long long)o->size, wl->name, (unsigned long long)wl->min_size);
    if (o->size > wl->max_size)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-n %llu: too large for %s (at most %llu)",
                   (unsigned long long)o->size, wl->name, (unsigned long long)wl->max_size);
    if (o->steps_set && !wl->stepped && o->steps != 1)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--steps %llu: %s has no time steps",
                   (unsigned long long)o->steps, wl->name);
    if (!o->steps_set)
        o->steps = wl->default_steps;
    if (o->grain && !(wl->flags & WL_GRAIN))
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--grain %llu: %s has no task duration to set (only spin)",
                   (unsigned long long)o->grain, wl->name);
    if (o->sched_set && !(r->schedules & SCHED_BIT(o->schedule))) {
        char can[64] = "";
        for (int k = 0; k < SCHED__COUNT; k++)
            if (r->schedules & SCHED_BIT(k))
                snprintf(can + strlen(can), sizeof can - strlen(can), "%s%s", *can ? ", " : "",
                         sched_name((enum sched_kind)k));
        return fail_msg(oc, PARLAB_EXIT_USAGE, "-s %s: runner %s cannot honour it (it honours %s)",
                   sched_name(o->schedule), r->name, can);
    }
    if (!o->sched_set)
        o->schedule = r->default_schedule;
    if (student_option(o, oc))
        return -1;
    if (o->start_set && !(r->flags & RUNNER_START_METHODS))
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--start %s: runner %s has no start methods (only fork's pool has)",
                   pool_start_name(o->start), r->name);
    if (o->loops_set && !(r->flags & RUNNER_HAS_LOOPS))
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--loops %llu: runner %s has no event loops (only epoll)",
                   (unsigned long long)o->loops, r->name);
    if (o->loops > o->tasks)
        o->loops = o->tasks;
    /* epoll --loops N forks N-1 loops, but loop 0 is parlab's own process: a task it
     * claims would take the run down with it, so the fault is refused there too. */
    if ((o->inject == INJECT_KILL || o->inject == INJECT_EXIT) && !(r->flags & RUNNER_PROCESSES))
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %s@%llu: under %s it would end the whole process, "
                   "not one worker (its workers share it%s); use fork or process",
                   o->inject == INJECT_KILL ? "kill" : "exit", (unsigned long long)o->inject_task,
                   r->name, r->flags & RUNNER_HAS_LOOPS ? ", and with --loops loop 0 is parlab itself" : "");
    if (o->inject_step > o->steps)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %llu:%llu: no such step (the job has %llu)",
                   (unsigned long long)o->inject_task, (unsigned long long)o->inject_step - 1,
                   (unsigned long long)o->steps);
    /* Each step overwrites every slot: an error reported before the last would vanish. */
    if (o->inject == INJECT_ERROR && o->inject_step && o->inject_step != o->steps)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject error@%llu:%llu: a task reports an error on the "
                   "last step (%llu) only: earlier slots are overwritten",
                   (unsigned long long)o->inject_task, (unsigned long long)o->inject_step - 1,
                   (unsigned long long)o->steps - 1);
    if (o->inject && o->inject_task >= o->tasks)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--inject %llu: no such task (the job has %llu)",
                   (unsigned long long)o->inject_task, (unsigned long long)o->tasks);
    if (o->expect) {
        struct job job = { .wl = wl, .size = o->size, .tasks = o->tasks,
                           .steps = (unsigned)o->steps, .seed = o->seed,
                           .io_ms = (unsigned)o->io_ms };
        if (parse_expect(&job, o->expect, why, sizeof why))
            return fail_msg(oc, PARLAB_EXIT_USAGE, "--expect %s: %s", o->expect, why);
    }
    if (o->trace_path) {
        if (o->tasks * o->steps > MAX_TRACE_ROWS)
            return fail_msg(oc, PARLAB_EXIT_USAGE, "--trace %s: %llu tasks x %llu steps is more than %u rows",
                       o->trace_path, (unsigned long long)o->tasks, (unsigned long long)o->steps,
                       MAX_TRACE_ROWS);
    }
    if (r->flags & RUNNER_EXTERNAL) {   /* the mpi runner reads a world's folder from it */
        const char *world = getenv(MPI_ENV_WORLD), *bad;
        if (world && *world && parse_path(world, &bad))
            return fail_msg(oc, PARLAB_EXIT_USAGE, "%s='%s': %s", MPI_ENV_WORLD, world, bad);
    }
    if (o->cores_set && cores_option(o->cores, oc))
        return -1;
    o->cores = cpus_allowed();
    if (!o->workers_set)
        o->workers = o->cores;
    /* e.g. -j against a kept mpi world: one line, before any header */
    if (r->precheck && r->precheck((unsigned)o->workers, (unsigned)o->cores, oc))
        return -1;
    if (o->trace_path) {   /* last: find out now, not after the run; FILE stays as it is */
        char why[128];
        int e = trace_file_open(&o->trace, o->trace_path, why, sizeof why);
        /* A path that cannot name a file is the user's to fix (64: not a regular file, a
         * missing folder, a name too long); a folder the OS will not write in is the
         * system's (71: read-only, no permission); a full one is I/O (74). */
        if (e)
            return fail_msg(oc, e == -EINVAL || e == -ENOENT || e == -ENOTDIR || e == -ENAMETOOLONG ||
                       e == -ELOOP ? PARLAB_EXIT_USAGE : out_errno_status(e),
                       "--trace %s: %s", o->trace_path, why);
    }
    return 0;
}
