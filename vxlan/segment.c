/*
 * segment.c: a segment's devices (bridge + VXLAN), endpoint veths and
 * remote-peer entries described in segment.h, built from netlink/ calls.
 * Everything here is idempotent so restarts and retries converge.
 */
#include "vxlan/segment.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vxlan/segment_internal.h"

static const uint8_t flood_mac[6] = {0, 0, 0, 0, 0, 0};

void segment_names(uint32_t vni, struct segment_devices *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->bridge, sizeof(out->bridge), "wbr%" PRIu32, vni);
    snprintf(out->vxlan, sizeof(out->vxlan), "wvx%" PRIu32, vni);
}

void segment_endpoint_names(const char *endpoint_id, char host_name[IF_NAMESIZE],
                            char ctr_name[IF_NAMESIZE])
{
    snprintf(host_name, IF_NAMESIZE, "wh%.10s", endpoint_id);
    snprintf(ctr_name, IF_NAMESIZE, "wc%.10s", endpoint_id);
}

void segment_ctr_name(const char *host_name, char ctr_name[IF_NAMESIZE])
{
    snprintf(ctr_name, IF_NAMESIZE, "%s", host_name);
    if (ctr_name[0] && ctr_name[1])
        ctr_name[1] = ctr_name[1] == 's' ? 't' : 'c';
}

int segment_socket_open(struct nl **out, struct weft_err *err)
{
    return nl_open(out, err);
}

void segment_socket_close(struct nl *nl)
{
    nl_close(nl);
}

int segment_batch_begin(struct nl *nl)
{
    return nl_batch_begin(nl);
}

int segment_batch_end(struct nl *nl, struct weft_err *err)
{
    return nl_batch_end(nl, err);
}

int segment_endpoint_exists(struct nl *nl, const char *host_name, bool *exists,
                            struct weft_err *err)
{
    int ifindex = 0;
    *exists = true; /* unless the kernel says "no such link" */
    if (nl_link_index(nl, host_name, &ifindex, err) < 0)
        return -1;
    *exists = ifindex > 0;
    return 0;
}

/* Every endpoint and spare host end starts with "w" (wh<id>, ws<n>). */
int segment_veth_list(struct nl *nl, segment_veth_fn fn, void *ctx, struct weft_err *err)
{
    return nl_link_aliases(nl, "w", fn, ctx, err);
}

bool segment_spare_serial(const char *host_name, unsigned *serial)
{
    char rest;
    return sscanf(host_name, SEGMENT_SPARE_PREFIX "%u%c", serial, &rest) == 1;
}

int segment_bridge_ensure(struct nl *nl, const char *name, int mtu, int *ifindex, bool *created_now,
                          struct weft_err *err)
{
    *created_now = false;
    if (nl_link_index(nl, name, ifindex, err) < 0)
        return -1;
    if (*ifindex == 0) {
        if (nl_bridge_create(nl, name, mtu, err) < 0)
            return -1;
        *created_now = true;
        if (nl_link_index(nl, name, ifindex, err) < 0)
            return -1;
    } else if (nl_link_set_mtu(nl, name, mtu, err) < 0) {
        return -1;
    }
    return 0;
}

static int ensure_vxlan(struct nl *nl, uint32_t vni, const struct ip_addr *local, int mtu,
                        struct segment_devices *dev, bool *created_now, struct weft_err *err)
{
    *created_now = false;
    if (nl_link_index(nl, dev->vxlan, &dev->vxlan_ifindex, err) < 0)
        return -1;
    if (dev->vxlan_ifindex) {
        uint32_t existing_vni = 0;
        struct ip_addr existing_local;
        if (nl_vxlan_get(nl, dev->vxlan, &existing_vni, &existing_local, err) < 0)
            return -1;
        if (existing_vni != vni)
            return weft_err_set(err, -EEXIST, "device %s exists with VNI %" PRIu32 ", not %" PRIu32,
                                dev->vxlan, existing_vni, vni);
        if (!ip_addr_equal(&existing_local, local)) {
            /* The host's address (or its family) changed: the tunnel must be rebuilt on
             * the new one. */
            if (nl_link_delete(nl, dev->vxlan, err) < 0)
                return -1;
            dev->vxlan_ifindex = 0;
        } else {
            if (nl_link_set_master(nl, dev->vxlan, dev->bridge_ifindex, err) < 0 ||
                nl_link_set_mtu(nl, dev->vxlan, mtu, err) < 0)
                return -1;
            return 0;
        }
    }
    struct nl_vxlan_spec spec = {
        .name = dev->vxlan,
        .vni = vni,
        .local = *local,
        .dst_port = SEGMENT_VXLAN_PORT,
        .mtu = mtu,
        .master_ifindex = dev->bridge_ifindex,
    };
    if (nl_vxlan_create(nl, &spec, err) < 0)
        return -1;
    *created_now = true;
    return nl_link_index(nl, dev->vxlan, &dev->vxlan_ifindex, err);
}

