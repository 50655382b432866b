/* util.h: helpers the CUnit suites share: run a command with a time limit and capture it. */
#ifndef PARLAB_TEST_UTIL_H
#define PARLAB_TEST_UTIL_H
#include <stddef.h>

/* The binary under test: $PARLAB, or bin/parlab. */
const char *parlab_bin(void);

struct cmd_result {
    int exited;        /* 1 if it exited, 0 if a signal ended it */
    int status;        /* exit status, or the signal number */
    char out[65536];   /* stdout, NUL-terminated, truncated to fit */
    char err[8192];    /* stderr */
    double secs;       /* wall time */
};

/*
 * Run argv (argv[0] is looked up in PATH unless it has a '/') with stdin from /dev/null.
 * The child gets alarm(timeout_s) before exec, so a hang ends as SIGALRM rather than
 * stalling the suite. Returns 0, or -1 if it could not be started.
 */
int run_cmd(char *const argv[], unsigned timeout_s, struct cmd_result *r);

/* Run `prog [arg1] ARGS...` where ARGS is a NULL-terminated list (arg1 may be NULL). */
#include <stdarg.h>
int run_cmd_va(struct cmd_result *r, unsigned timeout_s, const char *prog, const char *arg1,
               va_list ap);

/* Run `parlab ARGS...` (NULL-terminated list). */
int run_parlab(struct cmd_result *r, unsigned timeout_s, ...);

/* The n-th (1-based) comma-separated field of the first data line after a CSV header, in
 * buf. Returns buf, or "" if missing. */
char *csv_field(const char *csv, int row, int col, char *buf, size_t n);

/* Reading a CSV by its header: the index (0-based) of column NAME in the header line, or -1;
 * field COL (0-based) of the line starting at LINE, into buf; the start of data line I
 * (0-based, after the header), or NULL. */
int col_of(const char *csv, const char *name);
const char *field(const char *line, int col, char *buf, size_t n);
const char *data_line(const char *csv, int i);

/* The whole file, NUL-terminated, malloc'd (caller frees; *len its length when len is
 * not NULL); NULL if unreadable. */
char *slurp(const char *path, size_t *len);
/* The bytes of path, NUL-terminated and cut to fit, in buf; -1 if unreadable. */
int read_small(const char *path, char *buf, size_t n);

/* The entries of dir but . and .. (each named on stderr as "left in TMPDIR"): 0 when it is
 * empty. What the mpi suites check a run's TMPDIR with. */
int tmpdir_leftovers(const char *dir);

/* The number of lines in s. */
int count_lines(const char *s);

#include <stdint.h>
#include "../runners/runner.h"

/* One job, as `parlab run` would do it, but in a forked child with alarm(timeout_s):
 * the result token (the CSV `result` column) comes back through a pipe. Returns 0 and
 * fills token and *verified (1, 0, or -1: only seq can vouch), or -1 with token holding
 * the child's failure ("exit 70: task 3 ..." or "signal 14"). */
struct job_spec {
    const char *workload, *runner;
    uint64_t size;
    size_t tasks;
    unsigned steps, workers, loops;
    enum sched_kind schedule;
    size_t chunk;
    uint64_t seed;
    unsigned io_ms;
    unsigned start;           /* runners with start methods: an enum pool_start */
};
int job_run(const struct job_spec *s, unsigned timeout_s, char *token, size_t n, int *verified);

/* The processes of process group id (PROCS_GROUP) or session id (PROCS_SESSION), read from
 * /proc: running ones, and zombies too when with_zombies; with kill_them each is named on
 * stderr and SIGKILLed. Returns how many there were. */
enum procs_by { PROCS_GROUP, PROCS_SESSION };

/* AddressSanitizer warns in three lines ("==PID==WARNING: ASan is ignoring requested
 * __asan_handle_no_return ...") when a signal handler runs on a stack it does not know,
 * which says nothing about parlab; take those lines out of err, in place, so that tests
 * of "one line on stderr" judge parlab's own lines. Other sanitizer reports stay. */
void strip_asan_stack_warning(char *err);
int procs_in(enum procs_by by, pid_t id, int with_zombies, int kill_them);

#endif
