/*
 * fake_kernel.h: the in-memory kernel behind tests/fakes/fake_nl.c, which
 * implements every function of netlink/nl.h without a socket or root.
 *
 * One namespace for the whole process: links (bridge, vxlan, veth pairs, the
 * underlay), the FDB entries of vxlan devices, neighbour entries, and the
 * default route. This header is what a test uses to look at it, to set up the
 * underlay, and to hold spare veths in the making. Thread-safe (one mutex);
 * waits are bounded by a deadline and answer false when it passes.
 * IPv4 addresses are in network byte order, as in nl.h.
 */
#ifndef WEFT_TEST_FAKE_KERNEL_H
#define WEFT_TEST_FAKE_KERNEL_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "netlink/nl.h"

enum fake_link_kind {
    FAKE_LINK_DEVICE, /* the underlay's interface */
    FAKE_LINK_BRIDGE,
    FAKE_LINK_VXLAN,
    FAKE_LINK_VETH,
};

struct fake_link {
    char name[IF_NAMESIZE];
    enum fake_link_kind kind;
    int ifindex;
    bool up;
    char alias[NL_ALIAS_MAX];
    uint8_t mac[6];
    int mtu;
    int master;     /* ifindex of the bridge, or 0 */
    uint32_t vni;   /* vxlan */
    uint32_t local; /* vxlan */
    int peer;       /* veth: the other end's ifindex */
};

/* Forgets every link and entry and opens the hold (between tests). */
void fake_kernel_reset(void);
/* The interface holding the default route and its address (ip 0: no default route). */
void fake_kernel_set_underlay(const char *ifname, uint32_t ip, int mtu);

bool fake_kernel_link(const char *name, struct fake_link *out);
/* Links whose name starts with prefix ("" for all). */
int fake_kernel_link_count(const char *prefix);
/* Links whose alias starts with prefix (VETH_ALIAS_TAG " " finds endpoints' records). */
int fake_kernel_alias_count(const char *prefix);
/* NTF_SELF FDB entry mac -> dst on device dev. */
bool fake_kernel_has_fdb(const char *dev, const uint8_t mac[6], uint32_t dst);
bool fake_kernel_has_neigh(const char *dev, uint32_t ip, const uint8_t mac[6]);
/* Entries on device dev (NULL: on every device). */
int fake_kernel_fdb_count(const char *dev);
int fake_kernel_neigh_count(const char *dev);
/* Everything the kernel holds as sorted text (malloc'd), for before/after compares. */
char *fake_kernel_snapshot(void);

/* Waits until cond(ctx) holds (checked under the kernel's lock at every change). */
bool fake_kernel_wait(bool (*cond)(void *ctx), void *ctx, long timeout_ms);
/* While held, nl_veth_create of a pair left down (a spare) blocks before doing
 * anything; fake_kernel_wait_held waits until n calls are blocked. */
void fake_kernel_hold_spares(bool hold);
bool fake_kernel_wait_held(int n, long timeout_ms);

/* Traffic control (fake_tc.c): refused ("Operation not supported", a kernel without
 * clsact or u32) unless on; turning it either way forgets every filter. Not reset by
 * fake_kernel_reset: a test that turns it on turns it off. */
void fake_kernel_set_tc(bool on);
/* Filters on target t (NULL: everywhere). */
int fake_kernel_tc_filter_count(const struct nl_tc_target *t);

#endif
