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

int fabric_network_create(struct fabric *f, const struct fabric_network_spec *spec,
                          struct weft_err *err)
{
    struct cidr cidr;
    if (cidr_parse_subnet(spec->subnet, &cidr, err) < 0)
        return -1;
    if (spec->vni > FABRIC_VNI_MAX)
        return weft_errf(err, "vni %" PRIu32 " is out of range (1..%u)", spec->vni, FABRIC_VNI_MAX);
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct local_network *net = NULL;
    bool overlay_created = false;
    struct overlay_record overlay;
    if (network_by_id(f, spec->network_id)) {
        weft_errf(err, "network %.12s already exists", spec->network_id);
        goto out;
    }
    struct local_network *same = network_by_subnet(f, spec->subnet);
    if (same) {
        weft_errf(err, "this host already has weft network %.12s on %s; one network per subnet",
                  same->id, spec->subnet);
        goto out;
    }
    if (claim_overlay(f, spec, &overlay, &overlay_created, err) < 0)
        goto out;
    net = calloc(1, sizeof(*net));
    if (!net) {
        weft_errf(err, "out of memory");
        goto undo_overlay;
    }
    snprintf(net->id, sizeof(net->id), "%s", spec->network_id);
    snprintf(net->subnet, sizeof(net->subnet), "%s", spec->subnet);
    net->cidr = cidr;
    net->vni = overlay.vni;
    net->mtu = effective_mtu(f, spec->mtu ? spec->mtu : overlay.mtu);
    if (segment_ensure(f->nl, net->vni, f->host_ip, net->mtu, &net->devices, err) < 0)
        goto undo_alloc;
    if (save_host_network(f, net, err) < 0)
        goto undo_devices;
    if (publish_member_joining(f, net, &overlay, err) < 0)
        goto undo_host_record;
    net->next = f->networks;
    f->networks = net;
    pthread_cond_signal(&f->spare_work);
    program_subnet(f, net->subnet);
    log_info("network created", "network=%.12s subnet=%s vni=%" PRIu32 " mtu=%d", net->id,
             net->subnet, net->vni, net->mtu);
    rc = 0;
    goto out;

undo_host_record:
    delete_host_key(f, key_host_network, net->id, NULL);
undo_devices:
    segment_remove(f->nl, net->vni, NULL);
undo_alloc:
    free(net);
undo_overlay:
    if (overlay_created)
        release_overlay_if_unused(f, spec->subnet, overlay.vni);
out:
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* An undo step of a failed delete that failed too: the network stays, without
 * that record in the store, which the log says (the caller's error is the first
 * failure's). */
static void undo_logged(int rc, const char *what, const struct local_network *net,
                        const struct weft_err *err)
{
    if (rc < 0)
        log_error("undoing a failed network delete failed",
                  "step=\"%s\" network=%.12s error=\"%s\"", what, net->id, err->msg);
}

int fabric_network_delete(struct fabric *f, const char *network_id, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct weft_err undo_err;
    struct local_network *net = network_by_id(f, network_id);
    if (!net) {
        weft_errf(err, "network %.12s is not a weft network on this host", network_id);
        goto out;
    }
    /* Waits below release the lock: a second delete, or a new endpoint, must not
     * start on this network meanwhile. */
    if (net->closing) {
        weft_errf(err, "network %.12s is being deleted already", network_id);
        goto out;
    }
    net->closing = true;
    /* Docker removes endpoints first; any left over are taken down with the network. */
    while (net->endpoints) {
        if (net->endpoints->removing) { /* a DeleteEndpoint's, lock released: let it end */
            pthread_cond_wait(&f->publish_done, &f->lock);
            continue;
        }
        if (endpoint_remove_locked(f, net, net->endpoints, err) < 0)
            goto reopen;
    }
    drop_spares(f, net);
    if (withdraw_member(f, net, err) < 0)
        goto reopen;
    if (delete_host_key(f, key_host_network, net->id, err) < 0)
        goto undo_member;
    if (segment_remove(f->nl, net->vni, err) < 0)
        goto undo_host_record;
    network_unlink(f, net);
    forget_programmed(f, net->subnet);
    release_overlay_if_unused(f, net->subnet, net->vni);
    log_info("network deleted", "network=%.12s subnet=%s", net->id, net->subnet);
    network_free(net);
    rc = 0;
    goto out;

undo_host_record:
    undo_logged(save_host_network(f, net, &undo_err), "restoring the network record", net,
                &undo_err);
undo_member:
    undo_logged(publish_member(f, net, &undo_err), "re-publishing the member record", net,
                &undo_err);
reopen: /* the network stays: it may have spares again */
    net->closing = false;
    pthread_cond_signal(&f->spare_work);
out:
    pthread_mutex_unlock(&f->lock);
    return rc;
}
