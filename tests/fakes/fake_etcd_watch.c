/*
 * fake_etcd_watch.c: etcd.h's list+watch on the fake store, and the waits of
 * fake_store.h. A write queues its events (one batch per write) on every watch
 * whose prefix they fall under, under fs.lock; each watch has a thread that
 * takes batches off its queue and calls the callback without any lock held.
 * The callback never runs on the writer's thread: fabric writes while holding
 * its lock, and its callback takes that lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "tests/fakes/fake_store_internal.h"
#include "tests/fakes/fault.h"
#include "store/etcd_status.h"

struct etcd_watch {
    struct etcd_watch *next;
    char *prefix;
    etcd_watch_fn fn;
    void *ctx;
    pthread_t thread;
    struct fs_batch *head, *tail; /* queued batches, oldest first */
    bool busy;                    /* the callback runs */
    bool stopping;
};

int fs_batch_add(struct fs_batch *batch, enum etcd_event_type type, const char *key,
                 const char *value, int64_t revision, int64_t created)
{
    if (batch->count == batch->cap) {
        size_t cap = batch->cap ? batch->cap * 2 : 8;
        struct etcd_event *events = realloc(batch->events, cap * sizeof(*events));
        if (!events)
            return -1;
        batch->events = events;
        batch->cap = cap;
    }
    struct etcd_event *ev = &batch->events[batch->count];
    *ev = (struct etcd_event){.type = type, .revision = revision, .create_revision = created};
    ev->key = key ? strdup(key) : NULL;
    ev->value = value ? strdup(value) : NULL;
    if ((key && !ev->key) || (value && !ev->value)) {
        free((char *)ev->key);
        free((char *)ev->value);
        return -1;
    }
    batch->count++;
    return 0;
}

void fs_batch_free(struct fs_batch *batch)
{
    for (size_t i = 0; i < batch->count; i++) {
        free((char *)batch->events[i].key);
        free((char *)batch->events[i].value);
    }
    free(batch->events);
    batch->events = NULL;
    batch->count = batch->cap = 0;
}

static void enqueue(struct etcd_watch *w, struct fs_batch *batch)
{
    struct fs_batch *copy = malloc(sizeof(*copy));
    if (!copy) {
        fs_batch_free(batch);
        return;
    }
    *copy = *batch;
    copy->next = NULL;
    if (w->tail)
        w->tail->next = copy;
    else
        w->head = copy;
    w->tail = copy;
    fs_changed();
}

void fs_publish(struct fs_batch *batch)
{
    /* While down, the watches hear nothing: the listing after the outage tells. */
    for (struct etcd_watch *w = fs.down ? NULL : fs.watches; w; w = w->next) {
        struct fs_batch mine = {0};
        for (size_t i = 0; i < batch->count; i++) {
            const struct etcd_event *ev = &batch->events[i];
            if (strncmp(ev->key, w->prefix, strlen(w->prefix)) == 0)
                fs_batch_add(&mine, ev->type, ev->key, ev->value, ev->revision,
                             ev->create_revision);
        }
        if (mine.count)
            enqueue(w, &mine);
    }
    fs_batch_free(batch);
}

/* SYNC_BEGIN, a PUT per key under the prefix, SYNC_END: one batch. */
static void relist(struct etcd_watch *w)
{
    struct fs_batch batch = {0};
    fs_batch_add(&batch, ETCD_EVENT_SYNC_BEGIN, NULL, NULL, fs.revision, 0);
    bool found;
    for (size_t i = fs_kv_find(w->prefix, &found); i < fs.count; i++) {
        if (strncmp(fs.kvs[i].key, w->prefix, strlen(w->prefix)) != 0)
            break;
        fs_batch_add(&batch, ETCD_EVENT_PUT, fs.kvs[i].key, fs.kvs[i].value,
                     fs.kvs[i].mod_revision, fs.kvs[i].create_revision);
    }
    fs_batch_add(&batch, ETCD_EVENT_SYNC_END, NULL, NULL, fs.revision, 0);
    enqueue(w, &batch);
}

void fs_relist_all(void)
{
    for (struct etcd_watch *w = fs.watches; w; w = w->next)
        relist(w);
}

void fs_disconnect_all(void)
{
    for (struct etcd_watch *w = fs.watches; w; w = w->next) {
        struct fs_batch batch = {0};
        if (fs_batch_add(&batch, ETCD_EVENT_DISCONNECTED, NULL, NULL, fs.revision, 0) == 0)
            enqueue(w, &batch);
    }
}

