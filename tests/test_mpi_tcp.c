/* test_mpi_tcp.c: the mpi runner over Open MPI's TCP transport on loopback
 * (PARLAB_MPI_TRANSPORT=tcp), the stand-in for ranks on two machines: answers verified at 2
 * and 4 ranks, both schedules; `parlab overhead` reports its rows beside shared memory's; an
 * unknown transport is refused, and a TCP transport that cannot bind a port ends the run
 * with one line naming it, exit 71, and nothing left in the run's TMPDIR. Skipped, saying
 * so, where Open MPI is missing. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util.h"
#include "../mpi/launcher.h"

static char tmpdir[] = "/tmp/parlab-test-tcp-XXXXXX";
static char *old_tmpdir;
static int have;   /* -1 unknown, 0 skipped, 1 ready */

/* Open MPI and parlab-mpi here, and a TMPDIR of this suite's own (checked empty). */
static int ready(void)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], mine[PATH_MAX];
    struct outcome out = { 0 };
    if (have)
        return have > 0;
    unsetenv(MPI_ENV_WORLD);
    const char *bin = parlab_bin();
    const char *slash = strrchr(bin, '/');
    snprintf(mine, sizeof mine, "%.*sparlab-mpi", slash ? (int)(slash - bin + 1) : 0, bin);
    have = access(mine, X_OK) == 0 &&
           mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, &out) == 0 &&
           mkdtemp(tmpdir) ? 1 : 0;
    if (!have) {
        fprintf(stderr, "\n  mpi tcp tests SKIPPED: Open MPI or %s missing\n", mine);
        return 0;
    }
    const char *t = getenv("TMPDIR");
    if (t)
        old_tmpdir = strdup(t);
    setenv("TMPDIR", tmpdir, 1);
    return 1;
}

static int tmpdir_empty(void)
{
    return tmpdir_leftovers(tmpdir) == 0;
}

static void test_answers(void)
{
    static const char *const cases[][5] = {
        /* workload, size, ranks, schedule, the answer */
        { "primes", "100000", "2", "dynamic", "9592" },
        { "primes", "100000", "4", "static", "9592" },   /* 4 ranks: oversubscribed here */
        { "sumsq", "20000", "2", "static", "2666466670000" },
    };
    if (!ready())
        return;
    setenv(MPI_ENV_TRANSPORT, "tcp", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cmd_result r;
        char got[64];
        CU_ASSERT_EQUAL(run_parlab(&r, 120, "run", "-w", cases[i][0], "-r", "mpi", "-n",
                                   cases[i][1], "-j", cases[i][2], "-s", cases[i][3],
                                   "--repeat", "1", "--warmup", "0", "--format", "csv",
                                   (char *)NULL), 0);
        if (r.status != 0)
            fprintf(stderr, "\n  tcp %s -j %s: exit %d: %s", cases[i][0], cases[i][2],
                    r.status, r.err);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 16, got, sizeof got), cases[i][4]);
        CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 17, got, sizeof got), "yes");
    }
    /* spin: the calibrated step count reaches the ranks with the job */
    struct cmd_result r;
    CU_ASSERT_EQUAL(run_parlab(&r, 120, "run", "-w", "spin", "-r", "mpi", "-n", "200",
                               "--grain", "5000", "-j", "2", "--repeat", "1", "--warmup", "0",
                               (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    unsetenv(MPI_ENV_TRANSPORT);
    CU_ASSERT(tmpdir_empty());
}

static void test_overhead_rows(void)
{
    if (!ready())
        return;
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(run_parlab(r, 300, "overhead", "--quick", "--repeat", "1", "--format",
                               "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r->status, 0);
    /* The shared-memory rows and, beside them, the same over TCP. */
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "mpi ping-pong one way (8 B),"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "mpi ping-pong one way (8 B) over TCP,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "mpi farm dynamic chunk 1 per task,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "mpi farm dynamic chunk 1 per task over TCP,"));
    free(r);
    CU_ASSERT(tmpdir_empty());
}

static void test_refused(void)
{
    if (!ready())
        return;
    struct cmd_result r;
    setenv(MPI_ENV_TRANSPORT, "infiniband", 1);
    CU_ASSERT_EQUAL(run_parlab(&r, 60, "run", "-w", "primes", "-r", "mpi", "-n", "1000",
                               "--repeat", "1", "--warmup", "0", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "PARLAB_MPI_TRANSPORT=infiniband"));

    /* One port for the TCP transport, and this process holds it: no rank can bind. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    socklen_t alen = sizeof a;
    CU_ASSERT_FATAL(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 1) == 0 &&
                    getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    char port[16];
    snprintf(port, sizeof port, "%u", ntohs(a.sin_port));
    setenv(MPI_ENV_TRANSPORT, "tcp", 1);
    setenv("OMPI_MCA_btl_tcp_port_min_v4", port, 1);
    setenv("OMPI_MCA_btl_tcp_port_range_v4", "1", 1);
    CU_ASSERT_EQUAL(run_parlab(&r, 120, "run", "-w", "primes", "-r", "mpi", "-n", "1000",
                               "-j", "2", "--repeat", "1", "--warmup", "0", (char *)NULL), 0);
    unsetenv("OMPI_MCA_btl_tcp_port_min_v4");
    unsetenv("OMPI_MCA_btl_tcp_port_range_v4");
    unsetenv(MPI_ENV_TRANSPORT);
    close(s);
    if (r.status != 71)
        fprintf(stderr, "\n  tcp bind: exit %d: %s", r.status, r.err);
    CU_ASSERT(r.exited);
    CU_ASSERT_EQUAL(r.status, 71);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "TCP transport"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bind"));
    CU_ASSERT(tmpdir_empty());
}

static void test_cleanup(void)
{
    if (have <= 0)
        return;
    CU_ASSERT(tmpdir_empty());
    CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
    if (old_tmpdir)
        setenv("TMPDIR", old_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    free(old_tmpdir);
    old_tmpdir = NULL;
}

CU_TestInfo tests_mpi_tcp[] = {
    { "over TCP on loopback: answers at 2 and 4 ranks, both schedules", test_answers },
    { "overhead: ping-pong and farm over TCP beside shared memory", test_overhead_rows },
    { "an unknown transport: exit 64; TCP that cannot bind: one line, exit 71", test_refused },
    { "the tests' TMPDIR is left empty", test_cleanup },
    CU_TEST_INFO_NULL,
};
