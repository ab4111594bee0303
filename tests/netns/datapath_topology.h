/*
 * datapath_topology.h: two hosts for datapath/ in network namespaces, shared
 * by tests/netns/test_datapath.c and bench/datapath_bench.c. Header-only;
 * single-threaded setup code (it moves the calling thread between namespaces).
 *
 *   c0 (10.99.0.1, eth0)              c1 (10.99.0.2, eth0)
 *     | veth                             | veth
 *   h0: wbr7 + wtp7 (TAP) + datapath   h1: wbr7 + wtp7 (TAP) + datapath
 *     und0 192.168.99.1 ---- veth ---- und1 192.168.99.2      (the underlay)
 *
 * Every namespace is anonymous, held by a descriptor of this process: they and
 * their devices vanish when the process exits, also when a test fails midway.
 * The caller moves into a private namespace first (netns_private()).
 */
#ifndef WEFT_DATAPATH_TOPOLOGY_H
#define WEFT_DATAPATH_TOPOLOGY_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath/datapath.h"
#include "tests/netns/netns_fixture.h"
#include "vxlan/tap.h"

#define TOPO_VNI 7
#define TOPO_UNDERLAY_MTU 1500

/* The lookup of one host: the other container's MAC and broadcast/multicast go to
 * the other host; any other MAC has no VTEP. */
struct topo_lookup {
    uint8_t peer_mac[6];
    uint32_t peer_vtep;
};

struct topo_host {
    int host_ns, ctr_ns;
    uint32_t vtep;
    struct nl *nl; /* opened in host_ns */
    struct tap_queues tap;
    struct datapath *dp;
    struct topo_lookup lookup;
};

struct topology {
    struct topo_host host[2];
    int mtu; /* of the overlay: TAP, bridge, containers */
};

static inline size_t topo_lookup(void *ctx, const uint8_t dst_mac[6], uint32_t *vteps, size_t max)
{
    const struct topo_lookup *l = ctx;
    if (max < 1)
        return 0;
    if ((dst_mac[0] & 1) || memcmp(dst_mac, l->peer_mac, 6) == 0) {
        vteps[0] = l->peer_vtep;
        return 1;
    }
    return 0;
}

static inline void topo_ctr_mac(int i, uint8_t mac[6])
{
    const uint8_t base[6] = {0x02, 0x00, 0x00, 0x00, 0x99, (uint8_t)(i + 1)};
    memcpy(mac, base, 6);
}

/* Bridge, container veth and container address of host i. */
static inline int topo_host_devices(struct topology *t, int i)
{
    struct topo_host *h = &t->host[i];
    if (in_ns(h->host_ns,
              "ip link add wbr7 mtu %d type bridge && ip link set wbr7 up && "
              "ip link add wv%d mtu %d type veth peer name eth0 mtu %d netns /proc/self/fd/%d && "
              "ip link set wv%d master wbr7 up",
              t->mtu, i, t->mtu, t->mtu, h->ctr_ns, i) != 0)
        return -1;
    return in_ns(h->ctr_ns,
                 "ip link set eth0 address 02:00:00:00:99:0%d && "
                 "ip addr add 10.99.0.%d/24 dev eth0 && ip link set eth0 up",
                 i + 1, i + 1);
}

/* Opens (or re-opens) host i's TAP with nqueues queues on its bridge. */
static inline int topo_tap_open(struct topology *t, int i, int nqueues)
{
    struct topo_host *h = &t->host[i];
    struct weft_err err = {0};
    int bridge = 0, rc = -1;
    /* /dev/net/tun makes the device in the opening thread's namespace. */
    int home = netns_visit(h->host_ns);
    if (home < 0)
        return -1;
    if (nl_link_index(h->nl, "wbr7", &bridge, &err) == 0 &&
        tap_open(h->nl, TOPO_VNI, nqueues, t->mtu, bridge, &h->tap, &err) == 0)
        rc = 0;
    if (netns_return(home) < 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "host %d: %s\n", i, err.msg);
    return rc;
}

/* Starts host i's datapath on its TAP queues with transform (sockets in host_ns). */
static inline int topo_start(struct topology *t, int i, const struct datapath_transform *transform)
{
    struct topo_host *h = &t->host[i];
    struct datapath_config config = {
        .tap_fds = h->tap.fds,
        .nqueues = h->tap.count,
        .local_vtep = h->vtep,
        .vni = TOPO_VNI,
        .lookup = topo_lookup,
        .lookup_ctx = &h->lookup,
        .transform = *transform,
    };
    struct weft_err err = {0};
    int home = netns_visit(h->host_ns);
    if (home < 0)
        return -1;
    int rc = datapath_start(&config, &h->dp, &err);
    if (netns_return(home) < 0 || rc < 0) {
        fprintf(stderr, "host %d: %s\n", i, err.msg);
        return -1;
    }
    return 0;
}

static inline void topo_stop(struct topology *t, int i)
{
    datapath_stop(t->host[i].dp);
    t->host[i].dp = NULL;
}

/* The namespaces, the underlay, both hosts' devices and TAPs (no datapath yet). */
static inline int topo_build(struct topology *t, int nqueues, size_t transform_overhead)
{
    memset(t, 0, sizeof(*t));
    t->host[0].host_ns = t->host[1].host_ns = t->host[0].ctr_ns = t->host[1].ctr_ns = -1;
    t->mtu = datapath_overlay_mtu(TOPO_UNDERLAY_MTU, transform_overhead);
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        h->host_ns = new_netns();
        h->ctr_ns = new_netns();
        if (h->host_ns < 0 || h->ctr_ns < 0)
            return -1;
        h->vtep = inet_addr(i == 0 ? "192.168.99.1" : "192.168.99.2");
        topo_ctr_mac(1 - i, h->lookup.peer_mac);
    }
    t->host[0].lookup.peer_vtep = t->host[1].vtep;
    t->host[1].lookup.peer_vtep = t->host[0].vtep;
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "ip link add und0 netns /proc/self/fd/%d type veth peer name und1 netns "
             "/proc/self/fd/%d",
             t->host[0].host_ns, t->host[1].host_ns);
    if (system(cmd) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        struct weft_err err = {0};
        if (in_ns(h->host_ns, "ip addr add 192.168.99.%d/24 dev und%d && ip link set und%d up",
                  i + 1, i, i) != 0 ||
            topo_host_devices(t, i) < 0)
            return -1;
        int home = netns_visit(h->host_ns);
        if (home < 0)
            return -1;
        int rc = nl_open(&h->nl, &err);
        if (netns_return(home) < 0 || rc < 0 || topo_tap_open(t, i, nqueues) < 0)
            return -1;
    }
    return 0;
}

/* Stops what runs and removes what topo_build made (also after a partial build). */
static inline void topo_destroy(struct topology *t)
{
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        struct weft_err err;
        topo_stop(t, i);
        tap_close(&h->tap);
        if (h->nl) {
            if (tap_delete(h->nl, TOPO_VNI, &err) < 0)
                fprintf(stderr, "host %d: %s\n", i, err.msg);
            nl_close(h->nl);
            h->nl = NULL;
        }
        if (h->host_ns >= 0)
            close(h->host_ns);
        if (h->ctr_ns >= 0)
            close(h->ctr_ns);
        h->host_ns = h->ctr_ns = -1;
    }
}

#endif