static void *watch_main(void *arg)
{
    struct etcd_watch *w = arg;
    pthread_mutex_lock(&fs.lock);
    for (;;) {
        while ((!w->head || fs.hold_watches) && !w->stopping)
            pthread_cond_wait(&fs.changed, &fs.lock);
        if (w->stopping)
            break;
        struct fs_batch *batch = w->head;
        if (!(w->head = batch->next))
            w->tail = NULL;
        w->busy = true;
        pthread_mutex_unlock(&fs.lock);
        w->fn(w->ctx, batch->events, batch->count);
        fs_batch_free(batch);
        free(batch);
        pthread_mutex_lock(&fs.lock);
        w->busy = false;
        fs_changed();
    }
    pthread_mutex_unlock(&fs.lock);
    return NULL;
}

int etcd_watch_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                     struct etcd_watch **out, struct weft_err *err)
{
    (void)etcd;
    struct etcd_watch *w = calloc(1, sizeof(*w));
    if (!w || !(w->prefix = strdup(prefix))) {
        free(w);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    w->fn = fn;
    w->ctx = ctx;
    if (fs_call_start(err) < 0) {
        free(w->prefix);
        free(w);
        return -1;
    }
    /* The listing is queued under the lock: every later write comes after it. */
    relist(w);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        struct fs_batch *b = w->head;
        fs_batch_free(b);
        free(b);
        free(w->prefix);
        free(w);
        return fs_call_end(NULL, weft_err_set(err, -EAGAIN, "cannot start the watch thread"));
    }
    w->next = fs.watches;
    fs.watches = w;
    *out = w;
    return fs_call_end(NULL, 0);
}

void etcd_watch_stop(struct etcd_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&fs.lock);
    w->stopping = true;
    for (struct etcd_watch **p = &fs.watches; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
    pthread_join(w->thread, NULL);
    while (w->head) {
        struct fs_batch *b = w->head;
        w->head = b->next;
        fs_batch_free(b);
        free(b);
    }
    free(w->prefix);
    free(w);
}

/* ---------- waits ---------- */

static bool drained(const void *ctx)
{
    (void)ctx;
    for (struct etcd_watch *w = fs.watches; w; w = w->next)
        if (w->head || w->busy)
            return false;
    return true;
}

static bool key_state(const void *ctx)
{
    const char *const *args = ctx; /* key, "present" or NULL */
    bool found;
    fs_kv_find(args[0], &found);
    return found == (args[1] != NULL);
}

static bool enough_held(const void *ctx)
{
    return fs.held >= *(const int *)ctx;
}

/* Waits, under fs.lock, until cond(ctx) holds or the deadline passes. */
static bool wait_for(bool (*cond)(const void *), const void *ctx, long timeout_ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&fs.lock);
    while (!cond(ctx) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&fs.changed, &fs.lock, &until);
    bool ok = cond(ctx);
    pthread_mutex_unlock(&fs.lock);
    return ok;
}

bool fake_store_wait(bool (*cond)(void *ctx), void *ctx, long timeout_ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, timeout_ms);
    int rc = 0;
    bool ok = false;
    pthread_mutex_lock(&fs.lock);
    /* cond reads through fake_store.h, which locks: it runs unlocked, and the
     * generation tells whether a change came meanwhile. */
    while (rc != ETIMEDOUT) {
        unsigned long seen = fs.generation;
        pthread_mutex_unlock(&fs.lock);
        ok = cond(ctx);
        pthread_mutex_lock(&fs.lock);
        if (ok)
            break;
        while (fs.generation == seen && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&fs.changed, &fs.lock, &until);
    }
    pthread_mutex_unlock(&fs.lock);
    return ok;
}

bool fake_store_wait_drained(long timeout_ms)
{
    return wait_for(drained, NULL, timeout_ms);
}

bool fake_store_wait_key(const char *key, bool present, long timeout_ms)
{
    const char *args[2] = {key, present ? "present" : NULL};
    return wait_for(key_state, args, timeout_ms);
}

void fake_store_hold_txns(bool hold)
{
    pthread_mutex_lock(&fs.lock);
    fs.hold = hold;
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

void fake_store_hold_watches(bool hold)
{
    pthread_mutex_lock(&fs.lock);
    fs.hold_watches = hold;
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

bool fake_store_wait_held(int n, long timeout_ms)
{
    return wait_for(enough_held, &n, timeout_ms);
}

/* etcd_status.h on the fake store: one member, always answering, the watch streaming. */
void etcd_status_read(struct etcd *etcd, const char *prefix, int64_t lease,
                      const struct etcd_watch *watch, struct etcd_status *out)
{
    (void)etcd;
    (void)prefix;
    (void)watch;
    memset(out, 0, sizeof(*out));
    out->member_count = 1;
    snprintf(out->members[0], sizeof(out->members[0]), "fake");
    out->reachable = true;
    out->lease_ttl_left = lease ? 1 : -1;
    out->watch_streaming = true;
}
