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
#include "vxlan/tap_segment.h"

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

/* *removed (may be NULL) counts the entries deleted. On a listing failure nothing
 * is deleted; a failed deletion is reported after the others were tried. */
int segment_remote_sweep(struct nl *nl, int vxlan_ifindex, const struct segment_remote_keep *keep,
                         size_t *removed, struct weft_err *err);
/* The same for an encrypted overlay: the neighbour entries on dev's bridge, the
 * bridge's static FDB entries on dev's TAP port (keep->flood is not asked: flooding
 * there is weft's own, in user space). */
int tap_segment_remote_sweep(struct nl *nl, const struct tap_segment_devices *dev,
                             const struct segment_remote_keep *keep, size_t *removed,
                             struct weft_err *err);

#endif