void segment_link_delete_logged(struct nl *nl, const char *name)
{
    struct weft_err err = {0};
    if (nl_link_delete(nl, name, &err) < 0)
        log_error("a clean-up step failed", "step=\"deleting a link\" name=%s error=\"%s\"", name,
                  err.msg);
}

int segment_ensure(struct nl *nl, uint32_t vni, const struct ip_addr *local, int mtu,
                   struct segment_devices *out, struct weft_err *err)
{
    struct segment_devices dev;
    segment_names(vni, &dev);
    bool bridge_created = false, vxlan_created = false;
    if (segment_bridge_ensure(nl, dev.bridge, mtu, &dev.bridge_ifindex, &bridge_created, err) < 0)
        goto undo_bridge;
    if (ensure_vxlan(nl, vni, local, mtu, &dev, &vxlan_created, err) < 0)
        goto undo_vxlan;
    if (nl_link_set_up(nl, dev.vxlan, err) < 0 || nl_link_set_up(nl, dev.bridge, err) < 0)
        goto undo_vxlan;
    *out = dev;
    return 0;

undo_vxlan:
    if (vxlan_created)
        segment_link_delete_logged(nl, dev.vxlan);
undo_bridge:
    if (bridge_created)
        segment_link_delete_logged(nl, dev.bridge);
    return weft_err_wrap(err, "setting up overlay VNI %" PRIu32, vni);
}

/* The bridge goes first: its deletion failing leaves the segment whole, and the
 * vxlan device left without it is put back on a new bridge (segment_ensure), so a
 * failed remove never leaves a network with no vxlan device. */
int segment_remove(struct nl *nl, uint32_t vni, const struct ip_addr *local, int mtu,
                   struct segment_devices *devices, struct weft_err *err)
{
    struct segment_devices dev;
    segment_names(vni, &dev);
    if (nl_link_delete(nl, dev.bridge, err) < 0)
        goto fail;
    if (nl_link_delete(nl, dev.vxlan, err) < 0)
        goto undo_bridge;
    return 0;

undo_bridge:;
    struct weft_err undo_err;
    if (segment_ensure(nl, vni, local, mtu, devices, &undo_err) < 0 && err) {
        struct weft_err first = *err; /* the caller hears of both */
        weft_err_set(err, first.code, "%s; putting its bridge back failed too: %s", first.msg,
                     undo_err.msg);
    }
fail:
    return weft_err_wrap(err, "removing overlay VNI %" PRIu32, vni);
}

/* The overlay's bridge, which an endpoint's veth is attached to: missing is an error. */
static int existing_bridge(struct nl *nl, uint32_t vni, struct segment_devices *dev,
                           struct weft_err *err)
{
    segment_names(vni, dev);
    if (nl_link_index(nl, dev->bridge, &dev->bridge_ifindex, err) < 0)
        return -1;
    if (!dev->bridge_ifindex)
        return weft_err_set(err, -ENOENT, "overlay bridge %s is missing", dev->bridge);
    return 0;
}

int segment_endpoint_create(struct nl *nl, uint32_t vni, const char *endpoint_id,
                            const uint8_t mac[6], int mtu, const char *alias, struct weft_err *err)
{
    struct segment_devices dev;
    char host_name[IF_NAMESIZE], ctr_name[IF_NAMESIZE];
    segment_endpoint_names(endpoint_id, host_name, ctr_name);
    if (existing_bridge(nl, vni, &dev, err) < 0)
        return -1;
    /* A pair left by an earlier, interrupted attempt is replaced. */
    if (nl_link_delete(nl, host_name, err) < 0)
        return -1;
    struct nl_veth_spec spec = {
        .host_name = host_name,
        .host_alias = alias,
        .container_name = ctr_name,
        .container_mac = mac,
        .mtu = mtu,
        .master_ifindex = dev.bridge_ifindex,
    };
    return nl_veth_create(nl, &spec, err);
}

int segment_endpoint_delete(struct nl *nl, const char *host_name, struct weft_err *err)
{
    /* Deleting either end takes the pair; the container end may already be in a container. */
    return nl_link_delete(nl, host_name, err);
}

