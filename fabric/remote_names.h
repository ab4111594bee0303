/*
 * remote_names.h: the remote table's index of peers by DNS name, so that the
 * resolver finds the peers of a name without walking every claim of every
 * overlay (fabric/names.c asks twice per query: to count, then to place).
 *
 * Owns: one node per distinct name with the list of claims whose names hold it
 * (each claim once per name, whatever its subnet, programmed or not: the caller
 * filters), and each claim's copy of its names text and its references into the
 * lists (struct remote_entry's names, name_refs, name_ref_count).
 * Callers: remote_table.c (sets and drops a claim's names through it) and
 * names.c (walks a name's list through remote_table_named), under the fabric
 * lock. Not thread-safe by itself.
 */
#ifndef WEFT_REMOTE_NAMES_H
#define WEFT_REMOTE_NAMES_H

#include <stddef.h>

#include "common/hash.h"

struct remote_entry;
struct remote_name;

/* One claim in one name's list. */
struct remote_name_ref {
    struct remote_name_ref *next, *prev;
    struct remote_entry *entry;
    struct remote_name *name;
};

struct remote_names {
    struct hash index; /* of struct remote_name, by the name's text */
};

/* An empty index; -1 when out of memory. */
int remote_names_init(struct remote_names *n);
/* Frees the names' nodes; every claim's names were dropped or freed with it. */
void remote_names_fini(struct remote_names *n);

/* Sets entry's names (a copy of the space-separated text; NULL or "" for none)
 * and lists entry under each distinct one. -1 when out of memory: the old names
 * stay, listed as before. */
int remote_names_set(struct remote_names *n, struct remote_entry *entry, const char *names);
/* Takes entry off every list and frees its names (before entry is freed). */
void remote_names_drop(struct remote_names *n, struct remote_entry *entry);

/* The first claim whose names hold name (follow ->next), or NULL. */
const struct remote_name_ref *remote_names_find(const struct remote_names *n, const char *name);

#endif
