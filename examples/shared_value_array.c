/* shared_value_array.c: Python's Value('i', 0) and Array('i', [0, 2, 3, 4]), changed by
 * four processes under the value's get_lock(). The counter and the array live in one
 * MAP_SHARED mapping made before the fork, and the lock is a pthread mutex marked
 * PTHREAD_PROCESS_SHARED that lives there too. Each worker adds 1 to the counter and 4
 * to array[0], so the answer is fixed: counter 4, array [16,2,3,4]. Without the lock, two
 * read-modify-writes can interleave and an update is lost. */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t lock;      /* get_lock(): guards counter and array */
    int counter;               /* Value('i', 0) */
    int array[4];              /* Array('i', [0, 2, 3, 4]) */
};

static void worker(struct shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    sh->counter += 1;
    sh->array[0] += 4;
    pthread_mutex_unlock(&sh->lock);
}

int main(void)
{
    enum { WORKERS = 4 };
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("shared_value_array: mmap");
        return 1;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    sh->counter = 0;
    sh->array[0] = 0;
    sh->array[1] = 2;
    sh->array[2] = 3;
    sh->array[3] = 4;

    pid_t pid[WORKERS];
    fflush(stdout);
    for (int i = 0; i < WORKERS; i++) {
        pid[i] = fork();
        if (pid[i] < 0) {
            perror("shared_value_array: fork");
            return 1;
        }
        if (pid[i] == 0) {
            worker(sh);
            _exit(0);
        }
    }
    int failed = 0;
    for (int i = 0; i < WORKERS; i++) {
        int st;
        if (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    if (failed) {
        fprintf(stderr, "shared_value_array: a worker failed\n");
        return 1;
    }
    printf("counter %d\n", sh->counter);
    printf("array [%d,%d,%d,%d]\n", sh->array[0], sh->array[1], sh->array[2], sh->array[3]);
    pthread_mutex_destroy(&sh->lock);
    munmap(sh, sizeof *sh);
    return 0;
}
