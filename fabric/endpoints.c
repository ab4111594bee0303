/*
 * endpoints.c: CreateEndpoint, DeleteEndpoint, Join, Leave and EndpointOperInfo.
 * An endpoint is a veth pair on its network's segment; its records reach the
 * store through the publisher (publisher.c) after CreateEndpoint answers.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/keys.h"

/* Docker's own scheme (02:42 + the IPv4 address), so MACs stay unique per overlay. */
static void mac_from_ip(uint32_t ip, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x42;
    mac[2] = (uint8_t)(ip >> 24);
    mac[3] = (uint8_t)(ip >> 16);
    mac[4] = (uint8_t)(ip >> 8);
    mac[5] = (uint8_t)ip;
}

/* An endpoint's IPv6 address: a host address of its dual-stack network's IPv6 pool,
 * with the pool's prefix, and no other endpoint's here. Under the lock. */
static int check_endpoint_ip6(struct local_network *net, const struct fabric_endpoint_spec *spec,
                              struct weft_err *err)
{
    char ip6[ADDR_STR_MAX];
    ipv6_format(&spec->ip6, ip6);
    if (!net->subnet6[0])
        return weft_err_set(err, -EINVAL,
                            "network %.12s has no IPv6 subnet, so no IPv6 address (%s) for its "
                            "endpoints",
                            spec->network_id, ip6);
    const struct ipv6_subnet *cidr6;
    const char *subnet6 = network_subnet6_of(net, &spec->ip6, &cidr6);
    if (!subnet6)
        return weft_err_set(err, -EINVAL, "address %s is not a host address of %s%s", ip6,
                            net->subnet6, net->extra6_count ? " or its other IPv6 subnets" : "");
    if (spec->prefix6_len != cidr6->prefix_len)
        return weft_err_set(err, -EINVAL, "address prefix /%d does not match the network's %s",
                            spec->prefix6_len, subnet6);
    for (struct local_endpoint *other = net->endpoints; other; other = other->next)
        if (other->has_ip6 && memcmp(&other->ip6, &spec->ip6, sizeof(spec->ip6)) == 0)
            return weft_err_set(err, -EEXIST,
                                "address %s is already used by endpoint %.12s on this host", ip6,
                                other->id);
    return 0;
}

/* Whether spec may become a new endpoint of net. Under the lock. */
static int check_endpoint_spec(struct fabric *f, struct local_network *net,
                               const struct fabric_endpoint_spec *spec, struct weft_err *err)
{
    if (net->closing)
        return weft_err_set(err, -EBUSY, "network %.12s is being deleted", spec->network_id);
    if (endpoint_by_id(net, spec->endpoint_id))
        return weft_err_set(err, -EEXIST, "endpoint %.12s already exists", spec->endpoint_id);
    /* The store write comes after the answer; with the store away, refuse now rather
     * than promise what cannot be published (RequestAddress fails then too). */
    struct weft_err store_err;
    if (etcd_unreachable(f->etcd, &store_err))
        return weft_err_set(err, store_err.code, "%s; new endpoints wait until it answers again",
                            store_err.msg);
    char ip[ADDR_STR_MAX];
    ipv4_format(spec->ip, ip);
    const struct ipv4_subnet *cidr;
    const char *subnet = network_subnet_of(net, spec->ip, &cidr);
    if (!subnet)
        return weft_err_set(err, -EINVAL, "address %s is not a host address of %s%s", ip,
                            net->subnet, net->extra_count ? " or its other subnets" : "");
    if (spec->prefix_len && spec->prefix_len != cidr->prefix_len)
        return weft_err_set(err, -EINVAL, "address prefix /%d does not match the network's %s",
                            spec->prefix_len, subnet);
    for (struct local_endpoint *other = net->endpoints; other; other = other->next)
        if (other->ip == spec->ip)
            return weft_err_set(err, -EEXIST,
                                "address %s is already used by endpoint %.12s on this host", ip,
                                other->id);
    return spec->has_ip6 ? check_endpoint_ip6(net, spec, err) : 0;
}

int fabric_endpoint_create(struct fabric *f, const struct fabric_endpoint_spec *spec,
                           uint8_t mac_out[6], struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct local_network *net = network_by_id(f, spec->network_id);
    struct local_endpoint *ep = NULL;
    if (!net) {
        weft_err_set(err, -ENOENT, "network %.12s is not a weft network on this host",
                     spec->network_id);
        goto out;
    }
    if (check_endpoint_spec(f, net, spec, err) < 0)
        goto out;
    ep = calloc(1, sizeof(*ep));
    if (!ep) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    snprintf(ep->id, sizeof(ep->id), "%s", spec->endpoint_id);
    ep->ip = spec->ip;
    const struct ipv4_subnet *cidr;
    network_subnet_of(net, ep->ip, &cidr); /* one of net's: check_endpoint_spec */
    ep->prefix_len = spec->prefix_len ? spec->prefix_len : cidr->prefix_len;
    ep->has_ip6 = spec->has_ip6;
    ep->ip6 = spec->ip6;
    ep->prefix6_len = spec->prefix6_len;
    if (spec->has_mac)
        memcpy(ep->mac, spec->mac, 6);
    else
        mac_from_ip(spec->ip, ep->mac);
    /* The veth's alias carries the endpoint's record: a daemon killed before the
     * publisher wrote it finds it there on restart (restore.c, adopting veth aliases). */
    if (make_endpoint_veth(f, net, ep, err) < 0)
        goto undo_alloc;
    ep->publication = PUBLICATION_PENDING;
    ep->next = net->endpoints;
    net->endpoints = ep;
    /* A claim learned for this address (its last holder's record, not yet
     * withdrawn, or another host's claim) must not shadow the local endpoint; it
     * stays known, unprogrammed, and is noted as contested. */
    claims_settle(f, net->subnet, htonl(ep->ip));
    f->last_create_ms = clock_monotonic_ms();
    memcpy(mac_out, ep->mac, 6);
    log_info("endpoint created", "endpoint=%.12s network=%.12s", ep->id, net->id);
    rc = 0;
    goto out;

undo_alloc:
    free(ep);
out:
    pthread_mutex_unlock(&f->lock);
    if (rc == 0) { /* after unlocking: a thread woken under the lock would only wait for it */
        pthread_cond_signal(&f->publish_work);
        pthread_cond_signal(&f->spare_work);
    }
    return rc;
}

