/*
 * etcd_watch_set.c: a set of list+watches on one gRPC stream (etcd_watch_set.h): the
 * API, the prefix table, listings and delivery, and the set's thread.
 *
 * add and remove only change the table (under `lock`) and wake the loop; the set's
 * thread does the rest in its pass between two runs of the gRPC loop: it frees the
 * removed entries (cancelling their watches), lists the prefixes that need it through
 * the gateway client (SYNC_BEGIN, PUT..., SYNC_END at revision R, one batch), and adds
 * a watch on the stream from last revision + 1 for every prefix without one (a prefix
 * added from a revision gets an empty listing instead, delivered just before). So a
 * listing and its prefix's events are never interleaved, and the stream's answers for
 * other prefixes wait while a listing runs (a few at most per pass). Every batch goes
 * through set_deliver, which drops a removed prefix's batches under `deliver_lock`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/etcd_watch_set_internal.h"

#define LOOP_WAIT_MS 200 /* how long stop (and a due listing) may wait for the loop */
#define LISTS_PER_PASS 4 /* listings between two runs of the loop */

/* The set whose callback this thread is in, if any: remove must not wait for it. */
static _Thread_local const struct etcd_watch_set *delivering;

void set_deliver(struct etcd_watch_set *s, struct set_entry *e, const struct etcd_event *events,
                 size_t count)
{
    pthread_mutex_lock(&s->deliver_lock);
    pthread_mutex_lock(&s->lock);
    bool removed = e && e->removed;
    pthread_mutex_unlock(&s->lock);
    if (!removed) {
        delivering = s;
        s->fn(s->ctx, e ? e->prefix : NULL, events, count);
        delivering = NULL;
    }
    pthread_mutex_unlock(&s->deliver_lock);
}

struct set_entry *set_entry_by_id(struct etcd_watch_set *s, int64_t id)
{
    struct set_entry *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->count && !found; i++)
        if (s->entries[i]->id == id)
            found = s->entries[i];
    pthread_mutex_unlock(&s->lock);
    return found;
}

void set_entries_reset(struct etcd_watch_set *s, bool relist)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->count; i++) {
        s->entries[i]->id = 0;
        s->entries[i]->need_list |= relist;
    }
    pthread_mutex_unlock(&s->lock);
}

size_t set_live_count(struct etcd_watch_set *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->count; i++)
        n += !s->entries[i]->removed;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void set_sleep(struct etcd_watch_set *s, long ms)
{
    clock_sleep_unless(&s->lock, &s->cond, &s->stop, ms);
}

static void entry_free(struct set_entry *e)
{
    if (e)
        free(e->prefix);
    free(e);
}

/* The removed entries out of the table: their watches cancelled, their memory freed. */
static void drop_removed(struct etcd_watch_set *s)
{
    for (;;) {
        struct set_entry *gone = NULL;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->count && !gone; i++)
            if (s->entries[i]->removed) {
                gone = s->entries[i];
                memmove(&s->entries[i], &s->entries[i + 1], (s->count - i - 1) * sizeof(gone));
                s->count--;
            }
        pthread_mutex_unlock(&s->lock);
        if (!gone)
            return;
        struct weft_err err = {0};
        if (gone->id && s->stream) /* its late events find no entry: dropped */
            etcd_grpc_watch_cancel(s->stream, gone->id, &err);
        entry_free(gone);
    }
}

/* The first live entry that wants a listing (list) or a watch (!list) now. */
static struct set_entry *next_due(struct etcd_watch_set *s, bool list, long now)
{
    struct set_entry *due = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->count && !due; i++) {
        struct set_entry *e = s->entries[i];
        if (!e->removed && e->not_before <= now && e->id == 0 && e->need_list == list)
            due = e;
    }
    pthread_mutex_unlock(&s->lock);
    return due;
}

/* A listing failed: a store that did not answer holds back every listing, a refusal
 * only this prefix's. */
static void list_failed(struct etcd_watch_set *s, struct set_entry *e, const struct weft_err *err)
{
    long now = clock_monotonic_ms();
    bool unreachable = etcd_err_unreachable(err);
    if (!(unreachable ? s->list_backoff : e->backoff)) /* the first failure of a row */
        log_warn("store watch listing failed", "prefix=%s transport=grpc error=\"%s\"",
                 e->prefix, err->msg);
    if (unreachable) {
        s->list_backoff = s->list_backoff ? s->list_backoff * 2 : SET_BACKOFF_MIN_MS;
        if (s->list_backoff > SET_BACKOFF_MAX_MS)
            s->list_backoff = SET_BACKOFF_MAX_MS;
        s->list_after = now + s->list_backoff;
        return;
    }
    e->backoff = e->backoff ? e->backoff * 2 : SET_BACKOFF_MIN_MS;
    if (e->backoff > SET_BACKOFF_MAX_MS)
        e->backoff = SET_BACKOFF_MAX_MS;
    e->not_before = now + e->backoff;
}

