/*
 * test_fast_path.c: which data path a plain segment gets (vxlan/fast_path.h), on the
 * fakes. A kernel that refuses tc (the fakes' default) leaves the segment on the
 * bridge: networks and endpoints work as before, no filter is left, and the choice
 * is logged once per segment. A kernel that takes it holds three filters per
 * segment and two per local endpoint, which follow the endpoints, and a restarted
 * fabric puts back the same set, not twice (it clears what the earlier run left).
 */
#include "tests/fakes/fixture.h"

#include <string.h>

#include "common/log.h"
#include "tests/fakes/fake_kernel.h"

#define SEGMENT_FILTERS 3  /* multicast and service-port passes, the rest to the VXLAN device */
#define ENDPOINT_FILTERS 2 /* its pass on the block, its redirect on the VXLAN device */

static int logged(const char *what)
{
    char lines[LOG_RECENT_MAX][LOG_RECENT_LINE_MAX];
    size_t n = log_recent(lines, LOG_RECENT_MAX);
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += strstr(lines[i], what) != NULL;
    return count;
}

static void bridge_only_where_tc_is_refused(void **state)
{
    struct fx *fx = *state;
    int before = logged("fast path unavailable");
    create_network(fx, "a1", FX_SUBNET);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    create_endpoint(fx, "a1", "e2", "10.77.0.6", mac);
    fx_settle();
    assert_int_equal(fake_kernel_tc_filter_count(NULL), 0);
    assert_int_equal(logged("fast path unavailable") - before, 1); /* once, for the segment */
    struct weft_err err = {0};
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), 0);
    assert_int_equal(delete_endpoint(fx, "a1", "e2", &err), 0);
    assert_int_equal(delete_network(fx, "a1", &err), 0);
}

static void filters_follow_endpoints_and_restarts(void **state)
{
    struct fx *fx = *state;
    fake_kernel_set_tc(true);
    create_network(fx, "a1", FX_SUBNET);
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    create_endpoint(fx, "a1", "e2", "10.77.0.6", mac);
    fx_settle();
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS + 2 * ENDPOINT_FILTERS);
    struct weft_err err = {0};
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), 0);
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS + ENDPOINT_FILTERS);

    fx_close(fx); /* the filters stay, as the kernel's do when the daemon stops */
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS + ENDPOINT_FILTERS);
    fx_open(fx);
    fx_settle();
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS + ENDPOINT_FILTERS);
    create_endpoint(fx, "a1", "e3", "10.77.0.7", mac);
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS + 2 * ENDPOINT_FILTERS);
    assert_int_equal(delete_endpoint(fx, "a1", "e2", &err), 0);
    assert_int_equal(delete_endpoint(fx, "a1", "e3", &err), 0);
    assert_int_equal(fake_kernel_tc_filter_count(NULL), SEGMENT_FILTERS);
    fake_kernel_set_tc(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bridge_only_where_tc_is_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(filters_follow_endpoints_and_restarts, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
