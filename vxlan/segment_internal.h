/*
 * segment_internal.h: what the two kinds of segment share, and nobody else sees:
 * the bridge "wbr<vni>" (made or adopted) and the logged delete of an undo step.
 * Callers: vxlan/segment.c (plain overlays, bridge + VXLAN device) and
 * vxlan/tap_segment.c (encrypted ones, bridge + TAP). Not thread-safe (struct nl).
 */
#ifndef WEFT_SEGMENT_INTERNAL_H
#define WEFT_SEGMENT_INTERNAL_H

#include <stdbool.h>

#include "common/err.h"
#include "netlink/nl.h"

/* Finds bridge name or creates it with mtu (an existing one gets mtu); not up.
 * *created_now tells the caller whether its undo deletes it. */
int segment_bridge_ensure(struct nl *nl, const char *name, int mtu, int *ifindex, bool *created_now,
                          struct weft_err *err);

/* Deletes a link in an undo or clean-up step: a failure is logged here, once (the
 * caller's error is the step that failed first). */
void segment_link_delete_logged(struct nl *nl, const char *name);

#endif
