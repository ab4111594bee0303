/*
 * vtep_map.c: where an encrypted overlay's frames go (vtep_map.h).
 *
 * Nobody waits: the peers (a hash table, MAC -> VTEP) and the members (an array
 * of VTEPs) are immutable once published; a writer builds a changed copy, swaps
 * the pointer (an atomic exchange) and retires the old copy, which is freed once
 * no reader can hold it any more. Readers announce themselves in counters, one
 * pair per reader slot (a cache line each, so that workers do not bounce a line
 * between cores), indexed by the parity of the map's epoch:
 *   reader: e = epoch; count[e & 1]++; if epoch != e: undo, again;
 *           use the pointers; count[e & 1]--
 *   writer: swap; retire the old copy, tagged with the epoch E of the swap;
 *           while no reader of epoch E - 1 is left (count[(E + 1) & 1] is 0
 *           everywhere: epoch E + 1 has no readers yet): free the copies retired
 *           before E and move the epoch to E + 1
 * A copy retired at epoch E may be held only by readers that entered at E or
 * before: later ones saw the new pointer, stored before the epoch moved. The
 * epoch moves on only when the readers of the epoch before have all left, so
 * a parity never holds readers of two epochs. A writer never waits: when readers
 * are inside, their copies stay on the retired list for a later write (or
 * vtep_map_free).
 * A write copies the table (O(n)): endpoints change at container speed, frames
 * are looked up at line rate.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "common/log.h"
#include "datapath/vtep_map.h"

#define READER_SLOTS 16 /* DATAPATH_MAX_WORKERS: a worker each, in the common case */
#define PEERS_MIN_CAPACITY 16
#define KEY_USED (1ull << 48) /* marks a used entry: the key is the MAC's 48 bits */

struct peer_entry {
    uint64_t key; /* KEY_USED | the MAC; 0: empty */
    struct ip_addr vtep;
};

/* A copy swapped out, freed once no reader may hold it (first in every copy). */
struct retired {
    struct retired *next;
    unsigned epoch; /* when it was swapped out */
};

struct peer_table {
    struct retired retired;
    size_t mask; /* capacity - 1, a power of two at least twice count */
    size_t count;
    struct peer_entry entries[];
};

struct member_list {
    struct retired retired;
    size_t count;
    struct ip_addr vteps[];
};

struct reader_slot {
    _Alignas(64) _Atomic unsigned long count[2];
};

struct vtep_map {
    struct reader_slot readers[READER_SLOTS];
    _Atomic(struct peer_table *) peers;    /* NULL: none */
    _Atomic(struct member_list *) members; /* NULL: none */
    _Atomic unsigned epoch;
    pthread_mutex_t write_lock; /* the header's "one writer at a time", made sure */
    struct retired *retired;    /* under write_lock */
};

static atomic_uint next_reader_slot;
static _Thread_local unsigned reader_slot_plus1; /* 0: this thread has none yet */

static struct reader_slot *my_reader_slot(struct vtep_map *map)
{
    if (!reader_slot_plus1)
        reader_slot_plus1 = atomic_fetch_add(&next_reader_slot, 1) % READER_SLOTS + 1;
    return &map->readers[reader_slot_plus1 - 1];
}

static unsigned read_begin(struct vtep_map *map, struct reader_slot *slot)
{
    for (;;) {
        unsigned e = atomic_load(&map->epoch);
        atomic_fetch_add(&slot->count[e & 1], 1);
        if (atomic_load(&map->epoch) == e)
            return e & 1;
        atomic_fetch_sub(&slot->count[e & 1], 1); /* a writer moved on: enter again */
    }
}

static void read_end(struct reader_slot *slot, unsigned parity)
{
    atomic_fetch_sub(&slot->count[parity], 1);
}

static bool readers_left(struct vtep_map *map, unsigned parity)
{
    for (int i = 0; i < READER_SLOTS; i++)
        if (atomic_load(&map->readers[i].count[parity]) != 0)
            return true;
    return false;
}

/* Frees the retired copies no reader can hold, moving the epoch on as far as the
 * readers let it (twice at most: then even the newest copy is free). */
