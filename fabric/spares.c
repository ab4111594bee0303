/*
 * spares.c: spare veth pairs kept ready on every network's segment, made by the
 * spare maker thread on its own socket outside the lock (protocol 2 in
 * fabric_internal.h), so that CreateEndpoint only takes one.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "fabric/veth_alias.h"

static struct local_network *network_wanting_spare(struct fabric *f)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (!n->closing && !n->spare_in_flight && n->spare_count < SPARES_PER_NETWORK)
            return n;
    return NULL;
}

/* Keeps SPARES_PER_NETWORK spare veth pairs on every network's bridge, made with
 * its own netlink socket outside the lock, so that CreateEndpoint only takes one. */
void *spare_maker_main(void *arg)
{
    struct fabric *f = arg;
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        struct local_network *net = network_wanting_spare(f);
        long settle = net ? settle_left(f, SPARE_SETTLE_MS) : 0;
        if (!net || settle) {
            wait_on(f, &f->spare_work, settle);
            continue;
        }
        net->spare_in_flight = true;
        unsigned serial = ++f->spare_serial;
        uint32_t vni = net->vni;
        int mtu = net->mtu;
        pthread_mutex_unlock(&f->lock);
        char name[IF_NAMESIZE];
        struct weft_err err;
        int rc = segment_spare_create(f->spare_nl, vni, serial, mtu, name, &err);
        pthread_mutex_lock(&f->lock);
        net->spare_in_flight = false; /* net is still there: deleting it waits for this */
        pthread_cond_broadcast(&f->spare_done);
        if (rc == 0 && !net->closing) {
            snprintf(net->spares[net->spare_count++], IF_NAMESIZE, "%s", name);
            warned = false;
        } else if (rc == 0) {
            cleanup_logged(segment_endpoint_delete(f->spare_nl, name, &err),
                           "deleting a spare of a closing network", name, &err);
        } else {
            if (!warned) /* CreateEndpoint makes its own pair meanwhile */
                log_warn("making a spare veth pair failed", "vni=%" PRIu32 " error=\"%s\"", vni,
                         err.msg);
            warned = true;
            wait_on(f, &f->spare_work, 1000);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Deletes a network's spares, after waiting for one in the making. Under the lock. */
void drop_spares(struct fabric *f, struct local_network *net)
{
    while (net->spare_in_flight)
        pthread_cond_wait(&f->spare_done, &f->lock);
    for (int i = 0; i < net->spare_count; i++) {
        struct weft_err undo_err = {0};
        cleanup_logged(segment_endpoint_delete(f->nl, net->spares[i], &undo_err),
                       "deleting a spare veth", net->spares[i], &undo_err);
    }
    net->spare_count = 0;
}

/* A removed endpoint's pair kept as a spare of its network instead of deleted, when it
 * was a spare (its names are one's) and the network has room for one more
 * (segment_spare_return): a deletion holds the kernel's rtnl lock 16-24 ms, in which
 * the next CreateEndpoint's link changes, and Docker's, wait. Under the lock. */
bool return_endpoint_veth(struct fabric *f, struct local_network *net, const char *host_name)
{
    unsigned serial;
    if (net->closing || !segment_spare_serial(host_name, &serial) ||
        net->spare_count + (net->spare_in_flight ? 1 : 0) >= SPARES_PER_NETWORK)
        return false;
    struct weft_err err;
    if (segment_spare_return(f->nl, host_name, &err) < 0) {
        log_debug("an endpoint's veth pair is deleted, not kept as a spare", "link=%s reason=\"%s\"",
                  host_name, err.msg);
        return false;
    }
    snprintf(net->spares[net->spare_count++], IF_NAMESIZE, "%s", host_name);
    return true;
}

/* The endpoint's record as its veth's alias (veth_alias.h); NULL when out of memory. */
static char *endpoint_alias(const struct local_network *net, const struct local_endpoint *ep)
{
    struct host_endpoint_record rec;
    host_endpoint_record_of(net, ep, &rec);
    return veth_alias_encode(&rec);
}

/* The endpoint's veth pair: a spare if one is ready, else one made now. Sets
 * ep->ifname; the host end's alias is the endpoint's record. */
static int make_veth(struct fabric *f, struct local_network *net, struct local_endpoint *ep,
                     struct weft_err *err)
{
    char *alias = NULL;
    if (net->spare_count > 0) {
        snprintf(ep->ifname, sizeof(ep->ifname), "%s", net->spares[--net->spare_count]);
        struct weft_err spare_err;
        alias = endpoint_alias(net, ep);
        if (alias && segment_spare_take(f->nl, ep->ifname, ep->mac, alias, &spare_err) == 0) {
            free(alias);
            return 0;
        }
        log_warn("taking a spare veth pair failed; making one", "error=\"%s\"",
                 alias ? spare_err.msg : "out of memory");
        cleanup_logged(segment_endpoint_delete(f->nl, ep->ifname, &spare_err),
                       "deleting a spare that could not be taken", ep->ifname, &spare_err);
        free(alias);
    }
    char ctr_name[IF_NAMESIZE];
    segment_endpoint_names(ep->id, ep->ifname, ctr_name);
    alias = endpoint_alias(net, ep);
    if (!alias)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = segment_endpoint_create(f->nl, net->vni, ep->id, ep->mac, net->mtu, alias, err);
    free(alias);
    return rc;
}

/* make_veth, then the endpoint's fast path filters (vxlan/fast_path.h); a failure
 * of those deletes the pair again. */
int make_endpoint_veth(struct fabric *f, struct local_network *net, struct local_endpoint *ep,
                       struct weft_err *err)
{
    if (make_veth(f, net, ep, err) < 0)
        return -1;
    if (fast_path_endpoint_add(f->nl, &net->fast, ep->ifname, ep->mac, &ep->fast_prio, err) == 0)
        return 0;
    struct weft_err undo_err;
    cleanup_logged(segment_endpoint_delete(f->nl, ep->ifname, &undo_err),
                   "deleting a veth pair whose fast path failed", ep->ifname, &undo_err);
    return -1;
}