int segment_spare_create(struct nl *nl, uint32_t vni, unsigned serial, int mtu,
                         char host_name[IF_NAMESIZE], struct weft_err *err)
{
    struct segment_devices dev;
    char ctr_name[IF_NAMESIZE];
    snprintf(host_name, IF_NAMESIZE, SEGMENT_SPARE_PREFIX "%u", serial);
    segment_ctr_name(host_name, ctr_name);
    if (existing_bridge(nl, vni, &dev, err) < 0)
        return -1;
    struct nl_veth_spec spec = {
        .host_name = host_name,
        /* Marked, so a restarted daemon finds and removes spares it did not make. */
        .host_alias = SEGMENT_SPARE_ALIAS,
        .container_name = ctr_name,
        .mtu = mtu,
        .master_ifindex = dev.bridge_ifindex,
        .down = true,
    };
    return nl_veth_create(nl, &spec, err);
}

int segment_spare_take(struct nl *nl, const char *host_name, const uint8_t mac[6],
                       const char *alias, struct weft_err *err)
{
    char ctr_name[IF_NAMESIZE];
    segment_ctr_name(host_name, ctr_name);
    if (nl_link_set_mac(nl, ctr_name, mac, err) < 0)
        return -1;
    return nl_link_set_up_alias(nl, host_name, alias, err);
}

int segment_spare_return(struct nl *nl, const char *host_name, struct weft_err *err)
{
    char ctr_name[IF_NAMESIZE];
    segment_ctr_name(host_name, ctr_name);
    if (nl_link_set_down_alias(nl, ctr_name, NULL, err) < 0)
        return -1;
    return nl_link_set_down_alias(nl, host_name, SEGMENT_SPARE_ALIAS, err);
}

struct spare_list {
    char names[64][IF_NAMESIZE];
    size_t count;
};

static void note_spare(void *ctx, const char *name, const char *alias)
{
    struct spare_list *list = ctx;
    if (strcmp(alias, SEGMENT_SPARE_ALIAS) == 0 && list->count < 64)
        snprintf(list->names[list->count++], IF_NAMESIZE, "%s", name);
}

void segment_spares_delete_all(struct nl *nl)
{
    struct spare_list list;
    int rounds = 0;
    do { /* 64 at a time: the dump is read whole before anything is deleted */
        list.count = 0;
        struct weft_err err = {0};
        if (nl_link_aliases(nl, SEGMENT_SPARE_PREFIX, note_spare, &list, &err) < 0) {
            log_error("a clean-up step failed", "step=\"listing spare veths\" error=\"%s\"",
                      err.msg);
            return;
        }
        for (size_t i = 0; i < list.count; i++)
            segment_link_delete_logged(nl, list.names[i]);
    } while (list.count == 64 && ++rounds < 64);
}

int segment_peer_add(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     const struct ip_addr *vtep, struct weft_err *err)
{
    if (nl_fdb_add(nl, vxlan_ifindex, mac, vtep, false, err) < 0 ||
        nl_neigh_add(nl, vxlan_ifindex, ip, mac, err) < 0)
        return -1;
    return 0;
}

int segment_peer_del(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     const struct ip_addr *vtep, struct weft_err *err)
{
    if (nl_neigh_del(nl, vxlan_ifindex, ip, err) < 0 ||
        nl_fdb_del(nl, vxlan_ifindex, mac, vtep, err) < 0 ||
        nl_bridge_fdb_del(nl, vxlan_ifindex, mac, err) < 0)
        return -1;
    return 0;
}

int segment_peer6_add(struct nl *nl, int vxlan_ifindex, const uint8_t ip6[16], const uint8_t mac[6],
                      struct weft_err *err)
{
    return nl_neigh6_add(nl, vxlan_ifindex, ip6, mac, err);
}

int segment_peer6_del(struct nl *nl, int vxlan_ifindex, const uint8_t ip6[16], struct weft_err *err)
{
    return nl_neigh6_del(nl, vxlan_ifindex, ip6, err); /* ENOENT: already gone */
}

int segment_flood_add(struct nl *nl, int vxlan_ifindex, const struct ip_addr *vtep,
                      struct weft_err *err)
{
    return nl_fdb_add(nl, vxlan_ifindex, flood_mac, vtep, true, err);
}

int segment_flood_del(struct nl *nl, int vxlan_ifindex, const struct ip_addr *vtep,
                      struct weft_err *err)
{
    return nl_fdb_del(nl, vxlan_ifindex, flood_mac, vtep, err);
}
