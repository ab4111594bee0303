/*
 * stale_sweep.c: which kernel entries of a segment the remote table still claims
 * (see stale_sweep.h); vxlan/remote_sweep.c lists and deletes the others. Of an
 * address's claims only the winner (remote_table.h) is kept: an entry a losing
 * claim left in the kernel goes, whoever wrote it.
 */
#include "fabric/stale_sweep.h"

#include <stdlib.h>
#include <string.h>

#include "vxlan/remote_sweep.h"

/* A programmed winning peer's FDB entry: the table is indexed by address, FDB
 * entries come by MAC, so these are sorted once for a binary search. */
struct fdb_key {
    uint8_t mac[6];
    struct ip_addr vtep;
};

/* A programmed winning peer's IPv6 neighbour entry (dual-stack overlays): the table
 * is indexed by IPv4 address, so these are sorted once too. */
struct neigh6_key {
    uint8_t ip6[16];
    uint8_t mac[6];
};

struct claims {
    const struct remote_table *remotes;
    const char *const *subnets; /* the overlay's: its first (members), then its extra ones */
    size_t subnet_count;
    struct fdb_key *fdb;
    size_t fdb_count;
    struct neigh6_key *neigh6;
    size_t neigh6_count;
};

static int neigh6_key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct neigh6_key));
}

static int fdb_key_cmp(const void *a, const void *b)
{
    const struct fdb_key *x = a, *y = b;
    int c = memcmp(x->mac, y->mac, 6);
    if (c)
        return c;
    return ip_addr_compare(&x->vtep, &y->vtep);
}

static bool claims_peer(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    const struct claims *c = ctx;
    const struct remote_entry *r = NULL; /* the winner, under the subnet holding ip */
    for (size_t i = 0; !r && i < c->subnet_count; i++)
        r = remote_table_find_peer(c->remotes, c->subnets[i], ip);
    return r && r->programmed && memcmp(r->mac, mac, 6) == 0;
}

/* By MAC alone: the order of fdb_key_cmp, whose first key is the MAC. */
static int fdb_mac_cmp(const void *a, const void *b)
{
    return memcmp(((const struct fdb_key *)a)->mac, ((const struct fdb_key *)b)->mac, 6);
}

/* vtep NULL: an encrypted overlay's entry, behind its TAP port whatever the host. */
static bool claims_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep)
{
    const struct claims *c = ctx;
    struct fdb_key key = {.vtep = vtep ? *vtep : (struct ip_addr){0}};
    memcpy(key.mac, mac, 6);
    return c->fdb_count > 0 && bsearch(&key, c->fdb, c->fdb_count, sizeof(key),
                                       vtep ? fdb_key_cmp : fdb_mac_cmp) != NULL;
}

static bool claims_peer6(void *ctx, const uint8_t ip6[16], const uint8_t mac[6])
{
    const struct claims *c = ctx;
    struct neigh6_key key;
    memcpy(key.ip6, ip6, 16);
    memcpy(key.mac, mac, 6);
    return c->neigh6_count > 0 && bsearch(&key, c->neigh6, c->neigh6_count, sizeof(key),
                                          neigh6_key_cmp) != NULL;
}

static bool claims_flood(void *ctx, const struct ip_addr *vtep)
{
    const struct claims *c = ctx;
    const struct remote_entry *r = remote_table_find_member(c->remotes, c->subnets[0], vtep);
    return r && r->programmed;
}

/* A peer claim whose kernel entries stay: programmed, on one of the overlay's subnets,
 * and winning (peers.c programs nothing else; checked here too, as the sweep is the
 * last word). */
static bool kept_peer(const struct claims *c, const struct remote_entry *r)
{
    bool ours = false;
    for (size_t i = 0; !ours && i < c->subnet_count; i++)
        ours = strcmp(r->subnet, c->subnets[i]) == 0;
    return ours && r->is_peer && r->programmed && remote_table_wins(c->remotes, r);
}

/* What the overlay's programmed winning peers have in the kernel, sorted for lookups;
 * c->fdb and c->neigh6 are the caller's to free, also after a failure. */
static int claims_collect(struct claims *c, struct weft_err *err)
{
    size_t peers = 0;
    for (const struct remote_entry *r = c->remotes->head; r; r = r->next)
        peers += kept_peer(c, r);
    if (peers > 0 && (!(c->fdb = calloc(peers, sizeof(*c->fdb))) ||
                      !(c->neigh6 = calloc(peers, sizeof(*c->neigh6)))))
        return weft_err_set(err, -ENOMEM, "out of memory sweeping overlay %s", c->subnets[0]);
    for (const struct remote_entry *r = c->remotes->head; r; r = r->next) {
        if (!kept_peer(c, r))
            continue;
        memcpy(c->fdb[c->fdb_count].mac, r->mac, 6);
        c->fdb[c->fdb_count++].vtep = r->vtep;
        if (r->has_addr6) {
            memcpy(c->neigh6[c->neigh6_count].ip6, r->addr6.bytes, 16);
            memcpy(c->neigh6[c->neigh6_count++].mac, r->mac, 6);
        }
    }
    if (c->fdb_count > 1)
        qsort(c->fdb, c->fdb_count, sizeof(*c->fdb), fdb_key_cmp);
    if (c->neigh6_count > 1)
        qsort(c->neigh6, c->neigh6_count, sizeof(*c->neigh6), neigh6_key_cmp);
    return 0;
}

int fabric_sweep_segment(struct nl *nl, const struct segment_sweep_target *at,
                         const struct remote_table *remotes, const char *const *subnets,
                         size_t subnet_count, size_t *removed, struct weft_err *err)
{
    struct claims c = {.remotes = remotes, .subnets = subnets, .subnet_count = subnet_count};
    int rc = claims_collect(&c, err);
    if (rc == 0) {
        struct segment_remote_keep keep = {.peer = claims_peer,
                                           .fdb = claims_fdb,
                                           .flood = claims_flood,
                                           .ctx = &c,
                                           .peer6 = claims_peer6};
        rc = segment_remote_sweep(nl, at, &keep, removed, err);
    }
    free(c.fdb);
    free(c.neigh6);
    return rc;
}
