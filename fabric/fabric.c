/*
 * fabric.c: the fabric's state (fabric_internal.h), its lookups and waits, and
 * fabric_open/fabric_close, which start and stop its threads.
 *
 * Local state (Docker networks and endpoints on this host) is written to
 * hosts/<host>/... so a restarted daemon can adopt it; what other hosts must
 * see (members, peers) is written under fabric/<sk>/ with this host's lease,
 * so it vanishes when the host dies. A list+watch of fabric/ (or, with per-member
 * watches, of the records of this host's overlays' members: member_watch.c) feeds
 * the remote table; a remote entry is programmed into the kernel while this host
 * has a network on the same overlay.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/keys.h"

struct local_network *network_by_id(struct fabric *f, const char *id)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (strcmp(n->id, id) == 0)
            return n;
    return NULL;
}

struct local_network *network_by_subnet(struct fabric *f, const char *subnet)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (network_has_subnet(n, subnet))
            return n;
    return NULL;
}

struct local_endpoint *endpoint_by_id(struct local_network *n, const char *id)
{
    for (struct local_endpoint *e = n->endpoints; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

/* The endpoint of this host holding ip (network order) on subnet, or NULL. */
struct local_endpoint *endpoint_by_ip(struct fabric *f, const char *subnet, uint32_t ip)
{
    struct local_network *net = network_by_subnet(f, subnet);
    for (struct local_endpoint *e = net ? net->endpoints : NULL; e; e = e->next)
        if (e->ip == ntohl(ip))
            return e;
    return NULL;
}

int find_endpoint(struct fabric *f, const char *network_id, const char *endpoint_id,
                  struct local_network **net_out, struct local_endpoint **ep_out,
                  struct weft_err *err)
{
    struct local_network *net = network_by_id(f, network_id);
    if (!net)
        return weft_err_set(err, -ENOENT, "network %.12s is not a weft network on this host",
                            network_id);
    struct local_endpoint *ep = endpoint_by_id(net, endpoint_id);
    if (!ep)
        return weft_err_set(err, -ENOENT, "endpoint %.12s does not exist in network %.12s",
                            endpoint_id, network_id);
    *net_out = net;
    *ep_out = ep;
    return 0;
}

/* Waits on cond for at most ms (0: until signalled). Under the lock. */
void wait_on(struct fabric *f, pthread_cond_t *cond, long ms)
{
    if (ms <= 0) {
        pthread_cond_wait(cond, &f->lock);
        return;
    }
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, ms); /* as fabric_open made the conds */
    pthread_cond_timedwait(cond, &f->lock, &until);
}

/* How long work that a CreateEndpoint caused still waits after it, or 0. Docker
 * sends Join right after CreateEndpoint; on a small host a store write (etcd's CPU)
 * or a new spare veth (1.3 ms of kernel work) started at once competes with it. */
long settle_left(const struct fabric *f, long settle_ms)
{
    long left = f->last_create_ms + settle_ms - clock_monotonic_ms();
    return left > 0 && !f->stopping ? left : 0;
}

int cleanup_logged(int rc, const char *step, const char *name, const struct weft_err *err)
{
    if (rc < 0)
        log_error("a clean-up step failed", "step=\"%s\" name=%.12s error=\"%s\"", step, name,
                  err->msg);
    return rc;
}

int effective_mtu(const struct fabric *f, int requested)
{
    if (requested)
        return requested;
    int overhead =
        ip_addr_is_ipv6(&f->host_vtep) ? SEGMENT_VXLAN6_OVERHEAD : SEGMENT_VXLAN_OVERHEAD;
    return f->underlay_mtu - overhead;
}

int network_segment_ensure(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    if (net->encrypted)
        return encrypted_segment_ensure(f, net, err);
    if (segment_ensure(f->nl, net->vni, &f->host_vtep, net->mtu, &net->devices, err) < 0)
        return -1;
    fast_path_ensure(f->nl, net->vni, &net->devices, &net->fast); /* else the bridge only */
    return 0;
}

int network_segment_start(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    if (network_segment_ensure(f, net, err) < 0)
        return -1;
    fast_path_start(f->nl, &net->fast); /* no endpoint yet: nothing to wait for */
    return 0;
}

int network_segment_remove(struct fabric *f, struct local_network *net, struct weft_err *err)
{
    if (net->encrypted)
        return encrypted_segment_remove(f, net, err);
    return segment_remove(f->nl, net->vni, &f->host_vtep, net->mtu, &net->devices, err);
}

void network_free(struct local_network *net)
{
    struct local_endpoint *e = net->endpoints;
    while (e) {
        struct local_endpoint *next = e->next;
        free(e);
        e = next;
    }
    free(net);
}

/* The advertise address: dotted IPv4 as ever, or an IPv6 unicast one (issue 12). */
static int host_vtep_parse(const char *text, struct ip_addr *vtep, struct weft_err *err)
{
    if (addr_text_is_ipv6(text)) {
        if (ip_addr_parse(text, vtep, err) < 0)
            return weft_err_wrap(err, "advertise address");
        return 0;
    }
    uint32_t host_order;
    if (ipv4_parse(text, &host_order, err) < 0)
        return weft_err_wrap(err, "advertise address");
    *vtep = ip_addr_from_ipv4(htonl(host_order));
    return 0;
}

