/* main.c: the one CUnit runner. It registers every tests/test_<name>.c suite (the Makefile
 * lists them in suites.h) and exits non-zero when any assertion failed: the basic runner
 * alone returns 0 even then. `parlab-tests NAME...` runs only the named suites. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>
#include "../lib/pool.h"

#define SUITE(name) extern CU_TestInfo tests_##name[];
#include "suites.h"
#undef SUITE

static CU_SuiteInfo suites[] = {
#define SUITE(name) { #name, NULL, NULL, NULL, NULL, tests_##name },
#include "suites.h"
#undef SUITE
    CU_SUITE_INFO_NULL,
};

int main(int argc, char **argv)
{
    pool_worker_entry(argc, argv);   /* a spawned pool worker runs there and never returns */
    if (CU_initialize_registry() != CUE_SUCCESS || CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "parlab-tests: %s\n", CU_get_error_msg());
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    /* Each run clears the previous run's counts, so add them up suite by suite. */
    unsigned records = 0, run = 0, failed = 0;
    if (argc == 1) {
        CU_basic_run_tests();
        records = CU_get_number_of_failure_records();
        run = CU_get_number_of_tests_run();
        failed = CU_get_number_of_tests_failed();
    } else {
        for (int i = 1; i < argc; i++) {
            CU_pSuite s = CU_get_suite(argv[i]);
            if (!s) {
                fprintf(stderr, "parlab-tests: no suite '%s'\n", argv[i]);
                CU_cleanup_registry();
                return 2;
            }
            CU_basic_run_suite(s);
            records += CU_get_number_of_failure_records();
            run += CU_get_number_of_tests_run();
            failed += CU_get_number_of_tests_failed();
        }
    }
    CU_cleanup_registry();
    printf("\n%u passed, %u failed\n", run - failed, failed);
    return records ? 1 : 0;
}