static void reclaim(struct vtep_map *map)
{
    for (int step = 0; step < 2 && map->retired; step++) {
        unsigned e = atomic_load(&map->epoch);
        if (readers_left(map, (e + 1) & 1)) /* readers of epoch e - 1 */
            return;
        for (struct retired **r = &map->retired; *r;) {
            struct retired *copy = *r;
            if (copy->epoch != e) { /* swapped out before e: its readers are gone */
                *r = copy->next;
                free(copy);
            } else {
                r = &copy->next;
            }
        }
        atomic_store(&map->epoch, e + 1);
    }
}

/* The copy a swap replaced (may be NULL) goes on the retired list. */
static void retire(struct vtep_map *map, struct retired *copy)
{
    if (copy) {
        copy->epoch = atomic_load(&map->epoch);
        copy->next = map->retired;
        map->retired = copy;
    }
    reclaim(map);
}

static uint64_t mac_key(const uint8_t mac[6])
{
    uint64_t key = KEY_USED;
    for (int i = 0; i < 6; i++)
        key |= (uint64_t)mac[i] << (8 * i);
    return key;
}

static size_t key_slot(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static const struct peer_entry *peer_find(const struct peer_table *t, uint64_t key)
{
    for (size_t i = key_slot(key, t->mask);; i = (i + 1) & t->mask) {
        if (t->entries[i].key == key)
            return &t->entries[i];
        if (t->entries[i].key == 0)
            return NULL;
    }
}

size_t vtep_map_lookup(void *ctx, const uint8_t dst_mac[6], struct ip_addr *vteps, size_t max)
{
    struct vtep_map *map = ctx;
    struct reader_slot *slot = my_reader_slot(map);
    unsigned parity = read_begin(map, slot);
    size_t n = 0;
    const struct peer_table *peers = atomic_load(&map->peers);
    const struct peer_entry *peer =
        !(dst_mac[0] & 1) && peers ? peer_find(peers, mac_key(dst_mac)) : NULL;
    if (peer) {
        if (max > 0)
            vteps[n++] = peer->vtep;
    } else { /* group or unknown unicast: every member */
        const struct member_list *members = atomic_load(&map->members);
        n = members ? (members->count < max ? members->count : max) : 0;
        if (n)
            memcpy(vteps, members->vteps, n * sizeof(*vteps));
    }
    read_end(slot, parity);
    return n;
}

int vtep_map_new(struct vtep_map **out, struct weft_err *err)
{
    /* Aligned for the reader slots' cache lines (sizeof is a multiple of 64). */
    struct vtep_map *map = aligned_alloc(64, sizeof(*map));
    if (!map)
        return weft_err_set(err, -ENOMEM, "no memory for an overlay's VTEP map");
    memset(map, 0, sizeof(*map));
    int rc = pthread_mutex_init(&map->write_lock, NULL);
    if (rc != 0) {
        free(map);
        return weft_err_set(err, -rc, "setting up an overlay's VTEP map: %s", strerror(rc));
    }
    *out = map;
    return 0;
}

void vtep_map_free(struct vtep_map *map)
{
    if (!map)
        return;
    free(atomic_load(&map->peers));
    free(atomic_load(&map->members));
    while (map->retired) {
        struct retired *next = map->retired->next;
        free(map->retired);
        map->retired = next;
    }
    pthread_mutex_destroy(&map->write_lock);
    free(map);
}

/* A copy of old without skip_key (0: skip none), with room for one more. */
static struct peer_table *peers_copy(const struct peer_table *old, uint64_t skip_key)
{
    size_t count = old ? old->count : 0, cap = PEERS_MIN_CAPACITY;
    while (cap < 2 * (count + 1))
        cap *= 2;
    struct peer_table *t = calloc(1, sizeof(*t) + cap * sizeof(t->entries[0]));
    if (!t)
        return NULL;
    t->mask = cap - 1;
    for (size_t i = 0; old && i <= old->mask; i++) {
        const struct peer_entry *e = &old->entries[i];
        if (e->key == 0 || e->key == skip_key)
            continue;
        size_t j = key_slot(e->key, t->mask);
        while (t->entries[j].key != 0)
            j = (j + 1) & t->mask;
        t->entries[j] = *e;
        t->count++;
    }
    return t;
}

/* Publishes peers in place of the current table and retires that one. */
static void peers_swap(struct vtep_map *map, struct peer_table *peers)
{
    struct peer_table *old = atomic_exchange(&map->peers, peers);
    retire(map, old ? &old->retired : NULL);
}

static void members_swap(struct vtep_map *map, struct member_list *members)
{
    struct member_list *old = atomic_exchange(&map->members, members);
    retire(map, old ? &old->retired : NULL);
}

int vtep_map_set_peer(struct vtep_map *map, const uint8_t mac[6], const struct ip_addr *vtep,
                      struct weft_err *err)
{
    uint64_t key = mac_key(mac);
    pthread_mutex_lock(&map->write_lock);
    const struct peer_table *old = atomic_load(&map->peers);
    const struct peer_entry *e = old ? peer_find(old, key) : NULL;
    int rc = 0;
    if (!e || !ip_addr_equal(&e->vtep, vtep)) {
        struct peer_table *t = peers_copy(old, key);
        if (!t) {
            rc = weft_err_set(err, -ENOMEM, "no memory for an overlay's VTEP map");
        } else {
            size_t j = key_slot(key, t->mask);
            while (t->entries[j].key != 0)
                j = (j + 1) & t->mask;
            t->entries[j] = (struct peer_entry){.key = key, .vtep = *vtep};
            t->count++;
            peers_swap(map, t);
        }
    }
    pthread_mutex_unlock(&map->write_lock);
    return rc;
}

void vtep_map_del_peer(struct vtep_map *map, const uint8_t mac[6])
{
    uint64_t key = mac_key(mac);
    pthread_mutex_lock(&map->write_lock);
    const struct peer_table *old = atomic_load(&map->peers);
    if (old && peer_find(old, key)) {
        struct peer_table *t = old->count > 1 ? peers_copy(old, key) : NULL;
        if (old->count > 1 && !t) /* the stale entry stays: frames to its old host */
            log_warn("out of memory: an endpoint stays in the VTEP map", "mac_key=%llx",
                     (unsigned long long)(key & ~KEY_USED));
        else
            peers_swap(map, t);
    }
    pthread_mutex_unlock(&map->write_lock);
}

static bool members_have(const struct member_list *m, const struct ip_addr *vtep)
{
    for (size_t i = 0; m && i < m->count; i++)
        if (ip_addr_equal(&m->vteps[i], vtep))
            return true;
    return false;
}

int vtep_map_add_member(struct vtep_map *map, const struct ip_addr *vtep, struct weft_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&map->write_lock);
    const struct member_list *old = atomic_load(&map->members);
    size_t count = old ? old->count : 0;
    if (!members_have(old, vtep)) {
        struct member_list *m = malloc(sizeof(*m) + (count + 1) * sizeof(m->vteps[0]));
        if (!m) {
            rc = weft_err_set(err, -ENOMEM, "no memory for an overlay's VTEP map");
        } else {
            if (count)
                memcpy(m->vteps, old->vteps, count * sizeof(m->vteps[0]));
            m->vteps[count] = *vtep;
            m->count = count + 1;
            members_swap(map, m);
        }
    }
    pthread_mutex_unlock(&map->write_lock);
    return rc;
}

void vtep_map_del_member(struct vtep_map *map, const struct ip_addr *vtep)
{
    pthread_mutex_lock(&map->write_lock);
    const struct member_list *old = atomic_load(&map->members);
    if (members_have(old, vtep)) {
        struct member_list *m =
            old->count > 1 ? malloc(sizeof(*m) + (old->count - 1) * sizeof(m->vteps[0])) : NULL;
        if (old->count > 1 && !m) {
            char text[ADDR_STR_MAX];
            ip_addr_format(vtep, text);
            log_warn("out of memory: a host stays a member in the VTEP map", "vtep=%s", text);
        } else {
            for (size_t i = 0, j = 0; m && i < old->count; i++)
                if (!ip_addr_equal(&old->vteps[i], vtep))
                    m->vteps[j++] = old->vteps[i];
            if (m)
                m->count = old->count - 1;
            members_swap(map, m);
        }
    }
    pthread_mutex_unlock(&map->write_lock);
}
