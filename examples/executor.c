/* executor.c: Python's ProcessPoolExecutor: submit one call per number, then take the
 * futures as they complete (concurrent.futures.as_completed) and count the primes among
 * 1000000..1000099. The answer, 6, is checked by the tests with their own count. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(void)
{
    struct fpool_future *futures[COUNT];
    uint64_t number[COUNT];
    int prime[COUNT] = { 0 }, count = 0;

    struct fpool *ex = fpool_create(0, NULL, NULL);
    if (!ex) {
        fprintf(stderr, "executor: %s\n", fpool_strerror());
        return 1;
    }
    for (int i = 0; i < COUNT; i++) {
        number[i] = FIRST + (uint64_t)i;
        futures[i] = fpool_submit(ex, is_prime, &number[i], sizeof number[i], sizeof(int));
        if (!futures[i]) {
            fprintf(stderr, "executor: %s\n", fpool_strerror());
            fpool_terminate(ex);
            return 1;
        }
    }
    long i;
    while ((i = fpool_as_completed(futures, COUNT, -1)) >= 0) {
        int rc = fpool_future_get(futures[i], &prime[i], 0);
        futures[i] = NULL;
        if (rc) {
            fprintf(stderr, "executor: %s\n", fpool_strerror());
            fpool_terminate(ex);
            return 1;
        }
    }
    fpool_close(ex);   /* the end of `with ProcessPoolExecutor() as ex:` */
    fpool_join(ex);
    if (i != -ENOENT)
        return 1;

    printf("primes in [%d, %d]:", FIRST, FIRST + COUNT - 1);
    for (int k = 0; k < COUNT; k++)
        if (prime[k]) {
            printf(" %llu", (unsigned long long)number[k]);
            count++;
        }
    printf("\ncount %d\n", count);
    return 0;
}
