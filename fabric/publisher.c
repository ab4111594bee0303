/*
 * publisher.c: the publisher thread. CreateEndpoint answers once the veth
 * exists; the publisher then writes every pending endpoint's records in one
 * transaction, outside the lock (protocol 1 in fabric_internal.h).
 */
#include "fabric/fabric_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

/* Endpoints per transaction: two puts each, within etcd's default of 128
 * operations per transaction. */
#define PUBLISH_BATCH_MAX 48
#define PUBLISH_RETRY_MIN_MS 100
/* After a CreateEndpoint, the publisher lets its Join through first (settle_left);
 * this also gathers a burst of creates into one transaction. */
#define PUBLISH_SETTLE_MS 2
#define PUBLISH_RETRY_MAX_MS 2000

struct publish_item {
    struct local_network *net;
    struct local_endpoint *ep;
};

/* Marks up to PUBLISH_BATCH_MAX pending endpoints in flight. Under the lock. */
static size_t take_pending(struct fabric *f, struct publish_item *items)
{
    size_t n = 0;
    for (struct local_network *net = f->networks; net; net = net->next)
        for (struct local_endpoint *ep = net->endpoints; ep && n < PUBLISH_BATCH_MAX; ep = ep->next)
            if (ep->publication == PUBLICATION_PENDING && !ep->removing) {
                ep->publication = PUBLICATION_IN_FLIGHT;
                items[n++] = (struct publish_item){net, ep};
            }
    return n;
}

/* Writes a batch outside the lock (its endpoints are IN_FLIGHT, so nobody removes
 * them, and their fields do not change). Returns -1 when the store did not answer:
 * the caller puts them back to pending. Each key is this host's own (store/keys.h),
 * so the transaction has no compare to fail: another host's claim of an address
 * is settled by age on every host (peers.c), not here. */
static int publish_batch(struct fabric *f, struct publish_item *items, size_t n, int64_t lease,
                         struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (txn_add_endpoint(txn, f, lease, items[i].net, items[i].ep) < 0) {
            etcd_txn_free(txn);
            return weft_err_set(err, -ENOMEM, "out of memory");
        }
    bool succeeded = false;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    return rc;
}

/* Member records of this host that someone else deleted or replaced, written back
 * with the lock released: f->changes, held meanwhile, keeps a network from being
 * deleted while its member is written. Called and returns with the lock held. */
static void rewrite_lost_members(struct fabric *f)
{
    bool any = false;
    for (struct local_network *net = f->networks; net; net = net->next)
        any |= net->member_lost && !net->closing;
    if (!any)
        return;
    pthread_mutex_unlock(&f->lock); /* f->changes comes first */
    pthread_mutex_lock(&f->changes);
    pthread_mutex_lock(&f->lock);
    for (struct local_network *net = f->networks; net; net = net->next) {
        if (!net->member_lost || net->closing)
            continue;
        net->member_lost = false;
        int64_t lease = f->lease;
        pthread_mutex_unlock(&f->lock);
        struct weft_err err;
        int rc = publish_member(f, lease, net, &err);
        pthread_mutex_lock(&f->lock);
        if (rc < 0)
            log_error("writing back this host's member record failed", "subnet=%s error=\"%s\"",
                      net->subnet, err.msg);
        else
            log_info("member record of this host written back", "subnet=%s", net->subnet);
    }
    pthread_mutex_unlock(&f->changes);
}

/*
 * CreateEndpoint answers once the veth exists; this thread then writes the
 * endpoint's host record and its published peer, every endpoint pending at that
 * moment in one transaction (a burst of N endpoints costs one store round trip
 * and one fsync rather than N). Docker's own overlay likewise publishes its
 * peers after answering. Address allocation (RequestAddress) stays synchronous:
 * it is what must never be wrong. While the store is away, pending endpoints are
 * retried with backoff; CreateEndpoint refuses new ones until it answers again.
 */
void *publisher_main(void *arg)
{
    struct fabric *f = arg;
    struct publish_item items[PUBLISH_BATCH_MAX];
    long retry_ms = 0;
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        long settle = settle_left(f, PUBLISH_SETTLE_MS);
        if (settle) {
            wait_on(f, &f->publish_work, settle);
            continue;
        }
        rewrite_lost_members(f);
        size_t n = take_pending(f, items);
        if (n == 0) {
            if (f->stopping)
                break;
            wait_on(f, &f->publish_work, 0);
            continue;
        }
        int64_t lease = f->lease;
        pthread_mutex_unlock(&f->lock);
        struct weft_err err;
        int rc = publish_batch(f, items, n, lease, &err);
        pthread_mutex_lock(&f->lock);
        for (size_t i = 0; i < n; i++) {
            struct local_endpoint *ep = items[i].ep;
            ep->publication = rc < 0 ? PUBLICATION_PENDING : PUBLICATION_DONE;
            if (ep->rewrite && ep->publication == PUBLICATION_DONE)
                ep->publication = PUBLICATION_PENDING;
            ep->rewrite = false;
        }
        pthread_cond_broadcast(&f->publish_done);
        if (rc == 0) {
            if (warned)
                log_info("store answers again; pending endpoints published", NULL);
            retry_ms = 0;
            warned = false;
            continue;
        }
        if (!warned)
            log_warn("publishing endpoints failed; retrying", "count=%zu error=\"%s\"", n, err.msg);
        warned = true;
        if (f->stopping) {
            log_warn("stopping with endpoints unpublished; the next start publishes them",
                     "count=%zu", n);
            break;
        }
        retry_ms = retry_ms ? retry_ms * 2 : PUBLISH_RETRY_MIN_MS;
        if (retry_ms > PUBLISH_RETRY_MAX_MS)
            retry_ms = PUBLISH_RETRY_MAX_MS;
        wait_on(f, &f->publish_work, retry_ms);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}
