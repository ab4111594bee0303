/*
 * etcd_watch_set_internal.h: what the files of the watch set share (see
 * etcd_watch_set.h for the contract). Only store/etcd_watch_set*.c include this.
 *
 *   etcd_watch_set.c         the API, the prefix table, listings, delivery, the thread.
 *   etcd_watch_set_stream.c  the stream: answers, (re)opening, progress probes, outages.
 *
 * Locks: `lock` guards the table (entries, count, each entry's `removed`) and the
 * loop pointer (other threads wake the loop through it); nothing blocks under it and
 * it is never held while calling the callback or the network. `deliver_lock` is held
 * by the set's thread around every callback, so that etcd_watch_set_remove from
 * another thread waits for a batch being delivered; it is taken before `lock`.
 * Everything else is the set's thread's (the gRPC callback runs on it too): an
 * entry's id, last_rev, need_list and backoffs are written by it alone, and only it
 * frees entries.
 */
#ifndef WEFT_ETCD_WATCH_SET_INTERNAL_H
#define WEFT_ETCD_WATCH_SET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/etcd_grpc_watch.h"
#include "store/etcd_internal.h"
#include "store/etcd_watch_set.h"

#define SET_BACKOFF_MIN_MS 200
#define SET_BACKOFF_MAX_MS 2000
#define SET_OUTAGE_GRACE_MS 2500 /* as etcd_watch.c: about two elections */

struct set_entry {
    char *prefix;     /* owned */
    bool removed;     /* under lock: etcd_watch_set_remove; nothing more is delivered */
    int64_t id;       /* its watch on the current stream; 0: none */
    int64_t last_rev; /* every event up to here was delivered */
    bool need_list;   /* list before watching (new, compacted, after an outage) */
    bool empty_sync;  /* added from a revision: an empty listing at last_rev comes first */
    long not_before;  /* clock_monotonic_ms(): no listing or watch before (a backoff) */
    long backoff;
};

struct etcd_watch_set {
    struct etcd *etcd; /* borrowed; must outlive the set */
    char *endpoints;   /* etcd_config.watch_endpoints; NULL: the store's members */
    etcd_watch_set_fn fn;
    void *ctx;
    pthread_t thread;
    atomic_bool stop;
    atomic_long grace_ms;
    pthread_mutex_t deliver_lock;
    pthread_mutex_t lock; /* with cond: interruptible sleeps */
    pthread_cond_t cond;
    struct set_entry **entries; /* under lock; each entry stays where it is in memory */
    size_t count, cap;
    struct etcd_grpc_loop *loop; /* replaced under lock */

    /* The set's thread only. */
    struct etcd_grpc_watch *stream;
    unsigned token_generation;
    long token_refreshed_at; /* when a refused token was last replaced */
    bool reopen, relist_all, refresh_token, answered, disconnected;
    long list_after;   /* no listing before (the store did not answer one) */
    long list_backoff; /* the next wait after a listing the store did not answer */
    long down_since;   /* when the stream was last known down; 0: up */
    long probed_at;    /* when progress was last asked */
    long probe_pending;  /* when the unanswered progress request was sent; 0: none */
    long last_answer_ms; /* when the stream last said anything */
    bool progress_works; /* the stream's endpoint has answered a progress request */
    char why[256];       /* why the stream must be reopened */

    /* For etcd_watch_set_progress; written by the set's thread only. */
    _Atomic int64_t published_rev;
    atomic_bool streaming;
};

/* etcd_watch_set.c */
/* Hands a batch about e (NULL: the whole set) to the callback, unless e was removed. */
void set_deliver(struct etcd_watch_set *s, struct set_entry *e, const struct etcd_event *events,
                 size_t count);
/* The live entry whose watch is id on the current stream, or NULL. */
struct set_entry *set_entry_by_id(struct etcd_watch_set *s, int64_t id);
/* Every entry: id forgotten (a new stream), and listed again when relist. */
void set_entries_reset(struct etcd_watch_set *s, bool relist);
/* How many prefixes the set holds (removed ones not counted). */
size_t set_live_count(struct etcd_watch_set *s);
/* Sleeps up to ms, woken early by stop. */
void set_sleep(struct etcd_watch_set *s, long ms);

/* etcd_watch_set_stream.c */
/* The gRPC client's callback. */
void set_on_answer(void *ctx, const struct etcd_grpc_answer *a);
/* Closes the stream and opens a new one on a new loop (a new token first when asked);
 * every entry is watched again by the table's next pass. -1: sleep, retry. */
int set_restart(struct etcd_watch_set *s, struct weft_err *err);
/* DISCONNECTED, once, when no stream has been up for the grace. */
void set_outage_check(struct etcd_watch_set *s, const char *error);
/* Asks a quiet stream for progress; takes a silent one for hung. */
void set_probe(struct etcd_watch_set *s);
void set_stream_down(struct etcd_watch_set *s);

#endif
