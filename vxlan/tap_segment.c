/*
 * tap_segment.c: the bridge + TAP of an encrypted overlay and the entries that
 * keep ARP on the host (tap_segment.h), from netlink/ calls, the TAP of tap.c
 * and the bridge segment.c makes for plain overlays (segment_internal.h).
 * Everything here is idempotent so restarts and retries converge.
 */
#include "vxlan/tap_segment.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "vxlan/segment.h"
#include "vxlan/segment_internal.h"

/* The bridge has the plain overlay's name: one wbr<vni> per VNI, whatever its uplink. */
static void tap_segment_names(uint32_t vni, struct tap_segment_devices *out)
{
    struct segment_devices plain;
    segment_names(vni, &plain);
    memset(out, 0, sizeof(*out));
    memcpy(out->bridge, plain.bridge, sizeof(out->bridge));
    tap_name(vni, out->tap);
}

/* A new bridge gets a MAC of its own, random as the kernel's but set: a bridge whose
 * MAC is not set takes its lowest port's, and every change of it (a container's veth
 * joining or leaving) flushes the bridge's neighbour entries, permanent ones too
 * (neigh_changeaddr), and with them every peer's. */
static int bridge_fix_mac(struct nl *nl, const char *bridge, struct weft_err *err)
{
    uint8_t mac[6];
    if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
        return weft_err_set(err, -errno, "drawing a MAC for %s: %s", bridge, strerror(errno));
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
    return nl_link_set_mac(nl, bridge, mac, err);
}

int tap_segment_ensure(struct nl *nl, uint32_t vni, int mtu, int nqueues,
                       struct tap_segment_devices *out, struct tap_queues *queues,
                       struct weft_err *err)
{
    struct tap_segment_devices dev;
    struct tap_queues q;
    memset(&q, 0, sizeof(q));
    tap_segment_names(vni, &dev);
    bool bridge_created = false;
    int tap_existing = 0;
    if (segment_bridge_ensure(nl, dev.bridge, mtu, &dev.bridge_ifindex, &bridge_created, err) < 0 ||
        (bridge_created && bridge_fix_mac(nl, dev.bridge, err) < 0) ||
        nl_link_index(nl, dev.tap, &tap_existing, err) < 0)
        goto undo_bridge;
    /* tap_open undoes its own steps (and deletes a TAP it made) when it fails. */
    if (tap_open(nl, vni, nqueues, mtu, dev.bridge_ifindex, &q, err) < 0)
        goto undo_bridge;
    dev.tap_ifindex = q.ifindex;
    /* Set on every ensure: a port's flags go with it when the TAP leaves the bridge. */
    if (nl_bridge_port_set_neigh_suppress(nl, dev.tap_ifindex, true, err) < 0 ||
        nl_link_set_up(nl, dev.bridge, err) < 0)
        goto undo_tap;
    *out = dev;
    *queues = q;
    return 0;

undo_tap:
    tap_close(&q);
    if (!tap_existing) /* persistent: closing its queues leaves it */
        segment_link_delete_logged(nl, dev.tap);
undo_bridge:
    if (bridge_created)
        segment_link_delete_logged(nl, dev.bridge);
    return weft_err_wrap(err, "setting up encrypted overlay VNI %" PRIu32, vni);
}

/* The TAP first: its port's FDB entries go with it. Either deletion failing leaves
 * what a retry of this call finishes (deleting what is gone is fine). */
int tap_segment_remove(struct nl *nl, uint32_t vni, struct weft_err *err)
{
    struct tap_segment_devices dev;
    tap_segment_names(vni, &dev);
    if (nl_link_delete(nl, dev.tap, err) < 0 || nl_link_delete(nl, dev.bridge, err) < 0)
        return weft_err_wrap(err, "removing encrypted overlay VNI %" PRIu32, vni);
    return 0;
}

/* The bridge answers for ip (and ip6) once the entries are there: the neighbours go
 * last; a step that fails undoes the ones before it. */
int tap_segment_peer_add(struct nl *nl, const struct tap_segment_devices *dev, uint32_t ip,
                         const uint8_t *ip6, const uint8_t mac[6], struct weft_err *err)
{
    struct weft_err undo_err;
    if (nl_bridge_fdb_add(nl, dev->tap_ifindex, mac, err) < 0)
        return -1;
    if (nl_neigh_add(nl, dev->bridge_ifindex, ip, mac, err) < 0)
        goto undo_fdb;
    if (ip6 && nl_neigh6_add(nl, dev->bridge_ifindex, ip6, mac, err) < 0)
        goto undo_neigh;
    return 0;

undo_neigh:
    (void)nl_neigh_del(nl, dev->bridge_ifindex, ip, &undo_err);
undo_fdb:
    (void)nl_bridge_fdb_del(nl, dev->tap_ifindex, mac, &undo_err);
    return -1;
}

/* The neighbours first, so the bridge stops answering for ip before mac is unknown. */
int tap_segment_peer_del(struct nl *nl, const struct tap_segment_devices *dev, uint32_t ip,
                         const uint8_t *ip6, const uint8_t mac[6], struct weft_err *err)
{
    if ((ip6 && nl_neigh6_del(nl, dev->bridge_ifindex, ip6, err) < 0) ||
        nl_neigh_del(nl, dev->bridge_ifindex, ip, err) < 0 ||
        nl_bridge_fdb_del(nl, dev->tap_ifindex, mac, err) < 0)
        return -1;
    return 0;
}
