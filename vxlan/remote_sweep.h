/*
 * remote_sweep.h: removes remote entries from a segment's VXLAN device, or from an
 * encrypted overlay's bridge and TAP, that the caller does not claim: what an
 * earlier run of the daemon programmed for peers and hosts that left while it was
 * down, which no watch event will ever name again.
 *
 * Owns nothing: it lists the segment's permanent neighbour entries (the IPv6 ones
 * only when the caller asks about them, keep->peer6) and its FDB entries (a VXLAN
 * device's with a destination; the static ones on a TAP's bridge port), asks the
 * caller about each, and deletes the rest
 * in one netlink batch. Callers: fabric/ at the end of a listing of the store.
 * Uses netlink/ only; not inside a netlink batch.
 * All IPv4 addresses (uint32_t) are in network byte order; VTEPs are struct ip_addr.
 */
#ifndef WEFT_REMOTE_SWEEP_H
#define WEFT_REMOTE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "netlink/nl.h"

/* Each answers whether the caller has that entry programmed, so it stays. */
struct segment_remote_keep {
    bool (*peer)(void *ctx, uint32_t ip, const uint8_t mac[6]);  /* neighbour ip -> mac */
    /* mac -> vtep; vtep NULL on a TAP port, whose entries name no host */
    bool (*fdb)(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep);
    bool (*flood)(void *ctx, const struct ip_addr *vtep); /* flooding towards vtep (VXLAN) */
    void *ctx;
    /* IPv6 neighbour ip6 -> mac (16 bytes, network order); NULL: keep them all */
    bool (*peer6)(void *ctx, const uint8_t ip6[16], const uint8_t mac[6]);
};

/* Where a segment's remote entries are: a VXLAN device holds its neighbours and its
 * FDB entries (with a destination); an encrypted overlay's bridge holds the neighbours
 * and the static FDB entries on its TAP port (keep->fdb is then asked with vtep NULL,
 * keep->flood never: flooding there is weft's own, in user space). */
struct segment_sweep_target {
    int neigh_ifindex;
    int fdb_ifindex;
    bool tap;
};

static inline struct segment_sweep_target segment_sweep_vxlan(int vxlan_ifindex)
{
    return (struct segment_sweep_target){.neigh_ifindex = vxlan_ifindex,
                                         .fdb_ifindex = vxlan_ifindex};
}

static inline struct segment_sweep_target segment_sweep_tap(int bridge_ifindex, int tap_ifindex)
{
    return (struct segment_sweep_target){
        .neigh_ifindex = bridge_ifindex, .fdb_ifindex = tap_ifindex, .tap = true};
}

/* *removed (may be NULL) counts the entries deleted. On a listing failure nothing
 * is deleted; a failed deletion is reported after the others were tried. */
int segment_remote_sweep(struct nl *nl, const struct segment_sweep_target *at,
                         const struct segment_remote_keep *keep, size_t *removed,
                         struct weft_err *err);

#endif
