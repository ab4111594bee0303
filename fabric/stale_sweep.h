/*
 * stale_sweep.h: after a listing of the store, removes from one local segment's
 * kernel tables every remote entry that the remote table does not hold as
 * programmed. A restarted daemon starts with an empty table, so what its earlier
 * run programmed for peers and hosts that left meanwhile would otherwise stay in
 * the kernel for good: no watch event names them again.
 * Callers: peers.c, under the fabric lock, outside a netlink batch.
 */
#ifndef WEFT_STALE_SWEEP_H
#define WEFT_STALE_SWEEP_H

#include <stddef.h>

#include "common/err.h"
#include "fabric/remote_table.h"
#include "vxlan/remote_sweep.h"

/* subnets: the overlay's, its first (which its members' records are keyed by) then its
 * extra ones (several --subnet), subnet_count >= 1. *removed (may be NULL) counts the
 * kernel entries deleted. */
/* at: the VXLAN device, or an encrypted overlay's bridge and TAP (vxlan/remote_sweep.h;
 * the TAP is persistent, so its entries outlive the daemon too). */
int fabric_sweep_segment(struct nl *nl, const struct segment_sweep_target *at,
                         const struct remote_table *remotes, const char *const *subnets,
                         size_t subnet_count, size_t *removed, struct weft_err *err);

#endif
