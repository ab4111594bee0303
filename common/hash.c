/* hash.c: the chained hash index (see hash.h). */
#include "common/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hash_init(struct hash *h, size_t initial_buckets, hash_match_fn match)
{
    size_t count = 1;
    while (count < initial_buckets)
        count *= 2;
    memset(h, 0, sizeof(*h));
    h->match = match;
    h->buckets = calloc(count, sizeof(*h->buckets));
    if (!h->buckets)
        return -ENOMEM;
    h->bucket_count = count;
    return 0;
}

void hash_fini(struct hash *h)
{
    free(h->buckets);
    memset(h, 0, sizeof(*h));
}

static struct hash_node **bucket_of(const struct hash *h, uint32_t hash)
{
    return &h->buckets[hash & (h->bucket_count - 1)];
}

struct hash_node *hash_find(const struct hash *h, uint32_t hash, const void *key)
{
    if (!h->buckets)
        return NULL;
    for (struct hash_node *n = *bucket_of(h, hash); n; n = n->chain)
        if (n->hash == hash && h->match(n, key))
            return n;
    return NULL;
}

/* Relinks every node into twice the buckets; on failure keeps the old array. */
static void grow(struct hash *h)
{
    size_t count = h->bucket_count * 2;
    struct hash_node **buckets = calloc(count, sizeof(*buckets));
    if (!buckets)
        return;
    for (size_t i = 0; i < h->bucket_count; i++) {
        struct hash_node *n = h->buckets[i];
        while (n) {
            struct hash_node *next = n->chain;
            struct hash_node **b = &buckets[n->hash & (count - 1)];
            n->chain = *b;
            *b = n;
            n = next;
        }
    }
    free(h->buckets);
    h->buckets = buckets;
    h->bucket_count = count;
}

void hash_add(struct hash *h, struct hash_node *node, uint32_t hash)
{
    if (h->count >= h->bucket_count)
        grow(h);
    node->hash = hash;
    struct hash_node **b = bucket_of(h, hash);
    node->chain = *b;
    *b = node;
    h->count++;
}

void hash_remove(struct hash *h, struct hash_node *node)
{
    for (struct hash_node **p = bucket_of(h, node->hash); *p; p = &(*p)->chain) {
        if (*p == node) {
            *p = node->chain;
            node->chain = NULL;
            h->count--;
            return;
        }
    }
}

/* The head of the first non-empty bucket from it->bucket on. */
static struct hash_node *next_bucket_head(struct hash_iter *it)
{
    while (it->h->buckets && it->bucket < it->h->bucket_count) {
        struct hash_node *head = it->h->buckets[it->bucket++];
        if (head)
            return head;
    }
    return NULL;
}

void hash_iter_init(struct hash_iter *it, const struct hash *h)
{
    it->h = h;
    it->bucket = 0;
    it->next = next_bucket_head(it);
}

struct hash_node *hash_iter_next(struct hash_iter *it)
{
    struct hash_node *node = it->next;
    if (node) /* read ahead now, so the caller may free node */
        it->next = node->chain ? node->chain : next_bucket_head(it);
    return node;
}

uint32_t hash_bytes(uint32_t hash, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ p[i]) * 16777619u;
    return hash;
}

uint32_t hash_string(uint32_t hash, const char *text)
{
    return hash_bytes(hash, text, strlen(text));
}
