/*
 * lease.c: the lease keeper thread. Refreshes this host's liveness lease every
 * TTL/3, runs the reaper of dead hosts' addresses at its own pace when this host
 * holds the reaper role (reaper_role.c), at that pace (slower in a large cluster)
 * tells the store how many hosts the cluster has (its idle probes stretch with them),
 * and when the lease was lost takes a new one and re-publishes what this host owns.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/weft_metrics.h"
#include "store/etcd_pacing.h"

/* One endpoint the keeper re-publishes: IN_FLIGHT meanwhile (protocol 1). */
struct republish_item {
    struct local_network *net;
    struct local_endpoint *ep;
    bool published;
};

static bool republishable(const struct local_endpoint *ep)
{
    return ep->publication == PUBLICATION_DONE && !ep->removing;
}

/* Marks this host's published endpoints IN_FLIGHT for the keeper. Out of memory,
 * they go back to the publisher as PENDING instead (it re-publishes them, without
 * re-asserting their addresses). Under the lock. */
static struct republish_item *take_published(struct fabric *f, size_t *count)
{
    size_t n = 0;
    for (struct local_network *net = f->networks; net; net = net->next)
        for (struct local_endpoint *ep = net->endpoints; ep && !net->closing; ep = ep->next)
            n += republishable(ep);
    struct republish_item *items = n ? calloc(n, sizeof(*items)) : NULL;
    *count = 0;
    for (struct local_network *net = f->networks; net; net = net->next) {
        for (struct local_endpoint *ep = net->endpoints; ep && !net->closing; ep = ep->next) {
            if (!republishable(ep))
                continue;
            ep->publication = items ? PUBLICATION_IN_FLIGHT : PUBLICATION_PENDING;
            if (items)
                items[(*count)++] = (struct republish_item){net, ep, false};
        }
    }
    return items;
}

/* Without the lock: f->changes (held) keeps the networks and their closing flags
 * as they are, and the endpoints are IN_FLIGHT, so no removal frees them. */
static void republish_unlocked(struct fabric *f, int64_t lease, struct republish_item *items,
                               size_t count)
{
    struct weft_err err;
    if (publish_alive(f, lease, &err) < 0)
        log_error("re-publishing host record failed", "error=\"%s\"", err.msg);
    for (struct local_network *n = f->networks; n; n = n->next) {
        if (n->closing)
            continue; /* its delete withdraws its records */
        if (publish_member(f, lease, n, &err) < 0)
            log_error("re-publishing member failed", "subnet=%s error=\"%s\"", n->subnet, err.msg);
    }
    for (size_t i = 0; i < count; i++) {
        assert_address(f, items[i].net, items[i].ep);
        items[i].published = publish_peer(f, lease, items[i].net, items[i].ep, &err) == 0;
        if (!items[i].published)
            log_error("re-publishing endpoint failed; the publisher retries",
                      "endpoint=%.12s error=\"%s\"", items[i].ep->id, err.msg);
    }
}

/* Re-publishes everything this host owns under the (new) lease, with the lock
 * released for the round trips. Called and returns with the lock held. */
static void republish_all(struct fabric *f)
{
    pthread_mutex_unlock(&f->lock); /* f->changes comes first */
    pthread_mutex_lock(&f->changes);
    pthread_mutex_lock(&f->lock);
    size_t count;
    struct republish_item *items = take_published(f, &count);
    int64_t lease = f->lease;
    pthread_mutex_unlock(&f->lock);
    republish_unlocked(f, lease, items, count);
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < count; i++) {
        struct local_endpoint *ep = items[i].ep;
        /* Replaced in the store meanwhile (ep->rewrite): the publisher writes it again. */
        ep->publication =
            items[i].published && !ep->rewrite ? PUBLICATION_DONE : PUBLICATION_PENDING;
        ep->rewrite = false;
    }
    free(items);
    pthread_cond_broadcast(&f->publish_done);
    pthread_cond_signal(&f->publish_work);
    pthread_mutex_unlock(&f->changes);
}

/* When the hosts are counted next, and what pace_by_cluster said last (so that it
 * speaks only when a pace changes). */
