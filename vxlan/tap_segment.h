/*
 * tap_segment.h: the kernel side of an encrypted overlay on this host (issue 11):
 * the bridge "wbr<vni>" with the TAP "wtp<vni>" (vxlan/tap.h) as its uplink in
 * place of the VXLAN device, and the entries that keep ARP on the host.
 *
 * ARP stays local as on the plain path, by the bridge's neighbour suppression: the
 * TAP port has neigh_suppress on, and each remote endpoint gets a static FDB entry
 * (its MAC behind the TAP port) and a permanent neighbour entry on the bridge (its
 * IP -> MAC); the bridge then answers a container's ARP request for it and sends
 * nothing out of the TAP. Requests for unknown addresses still go out (weft floods
 * them to the member hosts).
 * The neighbour entries live on the bridge, so the bridge keeps them only while its
 * MAC stays: a bridge this module makes gets a random MAC of its own (one not set
 * follows its lowest port's, and each change flushes its neighbour entries, the
 * permanent ones too), and setting the bridge down flushes them as well.
 * Callers: fabric/ (as it calls vxlan/segment.h for plain overlays). Uses netlink/
 * only. Not thread-safe (one struct nl per thread). IPv4 in network order. Entry
 * changes may sit in a batch (segment_batch_begin/end).
 */
#ifndef WEFT_TAP_SEGMENT_H
#define WEFT_TAP_SEGMENT_H

#include <net/if.h>
#include <stdint.h>

#include "common/err.h"
#include "netlink/nl.h"
#include "vxlan/tap.h"

struct tap_segment_devices {
    char bridge[IF_NAMESIZE];
    char tap[IF_NAMESIZE];
    int bridge_ifindex;
    int tap_ifindex;
};

/* Creates (or adopts, after a restart: the peers' entries stay) the bridge and the
 * TAP with nqueues queues and MTU mtu, the TAP's port with neigh_suppress, both up;
 * the queues into *queues (the caller closes them: tap_close). On failure whatever
 * this call created is removed and no queue stays open; a device of either name
 * that is not weft's kind (a TAP without multi-queue, a bridge that is none) is an
 * error and stays. */
int tap_segment_ensure(struct nl *nl, uint32_t vni, int mtu, int nqueues,
                       struct tap_segment_devices *out, struct tap_queues *queues,
                       struct weft_err *err);
/* Deletes the TAP and the bridge (queues closed first by the caller); gone is fine,
 * and after a failure a retry finishes what is left. */
int tap_segment_remove(struct nl *nl, uint32_t vni, struct weft_err *err);

/* A remote endpoint: mac behind the TAP port (static FDB entry) and ip -> mac on the
 * bridge (permanent neighbour entry), and ip6 -> mac too when ip6 (16 bytes) is not
 * NULL, which the bridge answers neighbour solicitations from. add replaces;
 * deleting what is gone is fine. Either may sit in a batch (segment_batch_begin/end). */
int tap_segment_peer_add(struct nl *nl, const struct tap_segment_devices *dev, uint32_t ip,
                         const uint8_t *ip6, const uint8_t mac[6], struct weft_err *err);
int tap_segment_peer_del(struct nl *nl, const struct tap_segment_devices *dev, uint32_t ip,
                         const uint8_t *ip6, const uint8_t mac[6], struct weft_err *err);

#endif
