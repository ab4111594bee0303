/* test_etcd_pacing.c: the store's idle probes stretch with the cluster's hosts. A
 * small cluster (or one not counted yet) keeps the paces weft always had; beyond, what
 * all hosts together send etcd a second stays at its budget; a huge or absurd count
 * stops at the ceiling; the count itself comes less often as the cluster grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/etcd_pacing.h"

/* What n hosts at the pace for n send etcd a second. */
static double per_second(size_t hosts, long interval_ms)
{
    return (double)hosts * 1000.0 / (double)interval_ms;
}

static void small_clusters_keep_the_old_paces(void **state)
{
    (void)state;
    for (size_t hosts = 0; hosts <= 20; hosts++)
        assert_int_equal(etcd_pacing_member_probe_ms(hosts), 200);
    for (size_t hosts = 0; hosts <= 100; hosts++)
        assert_int_equal(etcd_pacing_watch_idle_probe_ms(hosts), 5000);
}

static void large_clusters_keep_to_the_budget(void **state)
{
    (void)state;
    size_t sizes[] = {21, 50, 100, 150, 200, 500, 999, 1000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        double handshakes = per_second(n, etcd_pacing_member_probe_ms(n));
        assert_true(handshakes <= ETCD_PACING_HANDSHAKES_PER_S + 0.5);
        assert_true(handshakes >= ETCD_PACING_HANDSHAKES_PER_S - 5.0);
    }
    size_t watched[] = {101, 200, 500, 1000};
    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        size_t n = watched[i];
        double progress = per_second(n, etcd_pacing_watch_idle_probe_ms(n));
        assert_true(progress <= ETCD_PACING_PROGRESS_PER_S + 0.5);
        assert_true(progress >= ETCD_PACING_PROGRESS_PER_S - 1.0);
    }
    assert_int_equal(etcd_pacing_member_probe_ms(1000), 10000);
    assert_int_equal(etcd_pacing_watch_idle_probe_ms(1000), 50000);
}

static void the_ceiling_holds(void **state)
{
    (void)state;
    size_t sizes[] = {1001, 10000, 1000000, SIZE_MAX / 2, SIZE_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(etcd_pacing_member_probe_ms(sizes[i]), ETCD_PACING_PROBE_MAX_MS);
        assert_true(etcd_pacing_watch_idle_probe_ms(sizes[i]) <= ETCD_PACING_IDLE_PROBE_MAX_MS);
    }
    assert_int_equal(etcd_pacing_watch_idle_probe_ms(SIZE_MAX), ETCD_PACING_IDLE_PROBE_MAX_MS);
}

static void counting_slows_down_in_large_clusters(void **state)
{
    (void)state;
    long reaper_ms = 150000; /* --reclaim-after 600 s */
    assert_int_equal(etcd_pacing_count_interval_ms(reaper_ms, 0), reaper_ms);
    assert_int_equal(etcd_pacing_count_interval_ms(reaper_ms, 150), reaper_ms);
    assert_int_equal(etcd_pacing_count_interval_ms(reaper_ms, 1000), 1000000);
    assert_true(per_second(1000, etcd_pacing_count_interval_ms(reaper_ms, 1000)) <=
                ETCD_PACING_COUNTS_PER_S);
    assert_int_equal(etcd_pacing_count_interval_ms(2000, 3), 3000); /* a test's short reaper */
    assert_int_equal(etcd_pacing_count_interval_ms(reaper_ms, SIZE_MAX), 24L * 3600 * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_clusters_keep_the_old_paces),
        cmocka_unit_test(large_clusters_keep_to_the_budget),
        cmocka_unit_test(the_ceiling_holds),
        cmocka_unit_test(counting_slows_down_in_large_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
