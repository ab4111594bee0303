/*
 * status.c: fabric_status_read (status.h). Copies what `weft status` shows out of
 * the fabric under its lock (memory only, no store or netlink), then, with the
 * lock released, asks the store client for its own facts.
 */
#include "fabric/status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fabric/fabric_internal.h"
#include "store/etcd_watch_set.h"
#include "store/keys.h"

static void copy_subnets(const struct local_network *net, struct status_overlay *o)
{
    char others[OVERLAY_POOLS_MAX][ADDR_STR_MAX];
    int n = network_other_pools(net, others);
    snprintf(o->subnets[o->subnet_count++], ADDR_STR_MAX, "%s", net->subnet);
    for (int i = 0; i < n && o->subnet_count < STATUS_SUBNETS_MAX; i++)
        snprintf(o->subnets[o->subnet_count++], ADDR_STR_MAX, "%.47s", others[i]);
}

static int copy_endpoints(const struct local_network *net, struct status_overlay *o)
{
    size_t n = 0;
    for (const struct local_endpoint *e = net->endpoints; e; e = e->next)
        n++;
    o->endpoints = calloc(n ? n : 1, sizeof(*o->endpoints));
    if (!o->endpoints)
        return -1;
    for (const struct local_endpoint *e = net->endpoints; e; e = e->next) {
        struct status_endpoint *s = &o->endpoints[o->endpoint_count++];
        char ip[ADDR_STR_MAX];
        snprintf(s->id, sizeof(s->id), "%s", e->id);
        ipv4_format(e->ip, ip);
        snprintf(s->ip, sizeof(s->ip), "%.40s/%d", ip, e->prefix_len);
        if (e->has_ip6) {
            ipv6_format(&e->ip6, ip);
            snprintf(s->ip6, sizeof(s->ip6), "%.43s/%d", ip, e->prefix6_len);
        }
        snprintf(s->names, sizeof(s->names), "%s", e->names);
    }
    return 0;
}

/* The remote table's members and winning peers of net's subnets. */
static int copy_remotes(struct fabric *f, const struct local_network *net,
                        struct status_overlay *o)
{
    size_t members = 0, peers = 0;
    for (const struct remote_entry *r = f->remotes.head; r; r = r->next)
        if (network_has_subnet(net, r->subnet))
            r->is_peer ? peers++ : members++;
    o->members = calloc(members ? members : 1, sizeof(*o->members));
    o->remotes = calloc(peers ? peers : 1, sizeof(*o->remotes));
    if (!o->members || !o->remotes)
        return -1;
    for (const struct remote_entry *r = f->remotes.head; r; r = r->next) {
        if (!network_has_subnet(net, r->subnet))
            continue;
        if (!r->is_peer) {
            ip_addr_format(&r->vtep, o->members[o->member_count++]);
            continue;
        }
        struct status_remote *s = &o->remotes[o->remote_count++];
        ip_addr_format(&r->vtep, s->host);
        ipv4_format(ntohl(r->addr), s->ip);
        if (r->has_addr6)
            ipv6_format(&r->addr6, s->ip6);
        s->programmed = r->programmed;
    }
    return 0;
}

static int copy_overlays(struct fabric *f, struct weft_status *out)
{
    size_t n = 0;
    for (const struct local_network *net = f->networks; net; net = net->next)
        n++;
    out->overlays = calloc(n ? n : 1, sizeof(*out->overlays));
    if (!out->overlays)
        return -1;
    for (const struct local_network *net = f->networks; net; net = net->next) {
        struct status_overlay *o = &out->overlays[out->overlay_count++];
        snprintf(o->network, sizeof(o->network), "%s", net->id);
        copy_subnets(net, o);
        o->vni = net->vni;
        o->mtu = net->mtu;
        o->encrypted = net->encrypted;
        if (copy_endpoints(net, o) < 0 || copy_remotes(f, net, o) < 0)
            return -1;
    }
    return 0;
}

/* By address: the order people scan a list of hosts in. */
static int host_order(const void *a, const void *b)
{
    struct ip_addr x = {0}, y = {0};
    ip_addr_parse(((const struct status_host *)a)->host, &x, NULL);
    ip_addr_parse(((const struct status_host *)b)->host, &y, NULL);
    return ip_addr_compare(&x, &y);
}

