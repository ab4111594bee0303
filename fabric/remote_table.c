/*
 * remote_table.c: remote peers and members with a chained hash index (see
 * remote_table.h). The index doubles when entries outnumber buckets, so a
 * lookup stays at about one comparison whatever the fabric's size.
 */
#include "fabric/remote_table.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 256

/* FNV-1a over the subnet text, the kind and the address. */
static size_t key_hash(const char *subnet, bool is_peer, uint32_t addr)
{
    uint32_t h = 2166136261u;
    for (const char *p = subnet; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ (is_peer ? 1u : 2u)) * 16777619u;
    for (int shift = 0; shift < 32; shift += 8)
        h = (h ^ ((addr >> shift) & 0xff)) * 16777619u;
    return h;
}

static struct remote_entry **bucket_of(const struct remote_table *t, const char *subnet,
                                       bool is_peer, uint32_t addr)
{
    return &t->buckets[key_hash(subnet, is_peer, addr) & (t->bucket_count - 1)];
}

int remote_table_init(struct remote_table *t)
{
    memset(t, 0, sizeof(*t));
    t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
    if (!t->buckets)
        return -1;
    t->bucket_count = INITIAL_BUCKETS;
    return 0;
}

void remote_table_clear(struct remote_table *t)
{
    struct remote_entry *e = t->head;
    while (e) {
        struct remote_entry *next = e->next;
        free(e);
        e = next;
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

struct remote_entry *remote_table_find(const struct remote_table *t, const char *subnet,
                                       bool is_peer, uint32_t addr)
{
    for (struct remote_entry *e = *bucket_of(t, subnet, is_peer, addr); e; e = e->hash_next)
        if (e->addr == addr && e->is_peer == is_peer && strcmp(e->subnet, subnet) == 0)
            return e;
    return NULL;
}

/* Rehashes into twice the buckets; on failure the table keeps its old index. */
static void grow(struct remote_table *t)
{
    size_t count = t->bucket_count * 2;
    struct remote_entry **buckets = calloc(count, sizeof(*buckets));
    if (!buckets)
        return;
    for (struct remote_entry *e = t->head; e; e = e->next) {
        struct remote_entry **b = &buckets[key_hash(e->subnet, e->is_peer, e->addr) & (count - 1)];
        e->hash_next = *b;
        *b = e;
    }
    free(t->buckets);
    t->buckets = buckets;
    t->bucket_count = count;
}

struct remote_entry *remote_table_add(struct remote_table *t, const char *subnet, bool is_peer,
                                      uint32_t addr)
{
    if (t->count >= t->bucket_count)
        grow(t);
    struct remote_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    size_t len = strnlen(subnet, sizeof(e->subnet) - 1);
    memcpy(e->subnet, subnet, len);
    e->is_peer = is_peer;
    e->addr = addr;
    struct remote_entry **b = bucket_of(t, subnet, is_peer, addr);
    e->hash_next = *b;
    *b = e;
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    t->head = e;
    t->count++;
    return e;
}

void remote_table_remove(struct remote_table *t, struct remote_entry *e)
{
    for (struct remote_entry **p = bucket_of(t, e->subnet, e->is_peer, e->addr); *p;
         p = &(*p)->hash_next) {
        if (*p == e) {
            *p = e->hash_next;
            break;
        }
    }
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    t->count--;
    free(e);
}
