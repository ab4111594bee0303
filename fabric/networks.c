/*
 * networks.c: CreateNetwork and DeleteNetwork: a local network joins its
 * overlay (claimed or found), gets its segment, its host record and its member
 * record, in that order, and leaves them in the reverse order.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "store/keys.h"

static void network_unlink(struct fabric *f, struct local_network *net)
{
    for (struct local_network **p = &f->networks; *p; p = &(*p)->next) {
        if (*p == net) {
            *p = net->next;
            return;
        }
    }
}

/* Under the lock: net joins the list, its spares are made, what the cluster has for it
 * is programmed and (per-member watches) its members' records are watched. */
static void network_link(struct fabric *f, struct local_network *net)
{
    net->next = f->networks;
    f->networks = net;
    pthread_cond_signal(&f->spare_work);
    program_subnet(f, net->subnet);
    member_watch_overlay_up(f, net);
}

int overlay_hooks_up(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    if (!f->hooks.up)
        return 0;
    struct fabric_overlay_info info = {.vni = net->vni,
                                       .gateway = net->gateway,
                                       .prefix_len = net->cidr.prefix_len,
                                       .bridge_ifindex = net->devices.bridge_ifindex,
                                       .mtu = net->mtu,
                                       .vtep = ip_addr_last32(&f->host_vtep)};
    snprintf(info.subnet, sizeof(info.subnet), "%s", net->subnet);
    snprintf(info.subnet6, sizeof(info.subnet6), "%s", net->subnet6);
    for (int i = 0; i < net->extra_count; i++)
        snprintf(info.extra_subnets[i], sizeof(info.extra_subnets[i]), "%s",
                 net->extra_subnets[i]);
    info.extra_count = net->extra_count;
    if (f->hooks.up(f->hooks.ctx, &info, err) < 0)
        return -1;
    net->service_up = true;
    return 0;
}

void overlay_hooks_down(struct fabric *f, struct local_network *net)
{
    if (net->service_up && f->hooks.down)
        f->hooks.down(f->hooks.ctx, net->subnet);
    net->service_up = false;
}

/* A new network's fields from its spec and its overlay's record. */
static int network_settings(struct fabric *f, const struct fabric_network_spec *spec,
                            const struct ipv4_subnet *cidr, const struct overlay_record *overlay,
                            struct local_network *net, struct weft_err *err)
{
    snprintf(net->id, sizeof(net->id), "%s", spec->network_id);
    snprintf(net->subnet, sizeof(net->subnet), "%s", spec->subnet);
    net->cidr = *cidr;
    snprintf(net->subnet6, sizeof(net->subnet6), "%s", spec->subnet6);
    if (spec->subnet6[0] && ipv6_subnet_parse(spec->subnet6, &net->cidr6, err) < 0)
        return -1;
    if (network_set_extra_subnets(net, spec->extra_subnets, spec->extra_count, err) < 0 ||
        network_set_extra_subnets6(net, spec->extra_subnets6, spec->extra6_count, err) < 0)
        return -1;
    net->vni = overlay->vni;
    net->encrypted = overlay->encrypted;
    net->mtu = effective_mtu(f, spec->mtu ? spec->mtu : overlay->mtu);
    if (net->encrypted &&
        encrypted_mtu(f, spec->mtu ? spec->mtu : overlay->mtu, &net->mtu, err) < 0)
        return -1;
    net->gateway = spec->gateway ? spec->gateway : ipv4_subnet_first_host(cidr);
    return 0;
}

/* The network spec asks for, made and linked into f->networks, with its segment,
 * host record and member record. Under f->changes only: the store is written
 * without f->lock, which is taken for the lookups, the segment (f->nl) and the link. */
