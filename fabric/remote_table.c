/*
 * remote_table.c: remote peers and members on a list, indexed by common/hash
 * (see remote_table.h).
 */
#include "fabric/remote_table.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 256

struct remote_key {
    const char *subnet;
    bool is_peer;
    uint32_t addr;
};

/* FNV-1a over the subnet text, the kind and the address. */
static uint32_t key_hash(const struct remote_key *k)
{
    uint8_t kind = k->is_peer ? 1 : 2;
    uint32_t h = hash_string(HASH_SEED, k->subnet);
    h = hash_bytes(h, &kind, 1);
    return hash_bytes(h, &k->addr, sizeof(k->addr));
}

static bool key_match(const struct hash_node *node, const void *key)
{
    const struct remote_entry *e = HASH_ENTRY(node, const struct remote_entry, node);
    const struct remote_key *k = key;
    return e->addr == k->addr && e->is_peer == k->is_peer && strcmp(e->subnet, k->subnet) == 0;
}

int remote_table_init(struct remote_table *t)
{
    memset(t, 0, sizeof(*t));
    return hash_init(&t->index, INITIAL_BUCKETS, key_match) < 0 ? -1 : 0;
}

void remote_table_clear(struct remote_table *t)
{
    struct remote_entry *e = t->head;
    while (e) {
        struct remote_entry *next = e->next;
        free(e);
        e = next;
    }
    hash_fini(&t->index);
    memset(t, 0, sizeof(*t));
}

struct remote_entry *remote_table_find(const struct remote_table *t, const char *subnet,
                                       bool is_peer, uint32_t addr)
{
    struct remote_key k = {subnet, is_peer, addr};
    struct hash_node *n = hash_find(&t->index, key_hash(&k), &k);
    return n ? HASH_ENTRY(n, struct remote_entry, node) : NULL;
}

struct remote_entry *remote_table_add(struct remote_table *t, const char *subnet, bool is_peer,
                                      uint32_t addr)
{
    struct remote_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    size_t len = strnlen(subnet, sizeof(e->subnet) - 1);
    memcpy(e->subnet, subnet, len);
    e->is_peer = is_peer;
    e->addr = addr;
    /* The stored subnet, which a too-long one was cut to, is the key. */
    struct remote_key k = {e->subnet, is_peer, addr};
    hash_add(&t->index, &e->node, key_hash(&k));
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    t->head = e;
    t->count++;
    return e;
}

void remote_table_remove(struct remote_table *t, struct remote_entry *e)
{
    hash_remove(&t->index, &e->node);
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    t->count--;
    free(e);
}
