/* wire.c: both ends of what wire.h describes: Open MPI's settings, the board and the
 * state a task writes, the request line and its reply, and the small files a world's
 * ranks leave. Linked into bin/parlab and bin/parlab-mpi alike. */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Everything parlab tells Open MPI, and why. One table: the launcher applies it to the
 * mpirun it starts, `parlab-mpi env` prints it for running mpirun by hand, and the tests
 * take it from there.
 */
static const struct { const char *name, *value, *why; } mpi_settings[] = {
    { "OMPI_ALLOW_RUN_AS_ROOT", "1",
      "Open MPI refuses to start as root unless told so twice; CI containers run as root" },
    { "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", "the second half of that consent" },
    { "OMPI_MCA_btl_vader_single_copy_mechanism", "none",
      "shared-memory transport: copy through the shared segment, not with CMA "
      "(process_vm_readv), which containers often forbid (ptrace rules)" },
    { "OMPI_MCA_btl", "self,vader",
      "one machine: loopback and shared memory only (no TCP or InfiniBand probing at start)" },
    { "OMPI_MCA_pml", "ob1",
      "one machine: the ob1 message layer over those transports, without probing UCX "
      "(a fifth of a second of every start here)" },
    { "OMPI_MCA_hwloc_base_binding_policy", "none",
      "do not bind ranks to cores: they keep the CPU set parlab runs in (--cores K)" },
    { "OMPI_MCA_shmem", "mmap",
      "OPAL's own shared-memory segments as files in the run's session folder, which parlab "
      "removes, instead of POSIX segments in /dev/shm (shm_open), which a rank killed while "
      "it starts leaves behind as /dev/shm/open_mpi.NNNN" },
    { "OMPI_MCA_opal_signal", "",
      "no Open MPI crash handler: a crashing rank dies by its own signal, which mpirun "
      "reports and parlab names, instead of printing a backtrace" },
};

int mpi_transport(void)
{
    const char *t = getenv(MPI_ENV_TRANSPORT);
    return !t || !*t || !strcmp(t, "shm") ? 0 : !strcmp(t, "tcp") ? 1 : -1;
}

void mpi_settings_apply(const char *dir)
{
    for (size_t i = 0; i < sizeof mpi_settings / sizeof mpi_settings[0]; i++)
        setenv(mpi_settings[i].name, mpi_settings[i].value, 1);
    if (mpi_transport() == 1) {
        /* TCP on loopback, which Open MPI leaves out by default (btl_tcp_if_exclude). */
        setenv("OMPI_MCA_btl", "self,tcp", 1);
        setenv("OMPI_MCA_btl_tcp_if_include", "lo", 1);
    }
    if (dir) {
        /* Open MPI's session folder and its shared-memory segments go into dir (the
         * launcher's is its run folder's ompi/, which it removes whatever happened). */
        setenv("OMPI_MCA_orte_tmpdir_base", dir, 1);
        setenv("OMPI_MCA_btl_vader_backing_directory", dir, 1);
        setenv(MPI_ENV_DIR, dir, 1);
    }
}

void mpi_settings_print(FILE *f)
{
    fprintf(f, "# Open MPI settings parlab uses (eval \"$(bin/parlab-mpi env)\" before mpirun)\n");
    for (size_t i = 0; i < sizeof mpi_settings / sizeof mpi_settings[0]; i++)
        fprintf(f, "export %s='%s'   # %s\n", mpi_settings[i].name, mpi_settings[i].value,
                mpi_settings[i].why);
    if (mpi_transport() == 1)
        fprintf(f, "export OMPI_MCA_btl='self,tcp' OMPI_MCA_btl_tcp_if_include='lo'   # %s=tcp: "
                "TCP on loopback, the stand-in for two machines\n", MPI_ENV_TRANSPORT);
}

size_t mpi_board_len(unsigned ranks)
{
    return (size_t)ranks * (sizeof(struct task_watch) + sizeof(int));
}

int *mpi_board_pids(struct task_watch *board, unsigned ranks)
{
    return (int *)(void *)(board + ranks);
}

