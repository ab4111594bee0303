/*
 * etcd_watch_set.h: a set of list+watches on one gRPC Watch stream (docs/scale.md,
 * "Per-member watches: the plan"): prefixes added and removed at any time, each
 * listed on its own and then watched from its listing's revision + 1.
 *
 * Owns one thread, one gRPC loop and one stream (store/etcd_grpc_watch.h) carrying
 * one watch per prefix, always over gRPC (the members of --store, or
 * etcd_config.watch_endpoints), whatever etcd_config.watch_grpc says. Files:
 * etcd_watch_set.c (the API, the prefix table, listings, delivery),
 * etcd_watch_set_stream.c (the stream: answers, reopening, outages), sharing
 * etcd_watch_set_internal.h. The single list+watch of etcd.h over gRPC
 * (etcd_watch_grpc.c) is a set of one prefix. Callers: etcd_watch_grpc.c, and
 * fabric/ for per-member watches.
 *
 * What the callback sees, per prefix, is what etcd.h's list+watch gives for one:
 * SYNC_BEGIN, PUT..., SYNC_END at revision R (one batch), then the events from
 * R + 1, each answer's one batch, every batch tagged with its prefix. Recovery:
 *   - a watch etcd cancels for compaction lists THAT prefix again (SYNC_BEGIN..END);
 *   - a broken stream resumes every prefix from its own last revision + 1 (on the
 *     next endpoint), without listing;
 *   - no stream up for the grace (2.5 s, as etcd_watch.c) tells DISCONNECTED once
 *     (prefix NULL: it concerns the whole set), and every prefix is listed again
 *     when the store answers;
 *   - a refused token gets a new token and the stream reopens, without listing.
 * A prefix whose listing fails is listed again after a backoff (a store that does
 * not answer holds back every listing; a refusal only that prefix's), and so is a
 * watch etcd refuses for permission, the other prefixes undisturbed.
 *
 * Threads: every function may be called from any thread; add and remove also from
 * the callback (which runs on the set's thread); stop not from the callback. The
 * callback must not block for long. Overlapping prefixes are separate watches: an
 * event under both arrives twice, once tagged with each.
 */
#ifndef WEFT_ETCD_WATCH_SET_H
#define WEFT_ETCD_WATCH_SET_H

#include "store/etcd.h"

/* prefix: the prefix the batch is about (as given to etcd_watch_set_add); NULL for
 * DISCONNECTED, which comes alone and concerns every prefix. */
typedef void (*etcd_watch_set_fn)(void *ctx, const char *prefix, const struct etcd_event *events,
                                  size_t count);

struct etcd_watch_set;

/* Starts the thread with no prefix. etcd is borrowed and must outlive the set. */
int etcd_watch_set_start(struct etcd *etcd, etcd_watch_set_fn fn, void *ctx,
                         struct etcd_watch_set **out, struct weft_err *err);

/* Adds prefix (copied). Never waits on the network: the set's thread lists it (its
 * listing is the prefix's first batch) and then watches it. 0: added; 1: already in
 * the set, nothing done (a member's record put again must not list it again); -1:
 * -EINVAL for an empty prefix, -ENOMEM, -ESHUTDOWN once stop began. */
int etcd_watch_set_add(struct etcd_watch_set *set, const char *prefix, struct weft_err *err);

/* Adds prefix (copied) without listing it, watched from revision on: for a prefix
 * known to have held nothing before revision (fabric/member_watch.c: a member's
 * records, all written at or after its joined/ record, whose PUT event gave
 * revision). Its first batch is an empty listing (SYNC_BEGIN, SYNC_END at revision -
 * 1), then the events from revision. Should etcd have compacted revision away, the
 * prefix is listed after all. Saves a listing per prefix: at 1,000 hosts joining one
 * overlay, half a million (docs/scale.md). Returns as etcd_watch_set_add (a revision
 * below 1: -1, -EINVAL). */
int etcd_watch_set_add_from(struct etcd_watch_set *set, const char *prefix, int64_t revision,
                            struct weft_err *err);

/* Removes prefix: once this returns no batch for it is delivered any more (a batch
 * being delivered on another thread is waited for; from the callback itself, none
 * after the current one). Its watch is cancelled by the set's thread soon after.
 * false: it was not in the set. So a caller must not hold, while removing, a lock the
 * callback takes (the set's thread would wait for it inside the batch remove waits for). */
bool etcd_watch_set_remove(struct etcd_watch_set *set, const char *prefix);

/* Stops the thread (within about a second) and frees everything. NULL is fine. */
void etcd_watch_set_stop(struct etcd_watch_set *set);

/* For `weft status`: the highest revision delivered for any prefix, and whether the
 * stream is up. */
void etcd_watch_set_progress(const struct etcd_watch_set *set, int64_t *revision,
                             bool *streaming);

/* How long no stream may be up before DISCONNECTED (default 2500 ms); for tests. */
void etcd_watch_set_grace_ms(struct etcd_watch_set *set, long grace_ms);

#endif
