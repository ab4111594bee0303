/*
 * host_presence.c: hosts by VTEP in a common/hash index, each with its record
 * count and since when (host_presence.h).
 */
#include "fabric/host_presence.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64

static uint32_t vtep_hash(const struct ip_addr *vtep)
{
    return hash_bytes(HASH_SEED, vtep->bytes, (size_t)ip_addr_len(vtep));
}

static bool vtep_match(const struct hash_node *node, const void *key)
{
    const struct host_seen *h = HASH_ENTRY(node, const struct host_seen, node);
    return ip_addr_equal(&h->vtep, key);
}

int host_presence_init(struct host_presence *p)
{
    memset(p, 0, sizeof(*p));
    return hash_init(&p->index, INITIAL_BUCKETS, vtep_match) < 0 ? -1 : 0;
}

void host_presence_clear(struct host_presence *p)
{
    struct hash_iter it;
    hash_iter_init(&it, &p->index);
    for (struct hash_node *n; (n = hash_iter_next(&it));) {
        hash_remove(&p->index, n);
        free(HASH_ENTRY(n, struct host_seen, node));
    }
    hash_fini(&p->index);
    memset(p, 0, sizeof(*p));
}

static struct host_seen *find(const struct host_presence *p, const struct ip_addr *vtep)
{
    struct hash_node *n = hash_find(&p->index, vtep_hash(vtep), vtep);
    return n ? HASH_ENTRY(n, struct host_seen, node) : NULL;
}

const struct host_seen *host_presence_find(const struct host_presence *p,
                                           const struct ip_addr *vtep)
{
    return find(p, vtep);
}

/* Over the bound: forgets the host gone longest (a walk, but only when a host goes
 * and HOST_PRESENCE_GONE_MAX others are already gone). */
static void forget_oldest_gone(struct host_presence *p)
{
    struct host_seen *oldest = NULL;
    struct hash_iter it;
    hash_iter_init(&it, &p->index);
    for (struct hash_node *n; (n = hash_iter_next(&it));) {
        struct host_seen *h = HASH_ENTRY(n, struct host_seen, node);
        if (!host_presence_present(h) && (!oldest || h->since < oldest->since))
            oldest = h;
    }
    if (!oldest)
        return;
    hash_remove(&p->index, &oldest->node);
    free(oldest);
    p->gone--;
}

bool host_presence_present(const struct host_seen *h)
{
    return h->members || h->peers;
}

void host_presence_added(struct host_presence *p, const struct ip_addr *vtep, bool is_peer,
                         time_t now)
{
    struct host_seen *h = find(p, vtep);
    if (!h) {
        h = calloc(1, sizeof(*h));
        if (!h)
            return;
        h->vtep = *vtep;
        hash_add(&p->index, &h->node, vtep_hash(vtep));
    } else if (!host_presence_present(h)) {
        p->gone--;
    }
    if (!host_presence_present(h))
        h->since = now;
    is_peer ? h->peers++ : h->members++;
}

void host_presence_removed(struct host_presence *p, const struct ip_addr *vtep, bool is_peer,
                           time_t now)
{
    struct host_seen *h = find(p, vtep);
    size_t *count = h ? (is_peer ? &h->peers : &h->members) : NULL;
    if (!count || !*count) /* uncounted when added (out of memory) */
        return;
    --*count;
    if (host_presence_present(h))
        return;
    h->since = now;
    if (++p->gone > HOST_PRESENCE_GONE_MAX)
        forget_oldest_gone(p);
}

void host_presence_iter_init(struct host_presence_iter *it, const struct host_presence *p)
{
    hash_iter_init(&it->it, &p->index);
}

const struct host_seen *host_presence_next(struct host_presence_iter *it)
{
    struct hash_node *n = hash_iter_next(&it->it);
    return n ? HASH_ENTRY(n, const struct host_seen, node) : NULL;
}
