/*
 * rejected_records.h: the fabric/ records this host refused, so each is logged
 * (and counted) once rather than on every listing of the store.
 *
 * Owns a set of keys (indexed by common/hash.h) with the revision at which each
 * was refused. A record
 * written again (a new revision) is news again; one deleted or replaced by a good
 * record is forgotten. Like the remote table it follows listings: entries are
 * marked stale when one begins and those not seen again are dropped when it ends.
 * Callers: fabric/ only (peers.c), under the fabric lock. Not thread-safe by itself.
 */
#ifndef WEFT_REJECTED_RECORDS_H
#define WEFT_REJECTED_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

struct rejected_records {
    struct hash index; /* of struct rejected_record, private to rejected_records.c */
};

/* An empty set. Returns -1 when out of memory. */
int rejected_records_init(struct rejected_records *set);
void rejected_records_clear(struct rejected_records *set);

/* Notes key as refused at revision (and not stale). True when that is news: the
 * key was not noted, or at another revision; also true when out of memory, so a
 * refusal is never kept quiet. */
bool rejected_records_note(struct rejected_records *set, const char *key, int64_t revision);
void rejected_records_forget(struct rejected_records *set, const char *key);
void rejected_records_mark_stale(struct rejected_records *set);
void rejected_records_drop_stale(struct rejected_records *set);
/* How many keys are noted. */
size_t rejected_records_count(const struct rejected_records *set);

#endif
