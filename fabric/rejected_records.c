/* rejected_records.c: a hash set of refused keys (see rejected_records.h). */
#include "fabric/rejected_records.h"

#include <stdlib.h>
#include <string.h>

struct rejected_record {
    struct hash_node node;
    int64_t revision;
    bool stale;
    char key[]; /* NUL-terminated */
};

#define INITIAL_BUCKETS 16

static struct rejected_record *record_of(struct hash_node *node)
{
    return HASH_ENTRY(node, struct rejected_record, node);
}

static bool key_match(const struct hash_node *node, const void *key)
{
    return strcmp(HASH_ENTRY(node, const struct rejected_record, node)->key, key) == 0;
}

int rejected_records_init(struct rejected_records *set)
{
    return hash_init(&set->index, INITIAL_BUCKETS, key_match) < 0 ? -1 : 0;
}

/* Removes and frees every record (all of them, or the stale ones). */
static void drop(struct rejected_records *set, bool only_stale)
{
    struct hash_iter it;
    hash_iter_init(&it, &set->index);
    for (struct hash_node *n; (n = hash_iter_next(&it));) {
        if (only_stale && !record_of(n)->stale)
            continue;
        hash_remove(&set->index, n);
        free(record_of(n));
    }
}

void rejected_records_clear(struct rejected_records *set)
{
    drop(set, false);
    hash_fini(&set->index);
}

bool rejected_records_note(struct rejected_records *set, const char *key, int64_t revision)
{
    if (!set->index.buckets)
        return true;
    uint32_t hash = hash_string(HASH_SEED, key);
    struct hash_node *found = hash_find(&set->index, hash, key);
    if (found) {
        struct rejected_record *r = record_of(found);
        bool news = r->revision != revision;
        r->revision = revision;
        r->stale = false;
        return news;
    }
    size_t len = strlen(key);
    struct rejected_record *r = malloc(sizeof(*r) + len + 1);
    if (!r)
        return true;
    memcpy(r->key, key, len + 1);
    r->revision = revision;
    r->stale = false;
    hash_add(&set->index, &r->node, hash);
    return true;
}

void rejected_records_forget(struct rejected_records *set, const char *key)
{
    struct hash_node *found = hash_find(&set->index, hash_string(HASH_SEED, key), key);
    if (found) {
        hash_remove(&set->index, found);
        free(record_of(found));
    }
}

void rejected_records_mark_stale(struct rejected_records *set)
{
    struct hash_iter it;
    hash_iter_init(&it, &set->index);
    for (struct hash_node *n; (n = hash_iter_next(&it));)
        record_of(n)->stale = true;
}

void rejected_records_drop_stale(struct rejected_records *set)
{
    drop(set, true);
}

size_t rejected_records_count(const struct rejected_records *set)
{
    return set->index.count;
}
