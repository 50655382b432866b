/* first_example.c: the tutorial's first example, in C. Python's
 *
 *     def sum_squares(lo, hi): return sum(i * i for i in range(lo, hi))
 *     # two Processes, each summing half of range(5_000_000), against one loop
 *
 * with its claim that two processes "cut time roughly in half (0.72 s)". Here each half
 * runs in a forked child that sends its sum back through a pipe, and the whole is timed
 * against the sequential loop, RUNS times each. The claim is judged on the ratio of the
 * two (the 0.72 s is Python's time on the tutorial's machine; C takes milliseconds):
 * "roughly half" is taken as a ratio of at most 0.6, and the interval given is the
 * smallest and largest ratio of RUNS paired runs, not a confidence interval. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 5000000u
#define RUNS 7

typedef unsigned __int128 u128;

/* Kept from being folded into a closed form: the work is the loop. */
static u128 sum_squares(uint64_t lo, uint64_t hi)
{
    u128 s = 0;
    for (volatile uint64_t i = lo; i < hi; i++)
        s += (u128)i * i;
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *u128_str(u128 v, char *buf, size_t n)
{
    char t[48];
    int k = 0;
    do {
        t[k++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    size_t j = 0;
    while (k && j + 1 < n)
        buf[j++] = t[--k];
    buf[j] = '\0';
    return buf;
}

/* Two processes, each summing half; 0 with *sum, or -1. */
static int two_processes(u128 *sum)
{
    int fd[2][2];
    pid_t pid[2];
    *sum = 0;
    fflush(stdout);
    for (int k = 0; k < 2; k++) {
        if (pipe(fd[k]))
            return -1;
        pid[k] = fork();
        if (pid[k] < 0)
            return -1;
        if (pid[k] == 0) {
            u128 s = sum_squares(k * (N / 2), k ? N : N / 2);
            _exit(write(fd[k][1], &s, sizeof s) == sizeof s ? 0 : 1);
        }
        close(fd[k][1]);
    }
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        u128 s;
        int st;
        bad |= read(fd[k][0], &s, sizeof s) != sizeof s;
        close(fd[k][0]);
        bad |= waitpid(pid[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        *sum += s;
    }
    return bad ? -1 : 0;
}

int main(void)
{
    double seq[RUNS], two[RUNS], ratio[RUNS];
    u128 s1 = 0, s2 = 0;
    for (int r = 0; r < RUNS; r++) {   /* paired: each pair under the same load */
        double t0 = now_s();
        s1 = sum_squares(0, N);
        double t1 = now_s();
        if (two_processes(&s2)) {
            perror("first_example: two processes");
            return 1;
        }
        double t2 = now_s();
        seq[r] = t1 - t0;
        two[r] = t2 - t1;
        ratio[r] = two[r] / seq[r];
    }
    char a[48], b[48];
    printf("sum of i*i for i < %u: sequential %s, two processes %s: %s\n", N,
           u128_str(s1, a, sizeof a), u128_str(s2, b, sizeof b), s1 == s2 ? "equal" : "DIFFERENT");
    double lo = ratio[0], hi = ratio[0], smin = seq[0], tmin = two[0];
    for (int r = 1; r < RUNS; r++) {
        lo = ratio[r] < lo ? ratio[r] : lo;
        hi = ratio[r] > hi ? ratio[r] : hi;
        smin = seq[r] < smin ? seq[r] : smin;
        tmin = two[r] < tmin ? two[r] : tmin;
    }
    printf("time: sequential %.2f ms, two processes %.2f ms (fastest of %d runs each)\n",
           smin * 1e3, tmin * 1e3, RUNS);
    printf("ratio two/sequential: %.2f … %.2f (smallest and largest of %d paired runs)\n", lo,
           hi, RUNS);
    printf("tutorial's claim: \"cuts time roughly in half (0.72 s)\"\n");
    /* Roughly half: a ratio of at most 0.6. Confirmed if every paired run says so;
     * refuted if none does; otherwise the runs disagree (a shared or busy machine). */
    const char *v = hi <= 0.6 ? "confirmed: every paired run took at most 0.6 of the sequential time"
                    : lo > 0.6 ? "not confirmed: no paired run took 0.6 of the sequential time or less"
                               : "undecided: some paired runs took at most 0.6 of the sequential time, some more";
    printf("this machine (%ld CPUs): %s\n", sysconf(_SC_NPROCESSORS_ONLN), v);
    return s1 == s2 ? 0 : 1;
}
