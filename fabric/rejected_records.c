/* rejected_records.c: a chained hash set of refused keys (see rejected_records.h). */
#include "fabric/rejected_records.h"

#include <stdlib.h>
#include <string.h>

struct rejected_record {
    struct rejected_record *next;
    int64_t revision;
    bool stale;
    char key[]; /* NUL-terminated */
};

#define INITIAL_BUCKETS 16

static size_t bucket_of(const struct rejected_records *set, const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h & (set->bucket_count - 1);
}

int rejected_records_init(struct rejected_records *set)
{
    set->buckets = calloc(INITIAL_BUCKETS, sizeof(*set->buckets));
    set->bucket_count = INITIAL_BUCKETS;
    set->count = 0;
    return set->buckets ? 0 : -1;
}

void rejected_records_clear(struct rejected_records *set)
{
    for (size_t i = 0; set->buckets && i < set->bucket_count; i++) {
        struct rejected_record *r = set->buckets[i];
        while (r) {
            struct rejected_record *next = r->next;
            free(r);
            r = next;
        }
    }
    free(set->buckets);
    memset(set, 0, sizeof(*set));
}

/* Doubles the buckets when the chains grow past two on average; stays as it is
 * when out of memory (only slower). */
static void grow(struct rejected_records *set)
{
    size_t count = set->bucket_count * 2;
    struct rejected_record **buckets = calloc(count, sizeof(*buckets));
    if (!buckets)
        return;
    struct rejected_records bigger = {buckets, count, set->count};
    for (size_t i = 0; i < set->bucket_count; i++) {
        struct rejected_record *r = set->buckets[i];
        while (r) {
            struct rejected_record *next = r->next;
            size_t b = bucket_of(&bigger, r->key);
            r->next = buckets[b];
            buckets[b] = r;
            r = next;
        }
    }
    free(set->buckets);
    *set = bigger;
}

bool rejected_records_note(struct rejected_records *set, const char *key, int64_t revision)
{
    if (!set->buckets)
        return true;
    size_t b = bucket_of(set, key);
    for (struct rejected_record *r = set->buckets[b]; r; r = r->next) {
        if (strcmp(r->key, key) == 0) {
            bool news = r->revision != revision;
            r->revision = revision;
            r->stale = false;
            return news;
        }
    }
    size_t len = strlen(key);
    struct rejected_record *r = malloc(sizeof(*r) + len + 1);
    if (!r)
        return true;
    memcpy(r->key, key, len + 1);
    r->revision = revision;
    r->stale = false;
    r->next = set->buckets[b];
    set->buckets[b] = r;
    if (++set->count > set->bucket_count * 2)
        grow(set);
    return true;
}

void rejected_records_forget(struct rejected_records *set, const char *key)
{
    if (!set->buckets || set->count == 0)
        return;
    for (struct rejected_record **p = &set->buckets[bucket_of(set, key)]; *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            struct rejected_record *gone = *p;
            *p = gone->next;
            free(gone);
            set->count--;
            return;
        }
    }
}

void rejected_records_mark_stale(struct rejected_records *set)
{
    for (size_t i = 0; set->buckets && i < set->bucket_count; i++)
        for (struct rejected_record *r = set->buckets[i]; r; r = r->next)
            r->stale = true;
}

void rejected_records_drop_stale(struct rejected_records *set)
{
    for (size_t i = 0; set->buckets && i < set->bucket_count; i++) {
        struct rejected_record **p = &set->buckets[i];
        while (*p) {
            if ((*p)->stale) {
                struct rejected_record *gone = *p;
                *p = gone->next;
                free(gone);
                set->count--;
            } else {
                p = &(*p)->next;
            }
        }
    }
}
