/*
 * fake_etcd_watch_set.c: store/etcd_watch_set.h on the fake store, for fabric's
 * per-member watches. Each prefix is a fake list+watch (fake_etcd_watch.c: a listing
 * first, then every write under it, in order); the set hands their batches to its one
 * callback under one delivery lock, so, as with the real set, no two batches are
 * delivered at once, a removal from another thread waits for the batch under way,
 * and one from the callback does not. A removed prefix's watch stops delivering at
 * once and is stopped with the set (stopping it from a callback could wait on a
 * watch thread that waits for the delivery lock). A store outage reaches the
 * callback as DISCONNECTED with no prefix, once per prefix. A prefix added from a
 * revision is listed all the same (a listing holds whatever the revision would give:
 * the fake's writers, unlike a daemon, put a member record and its joined/ entry
 * apart); the calls are counted for the tests (fake_store.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_watch_set.h"
#include "tests/fakes/fake_store.h"

struct fake_set_entry {
    struct fake_set_entry *next;
    struct etcd_watch_set *set;
    char *prefix;
    bool removed; /* under the set's lock */
    struct etcd_watch *watch;
};

struct etcd_watch_set {
    struct etcd *etcd;
    etcd_watch_set_fn fn;
    void *ctx;
    pthread_mutex_t deliver; /* held around every callback */
    pthread_mutex_t lock;    /* entries, removed, stopping */
    struct fake_set_entry *entries;
    bool stopping;
};

static _Thread_local const struct etcd_watch_set *delivering;
static atomic_size_t adds_from; /* etcd_watch_set_add_from calls that added a prefix */

size_t fake_store_watch_adds_from(void)
{
    return atomic_load(&adds_from);
}

static void feed(void *ctx, const struct etcd_event *events, size_t count)
{
    struct fake_set_entry *e = ctx;
    struct etcd_watch_set *s = e->set;
    pthread_mutex_lock(&s->deliver);
    pthread_mutex_lock(&s->lock);
    bool live = !e->removed && !s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (live) {
        bool outage = count == 1 && events[0].type == ETCD_EVENT_DISCONNECTED;
        delivering = s;
        s->fn(s->ctx, outage ? NULL : e->prefix, events, count);
        delivering = NULL;
    }
    pthread_mutex_unlock(&s->deliver);
}

int etcd_watch_set_start(struct etcd *etcd, etcd_watch_set_fn fn, void *ctx,
                         struct etcd_watch_set **out, struct weft_err *err)
{
    struct etcd_watch_set *s = calloc(1, sizeof(*s));
    if (!s)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *s = (struct etcd_watch_set){.etcd = etcd, .fn = fn, .ctx = ctx};
    pthread_mutex_init(&s->deliver, NULL);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

static struct fake_set_entry *find_locked(struct etcd_watch_set *s, const char *prefix)
{
    for (struct fake_set_entry *e = s->entries; e; e = e->next)
        if (!e->removed && strcmp(e->prefix, prefix) == 0)
            return e;
    return NULL;
}

int etcd_watch_set_add(struct etcd_watch_set *s, const char *prefix, struct weft_err *err)
{
    if (!prefix || !prefix[0])
        return weft_err_set(err, -EINVAL, "store watch set: an empty prefix");
    pthread_mutex_lock(&s->lock);
    int rc = s->stopping              ? weft_err_set(err, -ESHUTDOWN, "store watch set: stopping")
             : find_locked(s, prefix) ? 1
                                      : 0;
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        return rc;
    struct fake_set_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->prefix = strdup(prefix))) {
        free(e);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    e->set = s;
    if (etcd_watch_start(s->etcd, prefix, feed, e, &e->watch, err) < 0) {
        free(e->prefix);
        free(e);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    e->next = s->entries;
    s->entries = e;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int etcd_watch_set_add_from(struct etcd_watch_set *s, const char *prefix, int64_t revision,
                            struct weft_err *err)
{
    if (revision < 1)
        return weft_err_set(err, -EINVAL, "store watch set: a start revision below 1");
    int rc = etcd_watch_set_add(s, prefix, err);
    if (rc == 0)
        atomic_fetch_add(&adds_from, 1);
    return rc;
}

bool etcd_watch_set_remove(struct etcd_watch_set *s, const char *prefix)
{
    bool inside = delivering == s;
    if (!inside)
        pthread_mutex_lock(&s->deliver);
    pthread_mutex_lock(&s->lock);
    struct fake_set_entry *e = find_locked(s, prefix ? prefix : "");
    if (e)
        e->removed = true;
    pthread_mutex_unlock(&s->lock);
    if (!inside)
        pthread_mutex_unlock(&s->deliver);
    return e != NULL;
}

void etcd_watch_set_stop(struct etcd_watch_set *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    struct fake_set_entry *e = s->entries;
    s->entries = NULL;
    pthread_mutex_unlock(&s->lock);
    while (e) {
        struct fake_set_entry *next = e->next;
        etcd_watch_stop(e->watch);
        free(e->prefix);
        free(e);
        e = next;
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->deliver);
    free(s);
}

void etcd_watch_set_progress(const struct etcd_watch_set *s, int64_t *revision, bool *streaming)
{
    (void)s;
    *revision = 0;
    *streaming = true;
}

void etcd_watch_set_grace_ms(struct etcd_watch_set *s, long grace_ms)
{
    (void)s;
    (void)grace_ms;
}