/* etcd_list_prefix's batch, for the entry it lists. */
struct listing {
    struct etcd_watch_set *set;
    struct set_entry *entry;
};

static void on_listing(void *ctx, const struct etcd_event *events, size_t count)
{
    struct listing *l = ctx;
    set_deliver(l->set, l->entry, events, count);
}

/* e's prefix as SYNC_BEGIN, PUT..., SYNC_END, through the gateway client. */
static int entry_list(struct etcd_watch_set *s, struct set_entry *e, struct weft_err *err)
{
    struct listing l = {.set = s, .entry = e};
    if (etcd_list_prefix(s->etcd, e->prefix, &s->stop, on_listing, &l, &e->last_rev, err) < 0)
        return -1;
    e->need_list = false;
    e->empty_sync = false; /* listed after all (an outage came first): nothing empty to say */
    if (e->last_rev > atomic_load(&s->published_rev))
        atomic_store(&s->published_rev, e->last_rev);
    return 0;
}

/* The table's pass: removed entries dropped, a few listings, watches added. */
static void tend_entries(struct etcd_watch_set *s)
{
    drop_removed(s);
    if (s->reopen || !s->stream)
        return;
    struct set_entry *e;
    long now = clock_monotonic_ms();
    for (int n = 0; n < LISTS_PER_PASS && now >= s->list_after &&
                    !atomic_load(&s->stop) && (e = next_due(s, true, now));
         n++) {
        struct weft_err err = {0};
        if (entry_list(s, e, &err) < 0) {
            if (!atomic_load(&s->stop))
                list_failed(s, e, &err);
            break;
        }
        s->list_backoff = 0;
        e->backoff = 0;
        now = clock_monotonic_ms();
    }
    while ((e = next_due(s, false, now))) {
        struct weft_err err = {0};
        if (e->empty_sync) { /* added from a revision: what a listing of nothing says */
            struct etcd_event sync[2] = {
                {.type = ETCD_EVENT_SYNC_BEGIN, .revision = e->last_rev},
                {.type = ETCD_EVENT_SYNC_END, .revision = e->last_rev},
            };
            e->empty_sync = false;
            set_deliver(s, e, sync, 2);
        }
        if (etcd_grpc_watch_add(s->stream, e->prefix, NULL, e->last_rev + 1, &e->id, &err) < 0) {
            /* The stream ended, or no memory: a new one watches every prefix again. */
            snprintf(s->why, sizeof(s->why), "watching %.100s: %.100s", e->prefix, err.msg);
            s->reopen = true;
            return;
        }
    }
}

/* A reopen asked for (or the first open): a new stream, after a backoff when the
 * last one never answered. false: stop, or sleep and come back. */
static bool reopen(struct etcd_watch_set *s, long *backoff)
{
    struct weft_err err = {0};
    if (s->stream && s->why[0])
        log_info("store watch stream reopens", "transport=grpc prefixes=%zu relist=%d error=\"%s\"",
                 set_live_count(s), s->relist_all, s->why);
    bool was_answered = s->stream && s->answered;
    if (!was_answered && s->stream)
        set_sleep(s, *backoff); /* a stream that never answered: do not spin */
    if (atomic_load(&s->stop))
        return false;
    s->why[0] = '\0';
    if (set_restart(s, &err) < 0) {
        if (atomic_load(&s->stop))
            return false;
        set_stream_down(s);
        set_outage_check(s, err.msg);
        set_sleep(s, *backoff);
        *backoff = *backoff * 2 > SET_BACKOFF_MAX_MS ? SET_BACKOFF_MAX_MS : *backoff * 2;
        return false;
    }
    if (was_answered)
        *backoff = SET_BACKOFF_MIN_MS;
    return true;
}

static void *set_main(void *arg)
{
    struct etcd_watch_set *s = arg;
    long backoff = SET_BACKOFF_MIN_MS;
    s->reopen = true;
    s->down_since = clock_monotonic_ms();
    while (!atomic_load(&s->stop)) {
        struct weft_err err = {0};
        if (s->reopen && !reopen(s, &backoff))
            continue;
        tend_entries(s);
        if (s->reopen)
            continue;
        if (etcd_grpc_loop_run(s->loop, LOOP_WAIT_MS, &err) < 0) {
            snprintf(s->why, sizeof(s->why), "%.200s", err.msg);
            s->reopen = true;
            continue;
        }
        if (s->answered)
            backoff = SET_BACKOFF_MIN_MS;
        set_outage_check(s, "no stream to any endpoint");
        set_probe(s);
    }
    return NULL;
}