size_t mpi_task_state_copy(const struct job *job, unsigned step, size_t task, void *buf,
                           int to_buf)
{
    struct wl_span sp[WL_MAX_SPANS];
    if (!job->wl->task_writes)
        return 0;
    unsigned k = job->wl->task_writes(job, step, task, sp);
    size_t at = 0;
    for (unsigned i = 0; i < k; i++) {
        char *st = (char *)job->state + sp[i].off;
        if (buf) {
            if (to_buf)
                memcpy((char *)buf + at, st, sp[i].len);
            else
                memcpy(st, (const char *)buf + at, sp[i].len);
        }
        at += sp[i].len;
    }
    return at;
}

size_t mpi_task_state_len(const struct job *job, unsigned step, size_t task)
{
    return mpi_task_state_copy(job, step, task, NULL, 1);
}

/* ---- a job ----------------------------------------------------------------------------- */

static int wl_index(const struct workload *wl)
{
    for (int i = 0; wl_registry[i]; i++)
        if (wl_registry[i] == wl)
            return i;
    return -1;
}

void mpi_job_from(struct mpi_job *m, const struct job *job, const struct plan *plan)
{
    *m = (struct mpi_job){ .wl = wl_index(job->wl), .steps = job->steps, .io_ms = job->io_ms,
                           .sched = plan->schedule, .inject = plan->inject,
                           .trace = plan->trace != NULL, .cores = plan->cores,
                           .size = job->size, .tasks = job->tasks, .seed = job->seed,
                           .grain_ns = job->grain_ns, .grain_iters = job->grain_iters,
                           .chunk = plan->chunk, .inject_task = plan->inject_task,
                           .task_timeout_s = plan->task_timeout_s };
}

void mpi_job_to(const struct mpi_job *m, unsigned ranks, struct job *job, struct plan *plan)
{
    *job = (struct job){ .wl = wl_registry[m->wl], .size = m->size, .tasks = m->tasks,
                         .steps = m->steps, .seed = m->seed, .io_ms = m->io_ms,
                         .grain_ns = m->grain_ns, .grain_iters = m->grain_iters };
    *plan = (struct plan){ .workers = ranks, .cores = m->cores,
                           .schedule = (enum sched_kind)m->sched, .chunk = m->chunk,
                           .loops = 1, .task_timeout_s = m->task_timeout_s,
                           .inject = (enum inject_kind)m->inject, .inject_task = m->inject_task };
}

int mpi_job_line(char *line, size_t n, const char *dir, const struct job *job,
                 const struct plan *plan, struct outcome *out)
{
    if (dir[strcspn(dir, " \t\n")])
        return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi: the run's folder %s has a blank, "
                            "which would split the job's request: use a TMPDIR without one",
                            dir);
    int len = snprintf(line, n, "%s %s %llu %zu %u %llu %u %s %zu %d %zu %d %u %llu %llu\n",
                       dir, job->wl->name, (unsigned long long)job->size, job->tasks,
                       job->steps, (unsigned long long)job->seed, job->io_ms,
                       sched_name(plan->schedule), plan->chunk, (int)plan->inject,
                       plan->inject_task, plan->trace != NULL, plan->cores,
                       (unsigned long long)job->grain_ns,   /* spin: its setup's */
                       (unsigned long long)job->grain_iters);
    if (len < 0 || (size_t)len >= n)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "the mpi job's request would be longer "
                            "than %zu bytes (TMPDIR too long?)", n - 1);
    return len;
}

