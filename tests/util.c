/* util.c: run commands for the suites, with a time limit and captured output. */
#define _GNU_SOURCE
#include "util.h"
#include "../lib/pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/harness.h"

const char *parlab_bin(void)
{
    const char *p = getenv("PARLAB");
    return p && *p ? p : "bin/parlab";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int run_cmd(char *const argv[], unsigned timeout_s, struct cmd_result *r)
{
    int po[2], pe[2];
    size_t no = 0, ne = 0;
    memset(r, 0, sizeof *r);
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        return -1;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        alarm(timeout_s);          /* survives exec: a hang ends as SIGALRM */
        execvp(argv[0], argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char tmp[4096];
            ssize_t k = read(fds[i].fd, tmp, sizeof tmp);
            if (k <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            char *dst = i == 0 ? r->out : r->err;
            size_t cap = i == 0 ? sizeof r->out : sizeof r->err, *len = i == 0 ? &no : &ne;
            size_t take = (size_t)k < cap - 1 - *len ? (size_t)k : cap - 1 - *len;
            memcpy(dst + *len, tmp, take);
            *len += take;
        }
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    r->secs = now_s() - t0;
    r->exited = WIFEXITED(st);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
    return 0;
}

int run_cmd_va(struct cmd_result *r, unsigned timeout_s, const char *prog, const char *arg1,
               va_list ap)
{
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)prog;
    if (arg1)
        argv[n++] = (char *)arg1;
    while (n < 63 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    argv[n] = NULL;
    return run_cmd(argv, timeout_s, r);
}

int run_parlab(struct cmd_result *r, unsigned timeout_s, ...)
{
    va_list ap;
    va_start(ap, timeout_s);
    int rc = run_cmd_va(r, timeout_s, parlab_bin(), NULL, ap);
    va_end(ap);
    return rc;
}

char *csv_field(const char *csv, int row, int col, char *buf, size_t n)
{
    const char *p = csv;
    buf[0] = '\0';
    for (int i = 0; i < row && p; i++) {   /* skip the header and earlier rows */
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p || !*p)
        return buf;
    for (int c = 1; c < col && p; c++) {
        p = strpbrk(p, ",\n");
        if (!p || *p == '\n')
            return buf;
        p++;
    }
    size_t len = strcspn(p, ",\n");
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int job_run(const struct job_spec *s, unsigned timeout_s, char *token, size_t n, int *verified)
{
    int fd[2];
    token[0] = '\0';
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char buf[400] = "";
        close(fd[0]);
        alarm(timeout_s);
        const struct workload *wl = wl_find(s->workload);
        const struct runner *r = runner_find(s->runner);
        if (!wl || !r)
            _exit(90);
        struct job job = { .wl = wl, .size = s->size, .tasks = s->tasks,
                           .steps = s->steps ? s->steps : 1, .seed = s->seed,
                           .io_ms = s->io_ms };
        struct plan plan = { .workers = s->workers ? s->workers : 2, .cores = 2,
                             .schedule = s->schedule, .chunk = s->chunk,
                             .loops = s->loops ? s->loops : 1, .start = s->start };
        struct job_ctx c;
        struct job_sample smp;
        struct job_result res;
        struct outcome oc = { 0 };
        /* As parlab run does: the forkserver before the job's setup. */
        if (s->start == POOL_START_FORKSERVER && pool_forkserver_start())
            _exit(92);
        if (job_open(&c, &job, &plan, 0, 0, &oc))
            _exit(91);
        if (job_exec(&c, r, &smp, &oc) || job_answer(&c, &res, &oc)) {
            snprintf(buf, sizeof buf, "!%d: %s", oc.code, oc.msg);
        } else {
            buf[0] = (char)('1' + res.verified);   /* '0' wrong, '1' unknown, '2' verified */
            snprintf(buf + 1, sizeof buf - 1, "%s", res.result);
        }
        job_close(&c);
        pool_forkserver_stop();
        (void)!write(fd[1], buf, strlen(buf));
        _exit(0);
    }
    close(fd[1]);
    char buf[400];
    size_t len = 0;
    ssize_t k;
    while ((k = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            snprintf(token, n, "signal %d", WTERMSIG(st));
        else
            snprintf(token, n, "exit %d", WEXITSTATUS(st));
        return -1;
    }
    if (buf[0] == '!' || len == 0) {
        snprintf(token, n, "%s", len ? buf + 1 : "no result");
        return -1;
    }
    *verified = buf[0] - '1';
    snprintf(token, n, "%s", buf + 1);
    return 0;
}

int procs_in(enum procs_by by, pid_t id, int with_zombies, int kill_them)
{
    int n = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        char *rp = strrchr(buf, ')'), state;   /* the command name may hold spaces */
        int ppid, pgrp, session;
        if (!rp || sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4 ||
            (by == PROCS_GROUP ? pgrp : session) != id || (state == 'Z' && !with_zombies))
            continue;
        if (kill_them) {
            fprintf(stderr, "\n  left behind: pid %s state %c", e->d_name, state);
            kill(atoi(e->d_name), SIGKILL);
        }
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

void strip_asan_stack_warning(char *err)
{
    char *w = strstr(err, "WARNING: ASan is ignoring requested __asan_handle_no_return");
    if (!w)
        return;
    while (w > err && w[-1] != '\n')   /* back to the start of its "==PID==" line */
        w--;
    char *end = w;
    const char *tail = "For details see https://github.com/google/sanitizers/issues/189";
    char *t = strstr(w, tail);
    if (!t)
        return;
    end = strchr(t, '\n');
    end = end ? end + 1 : t + strlen(t);
    memmove(w, end, strlen(end) + 1);
}

/* The whole file, NUL-terminated, malloc'd (caller frees); NULL if unreadable. */
char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The bytes of path, NUL-terminated, in buf; -1 if unreadable. */
int read_small(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
    return 0;
}

int tmpdir_leftovers(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            fprintf(stderr, "\n  left in TMPDIR: %s", e->d_name);
            n++;
        }
    if (d)
        closedir(d);
    return n;
}

/* Index (0-based) of column name in a CSV header line, or -1. */
int col_of(const char *csv, const char *name)
{
    size_t want = strlen(name);
    int i = 0;
    for (const char *p = csv; *p && *p != '\n'; i++) {
        size_t len = strcspn(p, ",\n");
        if (len == want && strncmp(p, name, len) == 0)
            return i;
        p += len;
        if (*p == ',')
            p++;
    }
    return -1;
}

/* Field col (0-based) of the line starting at line, into buf. */
const char *field(const char *line, int col, char *buf, size_t n)
{
    const char *p = line;
    for (int c = 0; c < col && p; c++) {
        p = strpbrk(p, ",\n");
        p = p && *p == ',' ? p + 1 : NULL;
    }
    size_t len = p ? strcspn(p, ",\n") : 0;
    if (len >= n)
        len = n - 1;
    if (p)
        memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

/* Start of data line i (0-based, after the header), or NULL. */
const char *data_line(const char *csv, int i)
{
    const char *p = strchr(csv, '\n');
    for (int k = 0; p && k < i; k++)
        p = strchr(p + 1, '\n');
    return p && p[1] ? p + 1 : NULL;
}
