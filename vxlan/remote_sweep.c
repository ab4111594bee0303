/*
 * remote_sweep.c: deletes the remote entries of a VXLAN device, or of an encrypted
 * overlay's bridge and TAP, that the caller does not claim (see remote_sweep.h).
 * Entries are listed first and deleted after, since a dump cannot share the socket
 * with changes.
 */
#include "vxlan/remote_sweep.h"

#include <stdlib.h>
#include <string.h>

#include "vxlan/segment.h"

struct kernel_entry {
    uint32_t ip;         /* the neighbour's address */
    uint8_t ip6[16];     /* an IPv6 neighbour's address (then ip is 0) */
    struct ip_addr vtep; /* the FDB entry's destination VTEP (a VXLAN device's) */
    uint8_t mac[6];
};

struct entry_list {
    struct kernel_entry *items;
    size_t count, cap;
    bool out_of_memory;
};

/* The new entry (ip6 zero), or NULL when out of memory. */
static struct kernel_entry *entry_list_add(struct entry_list *list, uint32_t ip,
                                           const uint8_t mac[6])
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct kernel_entry *items = realloc(list->items, cap * sizeof(*items));
        if (!items) {
            list->out_of_memory = true;
            return NULL;
        }
        list->items = items;
        list->cap = cap;
    }
    struct kernel_entry *e = &list->items[list->count++];
    memset(e, 0, sizeof(*e));
    e->ip = ip;
    memcpy(e->mac, mac, 6);
    return e;
}

static void collect_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *dst)
{
    struct kernel_entry *e = entry_list_add(ctx, 0, mac);
    if (e)
        e->vtep = *dst;
}

static void collect_bridge_fdb(void *ctx, const uint8_t mac[6])
{
    entry_list_add(ctx, 0, mac);
}

static void collect_neigh(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    entry_list_add(ctx, ip, mac);
}

static void collect_neigh6(void *ctx, const uint8_t ip6[16], const uint8_t mac[6])
{
    struct kernel_entry *e = entry_list_add(ctx, 0, mac);
    if (e)
        memcpy(e->ip6, ip6, 16);
}

static bool is_flood_mac(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, 6) == 0;
}

/* Lists what the sweep looks at; the IPv6 neighbours only when the caller asks about them. */
static int list_remote_entries(struct nl *nl, const struct segment_sweep_target *at,
                               const struct segment_remote_keep *keep, struct entry_list *fdb,
                               struct entry_list *neigh, struct entry_list *neigh6,
                               struct weft_err *err)
{
    int rc = at->tap ? nl_bridge_fdb_list(nl, at->fdb_ifindex, collect_bridge_fdb, fdb, err)
                     : nl_fdb_list(nl, at->fdb_ifindex, collect_fdb, fdb, err);
    if (rc < 0 || nl_neigh_list(nl, at->neigh_ifindex, collect_neigh, neigh, err) < 0 ||
        (keep->peer6 && nl_neigh6_list(nl, at->neigh_ifindex, collect_neigh6, neigh6, err) < 0))
        return -1;
    if (fdb->out_of_memory || neigh->out_of_memory || neigh6->out_of_memory)
        return weft_err_set(err, -ENOMEM, "out of memory listing remote entries");
    return 0;
}

/* An FDB entry the caller does not claim: on a VXLAN device also what the bridge
 * learned of that mac on the vxlan port; on a TAP port the bridge's static entry. */
static int fdb_entry_del(struct nl *nl, const struct segment_sweep_target *at,
                         const struct kernel_entry *e, struct weft_err *err)
{
    if (at->tap)
        return nl_bridge_fdb_del(nl, at->fdb_ifindex, e->mac, err);
    if (is_flood_mac(e->mac))
        return segment_flood_del(nl, at->fdb_ifindex, &e->vtep, err);
    return nl_fdb_del(nl, at->fdb_ifindex, e->mac, &e->vtep, err) < 0 ||
                   nl_bridge_fdb_del(nl, at->fdb_ifindex, e->mac, err) < 0
               ? -1
               : 0;
}

static bool fdb_entry_kept(const struct segment_sweep_target *at,
                           const struct segment_remote_keep *keep, const struct kernel_entry *e)
{
    if (at->tap)
        return keep->fdb(keep->ctx, e->mac, NULL);
    if (is_flood_mac(e->mac))
        return keep->flood(keep->ctx, &e->vtep);
    return keep->fdb(keep->ctx, e->mac, &e->vtep);
}

int segment_remote_sweep(struct nl *nl, const struct segment_sweep_target *at,
                         const struct segment_remote_keep *keep, size_t *removed,
                         struct weft_err *err)
{
    if (removed)
        *removed = 0;
    struct entry_list fdb = {0}, neigh = {0}, neigh6 = {0};
    int rc = -1;
    if (list_remote_entries(nl, at, keep, &fdb, &neigh, &neigh6, err) < 0)
        goto out;
    size_t gone = 0;
    bool batched = nl_batch_begin(nl) == 0;
    struct weft_err item_err = {0};
    int failed = 0;
    for (size_t i = 0; i < neigh.count; i++) {
        const struct kernel_entry *e = &neigh.items[i];
        if (keep->peer(keep->ctx, e->ip, e->mac))
            continue;
        failed |= nl_neigh_del(nl, at->neigh_ifindex, e->ip, &item_err) < 0;
        gone++;
    }
    for (size_t i = 0; i < neigh6.count; i++) {
        const struct kernel_entry *e = &neigh6.items[i];
        if (keep->peer6(keep->ctx, e->ip6, e->mac))
            continue;
        failed |= nl_neigh6_del(nl, at->neigh_ifindex, e->ip6, &item_err) < 0;
        gone++;
    }
    for (size_t i = 0; i < fdb.count; i++) {
        const struct kernel_entry *e = &fdb.items[i];
        if (fdb_entry_kept(at, keep, e))
            continue;
        failed |= fdb_entry_del(nl, at, e, &item_err) < 0;
        gone++;
    }
    if (batched && nl_batch_end(nl, &item_err) < 0)
        failed = 1;
    if (removed)
        *removed = gone;
    rc = failed
             ? weft_err_set(err, item_err.code, "removing stale remote entries: %s", item_err.msg)
             : 0;
out:
    free(fdb.items);
    free(neigh.items);
    free(neigh6.items);
    return rc;
}
