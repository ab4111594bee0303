/*
 * host_presence.h: when each other host came and went, as this host's watch saw it.
 *
 * Owns a table of hosts by VTEP: how many records of the remote table each has
 * (members and peer claims, of every overlay) and the wall-clock time since which
 * it has had records (or none). A host is present while it has records
 * (they live under its lease); when its last record goes (its lease expired, or it
 * left its last overlay) it is remembered as gone, and since when, so `weft status`
 * can say "dead for 5m". Hosts gone longest are forgotten first once more than
 * HOST_PRESENCE_GONE_MAX are remembered; one that comes back is present again.
 * Callers: fabric/remote_table.c (every record added and removed), fabric/status.c
 * (read), tests; under the fabric lock. Not thread-safe by itself.
 */
#ifndef WEFT_HOST_PRESENCE_H
#define WEFT_HOST_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/hash.h"
#include "common/ip_addr.h"

#define HOST_PRESENCE_GONE_MAX 256

struct host_seen {
    struct hash_node node;
    struct ip_addr vtep;
    size_t members; /* its member records in the remote table: overlays it is on */
    size_t peers;   /* its peer claims there: endpoints (and addresses claimed) */
    time_t since;   /* wall clock: when records last became non-zero (or zero) */
};

struct host_presence {
    struct hash index;
    size_t gone; /* hosts with no records, remembered */
};

/* An empty table; -1 when out of memory. */
int host_presence_init(struct host_presence *p);
/* Frees every host and the index; p may be initialized again. */
void host_presence_clear(struct host_presence *p);

/* A record of vtep (a peer claim, or a member record) was added (removed) at now.
 * Out of memory, the host goes uncounted (status leaves it out); nothing else
 * depends on this table. */
void host_presence_added(struct host_presence *p, const struct ip_addr *vtep, bool is_peer,
                         time_t now);
void host_presence_removed(struct host_presence *p, const struct ip_addr *vtep, bool is_peer,
                           time_t now);
/* Whether h has records (present), or is remembered gone. */
bool host_presence_present(const struct host_seen *h);

/* The entry of vtep, or NULL. */
const struct host_seen *host_presence_find(const struct host_presence *p,
                                           const struct ip_addr *vtep);

/* Walks every host remembered (present or gone) in no particular order. */
struct host_presence_iter {
    struct hash_iter it;
};
void host_presence_iter_init(struct host_presence_iter *it, const struct host_presence *p);
const struct host_seen *host_presence_next(struct host_presence_iter *it);

#endif
