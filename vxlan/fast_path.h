/*
 * fast_path.h: the tc filters that let a plain overlay's unicast skip its bridge.
 *
 * Without them a frame from a container to a remote one crosses the segment's
 * bridge "wbr<vni>" on both hosts, and each bridge hop runs bridge netfilter (which
 * dockerd loads; its sysctl is per namespace and Docker's own bridges need it, so
 * weft leaves it alone). tc ingress runs before the bridge's rx_handler, so:
 *  - TX: the host ends of the segment's endpoint veths share one tc block (index =
 *    the VNI), bound to their clsact ingress; the bridge's clsact egress binds it too
 *    (no frame passes there: it only keeps the block alive with no endpoint). On it,
 *    frames to broadcast/multicast, to weft's service ports (02:57:..., dns/) and
 *    to a local endpoint's MAC (one filter each) go on to the bridge as before;
 *    every other frame goes straight to "wvx<vni>"'s egress (mirred), whose FDB
 *    encapsulates it to its remote VTEP, or floods it to the segment's remote hosts
 *    when the MAC is unknown, as the bridge would have.
 *  - RX: on "wvx<vni>"'s clsact ingress, one filter per local endpoint: frames to
 *    its MAC go straight to its host end's egress, into the container.
 * ARP, broadcast, unknown unicast and local-to-local frames keep the bridge path.
 * Filters are u32 + act_mirred (this kernel has no cls_flower), one per priority:
 * a local endpoint's two filters share a priority from FAST_PATH_PRIO_FIRST up.
 *
 * Fallback: when the kernel refuses any of it (no clsact, cls_u32, act_mirred or
 * shared blocks), the segment keeps the bridge-only path, chosen here and logged
 * once per segment. Encrypted overlays (TAP) never use this.
 * Restart: fast_path_ensure flushes what an earlier run left, the restore re-adds
 * each adopted endpoint, and fast_path_start then sends remote-bound frames past
 * the bridge: until then the bridge path carries everything, so the data plane keeps
 * running throughout.
 * Callers: fabric/ (under its lock, on f->nl). Not thread-safe (struct nl).
 */
#ifndef WEFT_FAST_PATH_H
#define WEFT_FAST_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "netlink/nl.h"
#include "vxlan/segment.h"

/* Local endpoints a segment's fast path holds at most (priorities
 * FAST_PATH_PRIO_FIRST .. + FAST_PATH_ENDPOINTS_MAX - 1). */
#define FAST_PATH_ENDPOINTS_MAX 4096
#define FAST_PATH_PRIO_FIRST 0x100

struct fast_path {
    bool on;         /* the segment's filters are in use (false: bridge only) */
    bool forwarding; /* remote-bound frames skip the bridge (fast_path_start) */
    uint32_t block;
    int bridge_ifindex;
    int vxlan_ifindex;
    uint8_t used[FAST_PATH_ENDPOINTS_MAX / 8]; /* priorities given to endpoints */
};

/* Sets up the segment's qdiscs and clears filters an earlier run left (nothing goes
 * past the bridge yet). Never fails: when the kernel refuses, fp stays off (bridge
 * only), and that is logged once for the segment. */
void fast_path_ensure(struct nl *nl, uint32_t vni, const struct segment_devices *dev,
                      struct fast_path *fp);
/* Sends remote-bound frames past the bridge, once every local endpoint is added.
 * A refusal turns fp off (logged) and undoes what this call and ensure added. */
void fast_path_start(struct nl *nl, struct fast_path *fp);
/* Turns the segment back to the bridge only (logged with why): its filters and
 * qdiscs go; endpoint veths stay bound to the emptied block, which costs a lookup
 * and nothing else. Endpoints' priorities are then void (endpoint_del ignores them). */
void fast_path_off(struct nl *nl, struct fast_path *fp, const struct weft_err *why);
/* Gives the endpoint whose veth host end is host_name (container end's MAC mac) its
 * two filters and binds its ingress to the block; *prio is what fast_path_endpoint_del
 * takes (0 when fp is off). On failure nothing this call added is left. */
int fast_path_endpoint_add(struct nl *nl, struct fast_path *fp, const char *host_name,
                           const uint8_t mac[6], uint16_t *prio, struct weft_err *err);
/* Removes an endpoint's filters (prio 0: it has none). Its veth's qdisc goes with
 * the veth. */
int fast_path_endpoint_del(struct nl *nl, struct fast_path *fp, uint16_t prio,
                           struct weft_err *err);

#endif
