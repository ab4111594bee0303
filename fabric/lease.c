/*
 * lease.c: the lease keeper thread. Refreshes this host's liveness lease every
 * TTL/3, runs the reaper of dead hosts' addresses at its own pace, and when the
 * lease was lost takes a new one and re-publishes what this host owns.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>

#include "common/clock.h"
#include "common/log.h"

/* Re-publishes everything this host owns under the (new) lease. */
static void republish_all(struct fabric *f)
{
    struct weft_err err;
    if (publish_alive(f, &err) < 0)
        log_error("re-publishing host record failed", "error=\"%s\"", err.msg);
    for (struct local_network *n = f->networks; n; n = n->next) {
        if (n->closing)
            continue; /* its delete withdraws its records, without the lock */
        if (publish_member(f, f->lease, n, &err) < 0)
            log_error("re-publishing member failed", "subnet=%s error=\"%s\"", n->subnet, err.msg);
        for (struct local_endpoint *e = n->endpoints; e; e = e->next) {
            if (e->publication != PUBLICATION_DONE || e->removing)
                continue; /* the publisher has it, with the new lease; or it is going */
            assert_address(f, n, e);
            if (publish_peer(f, f->lease, n, e, &err) < 0) {
                log_error("re-publishing endpoint failed; the publisher retries",
                          "endpoint=%.12s error=\"%s\"", e->id, err.msg);
                e->publication = PUBLICATION_PENDING;
                pthread_cond_signal(&f->publish_work);
            }
        }
    }
}

void *lease_keeper(void *arg)
{
    struct fabric *f = arg;
    int interval = f->lease_ttl / 3 > 0 ? f->lease_ttl / 3 : 1;
    if (f->reaper_interval < interval)
        interval = f->reaper_interval;
    long last_reap_ms = 0;
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
         * 10 000 records every 5 s). */
        struct weft_err reap_err;
        if (rc == 0 && clock_monotonic_ms() - last_reap_ms >= f->reaper_interval * 1000L) {
            last_reap_ms = clock_monotonic_ms();
            if (ipam_reap(f->etcd, f->reaper, NULL, &reap_err) < 0)
                log_warn("reclaiming dead hosts' addresses failed", "error=\"%s\"", reap_err.msg);
        }
        pthread_mutex_lock(&f->lock);
        if (rc < 0) {
            log_warn("lease refresh failed", "error=\"%s\"", err.msg);
            continue;
        }
        if (alive || f->stopping)
            continue;
        /* Cut off longer than the TTL: our records are gone; take a new lease and re-assert. */
        int64_t fresh;
        if (etcd_lease_grant(f->etcd, f->lease_ttl, &fresh, &err) < 0) {
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
