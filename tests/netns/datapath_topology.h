/*
 * datapath_topology.h: two hosts for datapath/ in network namespaces, shared
 * by tests/netns/test_datapath.c and bench/datapath_bench.c. Header-only;
 * single-threaded setup code (it moves the calling thread between namespaces).
 * Each host runs one data path; each overlay o (VNI 7 + o, 1 or 2 of them) has
 * a bridge, a TAP and a container per host, on that host's one data path:
 *
 *   c0 (10.99.0.1, eth0)              c1 (10.99.0.2, eth0)          overlay 0
 *      (and fd99::1, fd99::2; overlay 1: fd98::)
 *     | veth                             | veth
 *   h0: wbr7 + wtp7 (TAP)             h1: wbr7 + wtp7 (TAP)
 *   [c0' 10.98.0.1 - wbr8 + wtp8]     [c1' 10.98.0.2 - wbr8 + wtp8]  overlay 1
 *   h0: datapath                      h1: datapath
 *     und0 192.168.99.1 ---- veth ---- und1 192.168.99.2      (the underlay)
 *     (or fd00:99::1 and fd00:99::2: an IPv6 underlay, topo_build_on)
 *
 * Every namespace is anonymous, held by a descriptor of this process: they and
 * their devices vanish when the process exits, also when a test fails midway.
 * The caller moves into a private namespace first (netns_private()).
 */
#ifndef WEFT_DATAPATH_TOPOLOGY_H
#define WEFT_DATAPATH_TOPOLOGY_H

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/datapath.h"
#include "tests/netns/netns_fixture.h"
#include "vxlan/tap.h"

#define TOPO_VNI 7 /* overlay o has VNI TOPO_VNI + o */
#define TOPO_MAX_OVERLAYS 2
#define TOPO_UNDERLAY_MTU 1500

/* The lookup of one overlay on one host: the other container's MAC and
 * broadcast/multicast go to the other host; any other MAC has no VTEP. Counts
 * its calls (from every worker). Allocated while the overlay is on the data path,
 * so that ASan sees a worker that touches it after the removal. */
struct topo_lookup {
    uint8_t peer_mac[6];
    struct ip_addr peer_vtep;
    _Atomic unsigned long calls;
};

struct topo_overlay {
    uint32_t vni;
    int ctr_ns;
    struct tap_queues tap;
    struct topo_lookup *lookup; /* non-NULL while on the data path */
};

struct topo_host {
    int host_ns;
    struct ip_addr vtep;
    struct nl *nl; /* opened in host_ns */
    struct datapath *dp;
    struct topo_overlay ov[TOPO_MAX_OVERLAYS];
};

struct topology {
    struct topo_host host[2];
    int noverlays;
    bool ipv6_underlay;
    int mtu; /* of the overlays: TAPs, bridges, containers */
};

static inline size_t topo_lookup(void *ctx, const uint8_t dst_mac[6], struct ip_addr *vteps,
                                 size_t max)
{
    struct topo_lookup *l = ctx;
    atomic_fetch_add_explicit(&l->calls, 1, memory_order_relaxed);
    if (max < 1)
        return 0;
    if ((dst_mac[0] & 1) || memcmp(dst_mac, l->peer_mac, 6) == 0) {
        vteps[0] = l->peer_vtep;
        return 1;
    }
    return 0;
}

/* The container of overlay o on host i: 02:00:00:00:<0x99 - o>:<i + 1>. */
static inline void topo_ctr_mac(int o, int i, uint8_t mac[6])
{
    const uint8_t base[6] = {0x02, 0x00, 0x00, 0x00, (uint8_t)(0x99 - o), (uint8_t)(i + 1)};
    memcpy(mac, base, 6);
}

/* Bridge, container veth and container address of overlay o on host i. */
static inline int topo_overlay_devices(struct topology *t, int i, int o)
{
    struct topo_host *h = &t->host[i];
    unsigned vni = h->ov[o].vni;
    if (in_ns(h->host_ns,
              "ip link add wbr%u mtu %d type bridge && ip link set wbr%u up && "
              "ip link add wv%d%d mtu %d type veth peer name eth0 mtu %d netns /proc/self/fd/%d "
              "&& ip link set wv%d%d master wbr%u up",
              vni, t->mtu, vni, i, o, t->mtu, t->mtu, h->ov[o].ctr_ns, i, o, vni) != 0)
        return -1;
    return in_ns(h->ov[o].ctr_ns,
                 "ip link set eth0 address 02:00:00:00:%02x:0%d && "
                 "ip addr add 10.%d.0.%d/24 dev eth0 && "
                 "ip addr add fd%d::%d/64 dev eth0 nodad && ip link set eth0 up",
                 0x99 - o, i + 1, 99 - o, i + 1, 99 - o, i + 1);
}

/* Opens (or re-opens) the TAP of overlay o on host i with nqueues queues on its bridge. */
static inline int topo_tap_open(struct topology *t, int i, int o, int nqueues)
{
    struct topo_host *h = &t->host[i];
    struct topo_overlay *ov = &h->ov[o];
    struct weft_err err = {0};
    char bridge_name[IF_NAMESIZE];
    int bridge = 0, rc = -1;
    snprintf(bridge_name, sizeof(bridge_name), "wbr%u", (unsigned)ov->vni);
    /* /dev/net/tun makes the device in the opening thread's namespace. */
    int home = netns_visit(h->host_ns);
    if (home < 0)
        return -1;
    if (nl_link_index(h->nl, bridge_name, &bridge, &err) == 0 &&
        tap_open(h->nl, ov->vni, nqueues, t->mtu, bridge, &ov->tap, &err) == 0)
        rc = 0;
    if (netns_return(home) < 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "host %d overlay %d: %s\n", i, o, err.msg);
    return rc;
}