/* Wakes the set's thread out of the gRPC loop's poll. */
static void wake_locked(struct etcd_watch_set *s)
{
    if (s->loop)
        etcd_grpc_loop_wakeup(s->loop);
}

static struct set_entry *find_locked(struct etcd_watch_set *s, const char *prefix)
{
    for (size_t i = 0; i < s->count; i++)
        if (!s->entries[i]->removed && strcmp(s->entries[i]->prefix, prefix) == 0)
            return s->entries[i];
    return NULL;
}

static int append_locked(struct etcd_watch_set *s, struct set_entry *e, struct weft_err *err)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct set_entry **more = realloc(s->entries, cap * sizeof(*more));
        if (!more)
            return weft_err_set(err, -ENOMEM, "out of memory");
        s->entries = more;
        s->cap = cap;
    }
    s->entries[s->count++] = e;
    return 0;
}

/* add (revision 0: listed first) and add_from. */
static int add_entry(struct etcd_watch_set *s, const char *prefix, int64_t revision,
                     struct weft_err *err)
{
    if (!prefix || !prefix[0])
        return weft_err_set(err, -EINVAL, "store watch set: an empty prefix");
    struct set_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->prefix = strdup(prefix))) {
        entry_free(e);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    e->need_list = revision == 0;
    e->empty_sync = revision > 0;
    e->last_rev = revision > 0 ? revision - 1 : 0;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->stop))
        rc = weft_err_set(err, -ESHUTDOWN, "store watch set: stopping");
    else if (find_locked(s, prefix))
        rc = 1;
    else if ((rc = append_locked(s, e, err)) == 0)
        wake_locked(s);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        entry_free(e);
    return rc;
}

int etcd_watch_set_add(struct etcd_watch_set *s, const char *prefix, struct weft_err *err)
{
    return add_entry(s, prefix, 0, err);
}

int etcd_watch_set_add_from(struct etcd_watch_set *s, const char *prefix, int64_t revision,
                            struct weft_err *err)
{
    if (revision < 1)
        return weft_err_set(err, -EINVAL, "store watch set: a start revision below 1");
    return add_entry(s, prefix, revision, err);
}

bool etcd_watch_set_remove(struct etcd_watch_set *s, const char *prefix)
{
    bool inside = delivering == s; /* the callback: no other batch is under way */
    if (!inside)
        pthread_mutex_lock(&s->deliver_lock);
    pthread_mutex_lock(&s->lock);
    struct set_entry *e = find_locked(s, prefix ? prefix : "");
    if (e) {
        e->removed = true;
        wake_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
    if (!inside)
        pthread_mutex_unlock(&s->deliver_lock);
    return e != NULL;
}

void etcd_watch_set_progress(const struct etcd_watch_set *s, int64_t *revision, bool *streaming)
{
    *revision = atomic_load(&s->published_rev);
    *streaming = atomic_load(&s->streaming);
}

void etcd_watch_set_grace_ms(struct etcd_watch_set *s, long grace_ms)
{
    atomic_store(&s->grace_ms, grace_ms > 0 ? grace_ms : SET_OUTAGE_GRACE_MS);
}

static void set_free(struct etcd_watch_set *s)
{
    etcd_grpc_watch_close(s->stream);
    etcd_grpc_loop_free(s->loop);
    for (size_t i = 0; i < s->count; i++)
        entry_free(s->entries[i]);
    free(s->entries);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->deliver_lock);
    free(s->endpoints);
    free(s);
}

int etcd_watch_set_start(struct etcd *etcd, etcd_watch_set_fn fn, void *ctx,
                         struct etcd_watch_set **out, struct weft_err *err)
{
    *out = NULL;
    if (!etcd || !fn)
        return weft_err_set(err, -EINVAL, "store watch set: no store or no callback");
    struct etcd_watch_set *s = calloc(1, sizeof(*s));
    if (!s)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *s = (struct etcd_watch_set){.etcd = etcd, .fn = fn, .ctx = ctx};
    atomic_init(&s->stop, false);
    atomic_init(&s->grace_ms, SET_OUTAGE_GRACE_MS);
    atomic_init(&s->streaming, false);
    atomic_init(&s->published_rev, 0);
    pthread_mutex_init(&s->deliver_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    clock_cond_init_monotonic(&s->cond);
    if (etcd->watch_endpoints && !(s->endpoints = strdup(etcd->watch_endpoints))) {
        set_free(s);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = pthread_create(&s->thread, NULL, set_main, s);
    if (rc != 0) {
        set_free(s);
        return weft_err_set(err, -rc, "starting the store watch thread: %s", strerror(rc));
    }
    *out = s;
    return 0;
}

void etcd_watch_set_stop(struct etcd_watch_set *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->cond);
    wake_locked(s);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    set_free(s);
}