/* Every host the watch has seen, with records now or remembered gone. */
static int copy_hosts(struct fabric *f, struct weft_status *out)
{
    time_t now = time(NULL);
    const struct host_presence *p = &f->remotes.hosts;
    out->hosts = calloc(p->index.count ? p->index.count : 1, sizeof(*out->hosts));
    if (!out->hosts)
        return -1;
    struct host_presence_iter it;
    host_presence_iter_init(&it, p);
    for (const struct host_seen *seen; (seen = host_presence_next(&it));) {
        struct status_host *h = &out->hosts[out->host_count++];
        ip_addr_format(&seen->vtep, h->host);
        h->alive = host_presence_present(seen);
        h->since = (int64_t)seen->since;
        h->for_s = now > seen->since ? (int64_t)(now - seen->since) : 0;
        h->overlays = seen->members;
        h->endpoints = seen->peers;
    }
    qsort(out->hosts, out->host_count, sizeof(*out->hosts), host_order);
    return 0;
}

/* A host with no records left may still run, on no overlay of ours: its alive key
 * says. Asked after the lock is released; a store that does not answer leaves it
 * dead (its records went with its lease, or it left). */
static void check_gone_hosts(struct fabric *f, struct weft_status *out)
{
    for (size_t i = 0; i < out->host_count; i++) {
        struct status_host *h = &out->hosts[i];
        if (h->alive || !out->store.reachable)
            continue;
        char key[WEFT_KEY_MAX];
        struct etcd_kv kv = {0};
        bool found = false;
        struct weft_err err;
        key_host_alive(key, h->host);
        if (etcd_get(f->etcd, key, &kv, &found, &err) == 0 && found)
            h->alive = true;
        etcd_kv_clear(&kv);
    }
}

/* Which host holds roles/reaper, as its record names it. The record is only believed
 * to name an address: anyone with write access to roles/ could put anything there. */
static void read_reaper(struct fabric *f, struct weft_status *out)
{
    if (!out->store.reachable)
        return;
    char key[WEFT_KEY_MAX];
    key_reaper_role(key);
    struct etcd_kv kv = {0};
    bool found = false;
    struct weft_err err;
    struct member_record holder; /* the same {"vtep"} body (host_named_text) */
    struct ip_addr addr;
    if (etcd_get(f->etcd, key, &kv, &found, &err) == 0 && found && kv.value &&
        member_record_decode(kv.value, &holder, &err) == 0 &&
        ip_addr_parse(holder.vtep, &addr, &err) == 0)
        ip_addr_format(&addr, out->reaper);
    etcd_kv_clear(&kv);
}

int fabric_status_read(struct fabric *f, struct weft_status *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->host, sizeof(out->host), "%s", f->host);
    pthread_mutex_lock(&f->lock);
    int rc = copy_overlays(f, out) < 0 || copy_hosts(f, out) < 0 ? -1 : 0;
    int64_t lease = f->lease;
    pthread_mutex_unlock(&f->lock);
    if (rc < 0) {
        weft_status_clear(out);
        return weft_err_set(err, -ENOMEM, "out of memory reading the fabric's status");
    }
    etcd_status_read(f->etcd, WEFT_KEY_FABRIC, lease, f->watch, &out->store);
    if (f->set) { /* per-member watches: how far the set has delivered, no trailing check */
        etcd_watch_set_progress(f->set, &out->store.watch_revision, &out->store.watch_streaming);
        pthread_mutex_lock(&f->lock);
        out->store.watch_streaming |= f->watched == NULL; /* nothing to stream */
        pthread_mutex_unlock(&f->lock);
    }
    check_gone_hosts(f, out);
    read_reaper(f, out);
    return 0;
}

void weft_status_clear(struct weft_status *out)
{
    for (size_t i = 0; i < out->overlay_count; i++) {
        free(out->overlays[i].endpoints);
        free(out->overlays[i].members);
        free(out->overlays[i].remotes);
    }
    free(out->overlays);
    free(out->hosts);
    free(out->errors);
    out->overlays = NULL;
    out->hosts = NULL;
    out->errors = NULL;
    out->overlay_count = out->host_count = out->error_count = 0;
}

int weft_status_health(const struct weft_status *s, char *why, size_t why_len)
{
    const struct etcd_status *st = &s->store;
    if (!st->reachable) {
        snprintf(why, why_len, "degraded: the store (%s) does not answer: %s",
                 st->member_count ? st->members[0] : "no members", st->error);
        return 1;
    }
    if (!st->watch_streaming) {
        snprintf(why, why_len, "degraded: the store watch is not streaming (at revision %lld, "
                 "the store at %lld)", (long long)st->watch_revision, (long long)st->revision);
        return 1;
    }
    if (st->watch_trailing) {
        snprintf(why, why_len, "degraded: the store watch trails: fabric/ was written at revision "
                 "%lld, the watch has delivered up to %lld after %d ms", (long long)st->prefix_revision,
                 (long long)st->watch_revision, ETCD_STATUS_TRAIL_MS);
        return 1;
    }
    snprintf(why, why_len, "healthy");
    return 0;
}
