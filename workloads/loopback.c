/* loopback.c: I/O-bound tasks on real file descriptors. setup() starts a small TCP server
 * on 127.0.0.1 in a thread of parlab itself; each task connects, sends a request and waits
 * for the reply, which the server sends --io-ms after the request came in. The event
 * loop waits on the sockets themselves; the pools block in read(). Every reply carries a
 * payload derived from (seed, step, task) and its checksum, so the answer proves that each
 * task got its own reply, intact. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include "workload.h"
#include "../lib/loop.h"

#define LB_MAGIC 0x706c6162u        /* "plab" */
#define LB_WORDS 4                  /* payload words in a reply */
#define LB_MAX_TASKS 8192           /* bounded: two fds per request in flight */

/* The request a task sends, and the reply it waits for; both fixed size, native order
 * (the two ends are one program on one machine). */
struct lb_request { uint32_t magic, step; uint64_t task; };
struct lb_reply { uint32_t magic, step; uint64_t task; uint64_t word[LB_WORDS]; uint64_t sum; };

/* One accepted connection on the server side, from accept() to close(). Lives in the
 * server thread only. */
struct lb_conn {
    struct lb_server *srv;
    struct lb_conn *prev, *next;    /* the server's list, so a stop closes every socket */
    int fd;
    size_t got;                     /* bytes of the request read so far */
    struct lb_request req;
    uint64_t timer;                 /* the pending reply, 0 before the request is whole */
};

/*
 * The server: a listening socket and a stop pipe, watched by one loop in one thread.
 * setup() makes it and starts the thread; teardown() writes the stop pipe, joins the
 * thread and closes every socket it still holds. Only the port is read by tasks (in any
 * worker process: forked workers inherit the number, never the thread).
 */
struct lb_server {
    uint16_t port;                  /* network order */
    uint64_t seed;
    unsigned io_ms;
    int listen_fd, stop_rd, stop_wr;
    struct loop *loop;
    struct lb_conn *conns;
    pthread_t thread;
    /* The event loop's side: the socket each async task has open, -1 when none. A run
     * that fails leaves some tasks waiting; teardown closes their sockets. Each process
     * has its own copy (loops forked by `epoll --loops` close theirs by exiting). */
    int *client_fd;
    size_t tasks;
};

/* splitmix64: the payload of (seed, step, task, word), cheap and well mixed. */
static uint64_t lb_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t lb_word(uint64_t seed, unsigned step, uint64_t task, unsigned w)
{
    return lb_mix(seed ^ lb_mix(((uint64_t)step << 40) ^ (task << 3) ^ w));
}

/* The checksum the server writes and the client recomputes: FNV-1a over the words. */
static uint64_t lb_checksum(const uint64_t *word)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned w = 0; w < LB_WORDS; w++)
        for (unsigned b = 0; b < 8; b++)
            h = (h ^ ((word[w] >> (8 * b)) & 0xff)) * 0x100000001b3ull;
    return h;
}

/* What task `task` of step `step` must add to the total: the sum of its payload words. */
static unsigned __int128 lb_expected(uint64_t seed, unsigned step, uint64_t task)
{
    unsigned __int128 s = 0;
    for (unsigned w = 0; w < LB_WORDS; w++)
        s += lb_word(seed, step, task, w);
    return s;
}

/* ---- the server thread ---- */

static void conn_close(struct lb_conn *c)
{
    struct lb_server *s = c->srv;
    loop_unwatch(s->loop, c->fd);
    if (c->timer)
        loop_cancel_timer(s->loop, c->timer);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void on_reply_due(struct loop *loop, uint64_t id, void *arg)
{
    struct lb_conn *c = arg;
    struct lb_server *s = c->srv;
    (void)loop, (void)id;
    c->timer = 0;
    struct lb_reply rep = { .magic = LB_MAGIC, .step = c->req.step, .task = c->req.task };
    for (unsigned w = 0; w < LB_WORDS; w++)
        rep.word[w] = lb_word(s->seed, c->req.step, c->req.task, w);
    rep.sum = lb_checksum(rep.word);
    /* A fresh socket's send buffer takes 48 bytes at once; a client that died meanwhile
     * gives EPIPE or ECONNRESET, which only means nobody waits for this reply. */
    (void)send(c->fd, &rep, sizeof rep, MSG_NOSIGNAL);
    conn_close(c);
}

static void on_conn(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct lb_conn *c = arg;
    (void)events;
    ssize_t n = recv(fd, (char *)&c->req + c->got, sizeof c->req - c->got, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {             /* the client went away before its request was whole */
        conn_close(c);
        return;
    }
    c->got += (size_t)n;
    if (c->got >= sizeof c->req.magic && c->req.magic != LB_MAGIC) {
        conn_close(c);        /* not one of ours */
        return;
    }
    if (c->got < sizeof c->req)
        return;
    loop_unwatch(loop, fd);   /* one request per connection: wait for nothing more */
    c->timer = loop_add_timer(loop, (uint64_t)c->srv->io_ms * 1000000u, on_reply_due, c);
    if (!c->timer)
        conn_close(c);        /* out of memory: the client sees EOF and reports it */
}

static void on_accept(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct lb_server *s = arg;
    (void)events;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;   /* EAGAIN: accepted all; EMFILE and the like: the client times out */
        struct lb_conn *c = malloc(sizeof *c);
        if (c)
            *c = (struct lb_conn){ .srv = s, .fd = cfd, .next = s->conns };
        if (!c || loop_watch_fd(loop, cfd, LOOP_READABLE, on_conn, c)) {
            free(c);
            close(cfd);
            continue;
        }
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
    }
}

static void on_stop(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)fd, (void)events, (void)arg;
    loop_stop(loop);
}

