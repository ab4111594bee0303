/*
 * etcd_live.h: a cmocka group's state for tests of the store client against a real
 * etcd: a loopback etcd (etcd_fixture.h) and one client opened on it. Setup and
 * teardown for etcd_fixture_run_group; each test gets the struct etcd_live as *state.
 * Header-only, as etcd_fixture.h.
 */
#ifndef WEFT_ETCD_LIVE_H
#define WEFT_ETCD_LIVE_H

#include "store/etcd.h"
#include "tests/live/etcd_fixture.h"

struct etcd_live {
    struct etcd_fixture fx;
    struct etcd *etcd;
};

static inline int etcd_live_group_setup(void **state)
{
    struct etcd_live *l = calloc(1, sizeof(*l));
    struct weft_err err = {0};
    if (!l || etcd_fixture_start(&l->fx) < 0 || etcd_open(&l->etcd, l->fx.endpoint, &err) < 0) {
        fprintf(stderr, "could not start etcd or open it: %s\n", err.msg);
        if (l)
            etcd_fixture_stop(&l->fx);
        free(l);
        return -1;
    }
    *state = l;
    return 0;
}

static inline int etcd_live_group_teardown(void **state)
{
    struct etcd_live *l = *state;
    etcd_close(l->etcd);
    etcd_fixture_stop(&l->fx);
    free(l);
    return 0;
}

#endif