int mpi_job_parse(char *line, struct mpi_job *m, char *dir, size_t dir_n,
                  struct outcome *out)
{
    char *w[20];
    int n = 0;
    enum sched_kind sched;
    *m = (struct mpi_job){ 0 };
    if (!strcmp(line, "quit\n"))
        return 1;
    for (char *t = strtok(line, " \n"); t && n < 19; t = strtok(NULL, " \n"))
        w[n++] = t;
    /* w: DIR, then the 14 words */
    if (n != 15 || strlen(w[0]) >= dir_n || sched_parse(w[7], &sched))
        return outcome_fail(out, PARLAB_EXIT_USAGE, "a job's words are sent by parlab run -r mpi");
    const struct workload *wl = wl_find(w[1]);
    if (!wl)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi job: unknown workload %s", w[1]);
    snprintf(dir, dir_n, "%s", w[0]);
    m->wl = wl_index(wl);
    m->size = strtoull(w[2], NULL, 10);
    m->tasks = strtoull(w[3], NULL, 10);
    m->steps = (uint32_t)strtoul(w[4], NULL, 10);
    m->seed = strtoull(w[5], NULL, 10);
    m->io_ms = (uint32_t)strtoul(w[6], NULL, 10);
    m->sched = sched;
    m->chunk = strtoull(w[8], NULL, 10);
    m->inject = (uint32_t)strtoul(w[9], NULL, 10);
    m->inject_task = strtoull(w[10], NULL, 10);
    m->trace = (uint32_t)strtoul(w[11], NULL, 10);
    m->cores = (uint32_t)strtoul(w[12], NULL, 10);
    m->grain_ns = strtoull(w[13], NULL, 10);
    m->grain_iters = strtoull(w[14], NULL, 10);
    if (!m->tasks || !m->steps)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi job: no tasks or steps");
    return 0;
}

int mpi_reply_format(char *buf, int status, const char *reason, double user_s,
                     double sys_s, long maxrss_kb)
{
    int n = snprintf(buf, MPI_REPLY_MAX, "%d %.6f %.6f %ld", status, user_s, sys_s, maxrss_kb);
    if (status && reason && *reason)
        n += snprintf(buf + n, (size_t)(MPI_REPLY_MAX - 1 - n), " %.*s",
                      (int)strcspn(reason, "\n"), reason);
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

int mpi_reply_parse(const char *reply, const char *what, struct outcome *out)
{
    double us = 0, ss = 0;
    long rss = 0;
    int st = atoi(reply), at = 0;
    if (sscanf(reply, "%*d %lf %lf %ld%n", &us, &ss, &rss, &at) == 3) {
        out->away_user_s = us;
        out->away_sys_s = ss;
        out->away_maxrss_kb = rss;
    }
    if (!st)
        return 0;
    const char *why = at ? reply + at + strspn(reply + at, " ") : "";
    int len = (int)strcspn(why, "\n");
    outcome_fail(out, st, "%s (status %d)%s%.*s", what, st, len ? ": " : "", len, why);
    return st;
}

/* ---- a world's ranks ------------------------------------------------------------------- */

int mpi_proc_stat(pid_t pid, unsigned long long *start, pid_t *sid, pid_t *ppid, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (pid <= 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
        return -1;
    buf[k] = '\0';
    /* the name (field 2) may hold spaces and parentheses: the fields follow the last ')' */
    char *p = strrchr(buf, ')'), *save = NULL;
    if (!p)
        return -1;
    unsigned long long v[21] = { 0 };
    char st = 0;
    int i = 3;
    for (char *t = strtok_r(p + 1, " ", &save); t && i <= 22; t = strtok_r(NULL, " ", &save), i++) {
        if (i == 3)
            st = t[0];
        else
            v[i - 2] = strtoull(t, NULL, 10);
    }
    if (i <= 22)
        return -1;
    if (start)
        *start = v[20];
    if (sid)
        *sid = (pid_t)v[4];
    if (ppid)
        *ppid = (pid_t)v[2];
    if (state)
        *state = st;
    return 0;
}

int mpi_file_write(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        int err = errno;
        unlink(tmp);
        errno = err ? err : EIO;
        return -1;
    }
    return 0;
}

int mpi_world_note_rank(const char *dir, int rank)
{
    unsigned long long start;
    char name[32], text[64];
    if (mpi_proc_stat(getpid(), &start, NULL, NULL, NULL))
        return -1;
    snprintf(name, sizeof name, "rank.%d", rank);
    snprintf(text, sizeof text, "%d %llu\n", (int)getpid(), start);
    return mpi_file_write(dir, name, text);
}
