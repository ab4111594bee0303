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

/* etcd moved to another free client port, same data: the clients of l->fx.endpoint
 * lose it (an outage to them) while *side, opened on side_endpoint, reaches it.
 * Returns the port to give etcd_live_back, or -1. */
static inline int etcd_live_away(struct etcd_live *l, struct etcd **side, char side_endpoint[64])
{
    struct weft_err err = {0};
    etcd_fixture_kill(&l->fx);
    int port = l->fx.client_port;
    l->fx.client_port = etcd_fixture_free_port();
    snprintf(side_endpoint, 64, "127.0.0.1:%d", l->fx.client_port);
    if (etcd_fixture_spawn(&l->fx) < 0 || etcd_open(side, side_endpoint, &err) < 0)
        return -1;
    return port;
}

/* etcd back on its own port (from etcd_live_away). */
static inline int etcd_live_back(struct etcd_live *l, int port)
{
    etcd_fixture_kill(&l->fx);
    l->fx.client_port = port;
    return etcd_fixture_spawn(&l->fx);
}

/* Compacts the history of the etcd at endpoint up to revision (etcdctl). */
static inline int etcd_live_compact(const char *endpoint, int64_t revision)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "ETCDCTL_API=3 etcdctl --endpoints=http://%s compact %lld >/dev/null 2>&1",
             endpoint, (long long)revision);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
