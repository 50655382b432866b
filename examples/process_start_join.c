/* process_start_join.c: Python's Process(target=f, args=(i,)).start() and .join(),
 * written with fork() and waitpid(). Each child computes f(i) and hands the answer back
 * as its exit code (Python's p.exitcode); the parent's `counter` shows that what a child
 * writes stays in the child: processes share no memory unless they ask for it. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter;   /* after fork, every process has its own copy */

static int f(int i)
{
    counter += 100;   /* changes the child's copy only */
    return i * i;
}

int main(void)
{
    enum { N = 4 };
    pid_t pid[N];

    fflush(stdout);   /* or output still buffered here would be copied into each child */
    for (int i = 0; i < N; i++) {          /* start */
        pid[i] = fork();
        if (pid[i] < 0) {
            perror("process_start_join: fork");
            return 1;
        }
        if (pid[i] == 0)
            _exit(f(i));   /* an exit code is one byte: enough for 0..9 */
    }
    for (int i = 0; i < N; i++) {          /* join, in start order: the output is fixed */
        int st;
        if (waitpid(pid[i], &st, 0) < 0) {
            perror("process_start_join: waitpid");
            return 1;
        }
        if (WIFEXITED(st))
            printf("process %d exitcode %d\n", i, WEXITSTATUS(st));
        else   /* Python reports a signal as a negative exit code */
            printf("process %d exitcode -%d\n", i, WTERMSIG(st));
    }
    printf("counter in parent: %d\n", counter);
    return 0;
}
