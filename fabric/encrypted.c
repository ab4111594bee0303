/*
 * encrypted.c: the data plane of encrypted overlays (issue 11), the fabric's side.
 *
 * A plain overlay's remote entries go into the kernel's VXLAN device; an encrypted
 * one's go three places instead: the bridge of its TAP (vxlan/tap_segment.h: static
 * FDB and neighbour entries, so ARP stays on the host), the map its frames are
 * routed by (datapath/vtep_map.h), and, for a member, the sessions with its host
 * (tunnel/peer_table.h: the public key its member record carries). One data path
 * (datapath/) serves every encrypted overlay of the host on one UDP port; each
 * overlay adds its TAP's queues to it. Everything here runs under the fabric's
 * lock (or at start-up, before other threads), as vxlan/segment.h calls do.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "common/log.h"
#include "datapath/datapath.h"
#include "datapath/vtep_map.h"
#include "tunnel/packet.h"
#include "tunnel/peer_table.h"
#include "vxlan/tap_segment.h"

int encrypted_open(struct fabric *f, struct weft_err *err)
{
    if (!f->tunnel)
        return 0;
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(f->tunnel, key);
    snprintf(f->public_key, sizeof(f->public_key), "%s", key);
    f->ciphers = tunnel_peer_table_ciphers(f->tunnel);
    const struct datapath_config config = {
        .nworkers = datapath_default_workers(),
        .udp_port = f->tunnel_port,
        .local_vtep = f->host_vtep, /* the sockets' family: the underlay's */
        .transform = tunnel_peer_table_transform(f->tunnel),
    };
    if (datapath_start(&config, &f->datapath, err) < 0)
        return weft_err_wrap(err, "starting the encrypted overlays' data path");
    log_info("encrypted overlays ready", "port=%u workers=%d",
             (unsigned)(f->tunnel_port ? f->tunnel_port : DATAPATH_UDP_PORT),
             datapath_workers(f->datapath));
    return 0;
}

void encrypted_close(struct fabric *f)
{
    datapath_stop(f->datapath);
    f->datapath = NULL;
}

int encrypted_mtu(const struct fabric *f, int requested, int *mtu, struct weft_err *err)
{
    int largest =
        datapath_overlay_mtu(f->underlay_mtu, ip_addr_is_ipv6(&f->host_vtep), TUNNEL_OVERHEAD);
    if (requested > largest)
        return weft_err_set(err, -EINVAL,
                            "mtu %d is too big for an encrypted overlay on this host: its "
                            "underlay MTU %d leaves room for %d (outer headers and the "
                            "encryption's overhead)",
                            requested, f->underlay_mtu, largest);
    *mtu = requested ? requested : largest;
    return 0;
}

static struct tap_segment_devices tap_devices_of(const struct local_network *net)
{
    struct tap_segment_devices dev = {.bridge_ifindex = net->devices.bridge_ifindex,
                                      .tap_ifindex = net->devices.vxlan_ifindex};
    snprintf(dev.bridge, sizeof(dev.bridge), "%s", net->devices.bridge);
    snprintf(dev.tap, sizeof(dev.tap), "%s", net->devices.vxlan);
    return dev;
}

int encrypted_segment_ensure(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    struct tap_segment_devices dev;
    int workers = datapath_workers(f->datapath);
    if (tap_segment_ensure(f->nl, net->vni, net->mtu, workers, &dev, &net->queues, err) < 0)
        return -1;
    snprintf(net->devices.bridge, sizeof(net->devices.bridge), "%s", dev.bridge);
    snprintf(net->devices.vxlan, sizeof(net->devices.vxlan), "%s", dev.tap);
    net->devices.bridge_ifindex = dev.bridge_ifindex;
    net->devices.vxlan_ifindex = dev.tap_ifindex;
    if (vtep_map_new(&net->vteps, err) < 0)
        goto undo_devices;
    const struct datapath_overlay_spec spec = {
        .vni = net->vni,
        .tap_fds = net->queues.fds,
        .lookup = vtep_map_lookup,
        .lookup_ctx = net->vteps,
    };
    if (datapath_overlay_add(f->datapath, &spec, err) < 0)
        goto undo_map;
    return 0;

undo_map:
    vtep_map_free(net->vteps);
    net->vteps = NULL;
undo_devices:
    tap_close(&net->queues);
    struct weft_err undo_err;
    cleanup_logged(tap_segment_remove(f->nl, net->vni, &undo_err), "removing the TAP segment",
                   net->id, &undo_err);
    return -1;
}

