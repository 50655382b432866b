/* waits.c: libuv's figure beside parlab's million concurrent waits: N uv_timer_t of D ms on
 * one loop, started together, as `parlab run -w sleep -r epoll -n N --io-ms D` does. Prints
 * one CSV line: timers,delay_ms,wall_s,max_rss_kb,fired. Built and run by
 * scripts/perf-rows.sh where libuv is installed (libuv1-dev); not part of parlab's build.
 *
 * usage: waits [N [D]]      (default 1000000 100) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

static unsigned long fired;

static void on_timer(uv_timer_t *t)
{
    (void)t;
    fired++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    unsigned long ms = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    if (n == 0 || n > 100000000) {
        fprintf(stderr, "waits: N from 1 to 10^8\n");
        return 64;
    }
    /* As parlab times a run: from before the first task starts to the last one's end. */
    double t0 = now_s();
    uv_loop_t *loop = uv_default_loop();
    uv_timer_t *t = malloc(n * sizeof *t);
    if (!t) {
        fprintf(stderr, "waits: out of memory\n");
        return 71;
    }
    for (unsigned long i = 0; i < n; i++) {
        uv_timer_init(loop, &t[i]);
        uv_timer_start(&t[i], on_timer, ms, 0);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    double wall = now_s() - t0;
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("%lu,%lu,%.6f,%ld,%lu\n", n, ms, wall, u.ru_maxrss, fired);
    free(t);
    return fired == n ? 0 : 1;
}