/* Puts overlay o of host i (its TAP open) on the host's data path. */
static inline int topo_overlay_add(struct topology *t, int i, int o)
{
    struct topo_host *h = &t->host[i];
    struct topo_overlay *ov = &h->ov[o];
    struct weft_err err = {0};
    ov->lookup = calloc(1, sizeof(*ov->lookup));
    if (!ov->lookup)
        return -1;
    topo_ctr_mac(o, 1 - i, ov->lookup->peer_mac);
    ov->lookup->peer_vtep = t->host[1 - i].vtep;
    struct datapath_overlay_spec spec = {
        .vni = ov->vni, .tap_fds = ov->tap.fds, .lookup = topo_lookup, .lookup_ctx = ov->lookup};
    if (datapath_overlay_add(h->dp, &spec, &err) < 0) {
        fprintf(stderr, "host %d overlay %d: %s\n", i, o, err.msg);
        free(ov->lookup);
        ov->lookup = NULL;
        return -1;
    }
    return 0;
}

/* Takes overlay o of host i off the data path and frees its lookup (the TAP stays open). */
static inline void topo_overlay_remove(struct topology *t, int i, int o)
{
    struct topo_overlay *ov = &t->host[i].ov[o];
    if (t->host[i].dp)
        datapath_overlay_remove(t->host[i].dp, ov->vni);
    free(ov->lookup);
    ov->lookup = NULL;
}

/* Starts host i's data path with transform (sockets in host_ns), nworkers workers
 * (0: as many as overlay 0's TAP has queues), with every overlay whose TAP is open. */
static inline int topo_start(struct topology *t, int i, const struct datapath_transform *transform)
{
    struct topo_host *h = &t->host[i];
    struct datapath_config config = {
        .nworkers = h->ov[0].tap.count,
        .local_vtep = h->vtep,
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
    for (int o = 0; o < t->noverlays; o++)
        if (h->ov[o].tap.count > 0 && topo_overlay_add(t, i, o) < 0)
            return -1;
    return 0;
}

static inline void topo_stop(struct topology *t, int i)
{
    struct topo_host *h = &t->host[i];
    datapath_stop(h->dp);
    h->dp = NULL;
    for (int o = 0; o < TOPO_MAX_OVERLAYS; o++) {
        free(h->ov[o].lookup);
        h->ov[o].lookup = NULL;
    }
}

/* The namespaces, the underlay (IPv6 with ipv6_underlay), both hosts' devices and
 * noverlays TAPs with nqueues queues each (no data path yet). */
static inline int topo_build_on(struct topology *t, int nqueues, size_t transform_overhead,
                                int noverlays, bool ipv6_underlay)
{
    memset(t, 0, sizeof(*t));
    t->noverlays = noverlays;
    t->ipv6_underlay = ipv6_underlay;
    t->mtu = datapath_overlay_mtu(TOPO_UNDERLAY_MTU, ipv6_underlay, transform_overhead);
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        h->host_ns = -1;
        for (int o = 0; o < TOPO_MAX_OVERLAYS; o++) {
            h->ov[o].ctr_ns = -1;
            h->ov[o].vni = TOPO_VNI + (uint32_t)o;
        }
    }
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        h->host_ns = new_netns();
        if (h->host_ns < 0)
            return -1;
        for (int o = 0; o < noverlays; o++)
            if ((h->ov[o].ctr_ns = new_netns()) < 0)
                return -1;
        const uint8_t vtep6[16] = {0xfd, 0x00, 0x00, 0x99, [15] = (uint8_t)(i + 1)};
        h->vtep = ipv6_underlay
                      ? ip_addr_from_ipv6(vtep6)
                      : ip_addr_from_ipv4(inet_addr(i == 0 ? "192.168.99.1" : "192.168.99.2"));
    }
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
        if ((ipv6_underlay
                 ? in_ns(h->host_ns,
                         "ip addr add fd00:99::%d/64 dev und%d nodad && ip link set und%d up",
                         i + 1, i, i)
                 : in_ns(h->host_ns,
                         "ip addr add 192.168.99.%d/24 dev und%d && ip link set und%d up", i + 1, i,
                         i)) != 0)
            return -1;
        for (int o = 0; o < noverlays; o++)
            if (topo_overlay_devices(t, i, o) < 0)
                return -1;
        int home = netns_visit(h->host_ns);
        if (home < 0)
            return -1;
        int rc = nl_open(&h->nl, &err);
        if (netns_return(home) < 0 || rc < 0)
            return -1;
        for (int o = 0; o < noverlays; o++)
            if (topo_tap_open(t, i, o, nqueues) < 0)
                return -1;
    }
    return 0;
}

static inline int topo_build(struct topology *t, int nqueues, size_t transform_overhead,
                             int noverlays)
{
    return topo_build_on(t, nqueues, transform_overhead, noverlays, false);
}

/* Stops what runs and removes what topo_build made (also after a partial build). */
static inline void topo_destroy(struct topology *t)
{
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        struct weft_err err;
        topo_stop(t, i);
        for (int o = 0; o < TOPO_MAX_OVERLAYS; o++) {
            tap_close(&h->ov[o].tap);
            if (h->nl && o < t->noverlays && tap_delete(h->nl, h->ov[o].vni, &err) < 0)
                fprintf(stderr, "host %d: %s\n", i, err.msg);
            if (h->ov[o].ctr_ns >= 0)
                close(h->ov[o].ctr_ns);
            h->ov[o].ctr_ns = -1;
        }
        if (h->nl)
            nl_close(h->nl);
        h->nl = NULL;
        if (h->host_ns >= 0)
            close(h->host_ns);
        h->host_ns = -1;
    }
}

#endif