static void *server_main(void *arg)
{
    struct lb_server *s = arg;
    loop_run(s->loop);    /* returns on the stop pipe (or if epoll itself fails) */
    while (s->conns)
        conn_close(s->conns);
    return NULL;
}

/* Make sure the process may hold two fds per task in flight, plus some to spare. */
static int lb_fd_room(size_t tasks)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)tasks * 2 + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return -errno;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        return -EMFILE;
    rl.rlim_cur = need;
    return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

static void lb_free(struct lb_server *s)
{
    if (s->loop)
        loop_destroy(s->loop);
    for (size_t t = 0; s->client_fd && t < s->tasks; t++)
        if (s->client_fd[t] >= 0)
            close(s->client_fd[t]);
    free(s->client_fd);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_rd >= 0)
        close(s->stop_rd);
    if (s->stop_wr >= 0)
        close(s->stop_wr);
    free(s);
}

/* Start the server on an ephemeral port of 127.0.0.1. 0, or -1 with errno set. */
static int lb_setup(struct job *job)
{
    int e = lb_fd_room(job->tasks);
    if (e) {
        errno = -e;
        return -1;
    }
    struct lb_server *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    *s = (struct lb_server){ .seed = job->seed, .io_ms = job->io_ms, .listen_fd = -1,
                             .stop_rd = -1, .stop_wr = -1, .tasks = job->tasks };
    int p[2];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    if (!(s->client_fd = malloc(job->tasks * sizeof *s->client_fd)))
        goto err;
    for (size_t t = 0; t < job->tasks; t++)
        s->client_fd[t] = -1;
    if (pipe2(p, O_CLOEXEC))
        goto err;
    s->stop_rd = p[0], s->stop_wr = p[1];
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) ||
        listen(s->listen_fd, SOMAXCONN) ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen))
        goto err;
    s->port = a.sin_port;
    if ((e = loop_open(&s->loop))) {
        errno = -e;
        goto err;
    }
    /* The server thread never takes SIGINT, SIGTERM or SIGHUP: they go to the threads
     * that run the job, which may be holding them while they tidy up (the mpi runner
     * does, from its run folder's making to its removal). Made with them blocked, so it
     * starts that way. */
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    if ((e = loop_watch_fd(s->loop, s->listen_fd, LOOP_READABLE, on_accept, s)) ||
        (e = loop_watch_fd(s->loop, s->stop_rd, LOOP_READABLE, on_stop, s))) {
        errno = -e;
        goto err;
    }
    pthread_sigmask(SIG_BLOCK, &stops, &old);
    e = pthread_create(&s->thread, NULL, server_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        errno = e;
        goto err;
    }
    pthread_setname_np(s->thread, "parlab-loopback");   /* tests look for it by name */
    job->state = s;
    job->state_len = 0;   /* private to the parent: workers read only the port */
    return 0;
err:
    e = errno;
    lb_free(s);
    errno = e;
    return -1;
}

