/*
 * group_skip.h: a cmocka test program that cannot run here (no CAP_NET_ADMIN, no
 * etcd) reports every test skipped and exits 0, instead of failing in its setup.
 * It prints one line "skipped: <reason>" first: tests/run.sh reads that line and
 * counts the program as SKIP, not PASS. Header-only, for the C test programs; the
 * fixtures (tests/netns/netns_fixture.h, tests/live/etcd_fixture.h) call it.
 */
#ifndef WEFT_GROUP_SKIP_H
#define WEFT_GROUP_SKIP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

static inline void group_skip_one(void **state)
{
    (void)state;
    skip();
}

/* Runs a copy of tests in which each test only calls skip(): cmocka lists every
 * test as SKIPPED and returns 0 (nothing failed). Group setup and teardown are
 * not run, as they would need what is missing. */
static inline int group_skip_run(const char *group, const struct CMUnitTest *tests, size_t n,
                                 const char *reason)
{
    printf("skipped: %s\n", reason);
    fflush(stdout);
    struct CMUnitTest *skipped = calloc(n, sizeof(*skipped));
    if (!skipped)
        return 1;
    for (size_t i = 0; i < n; i++) {
        skipped[i].name = tests[i].name;
        skipped[i].test_func = group_skip_one;
    }
    int failed = _cmocka_run_group_tests(group, skipped, n, NULL, NULL);
    free(skipped);
    return failed;
}

/* cmocka_run_group_tests(tests, setup, teardown), or every test skipped when
 * reason (a string, or NULL when nothing is missing) says why it cannot run. */
#define group_run_or_skip(reason, tests, setup, teardown)                                          \
    ((reason) ? group_skip_run(#tests, (tests), sizeof(tests) / sizeof((tests)[0]), (reason))      \
              : cmocka_run_group_tests(tests, setup, teardown))

#endif
