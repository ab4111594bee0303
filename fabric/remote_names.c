/*
 * remote_names.c: the index of remote peers by DNS name (remote_names.h). A
 * name's node lives while some claim lists it; a claim's references are one
 * array, allocated whole when its names are set, so a change links the new
 * references before it unlinks the old ones and an allocation that fails
 * leaves everything as it was.
 */
#include "fabric/remote_names.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/remote_table.h"

#define INITIAL_BUCKETS 64

struct remote_name {
    struct hash_node node;
    struct remote_name_ref *refs; /* never empty while the node is indexed */
    size_t len;
    char text[];
};

/* A name as a token of a names text: not NUL-terminated. */
struct name_key {
    const char *text;
    size_t len;
};

static bool name_matches(const struct hash_node *node, const void *key)
{
    const struct remote_name *name = HASH_ENTRY(node, const struct remote_name, node);
    const struct name_key *k = key;
    return name->len == k->len && memcmp(name->text, k->text, k->len) == 0;
}

int remote_names_init(struct remote_names *n)
{
    return hash_init(&n->index, INITIAL_BUCKETS, name_matches) < 0 ? -1 : 0;
}

void remote_names_fini(struct remote_names *n)
{
    struct hash_iter it;
    hash_iter_init(&it, &n->index);
    struct hash_node *node;
    while ((node = hash_iter_next(&it))) {
        hash_remove(&n->index, node);
        free(HASH_ENTRY(node, struct remote_name, node));
    }
    hash_fini(&n->index);
}

static struct remote_name *name_find(const struct remote_names *n, const struct name_key *k,
                                     uint32_t hash)
{
    struct hash_node *node = hash_find(&n->index, hash, k);
    return node ? HASH_ENTRY(node, struct remote_name, node) : NULL;
}

/* Lists ref (for entry) under the name k, making its node; -1 when out of memory. */
static int ref_link(struct remote_names *n, struct remote_name_ref *ref, struct remote_entry *entry,
                    const struct name_key *k)
{
    uint32_t hash = hash_bytes(HASH_SEED, k->text, k->len);
    struct remote_name *name = name_find(n, k, hash);
    if (!name) {
        name = malloc(sizeof(*name) + k->len + 1);
        if (!name)
            return -1;
        name->refs = NULL;
        name->len = k->len;
        memcpy(name->text, k->text, k->len);
        name->text[k->len] = '\0';
        hash_add(&n->index, &name->node, hash);
    }
    *ref = (struct remote_name_ref){.next = name->refs, .entry = entry, .name = name};
    if (name->refs)
        name->refs->prev = ref;
    name->refs = ref;
    return 0;
}

/* Takes ref off its name's list; the name's node goes with its last reference. */
static void ref_unlink(struct remote_names *n, struct remote_name_ref *ref)
{
    struct remote_name *name = ref->name;
    if (ref->prev)
        ref->prev->next = ref->next;
    else
        name->refs = ref->next;
    if (ref->next)
        ref->next->prev = ref->prev;
    if (!name->refs) {
        hash_remove(&n->index, &name->node);
        free(name);
    }
}

/* The next space-separated token of text at *at (advanced past it); false at the end. */
static bool next_token(const char *text, size_t *at, struct name_key *out)
{
    size_t i = *at;
    while (text[i] == ' ')
        i++;
    if (!text[i])
        return false;
    size_t len = strcspn(text + i, " ");
    *out = (struct name_key){text + i, len};
    *at = i + len;
    return true;
}

/* Whether the token k of text (which points into it) appears earlier in text. */
static bool said_before(const char *text, const struct name_key *k)
{
    size_t at = 0;
    struct name_key earlier;
    while (next_token(text, &at, &earlier) && earlier.text < k->text)
        if (earlier.len == k->len && memcmp(earlier.text, k->text, k->len) == 0)
            return true;
    return false;
}

int remote_names_set(struct remote_names *n, struct remote_entry *entry, const char *names)
{
    if (!names || !*names) {
        remote_names_drop(n, entry);
        return 0;
    }
    if (entry->names && strcmp(entry->names, names) == 0)
        return 0;
    char *copy = strdup(names);
    size_t tokens = 0, at = 0, used = 0;
    struct name_key k;
    while (copy && next_token(copy, &at, &k))
        tokens++;
    struct remote_name_ref *refs = copy && tokens ? calloc(tokens, sizeof(*refs)) : NULL;
    if (!copy || (tokens && !refs))
        goto undo;
    for (at = 0; next_token(copy, &at, &k);) {
        if (said_before(copy, &k))
            continue; /* "web web": listed once */
        if (ref_link(n, &refs[used], entry, &k) < 0)
            goto undo;
        used++;
    }
    remote_names_drop(n, entry);
    entry->names = copy;
    entry->name_refs = refs;
    entry->name_ref_count = (uint32_t)used; /* at most a names text's tokens */
    return 0;
undo:
    while (used > 0)
        ref_unlink(n, &refs[--used]);
    free(refs);
    free(copy);
    return -1;
}

void remote_names_drop(struct remote_names *n, struct remote_entry *entry)
{
    for (size_t i = 0; i < entry->name_ref_count; i++)
        ref_unlink(n, &entry->name_refs[i]);
    free(entry->name_refs);
    free(entry->names);
    entry->name_refs = NULL;
    entry->name_ref_count = 0;
    entry->names = NULL;
}

const struct remote_name_ref *remote_names_find(const struct remote_names *n, const char *name)
{
    struct name_key k = {name, strlen(name)};
    struct remote_name *found = name_find(n, &k, hash_bytes(HASH_SEED, k.text, k.len));
    return found ? found->refs : NULL;
}
