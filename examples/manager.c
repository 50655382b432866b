/* manager.c: Python's Manager().dict() and Manager().list(). One manager process owns
 * the data; worker processes change it through proxy functions that send requests over
 * a UNIX socket (in a fresh temporary directory, removed at the end). The manager serves
 * one request at a time, so the data needs no lock: its loop is the serialisation. The
 * manager prints the dict sorted by key and the list sorted, so the output is fixed
 * whatever order the workers ran in.
 *
 * Then the tutorial's read-modify-write through a proxy, d["count"] = d["count"] + 1 in
 * four processes: a get and a later set, two requests, each atomic but not the pair.
 * Another process's set between them is overwritten: an update is lost. A barrier after
 * the get makes that interleaving certain (every process reads 0, every one writes 1),
 * where a busy machine produces it only now and then. Fixed, each process holds the
 * manager's lock (Manager().Lock()) from the get to the set, and all four count. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fpool.h"

/* ---- the manager: the only process that touches the data -------------------------- */

#define MAX_ITEMS 32

struct store {
    char key[MAX_ITEMS][32];
    long val[MAX_ITEMS];
    int nkeys;
    long list[MAX_ITEMS];
    int nlist;
    int locked;                  /* Manager().Lock(), held by one client at a time */
};

static int by_key(const void *a, const void *b, void *arg)
{
    const struct store *s = arg;
    return strcmp(s->key[*(const int *)a], s->key[*(const int *)b]);
}

static int by_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Handle one request, write the reply. Returns 1 when asked to shut down. The protocol,
 * one message each way:
 *   "set KEY VALUE" -> "ok"        "append VALUE" -> "ok"      "get KEY" -> "VALUE" (0 if none)
 *   "dict" -> "{'k': v, ...}"      "list" -> "[v, ...]"      "shutdown" -> "ok"
 *   "lock" -> "ok", or "busy" while another client holds it    "unlock" -> "ok" */
static int serve(struct store *s, const char *req, char *reply, size_t n)
{
    char key[32];
    long v;
    snprintf(reply, n, "ok");
    if (sscanf(req, "set %31s %ld", key, &v) == 2) {
        int i = 0;
        while (i < s->nkeys && strcmp(s->key[i], key) != 0)
            i++;
        if (i == s->nkeys && s->nkeys < MAX_ITEMS)
            snprintf(s->key[s->nkeys++], sizeof s->key[0], "%s", key);
        if (i < s->nkeys)
            s->val[i] = v;
        else
            snprintf(reply, n, "full");
    } else if (sscanf(req, "get %31s", key) == 1) {
        long got = 0;
        for (int i = 0; i < s->nkeys; i++)
            if (strcmp(s->key[i], key) == 0)
                got = s->val[i];
        snprintf(reply, n, "%ld", got);
    } else if (strcmp(req, "lock") == 0) {
        if (s->locked)
            snprintf(reply, n, "busy");
        s->locked = 1;
    } else if (strcmp(req, "unlock") == 0) {
        s->locked = 0;
    } else if (sscanf(req, "append %ld", &v) == 1) {
        if (s->nlist < MAX_ITEMS)
            s->list[s->nlist++] = v;
        else
            snprintf(reply, n, "full");
    } else if (strcmp(req, "dict") == 0) {
        int order[MAX_ITEMS];
        size_t len = 0;
        for (int i = 0; i < s->nkeys; i++)
            order[i] = i;
        qsort_r(order, (size_t)s->nkeys, sizeof order[0], by_key, s);
        len += (size_t)snprintf(reply + len, n - len, "{");
        for (int i = 0; i < s->nkeys && len < n; i++)
            len += (size_t)snprintf(reply + len, n - len, "%s'%s': %ld", i ? ", " : "",
                                    s->key[order[i]], s->val[order[i]]);
        if (len < n)
            snprintf(reply + len, n - len, "}");
    } else if (strcmp(req, "list") == 0) {
        long sorted[MAX_ITEMS];
        size_t len = 0;
        memcpy(sorted, s->list, sizeof sorted);
        qsort(sorted, (size_t)s->nlist, sizeof sorted[0], by_long);
        len += (size_t)snprintf(reply + len, n - len, "[");
        for (int i = 0; i < s->nlist && len < n; i++)
            len += (size_t)snprintf(reply + len, n - len, "%s%ld", i ? ", " : "", sorted[i]);
        if (len < n)
            snprintf(reply + len, n - len, "]");
    } else if (strcmp(req, "shutdown") == 0) {
        return 1;
    } else {
        snprintf(reply, n, "bad request");
    }
    return 0;
}

static void manager_main(int listen_fd)
{
    static struct store s;
    char req[256], reply[1024];
    int done = 0;
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the program */
    while (!done) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        ssize_t k = recv(c, req, sizeof req - 1, 0);
        if (k > 0) {
            req[k] = '\0';
            done = serve(&s, req, reply, sizeof reply);
            (void)!send(c, reply, strlen(reply), MSG_NOSIGNAL);
        }
        close(c);
    }
    _exit(0);
}

/* ---- proxies: what workers call ------------------------------------------------------ */

/* Send one request to the manager at `path` and read its reply. 0 or an errno. */
static int request(const char *path, const char *req, char *reply, size_t n)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), rc = 0;
    if (fd < 0)
        return errno;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        rc = errno;
    } else {
        ssize_t k = recv(fd, reply, n - 1, 0);
        if (k < 0)
            rc = errno;
        else
            reply[k] = '\0';
    }
    close(fd);
    return rc;
}