int fabric_open(struct fabric **out, const struct fabric_config *config, struct weft_err *err)
{
    struct fabric *f = calloc(1, sizeof(*f));
    if (!f)
        return weft_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->changes, NULL);
    clock_cond_init_monotonic(&f->wake);
    clock_cond_init_monotonic(&f->publish_work);
    clock_cond_init_monotonic(&f->publish_done);
    clock_cond_init_monotonic(&f->spare_work);
    clock_cond_init_monotonic(&f->spare_done);
    clock_cond_init_monotonic(&f->watch_progress);
    if (remote_table_init(&f->remotes) < 0 || rejected_records_init(&f->rejected) < 0) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto fail; /* fabric_close undoes whatever part of the fabric exists */
    }
    f->etcd = config->etcd;
    f->hooks = config->hooks;
    f->tunnel = config->tunnel;
    f->tunnel_port = config->tunnel_port;
    if (host_vtep_parse(config->host, &f->host_vtep, err) < 0)
        goto fail;
    ip_addr_format(&f->host_vtep, f->host); /* IPv6 in RFC 5952: one host, one key prefix */
    f->underlay_mtu = config->underlay_mtu > 0 ? config->underlay_mtu : 1500;
    f->lease_ttl = config->lease_ttl > 0 ? config->lease_ttl : 15;
    int reclaim_after = config->reclaim_after > 0 ? config->reclaim_after : 600;
    f->reaper_interval = reclaim_after / 4 > 0 ? reclaim_after / 4 : 1;
    f->reaper = ipam_reaper_new(reclaim_after);
    if (!f->reaper) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if (segment_socket_open(&f->nl, err) < 0 || segment_socket_open(&f->spare_nl, err) < 0)
        goto fail;
    segment_spares_delete_all(f->nl); /* an earlier run's, never taken */
    if (encrypted_open(f, err) < 0) /* before restore: adopted encrypted networks join it */
        goto fail;
    if (etcd_lease_grant(f->etcd, f->lease_ttl, &f->lease, err) < 0 ||
        publish_alive(f, f->lease, err) < 0)
        goto fail;
    if (restore_host(f, err) < 0)
        goto fail;
    f->member_watch = config->member_watch;
    if (f->member_watch ? member_watch_open(f, err) < 0
                        : etcd_watch_start(f->etcd, WEFT_KEY_FABRIC, watch_callback, f, &f->watch,
                                           err) < 0)
        goto fail;
    if (f->member_watch)
        log_info("watching the fabric per member",
                 "scope=\"joined/<sk>/ and fabric/<member>/<sk>/ of this host's overlays\" "
                 "transport=grpc");
    else
        log_info("watching all of the fabric",
                 "scope=fabric/ note=\"per-member watches need --store-watch grpc\"");
    if (pthread_create(&f->keeper, NULL, lease_keeper, f) != 0) {
        weft_err_set(err, -EAGAIN, "cannot start the lease keeper thread");
        goto fail;
    }
    f->keeper_running = true;
    if (pthread_create(&f->publisher, NULL, publisher_main, f) != 0) {
        weft_err_set(err, -EAGAIN, "cannot start the publisher thread");
        goto fail;
    }
    f->publisher_running = true;
    if (pthread_create(&f->spare_maker, NULL, spare_maker_main, f) != 0) {
        weft_err_set(err, -EAGAIN, "cannot start the spare veth thread");
        goto fail;
    }
    f->spare_maker_running = true;
    *out = f;
    return 0;
fail:
    fabric_close(f);
    return -1;
}

void fabric_close(struct fabric *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_cond_broadcast(&f->wake);
    pthread_cond_broadcast(&f->publish_work);
    pthread_cond_broadcast(&f->spare_work);
    pthread_cond_broadcast(&f->watch_progress);
    pthread_mutex_unlock(&f->lock);
    if (f->spare_maker_running)
        pthread_join(f->spare_maker, NULL);
    if (f->publisher_running) /* first: it publishes what is pending before it ends */
        pthread_join(f->publisher, NULL);
    if (f->keeper_running)
        pthread_join(f->keeper, NULL);
    if (f->watch)
        etcd_watch_stop(f->watch); /* outside the lock: its callback takes it */
    member_watch_close(f);         /* likewise */
    while (f->networks) {
        struct local_network *net = f->networks;
        f->networks = net->next;
        if (net->encrypted) /* its TAP stays, for the next daemon to open again */
            encrypted_segment_detach(f, net);
        for (int i = 0; i < net->spare_count; i++) { /* the data plane stays; spares need not */
            struct weft_err undo_err = {0};
            cleanup_logged(segment_endpoint_delete(f->nl, net->spares[i], &undo_err),
                           "deleting a spare veth", net->spares[i], &undo_err);
        }
        network_free(net);
    }
    encrypted_close(f);
    remote_table_clear(&f->remotes);
    rejected_records_clear(&f->rejected);
    if (f->nl)
        segment_socket_close(f->nl);
    if (f->spare_nl)
        segment_socket_close(f->spare_nl);
    ipam_reaper_free(f->reaper);
    while (f->pending_claims) { /* none: every claim waits for its own end */
        struct pending_claim *next = f->pending_claims->next;
        free(f->pending_claims);
        f->pending_claims = next;
    }
    pthread_cond_destroy(&f->watch_progress);
    pthread_cond_destroy(&f->spare_done);
    pthread_cond_destroy(&f->spare_work);
    pthread_cond_destroy(&f->publish_done);
    pthread_cond_destroy(&f->publish_work);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->changes);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
