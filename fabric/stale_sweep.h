/*
 * stale_sweep.h: after a listing of the store, removes from one local segment's
 * kernel tables every remote entry that the remote table does not hold as
 * programmed. A restarted daemon starts with an empty table, so what its earlier
 * run programmed for peers and hosts that left meanwhile would otherwise stay in
 * the kernel for good: no watch event names them again.
 * Callers: peers.c and encrypted.c, under the fabric lock, outside a netlink batch.
 */
#ifndef WEFT_STALE_SWEEP_H
#define WEFT_STALE_SWEEP_H

#include <stddef.h>

#include "common/err.h"
#include "fabric/remote_table.h"
#include "vxlan/segment.h"
#include "vxlan/tap_segment.h"

/* subnets: the overlay's, its first (which its members' records are keyed by) then its
 * extra ones (several --subnet), subnet_count >= 1. *removed (may be NULL) counts the
 * kernel entries deleted. */
int fabric_sweep_segment(struct nl *nl, int vxlan_ifindex, const struct remote_table *remotes,
                         const char *const *subnets, size_t subnet_count, size_t *removed,
                         struct weft_err *err);
/* The same for an encrypted overlay: its bridge's neighbour entries and the static FDB
 * entries on its TAP port (the TAP is persistent, so they outlive the daemon too). */
int fabric_sweep_tap_segment(struct nl *nl, const struct tap_segment_devices *tap,
                             const struct remote_table *remotes, const char *const *subnets,
                             size_t subnet_count, size_t *removed, struct weft_err *err);

#endif
