/* shared_value_array.c: Python's Value('i', 0) and Array('i', [1, 2, 3, 4]) changed by
 * four processes, first as the tutorial writes it, then fixed:
 *
 *     def worker(v, arr):
 *         with v.get_lock():
 *             v.value += 1           # under the lock: never lost
 *         arr[0] = arr[0] * 2        # outside any lock: a read, then a write
 *
 * The counter, the array, the locks and a barrier live in one MAP_SHARED mapping made
 * before the fork; the locks are pthread mutexes marked PTHREAD_PROCESS_SHARED. As
 * written, arr[0] = arr[0] * 2 is a read and a later write; if another worker writes in
 * between, one doubling is lost. The race is made certain rather than left to chance: a
 * barrier after the read lets every worker read before any writes, the interleaving a
 * busy machine produces now and then. So four doublings of 1 leave 2, not 16. Fixed, the
 * read and the write happen under arr.get_lock(), and nothing is lost whatever the
 * interleaving (the same pause between them, inside the lock, changes nothing). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { WORKERS = 4 };

struct shared {
    pthread_mutex_t value_lock;   /* v.get_lock() */
    pthread_mutex_t array_lock;   /* arr.get_lock() */
    int counter;                  /* Value('i', 0) */
    int array[4];                 /* Array('i', [1, 2, 3, 4]) */
    _Atomic int arrived;          /* the barrier that forces the race */
};

static void barrier(struct shared *sh)
{
    atomic_fetch_add(&sh->arrived, 1);
    while (atomic_load(&sh->arrived) < WORKERS)
        sched_yield();
}

static void worker(struct shared *sh, int fixed)
{
    pthread_mutex_lock(&sh->value_lock);
    sh->counter += 1;
    pthread_mutex_unlock(&sh->value_lock);
    if (!fixed) {
        int x = sh->array[0];     /* arr[0] * 2 reads ... */
        barrier(sh);              /* (every worker has read before any writes) */
        sh->array[0] = x * 2;     /* ... and arr[0] = writes, later */
    } else {
        pthread_mutex_lock(&sh->array_lock);
        int x = sh->array[0];
        struct timespec ts = { 0, 2000000 };   /* the same pause, now harmless */
        nanosleep(&ts, NULL);
        sh->array[0] = x * 2;
        pthread_mutex_unlock(&sh->array_lock);
    }
}

/* Four workers on a fresh Value and Array; 0, or -1 if one failed. */
static int run(struct shared *sh, int fixed)
{
    pid_t pid[WORKERS];
    sh->counter = 0;
    sh->array[0] = 1, sh->array[1] = 2, sh->array[2] = 3, sh->array[3] = 4;
    atomic_store(&sh->arrived, 0);
    fflush(stdout);
    for (int i = 0; i < WORKERS; i++) {
        pid[i] = fork();
        if (pid[i] < 0)
            return -1;
        if (pid[i] == 0) {
            worker(sh, fixed);
            _exit(0);
        }
    }
    int failed = 0;
    for (int i = 0; i < WORKERS; i++) {
        int st;
        if (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    return failed ? -1 : 0;
}

int main(void)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("shared_value_array: mmap");
        return 1;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->value_lock, &attr);
    pthread_mutex_init(&sh->array_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    int want = 1 << WORKERS;
    for (int fixed = 0; fixed < 2; fixed++) {
        if (run(sh, fixed)) {
            fprintf(stderr, "shared_value_array: a worker failed\n");
            return 1;
        }
        int lost = 0;
        for (int v = sh->array[0]; v < want; v *= 2)
            lost++;
        printf("%s: counter %d, array [%d,%d,%d,%d]: arr[0] %d of %d, %d doubling%s lost\n",
               fixed ? "fixed, under arr.get_lock()" : "as written, arr[0] * 2 outside the lock",
               sh->counter, sh->array[0], sh->array[1], sh->array[2], sh->array[3],
               sh->array[0], want, lost, lost == 1 ? "" : "s");
    }
    pthread_mutex_destroy(&sh->value_lock);
    pthread_mutex_destroy(&sh->array_lock);
    munmap(sh, sizeof *sh);
    return 0;
}