struct cluster_pace {
    long next_count_ms; /* clock_monotonic_ms(); 0: at the first refresh */
    long member_round_ms, watch_idle_probe_ms;
    bool told_uncounted;
};

/* The store's idle probes stretch with the cluster's hosts (store/etcd_pacing.h),
 * counted as etcd's leases (one per daemon) at the reaper's pace, or less often in a
 * large cluster (the count itself costs etcd). A store that does not answer the count
 * leaves the pace as it was; said once. */
static void pace_by_cluster(struct fabric *f, struct cluster_pace *said)
{
    long now = clock_monotonic_ms();
    if (now < said->next_count_ms)
        return;
    size_t hosts = 0;
    struct weft_err err;
    int rc = etcd_lease_count(f->etcd, &hosts, &err);
    said->next_count_ms =
        now + etcd_pacing_count_interval_ms(f->reaper_interval * 1000L, rc < 0 ? 0 : hosts);
    if (rc < 0) {
        if (!said->told_uncounted)
            log_warn("counting the cluster's hosts failed; the store's idle probes keep "
                     "their pace",
                     "error=\"%s\"", err.msg);
        said->told_uncounted = true;
        return;
    }
    said->told_uncounted = false;
    etcd_set_cluster_hosts(f->etcd, hosts);
    long round = etcd_pacing_member_probe_ms(hosts);
    long idle = etcd_pacing_watch_idle_probe_ms(hosts);
    if (round != said->member_round_ms || idle != said->watch_idle_probe_ms)
        log_info("store probes paced to the cluster",
                 "hosts=%zu member_round_ms=%ld watch_idle_probe_ms=%ld", hosts, round, idle);
    said->member_round_ms = round;
    said->watch_idle_probe_ms = idle;
}

void *lease_keeper(void *arg)
{
    struct fabric *f = arg;
    int interval = f->lease_ttl / 3 > 0 ? f->lease_ttl / 3 : 1;
    if (f->reaper_interval < interval)
        interval = f->reaper_interval;
    long last_reap_ms = 0;
    struct cluster_pace pace = {0};
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        wait_on(f, &f->wake, interval * 1000L);
        if (f->stopping)
            break;
        int64_t lease = f->lease;
        pthread_mutex_unlock(&f->lock);
        struct weft_err err;
        bool alive = true;
        int rc = etcd_lease_keepalive(f->etcd, lease, &alive, &err);
        /* A pass reads every host and address record: at the reaper's own pace, not
         * every lease refresh (at 50 hosts x 100 endpoints that was 50 daemons reading
         * 10 000 records every 5 s), and by one host of the cluster (reaper_role.c). */
        struct weft_err reap_err;
        if (rc == 0 && alive && clock_monotonic_ms() - last_reap_ms >= f->reaper_interval * 1000L) {
            last_reap_ms = clock_monotonic_ms();
            if (reaper_role_take(f, lease) && ipam_reap(f->etcd, f->reaper, NULL, &reap_err) < 0)
                log_warn("reclaiming dead hosts' addresses failed", "error=\"%s\"", reap_err.msg);
        }
        if (rc == 0 && alive)
            pace_by_cluster(f, &pace);
        /* Cut off longer than the TTL: our records are gone; take a new lease and re-assert. */
        int64_t fresh = 0;
        int grant_rc =
            rc == 0 && !alive ? etcd_lease_grant(f->etcd, f->lease_ttl, &fresh, &err) : 0;
        weft_metrics_lease_renewal(rc < 0  ? WEFT_LEASE_FAILED
                                   : alive ? WEFT_LEASE_RENEWED
                                           : WEFT_LEASE_EXPIRED);
        pthread_mutex_lock(&f->lock);
        if (rc < 0) {
            log_warn("lease refresh failed", "error=\"%s\"", err.msg);
            continue;
        }
        if (alive || f->stopping)
            continue;
        if (grant_rc < 0) {
            log_warn("lease renewal failed", "error=\"%s\"", err.msg);
            continue;
        }
        log_warn("lease was lost; re-publishing this host's endpoints", "lease=%" PRId64, fresh);
        f->lease = fresh;
        republish_all(f);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}
