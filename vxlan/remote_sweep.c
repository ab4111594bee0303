/*
 * remote_sweep.c: deletes the remote entries of a VXLAN device that the caller
 * does not claim (see remote_sweep.h). Entries are listed first and deleted after,
 * since a dump cannot share the socket with changes.
 */
#include "vxlan/remote_sweep.h"

#include <stdlib.h>
#include <string.h>

#include "vxlan/segment.h"

struct kernel_entry {
    uint32_t ip; /* the neighbour's address, or the FDB entry's destination VTEP */
    uint8_t mac[6];
};

struct entry_list {
    struct kernel_entry *items;
    size_t count, cap;
    bool out_of_memory;
};

static void entry_list_add(struct entry_list *list, uint32_t ip, const uint8_t mac[6])
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct kernel_entry *items = realloc(list->items, cap * sizeof(*items));
        if (!items) {
            list->out_of_memory = true;
            return;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count].ip = ip;
    memcpy(list->items[list->count].mac, mac, 6);
    list->count++;
}

static void collect_fdb(void *ctx, const uint8_t mac[6], uint32_t dst_ip)
{
    entry_list_add(ctx, dst_ip, mac);
}

static void collect_neigh(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    entry_list_add(ctx, ip, mac);
}

static bool is_flood_mac(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, 6) == 0;
}

int segment_remote_sweep(struct nl *nl, int vxlan_ifindex, const struct segment_remote_keep *keep,
                         size_t *removed, struct weft_err *err)
{
    if (removed)
        *removed = 0;
    struct entry_list fdb = {0}, neigh = {0};
    int rc = -1;
    if (nl_fdb_list(nl, vxlan_ifindex, collect_fdb, &fdb, err) < 0 ||
        nl_neigh_list(nl, vxlan_ifindex, collect_neigh, &neigh, err) < 0)
        goto out;
    if (fdb.out_of_memory || neigh.out_of_memory) {
        weft_err_set(err, -ENOMEM, "out of memory listing remote entries");
        goto out;
    }
    size_t gone = 0;
    bool batched = nl_batch_begin(nl) == 0;
    struct weft_err item_err = {0};
    int failed = 0;
    for (size_t i = 0; i < neigh.count; i++) {
        const struct kernel_entry *e = &neigh.items[i];
        if (keep->peer(keep->ctx, e->ip, e->mac))
            continue;
        failed |= nl_neigh_del(nl, vxlan_ifindex, e->ip, &item_err) < 0;
        gone++;
    }
    for (size_t i = 0; i < fdb.count; i++) {
        const struct kernel_entry *e = &fdb.items[i];
        if (is_flood_mac(e->mac)) {
            if (keep->flood(keep->ctx, e->ip))
                continue;
            failed |= segment_flood_del(nl, vxlan_ifindex, e->ip, &item_err) < 0;
        } else {
            if (keep->fdb(keep->ctx, e->mac, e->ip))
                continue;
            /* Also what the bridge learned of that mac on the vxlan port. */
            failed |= nl_fdb_del(nl, vxlan_ifindex, e->mac, e->ip, &item_err) < 0 ||
                      nl_bridge_fdb_del(nl, vxlan_ifindex, e->mac, &item_err) < 0;
        }
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
    return rc;
}