void encrypted_segment_detach(struct fabric *f, struct local_network *net)
{
    if (!net->vteps)
        return;
    datapath_overlay_remove(f->datapath, net->vni); /* no worker reads the queues after */
    tap_close(&net->queues);
    vtep_map_free(net->vteps);
    net->vteps = NULL;
}

int encrypted_segment_remove(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    encrypted_segment_detach(f, net);
    if (tap_segment_remove(f->nl, net->vni, err) == 0)
        return 0;
    /* The network stays: back into the data path, with what the cluster has for it. */
    struct weft_err undo_err;
    if (cleanup_logged(encrypted_segment_ensure(f, net, &undo_err), "reattaching the TAP",
                       net->id, &undo_err) == 0)
    {
        forget_programmed(f, net->subnet); /* the map is new: program it again */
        program_subnet(f, net->subnet);
    }
    return -1;
}

/* A member: its host's sessions (from the key it published) and the flooding list. */
static int member_add(struct fabric *f, struct local_network *net, const struct remote_entry *r,
                      struct weft_err *err)
{
    char vtep[ADDR_STR_MAX];
    ip_addr_format(&r->vtep, vtep);
    if (!r->key) {
        /* A host without a secret (or an older weft) cannot seal for this overlay. */
        log_warn("a member of an encrypted overlay published no key; no traffic with it",
                 "subnet=%s vtep=%s", net->subnet, vtep);
    } else if (tunnel_peer_table_set(f->tunnel, &r->vtep, r->key, r->ciphers, r->partial_csum,
                                     err) < 0) {
        if (err->code != -ESTALE)
            return weft_err_wrap(err, "the key of host %s", vtep);
        /* An older key of the host than the one in use (a stale record): keep ours. */
        log_warn("ignoring an older key of a host", "subnet=%s vtep=%s", net->subnet, vtep);
    }
    return vtep_map_add_member(net->vteps, &r->vtep, err);
}

/* A peer's IPv6 address for the bridge's neighbour table, or NULL (peers.c decides). */
static const uint8_t *bridge_ip6(const struct local_network *net, const struct remote_entry *r)
{
    return peer6_wanted(net, r) ? r->addr6.bytes : NULL;
}

int encrypted_entry_add(struct fabric *f, struct local_network *net, const struct remote_entry *r,
                        struct weft_err *err)
{
    if (!net->vteps)
        return weft_err_set(err, -ENODEV, "the encrypted overlay %s has no data path", net->subnet);
    if (!r->is_peer)
        return member_add(f, net, r, err);
    struct tap_segment_devices dev = tap_devices_of(net);
    const uint8_t *ip6 = bridge_ip6(net, r);
    if (tap_segment_peer_add(f->nl, &dev, r->addr, ip6, r->mac, err) < 0)
        return -1;
    if (vtep_map_set_peer(net->vteps, r->mac, &r->vtep, err) < 0) {
        struct weft_err undo_err;
        cleanup_logged(tap_segment_peer_del(f->nl, &dev, r->addr, ip6, r->mac, &undo_err),
                       "removing a peer's bridge entries", net->subnet, &undo_err);
        return -1;
    }
    return 0;
}

int encrypted_entry_del(struct fabric *f, struct local_network *net, const struct remote_entry *r,
                        struct weft_err *err)
{
    if (!net->vteps)
        return 0;
    if (!r->is_peer) {
        /* Its sessions stay (tunnel/session.h: one per key per run). */
        vtep_map_del_member(net->vteps, &r->vtep);
        return 0;
    }
    vtep_map_del_peer(net->vteps, r->mac);
    struct tap_segment_devices dev = tap_devices_of(net);
    return tap_segment_peer_del(f->nl, &dev, r->addr, bridge_ip6(net, r), r->mac, err);
}
