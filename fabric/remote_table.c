/*
 * remote_table.c: remote claims on a list, their keys indexed by common/hash,
 * each key's claims chained oldest first (see remote_table.h).
 */
#include "fabric/remote_table.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INITIAL_BUCKETS 256

/* A peer's key is its address; a member's, its host's VTEP (of either family). */
struct remote_key {
    const char *subnet;
    bool is_peer;
    uint32_t addr;              /* peers */
    const struct ip_addr *vtep; /* members */
};

/* FNV-1a over the subnet text, the kind and the address (a member's: the VTEP's). */
static uint32_t key_hash(const struct remote_key *k)
{
    uint8_t kind = k->is_peer ? 1 : 2;
    uint32_t h = hash_string(HASH_SEED, k->subnet);
    h = hash_bytes(h, &kind, 1);
    if (!k->is_peer)
        return hash_bytes(h, k->vtep->bytes, (size_t)ip_addr_len(k->vtep));
    return hash_bytes(h, &k->addr, sizeof(k->addr));
}

static struct remote_key key_of(const struct remote_entry *e)
{
    struct remote_key k = {e->subnet, e->is_peer, e->addr, &e->vtep};
    return k;
}

static uint32_t entry_hash(const struct remote_entry *e)
{
    struct remote_key k = key_of(e);
    return key_hash(&k);
}

static bool key_match(const struct hash_node *node, const void *key)
{
    const struct remote_entry *e = HASH_ENTRY(node, const struct remote_entry, node);
    const struct remote_key *k = key;
    if (e->is_peer != k->is_peer || strcmp(e->subnet, k->subnet) != 0)
        return false;
    return k->is_peer ? e->addr == k->addr : ip_addr_equal(&e->vtep, k->vtep);
}

static struct remote_entry *find_key(const struct remote_table *t, const struct remote_key *k)
{
    struct hash_node *n = hash_find(&t->index, key_hash(k), k);
    return n ? HASH_ENTRY(n, struct remote_entry, node) : NULL;
}

int remote_table_init(struct remote_table *t)
{
    memset(t, 0, sizeof(*t));
    if (hash_init(&t->index, INITIAL_BUCKETS, key_match) < 0)
        return -1;
    if (remote_names_init(&t->names) < 0)
        goto undo_index;
    if (host_presence_init(&t->hosts) < 0)
        goto undo_names;
    return 0;
undo_names:
    remote_names_fini(&t->names);
undo_index:
    hash_fini(&t->index);
    return -1;
}

void remote_table_clear(struct remote_table *t)
{
    struct remote_entry *e = t->head;
    while (e) {
        struct remote_entry *next = e->next;
        remote_names_drop(&t->names, e);
        free(e->key);
        free(e);
        e = next;
    }
    remote_names_fini(&t->names);
    hash_fini(&t->index);
    host_presence_clear(&t->hosts);
    memset(t, 0, sizeof(*t));
}

struct remote_entry *remote_table_find_peer(const struct remote_table *t, const char *subnet,
                                            uint32_t addr)
{
    struct remote_key k = {subnet, true, addr, NULL};
    return find_key(t, &k);
}

struct remote_entry *remote_table_find_member(const struct remote_table *t, const char *subnet,
                                              const struct ip_addr *vtep)
{
    struct remote_key k = {subnet, false, 0, vtep};
    return find_key(t, &k);
}

struct remote_entry *remote_table_find_claim(const struct remote_table *t, const char *subnet,
                                             bool is_peer, uint32_t addr,
                                             const struct ip_addr *vtep)
{
    struct remote_key k = {subnet, is_peer, addr, vtep};
    struct remote_entry *e = find_key(t, &k);
    while (e && !ip_addr_equal(&e->vtep, vtep))
        e = e->next_claim;
    return e;
}

bool remote_table_wins(const struct remote_table *t, const struct remote_entry *entry)
{
    struct remote_key k = key_of(entry);
    return find_key(t, &k) == entry;
}

/* Whether a is the older claim: the smaller create revision, then the lower VTEP. */
static bool older(const struct remote_entry *a, const struct remote_entry *b)
{
    if (a->created != b->created)
        return a->created < b->created;
    return ip_addr_compare(&a->vtep, &b->vtep) < 0;
}

/* Links e into its key's chain (the index points to the chain's first claim). */
static void chain_link(struct remote_table *t, struct remote_entry *e)
{
    struct remote_key k = key_of(e);
    struct remote_entry *first = find_key(t, &k);
    if (!first || older(e, first)) {
        e->next_claim = first;
        if (first)
            hash_remove(&t->index, &first->node);
        hash_add(&t->index, &e->node, entry_hash(e));
        return;
    }
    struct remote_entry *before = first;
    while (before->next_claim && older(before->next_claim, e))
        before = before->next_claim;
    e->next_claim = before->next_claim;
    before->next_claim = e;
}

static void chain_unlink(struct remote_table *t, struct remote_entry *e)
{
    struct remote_key k = key_of(e);
    struct remote_entry *first = find_key(t, &k);
    if (first == e) {
        hash_remove(&t->index, &e->node);
        if (e->next_claim)
            hash_add(&t->index, &e->next_claim->node, entry_hash(e));
    } else {
        struct remote_entry *before = first;
        while (before && before->next_claim != e)
            before = before->next_claim;
        if (before)
            before->next_claim = e->next_claim;
    }
    e->next_claim = NULL;
}

struct remote_entry *remote_table_add(struct remote_table *t, const char *subnet, bool is_peer,
                                      uint32_t addr, const struct ip_addr *vtep, int64_t created)
{
    /* The stored subnet, which a too-long one was cut to, is the key. */
    size_t len = strnlen(subnet, ADDR_STR_MAX - 1);
    struct remote_entry *e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->subnet, subnet, len);
    e->is_peer = is_peer;
    e->addr = is_peer ? addr : 0;
    e->vtep = *vtep;
    e->created = created;
    chain_link(t, e);
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    t->head = e;
    t->count++;
    host_presence_added(&t->hosts, vtep, e->is_peer, time(NULL));
    return e;
}

void remote_table_set_created(struct remote_table *t, struct remote_entry *e, int64_t created)
{
    if (e->created == created)
        return;
    chain_unlink(t, e);
    e->created = created;
    chain_link(t, e);
}

void remote_table_remove(struct remote_table *t, struct remote_entry *e)
{
    chain_unlink(t, e);
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    t->count--;
    host_presence_removed(&t->hosts, &e->vtep, e->is_peer, time(NULL));
    remote_names_drop(&t->names, e);
    free(e->key);
    free(e);
}

int remote_table_set_key(struct remote_entry *e, const char *key)
{
    if (remote_table_key_is(e, key))
        return 0;
    char *copy = NULL;
    if (key && key[0] && !(copy = strdup(key)))
        return -1;
    free(e->key);
    e->key = copy;
    return 0;
}

bool remote_table_key_is(const struct remote_entry *e, const char *key)
{
    return strcmp(e->key ? e->key : "", key ? key : "") == 0;
}

int remote_table_set_names(struct remote_table *t, struct remote_entry *entry, const char *names)
{
    return remote_names_set(&t->names, entry, names);
}

const struct remote_name_ref *remote_table_named(const struct remote_table *t, const char *name)
{
    return remote_names_find(&t->names, name);
}
