/*
 * fake_store.h: the in-memory etcd behind tests/fakes/fake_etcd.c, which
 * implements every function of store/etcd.h without a server.
 *
 * One store for the whole process (every struct etcd from etcd_open reaches
 * it): keys with create and mod revisions, the store revision, leases, and one
 * thread per etcd_watch_start delivering events through a queue, never from a
 * writer's thread. This header is what a test uses to act as another host, to
 * look at the store, to take it down, and to hold transactions. The calls here
 * are no store calls in fault.h's count. Thread-safe; waits are bounded by a
 * deadline and answer false when it passes.
 */
#ifndef WEFT_TEST_FAKE_STORE_H
#define WEFT_TEST_FAKE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Forgets every key and lease and brings the store up (no watch may be open). */
void fake_store_reset(void);
/* Down: every call fails with "store unreachable ..." and etcd_unreachable answers
 * true; watches get DISCONNECTED, miss what is written meanwhile (by the
 * fake_store_ calls below, as other hosts still reaching etcd), and get a fresh
 * listing when it comes back. */
void fake_store_set_down(bool down);

/* Writes as another host would (watches see it). lease 0: none. */
void fake_store_put(const char *key, const char *value, int64_t lease);
void fake_store_delete(const char *key);
/* A lease of another host; expiring it deletes its keys, as etcd does after its TTL. */
int64_t fake_store_grant(void);
void fake_store_expire_lease(int64_t lease);

/* The value of key (malloc'd), or NULL when absent; *lease (may be NULL) its lease. */
char *fake_store_get(const char *key, int64_t *lease);
/* Keys starting with prefix. */
size_t fake_store_count(const char *prefix);
/* Every key with its value and lease as sorted text (malloc'd), for before/after
 * compares. Revisions are left out: an undone write moves them on. */
char *fake_store_snapshot(void);

/* Waits until key is present (or absent). */
bool fake_store_wait_key(const char *key, bool present, long timeout_ms);
/* Waits until cond(ctx) holds (looked at again after every change of the store). */
bool fake_store_wait(bool (*cond)(void *ctx), void *ctx, long timeout_ms);
/* Waits until every watch's queue is empty and no callback runs. */
bool fake_store_wait_drained(long timeout_ms);
/* While held, etcd_txn_commit blocks before doing anything; fake_store_wait_held
 * waits until n calls are blocked. */
void fake_store_hold_txns(bool hold);
/* While held, watches queue their events and deliver none (a watch on a member gone
 * silent); released, they deliver what queued, in order. */
void fake_store_hold_watches(bool hold);
bool fake_store_wait_held(int n, long timeout_ms);
/* How many prefixes the fake watch set was asked to watch from a revision, without a
 * listing (etcd_watch_set_add_from; the fake lists them all the same). */
size_t fake_store_watch_adds_from(void);

#endif