static void lb_teardown(struct job *job)
{
    struct lb_server *s = job->state;
    if (!s)
        return;
    char b = 0;
    while (write(s->stop_wr, &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(s->thread, NULL);
    lb_free(s);
    job->state = NULL;
}

/* ---- the client: tasks ---- */

/* Connect to the server and send the request. Returns the socket, or -errno. */
static int lb_request(const struct job *job, unsigned step, size_t task)
{
    const struct lb_server *s = job->state;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = s->port,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct lb_request req = { .magic = LB_MAGIC, .step = step, .task = task };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc;
    while ((rc = connect(fd, (struct sockaddr *)&a, sizeof a)) < 0 && errno == EINTR)
        ;
    /* 16 bytes into an empty send buffer: one send, never partial */
    if (rc == 0 && send(fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req)
        rc = -1;
    if (rc) {
        int e = errno ? errno : EIO;
        close(fd);
        return -e;
    }
    return fd;
}

/* Check a whole reply and write the task's partial: count 1 and the payload sum, or err. */
static void lb_accept_reply(const struct job *job, unsigned step, size_t task,
                            const struct lb_reply *rep, struct partial *out)
{
    *out = (struct partial){ 0 };
    if (rep->magic != LB_MAGIC || rep->step != step || rep->task != task ||
        rep->sum != lb_checksum(rep->word)) {
        out->err = EBADMSG;
        return;
    }
    for (unsigned w = 0; w < LB_WORDS; w++)
        out->sum += rep->word[w];
    out->count = 1;
    (void)job;
}

static void lb_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    struct lb_reply rep;
    size_t got = 0;
    int fd = lb_request(job, step, task);
    if (fd < 0) {
        *out = (struct partial){ .err = -fd };
        return;
    }
    while (got < sizeof rep) {   /* blocks in read() until the server answers */
        ssize_t n = read(fd, (char *)&rep + got, sizeof rep - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *out = (struct partial){ .err = n < 0 ? errno : ECONNRESET };
            close(fd);
            return;
        }
        got += (size_t)n;
    }
    close(fd);
    lb_accept_reply(job, step, task, &rep, out);
}

static int lb_start(const struct job *job, unsigned step, size_t task, struct task_io *io,
                    struct partial *out)
{
    int fd = lb_request(job, step, task);
    if (fd < 0) {
        *out = (struct partial){ .err = -fd };
        return TASK_DONE;
    }
    io->fd = fd;
    ((struct lb_server *)job->state)->client_fd[task] = fd;
    return TASK_WAIT;
}

static int lb_resume(const struct job *job, unsigned step, size_t task, struct task_io *io,
                     struct partial *out)
{
    struct lb_reply rep;
    /* Look first, take only a whole reply: the loop calls again while bytes are missing. */
    ssize_t n = recv(io->fd, &rep, sizeof rep, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return TASK_WAIT;
    if (n > 0 && (size_t)n < sizeof rep)
        return TASK_WAIT;
    if (n == (ssize_t)sizeof rep)
        n = recv(io->fd, &rep, sizeof rep, MSG_DONTWAIT);
    close(io->fd);
    io->fd = -1;
    ((struct lb_server *)job->state)->client_fd[task] = -1;
    if (n != (ssize_t)sizeof rep) {
        *out = (struct partial){ .err = n < 0 ? errno : ECONNRESET };
        return TASK_DONE;
    }
    lb_accept_reply(job, step, task, &rep, out);
    return TASK_DONE;
}

static void lb_combine(struct partial *acc, const struct partial *part)
{
    acc->count += part->count;
    acc->sum += part->sum;   /* 128 bits: 10,000 tasks of four 64-bit words never wrap */
}

static void lb_format(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    char s[48];
    (void)job;
    snprintf(buf, n, "%llu:%s", (unsigned long long)t->count, wl_u128_str(t->sum, s, sizeof s));
}

static void lb_describe(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    char s[48];
    snprintf(buf, n, "%llu replies of %zu, payload sum %s (each checked against its checksum)",
             (unsigned long long)t->count, job->tasks, wl_u128_str(t->sum, s, sizeof s));
}

/* Verified when every task got its own reply: the count is the task count and the payload
 * sum is the one computed here, independently of the server, from (seed, step, task). */
static int lb_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    unsigned step = job->steps ? job->steps - 1 : 0;
    unsigned __int128 want = 0;
    for (size_t i = 0; i < job->tasks; i++)
        want += lb_expected(job->seed, step, i);
    if (t->count != job->tasks) {
        snprintf(why, n, "%llu replies for %zu tasks", (unsigned long long)t->count,
                 job->tasks);
        return -1;
    }
    if (t->sum != want) {
        char a[48], b[48];
        snprintf(why, n, "payload sum %s, expected %s", wl_u128_str(t->sum, a, sizeof a),
                 wl_u128_str(want, b, sizeof b));
        return -1;
    }
    return 0;
}

const struct workload wl_loopback = {
    .name = "loopback",
    .summary = "each task asks a 127.0.0.1 TCP server parlab starts; it replies after --io-ms (I/O)",
    .kind = WL_IO,
    .split = WL_SPLIT_ITEMS,   /* one task per request: -n and -t both give the request count */
    .default_size = 100,
    .default_tasks = 1,
    .default_steps = 1,
    .min_size = 1,
    .max_size = LB_MAX_TASKS,
    .sizes = { .test = 13 },
    .check = "replies",
    .check_how = "every request answered once, and the payload sum equal to the one "
                 "recomputed from the seed",
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .setup = lb_setup,
    .run_task = lb_task,
    .start_task = lb_start,
    .resume_task = lb_resume,
    .combine = lb_combine,
    .format = lb_format,
    .describe = lb_describe,
    .verify = lb_verify,
    .teardown = lb_teardown,
};
