/*
 * etcd_status.h: what the store client knows of itself, for `weft status`.
 *
 * Owns nothing: it reads struct etcd (members, the one in use, the prober's
 * verdicts, the last failure), asks etcd two cheap questions (its revision, the
 * time left on a lease) and reads a watch's progress. Callers: fabric/status.c.
 * Thread-safe; etcd_status_read waits for at most two requests' timeouts.
 */
#ifndef WEFT_ETCD_STATUS_H
#define WEFT_ETCD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/etcd.h"

#define ETCD_STATUS_MEMBERS_MAX 16
#define ETCD_STATUS_MEMBER_MAX 256

struct etcd_status {
    size_t member_count; /* at most ETCD_STATUS_MEMBERS_MAX are listed */
    char members[ETCD_STATUS_MEMBERS_MAX][ETCD_STATUS_MEMBER_MAX]; /* "host:port" */
    bool member_silent[ETCD_STATUS_MEMBERS_MAX]; /* the prober found it silent */
    size_t in_use;    /* index of the member that answered last */
    bool reachable;   /* etcd answered the revision question just now */
    char error[512];  /* why not, when !reachable */
    int64_t revision; /* etcd's revision now; 0 when unreachable */
    int64_t lease_ttl_left; /* seconds; -1 unknown or expired */
    bool watch_streaming;   /* the watch has a stream open (or its listing is fresh) */
    int64_t watch_revision; /* every change up to here has reached the watch's consumer */
    int64_t prefix_revision; /* the newest put under the watched prefix; 0 unknown or none */
    /* The watch has not delivered that put within ETCD_STATUS_TRAIL_MS of being asked:
     * its consumer is stuck or its stream silently stopped. */
    bool watch_trailing;
};

/* How long a watch may take to deliver a put it is behind on before it trails. */
#define ETCD_STATUS_TRAIL_MS 1000

/* Fills out. prefix is the one watch watches (the client may read it: its newest
 * put is the revision the watch must reach); lease 0: none. When the watch is
 * behind that put, waits up to ETCD_STATUS_TRAIL_MS for it to catch up. Never
 * fails: what could not be learned says so. */
void etcd_status_read(struct etcd *etcd, const char *prefix, int64_t lease,
                      const struct etcd_watch *watch, struct etcd_status *out);

/* A watch's progress, read from another thread. */
void etcd_watch_progress(const struct etcd_watch *watch, int64_t *revision, bool *streaming);

/* Tests: how long the store may be out of reach (2.5 s) before the watch lists again
 * and tells DISCONNECTED; for a test whose etcd restart, on a loaded machine, may
 * take longer than an election and is not meant as an outage. */
void etcd_watch_grace_ms(struct etcd_watch *watch, long grace_ms);

#endif
