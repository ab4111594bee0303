/*
 * fake_store_internal.h: the fake store's state, shared by fake_etcd.c (keys,
 * transactions, leases) and fake_etcd_watch.c (watch threads and their queues).
 * Everything is guarded by fs.lock; every change ends with fs_changed().
 */
#ifndef WEFT_TEST_FAKE_STORE_INTERNAL_H
#define WEFT_TEST_FAKE_STORE_INTERNAL_H

#include <pthread.h>

#include "store/etcd.h"
#include "tests/fakes/fake_store.h"

/* Events of one write, queued for the watches: a batch owns its strings. */
struct fs_batch {
    struct fs_batch *next;
    struct etcd_event *events;
    size_t count, cap;
};

struct fs {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned long generation;
    struct etcd_kv *kvs; /* sorted by key */
    size_t count, cap;
    int64_t revision;
    int64_t *leases; /* alive leases */
    size_t lease_count, lease_cap;
    int64_t next_lease;
    bool down;
    bool failed; /* the last call failed: etcd_unreachable answers true */
    bool hold;
    bool hold_watches; /* watches deliver nothing meanwhile (a member gone silent) */
    int held;
    struct etcd_watch *watches;
};

extern struct fs fs;

static inline void fs_changed(void)
{
    fs.generation++;
    pthread_cond_broadcast(&fs.changed);
}

/* Adds an event to batch (copies the strings); -1 when out of memory. created: the
 * key's create revision (a PUT's), else 0. */
int fs_batch_add(struct fs_batch *batch, enum etcd_event_type type, const char *key,
                 const char *value, int64_t revision, int64_t created);
void fs_batch_free(struct fs_batch *batch);
/* Queues, for each watch, the events of batch under its prefix; frees batch's events. */
void fs_publish(struct fs_batch *batch);
/* Queues a full listing (SYNC_BEGIN, PUT..., SYNC_END), or DISCONNECTED, for every watch. */
void fs_relist_all(void);
void fs_disconnect_all(void);

/* Keys, under fs.lock (fake_etcd.c). kv_find: the index of key, or where it would go. */
size_t fs_kv_find(const char *key, bool *found);
bool fs_lease_alive(int64_t lease); /* 0 (no lease) counts as alive */
/* Sets key at revision rev, its event into batch; -1 when out of memory. */
int fs_kv_put(const char *key, const char *value, int64_t lease, int64_t rev,
              struct fs_batch *batch);
/* Deletes key, or every key starting with it; how many went. */
size_t fs_kv_delete(const char *key, bool prefix, int64_t rev, struct fs_batch *batch);
bool fs_prefix_empty(const char *prefix);
/* A round trip: call_start counts it (fault.h) and takes fs.lock, or fails as an
 * unreachable store; call_end publishes batch (may be NULL), unlocks, returns rc. */
int fs_call_start(struct weft_err *err);
int fs_call_end(struct fs_batch *batch, int rc);

#endif