int endpoint_remove_locked(struct fabric *f, struct local_network *net, struct local_endpoint *ep,
                           struct weft_err *err)
{
    /* A write of its records under way would land after our delete: let it finish.
     * The waits release the lock, so a second removal of ep must not start meanwhile. */
    if (ep->removing)
        return weft_err_set(err, -EBUSY, "endpoint %.12s is being removed already", ep->id);
    ep->removing = true;
    while (ep->publication == PUBLICATION_IN_FLIGHT)
        pthread_cond_wait(&f->publish_done, &f->lock);
    /* The store round trip goes without the lock (a Join or a watch batch need not
     * wait for it): ep is removing, so nobody publishes, rewrites or frees it, and
     * its network, which a delete cannot free before ep is gone. */
    pthread_mutex_unlock(&f->lock);
    int rc = withdraw_endpoint(f, net, ep, err);
    pthread_mutex_lock(&f->lock);
    pthread_cond_broadcast(&f->publish_done); /* a network delete may wait for this removal */
    if (rc < 0) {
        ep->removing = false; /* still whole: a retried DeleteEndpoint may remove it */
        return -1;
    }
    /* The veth outlives a failed delete, its alias holding the endpoint's record: a
     * restart would adopt it again. So the delete fails, the endpoint stays whole,
     * and its records go back to the store through the publisher (which retries
     * through an outage): the state before the request, which a retry removes.
     * A pair that was a spare becomes one again when it can (spares.c). */
    if (!return_endpoint_veth(f, net, ep->ifname) &&
        segment_endpoint_delete(f->nl, ep->ifname, err) < 0) {
        ep->removing = false;
        ep->publication = PUBLICATION_PENDING;
        pthread_cond_signal(&f->publish_work);
        return weft_err_wrap(err, "removing endpoint %.12s", ep->id);
    }
    /* After the veth: until it is gone (or down, a spare) its frames keep their filters. */
    struct weft_err fast_err;
    if (fast_path_endpoint_del(f->nl, &net->fast, ep->fast_prio, &fast_err) < 0)
        log_warn("removing an endpoint's fast path filters failed", "endpoint=%.12s error=\"%s\"",
                 ep->id, fast_err.msg);
    for (struct local_endpoint **p = &net->endpoints; *p; p = &(*p)->next) {
        if (*p == ep) {
            *p = ep->next;
            break;
        }
    }
    log_info("endpoint deleted", "endpoint=%.12s network=%.12s", ep->id, net->id);
    uint32_t addr = htonl(ep->ip);
    free(ep);
    /* Other hosts' claims of the address, kept while it was held here: the oldest
     * goes to the kernel now. */
    if (!net->closing)
        claims_settle(f, net->subnet, addr);
    return 0;
}

int fabric_endpoint_delete(struct fabric *f, const char *network_id, const char *endpoint_id,
                           struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0)
        rc = endpoint_remove_locked(f, net, ep, err);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_join(struct fabric *f, const char *network_id, const char *endpoint_id,
                struct fabric_join_info *out, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0) {
        segment_ctr_name(ep->ifname, out->src_name);
        const char *own = network_subnet_of(net, ep->ip, NULL);
        const char *own6 = ep->has_ip6 ? network_subnet6_of(net, &ep->ip6, NULL) : NULL;
        out->onlink_count = 0;
        for (int i = -1; i < net->extra_count; i++) {
            const char *subnet = i < 0 ? net->subnet : net->extra_subnets[i];
            if (own && strcmp(subnet, own) != 0)
                snprintf(out->onlink[out->onlink_count++], ADDR_STR_MAX, "%s", subnet);
        }
        for (int i = -1; own6 && i < net->extra6_count; i++) {
            const char *subnet6 = i < 0 ? net->subnet6 : net->extra_subnets6[i];
            if (strcmp(subnet6, own6) != 0)
                snprintf(out->onlink[out->onlink_count++], ADDR_STR_MAX, "%s", subnet6);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_leave(struct fabric *f, const char *network_id, const char *endpoint_id,
                 struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_endpoint_info(struct fabric *f, const char *network_id, const char *endpoint_id,
                         struct fabric_endpoint_info *out, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0) {
        memset(out, 0, sizeof(*out));
        char ip[ADDR_STR_MAX];
        ipv4_format(ep->ip, ip);
        snprintf(out->ip, sizeof(out->ip), "%.15s/%d", ip, ep->prefix_len & 63);
        if (ep->has_ip6) {
            char ip6[ADDR_STR_MAX];
            ipv6_format(&ep->ip6, ip6);
            snprintf(out->ip6, sizeof(out->ip6), "%.39s/%d", ip6, ep->prefix6_len & 255);
        }
        mac_format(ep->mac, out->mac);
        snprintf(out->vtep, sizeof(out->vtep), "%s", f->host);
        snprintf(out->bridge, sizeof(out->bridge), "%s", net->devices.bridge);
        snprintf(out->vxlan, sizeof(out->vxlan), "%s", net->devices.vxlan);
        out->vni = net->vni;
        out->mtu = net->mtu;
        out->encrypted = net->encrypted;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}
