/*
 * hash.h: one small chained hash index, for every table that must find an
 * entry by its key in constant time (fabric/remote_table.c,
 * fabric/rejected_records.c).
 *
 * Intrusive, as the kernel's hlist is: the caller's entry embeds a struct
 * hash_node and stays the caller's (allocated and freed by it); the index owns
 * only its bucket array. The caller hashes its key (hash_bytes) and says how a
 * node matches a key, so keys can be of any shape (a string, or a subnet, a
 * kind and an address). The buckets double when entries outnumber them, so a
 * lookup stays at about one comparison; a failed doubling keeps the old array
 * (only slower). Nothing aborts: the one allocation that can fail the caller
 * (hash_init) returns -ENOMEM.
 *
 * Thread-safety: none. Callers lock (fabric/ holds its lock around both tables).
 * Anyone may include this.
 */
#ifndef WEFT_HASH_H
#define WEFT_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded in the caller's entry; HASH_ENTRY gets the entry back. */
struct hash_node {
    struct hash_node *chain; /* the bucket's next node */
    uint32_t hash;           /* the key's, kept for lookups and doubling */
};

#define HASH_ENTRY(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

/* Whether node's entry has the key the caller passed to hash_find. */
typedef bool (*hash_match_fn)(const struct hash_node *node, const void *key);

struct hash {
    struct hash_node **buckets;
    size_t bucket_count; /* a power of two */
    size_t count;
    hash_match_fn match;
};

/* An empty index of at least initial_buckets buckets (rounded up to a power
 * of two). Returns 0, or -ENOMEM with the index empty and safe to hash_fini. */
int hash_init(struct hash *h, size_t initial_buckets, hash_match_fn match);
/* Frees the bucket array; the nodes stay the caller's. h may be initialized again. */
void hash_fini(struct hash *h);

/* The node whose key matches, among those that hashed to hash; NULL if none. */
struct hash_node *hash_find(const struct hash *h, uint32_t hash, const void *key);
/* Links node under hash. The caller has checked that its key is not present.
 * Cannot fail: when doubling the buckets fails the index keeps its old size. */
void hash_add(struct hash *h, struct hash_node *node, uint32_t hash);
/* Unlinks node, which must be in h. */
void hash_remove(struct hash *h, struct hash_node *node);

/* Walks every node in no particular order. The node last returned may be
 * removed (and freed) before the next call; no other change is allowed during
 * a walk. */
struct hash_iter {
    const struct hash *h;
    size_t bucket;
    struct hash_node *next;
};
void hash_iter_init(struct hash_iter *it, const struct hash *h);
/* The next node, or NULL at the end. */
struct hash_node *hash_iter_next(struct hash_iter *it);

/* FNV-1a: start with HASH_SEED, feed each part of the key in turn. */
#define HASH_SEED 2166136261u
uint32_t hash_bytes(uint32_t hash, const void *data, size_t len);
uint32_t hash_string(uint32_t hash, const char *text);

#endif
