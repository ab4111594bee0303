/*
 * remote_table.h: what this host knows of other hosts' endpoints (peers) and
 * overlay memberships (members), as learned from the store's watch.
 *
 * Owns the entries and a hash index (common/hash.h) on (subnet, kind, address), so a watch
 * event finds its entry in constant time however large the fabric (a 50-host
 * fabric of 100 endpoints each is 5 000 peers on every host). Entries are
 * also kept on one list, in no particular order, for walks over all of them.
 * Callers: fabric/ only (peers.c), under the fabric lock. Not thread-safe by itself.
 */
#ifndef WEFT_REMOTE_TABLE_H
#define WEFT_REMOTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/hash.h"

struct remote_entry {
    struct remote_entry *next, *prev; /* the list of all entries */
    struct hash_node node;            /* in the table's index */
    char subnet[ADDR_STR_MAX];
    bool is_peer;  /* a remote endpoint; false: a remote host's membership */
    uint32_t addr; /* the peer's address, or the member's VTEP (network order): the key */
    uint8_t mac[6];
    uint32_t vtep; /* network order */
    bool stale;
    bool programmed; /* in the kernel, on the local network of the same subnet */
};

struct remote_table {
    struct hash index;
    size_t count;
    struct remote_entry *head;
};

/* An empty table. Returns -1 when out of memory. */
int remote_table_init(struct remote_table *table);
/* Frees every entry and the index; the table may be initialized again. */
void remote_table_clear(struct remote_table *table);

struct remote_entry *remote_table_find(const struct remote_table *table, const char *subnet,
                                       bool is_peer, uint32_t addr);
/* A new zeroed entry with its key set, in the table; NULL when out of memory.
 * The caller has checked that the key is not present. */
struct remote_entry *remote_table_add(struct remote_table *table, const char *subnet, bool is_peer,
                                      uint32_t addr);
/* Unlinks and frees entry. */
void remote_table_remove(struct remote_table *table, struct remote_entry *entry);

#endif