static int network_create(struct fabric *f, const struct fabric_network_spec *spec,
                          const struct ipv4_subnet *cidr, struct weft_err *err)
{
    struct weft_err undo_err = {0};
    pthread_mutex_lock(&f->lock);
    struct local_network *same_id = network_by_id(f, spec->network_id);
    struct local_network *same = network_by_subnet(f, spec->subnet);
    const char *same_subnet = spec->subnet;
    for (int i = 0; !same && i < spec->extra_count; i++) {
        same = network_by_subnet(f, spec->extra_subnets[i]);
        same_subnet = spec->extra_subnets[i];
    }
    char same_id_text[FABRIC_ID_MAX];
    snprintf(same_id_text, sizeof(same_id_text), "%s", same ? same->id : "");
    pthread_mutex_unlock(&f->lock);
    /* Stays true until we return: only CreateNetwork and DeleteNetwork, which
     * f->changes serializes, add or free networks. */
    if (same_id)
        return weft_err_set(err, -EEXIST, "network %.12s already exists", spec->network_id);
    if (same)
        return weft_err_set(err, -EEXIST,
                            "this host already has weft network %.12s on %s; one network per "
                            "subnet",
                            same_id_text, same_subnet);
    bool overlay_created = false;
    struct overlay_record overlay;
    if (claim_overlay(f, spec, &overlay, &overlay_created, err) < 0)
        return -1;
    struct local_network *net = calloc(1, sizeof(*net));
    if (!net) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto undo_overlay;
    }
    if (network_settings(f, spec, cidr, &overlay, net, err) < 0)
        goto undo_alloc;
    pthread_mutex_lock(&f->lock);
    int rc = network_segment_start(f, net, err);
    pthread_mutex_unlock(&f->lock);
    if (rc < 0)
        goto undo_alloc;
    if (overlay_hooks_up(f, net, err) < 0)
        goto undo_segment;
    if (save_host_network(f, net, err) < 0)
        goto undo_hooks;
    pthread_mutex_lock(&f->lock);
    int64_t lease = f->lease; /* a lease lost meanwhile fails the write, which is undone */
    pthread_mutex_unlock(&f->lock);
    if (publish_member_joining(f, lease, net, &overlay, err) < 0)
        goto undo_host_record;
    pthread_mutex_lock(&f->lock);
    network_link(f, net);
    log_info("network created", "network=%.12s subnet=%s subnet6=%s vni=%" PRIu32 " mtu=%d",
             net->id, net->subnet, net->subnet6[0] ? net->subnet6 : "none", net->vni, net->mtu);
    pthread_mutex_unlock(&f->lock);
    return 0;

undo_host_record:
    cleanup_logged(delete_host_key(f, key_host_network, net->id, &undo_err),
                   "deleting the network record", net->id, &undo_err);
undo_hooks:
    overlay_hooks_down(f, net);
undo_segment:
    pthread_mutex_lock(&f->lock);
    cleanup_logged(network_segment_remove(f, net, &undo_err), "removing the segment", net->id,
                   &undo_err);
    pthread_mutex_unlock(&f->lock);
undo_alloc:
    free(net);
undo_overlay:
    if (overlay_created) {
        char pools[OVERLAY_POOLS_MAX][ADDR_STR_MAX];
        int n = spec_other_pools(spec, pools);
        release_overlay_if_unused(f, spec->subnet, (const char (*)[ADDR_STR_MAX])pools, n,
                                  overlay.vni);
    }
    return -1;
}

int fabric_network_create(struct fabric *f, const struct fabric_network_spec *spec,
                          struct weft_err *err)
{
    struct ipv4_subnet cidr;
    if (ipv4_subnet_parse(spec->subnet, &cidr, err) < 0)
        return -1;
    if (spec->encrypted && !f->tunnel)
        return weft_err_set(err, -EOPNOTSUPP,
                            "this weft daemon has no cluster secret, which encrypted overlays "
                            "need: run `weft keygen > /etc/weft/secret` once, copy the file to "
                            "every host (mode 0600), and start every daemon with --secret-file "
                            "/etc/weft/secret");
    char joined[RECORD_TEXT_MAX];
    if (!extra_subnets_join(spec->extra_subnets6, spec->extra6_count, joined, sizeof(joined)))
        return weft_err_set(err, -EINVAL,
                            "the IPv6 subnets after %s take more than the %d characters a "
                            "record holds: use fewer, or shorter to write",
                            spec->subnet6, RECORD_TEXT_MAX - 1);
    if (spec->vni > FABRIC_VNI_MAX)
        return weft_err_set(err, -ERANGE, "vni %" PRIu32 " is out of range (1..%u)", spec->vni,
                            FABRIC_VNI_MAX);
    pthread_mutex_lock(&f->changes);
    int rc = network_create(f, spec, &cidr, err);
    pthread_mutex_unlock(&f->changes);
    return rc;
}

