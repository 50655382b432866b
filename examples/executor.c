/* executor.c: Python's ProcessPoolExecutor with map, as the tutorial writes it:
 *
 *     with ProcessPoolExecutor() as ex:
 *         flags = list(ex.map(is_prime, numbers))
 *
 * Executor.map gives the results in input order, whatever order the workers finish in
 * (fpool_map copies the inputs to the workers in chunks and the results back in place).
 * It counts the primes among 1000000..1000099; the answer, 6, is checked by the tests
 * with their own count. examples/apply_async.c shows the completion order map hides. */
#include <stdint.h>
#include <stdio.h>
#include "fpool.h"

enum { FIRST = 1000000, COUNT = 100 };

/* Runs in a worker: is *in prime? Trial division, enough for seven digits. */
static int is_prime(const void *in, void *out)
{
    uint64_t n = *(const uint64_t *)in;
    int prime = n >= 2;
    for (uint64_t d = 2; d * d <= n && prime; d++)
        if (n % d == 0)
            prime = 0;
    *(int *)out = prime;
    return 0;
}

int main(int argc, char **argv)
{
    fpool_worker_entry(argc, argv);   /* the __main__ guard (needed under spawn) */
    uint64_t number[COUNT];
    int prime[COUNT] = { 0 }, count = 0;

    for (int i = 0; i < COUNT; i++)
        number[i] = FIRST + (uint64_t)i;
    struct fpool *ex = fpool_create(0, NULL, NULL);   /* ProcessPoolExecutor() */
    if (!ex) {
        fprintf(stderr, "executor: %s\n", fpool_strerror());
        return 1;
    }
    /* ex.map(is_prime, numbers), chunksize 1 as Executor.map's default */
    int rc = fpool_map(ex, is_prime, number, sizeof number[0], prime, sizeof prime[0], COUNT, 1);
    if (rc) {
        fprintf(stderr, "executor: %s\n", fpool_strerror());
        fpool_terminate(ex);
        return 1;
    }
    fpool_close(ex);   /* the end of `with ProcessPoolExecutor() as ex:` */
    fpool_join(ex);

    printf("primes in [%d, %d]:", FIRST, FIRST + COUNT - 1);
    for (int k = 0; k < COUNT; k++)
        if (prime[k]) {
            printf(" %llu", (unsigned long long)number[k]);
            count++;
        }
    printf("\ncount %d\n", count);
    return 0;
}