static int dict_set(const char *path, const char *key, long v)
{
    char req[64], reply[16];
    snprintf(req, sizeof req, "set %s %ld", key, v);
    int rc = request(path, req, reply, sizeof reply);
    return rc ? rc : strcmp(reply, "ok") ? ENOSPC : 0;
}

static int list_append(const char *path, long v)
{
    char req[64], reply[16];
    snprintf(req, sizeof req, "append %ld", v);
    int rc = request(path, req, reply, sizeof reply);
    return rc ? rc : strcmp(reply, "ok") ? ENOSPC : 0;
}

/* d[key] = d[key] + 1 through the proxy: a get, then a set. As written (fixed 0), a
 * barrier between them (every process has read before any writes) forces the lost update;
 * fixed, the manager's lock is held across both. 0 or an errno. */
static int count_up(const char *path, int fixed, _Atomic int *arrived, int n)
{
    char reply[32];
    int rc = 0;
    while (fixed && !(rc = request(path, "lock", reply, sizeof reply)) && strcmp(reply, "ok")) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    if (!rc)
        rc = request(path, "get count", reply, sizeof reply);
    long v = atol(reply);
    if (!fixed) {
        atomic_fetch_add(arrived, 1);
        while (atomic_load(arrived) < n)
            sched_yield();
    }
    if (!rc)
        rc = dict_set(path, "count", v + 1);
    if (fixed && !rc)
        rc = request(path, "unlock", reply, sizeof reply);
    return rc;
}

/* The count race in n forked processes, as written then fixed; prints each outcome. */
static int count_race(const char *path, int n)
{
    _Atomic int *arrived = mmap(NULL, sizeof *arrived, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char reply[32];
    if (arrived == MAP_FAILED)
        return errno;
    for (int fixed = 0; fixed < 2; fixed++) {
        int bad = dict_set(path, "count", 0);
        atomic_store(arrived, 0);
        fflush(stdout);
        pid_t pid[8] = { 0 };
        for (int i = 0; i < n && i < 8 && !bad; i++) {
            pid[i] = fork();
            if (pid[i] < 0)
                bad = errno;
            if (pid[i] == 0)
                _exit(count_up(path, fixed, arrived, n) ? 1 : 0);
        }
        for (int i = 0; i < n && i < 8; i++) {
            int st;
            if (pid[i] > 0 && (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)))
                bad = bad ? bad : EIO;
        }
        if (!bad)
            bad = request(path, "get count", reply, sizeof reply);
        if (bad) {
            munmap(arrived, sizeof *arrived);
            return bad;
        }
        long c = atol(reply);
        printf("%s: count %ld of %d (%ld update%s lost)\n",
               fixed ? "fixed, get and set under a Manager().Lock()"
                     : "as written, d[\"count\"] = d[\"count\"] + 1 from 4 processes",
               c, n, n - c, n - c == 1 ? "" : "s");
    }
    munmap(arrived, sizeof *arrived);
    return 0;
}

/* ---- the program ---------------------------------------------------------------------- */

/* A task's input travels by value, the socket path with it. */
struct job {
    int i;
    char path[108];
};

/* Runs in a worker process: d["worker<i>"] = i*i; l.append(10*i). */
static int work(const void *in, void *out)
{
    const struct job *j = in;
    char key[32];
    (void)out;
    snprintf(key, sizeof key, "worker%d", j->i);
    int rc = dict_set(j->path, key, (long)j->i * j->i);
    return rc ? rc : list_append(j->path, 10L * j->i);
}

int main(void)
{
    enum { N = 4 };
    char dir[] = "/tmp/parlab-manager-XXXXXX", reply[1024];
    struct job jobs[N];
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int status = 1;

    if (!mkdtemp(dir)) {
        perror("manager: mkdtemp");
        return 1;
    }
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/manager.sock", dir);
    /* Listen before the manager starts, so that no worker can connect too early. */
    int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(lfd, 16) < 0) {
        perror("manager: socket");
        goto out;
    }
    fflush(stdout);
    pid_t manager = fork();
    if (manager < 0) {
        perror("manager: fork");
        goto out;
    }
    if (manager == 0)
        manager_main(lfd);
    close(lfd);   /* only the manager accepts */
    lfd = -1;

    for (int i = 0; i < N; i++) {
        jobs[i].i = i;
        snprintf(jobs[i].path, sizeof jobs[i].path, "%s", addr.sun_path);
    }
    struct fpool *pool = fpool_create(N, NULL, NULL);
    int rc = pool ? fpool_map(pool, work, jobs, sizeof jobs[0], NULL, 0, N, 1) : -errno;
    if (pool) {
        fpool_close(pool);
        fpool_join(pool);
    }
    if (rc) {
        fprintf(stderr, "manager: %s\n", fpool_strerror());
    } else {
        /* The parent is a client too: print(d), print(l). */
        int e = request(addr.sun_path, "dict", reply, sizeof reply);
        if (!e)
            printf("dict %s\n", reply);
        if (!e)
            e = request(addr.sun_path, "list", reply, sizeof reply);
        if (!e)
            printf("list %s\n", reply);
        if (!e)
            e = count_race(addr.sun_path, N);
        if (!e) {
            status = 0;
        } else {
            fprintf(stderr, "manager: request: %s\n", strerror(e));
        }
    }
    request(addr.sun_path, "shutdown", reply, sizeof reply);
    int st;
    if (waitpid(manager, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        status = 1;
out:
    if (lfd >= 0)
        close(lfd);
    unlink(addr.sun_path);
    rmdir(dir);
    return status;
}