/* Marks net closing and takes its endpoints and spares down. Under f->lock; on
 * failure net is open again. */
static int network_close(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    /* Waits below release the lock: a new endpoint or spare must not start on
     * this network meanwhile. */
    /* Deletes run one at a time under f->changes, so net is not closing yet. */
    net->closing = true;
    /* Docker removes endpoints first; any left over are taken down with the network. */
    while (net->endpoints) {
        if (net->endpoints->removing) { /* a DeleteEndpoint's, lock released: let it end */
            pthread_cond_wait(&f->publish_done, &f->lock);
            continue;
        }
        if (endpoint_remove_locked(f, net, net->endpoints, err) < 0) {
            net->closing = false;
            pthread_cond_signal(&f->spare_work);
            return -1;
        }
    }
    drop_spares(f, net);
    return 0;
}

/* Under f->changes only, as network_create. */
static int network_delete(struct fabric *f, const char *network_id, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_id(f, network_id);
    int rc = net ? network_close(f, net, err)
                 : weft_err_set(err, -ENOENT, "network %.12s is not a weft network on this host",
                                network_id);
    pthread_mutex_unlock(&f->lock);
    if (rc < 0)
        return -1;
    /* net is closing: nobody rewrites its member record or re-publishes it meanwhile. */
    struct weft_err undo_err;
    if (withdraw_member(f, net, err) < 0)
        goto reopen;
    if (delete_host_key(f, key_host_network, net->id, err) < 0)
        goto undo_member;
    overlay_hooks_down(f, net); /* its port leaves the bridge before the bridge goes */
    pthread_mutex_lock(&f->lock);
    rc = network_segment_remove(f, net, err);
    if (rc == 0) {
        forget_programmed(f, net->subnet); /* linked still: its extra subnets' entries too */
        network_unlink(f, net);
    }
    pthread_mutex_unlock(&f->lock);
    if (rc < 0)
        goto undo_host_record;
    member_watch_overlay_down(f, net->subnet); /* without the lock: waits for its callback */
    char pools[OVERLAY_POOLS_MAX][ADDR_STR_MAX];
    int pool_count = network_other_pools(net, pools);
    release_overlay_if_unused(f, net->subnet, (const char (*)[ADDR_STR_MAX])pools, pool_count,
                              net->vni);
    log_info("network deleted", "network=%.12s subnet=%s", net->id, net->subnet);
    network_free(net);
    return 0;

undo_host_record:
    cleanup_logged(overlay_hooks_up(f, net, &undo_err), "restoring the network's service port",
                   net->id, &undo_err);
    cleanup_logged(save_host_network(f, net, &undo_err), "restoring the network record", net->id,
                   &undo_err);
undo_member:
    pthread_mutex_lock(&f->lock);
    int64_t lease = f->lease;
    pthread_mutex_unlock(&f->lock);
    cleanup_logged(publish_member(f, lease, net, &undo_err), "re-publishing the member record",
                   net->id, &undo_err);
reopen: /* the network stays: it may have spares again */
    pthread_mutex_lock(&f->lock);
    net->closing = false;
    pthread_cond_signal(&f->spare_work);
    pthread_mutex_unlock(&f->lock);
    return -1;
}

int fabric_network_delete(struct fabric *f, const char *network_id, struct weft_err *err)
{
    pthread_mutex_lock(&f->changes);
    int rc = network_delete(f, network_id, err);
    pthread_mutex_unlock(&f->changes);
    return rc;
}
