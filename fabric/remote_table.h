/*
 * remote_table.h: what this host knows of other hosts' endpoints (peers) and
 * overlay memberships (members), as learned from the store's watch.
 *
 * Each record is one host's CLAIM: a peer record under fabric/<host>/ says "this
 * address is an endpoint on <host>". Two hosts may claim one address (a forged
 * claim, or a race), so the table keeps every claim: the hash index (common/hash.h)
 * on (subnet, kind, address) points to a short chain of them, one per claiming
 * host, oldest first: the smallest create revision of its key, a tie (impossible in
 * etcd) broken by the lower VTEP. The chain's first claim is the one every host
 * programs (the older claim wins); the others wait behind it. A member's chain has
 * one claim (its key names its host). So a watch event finds its claim in constant
 * time however large the fabric (a 50-host fabric of 100 endpoints each is 5 000
 * peers on every host). Every claim is also on one list, in no particular order,
 * for walks over all of them, and each peer under each of its DNS names
 * (remote_names.h), for the resolver.
 * Callers: fabric/ only (peers.c, stale_sweep.c), under the fabric lock. Not
 * thread-safe by itself.
 */
#ifndef WEFT_REMOTE_TABLE_H
#define WEFT_REMOTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/addr6.h"
#include "common/hash.h"
#include "common/ip_addr.h"
#include "fabric/host_presence.h"
#include "fabric/remote_names.h"

/* Laid out for size (a member of a 1,000-host overlay holds 3,000 of these): the
 * subnet's text sized to it at the end, a public key only where there is one. */
struct remote_entry {
    struct remote_entry *next, *prev; /* the list of all claims */
    struct remote_entry *next_claim;  /* the next younger claim of the same key */
    struct hash_node node;            /* in the table's index: the chain's first claim only */
    int64_t created;                  /* create revision of its store key: the older claim wins */
    char *names;     /* peers: its container's DNS names (remote_names.c's copy), or NULL */
    struct remote_name_ref *name_refs; /* its place under each name (remote_names.c) */
    char *key; /* members of encrypted overlays: the host's public key text; else NULL */
    uint32_t name_ref_count;
    uint32_t addr;       /* a peer's address (network order): its key; 0 for a member */
    struct ip_addr vtep; /* the claiming host: its records name only it; a member's key */
    struct ipv6_addr addr6;
    uint8_t mac[6];
    uint8_t ciphers;   /* with a key: the ciphers its host runs (tunnel/aead.h's set) */
    bool is_peer;      /* a remote endpoint; false: a remote host's membership */
    bool claim_only;   /* claimed at allocation, no endpoint yet: wins, never programmed */
    bool partial_csum; /* with a key: its host takes partial TCP checksums */
    bool has_addr6;    /* peers: an IPv6 address too (dual-stack overlays) */
    bool stale;
    bool programmed; /* in the kernel, on the local network of the same subnet */
    bool contested;  /* this claim's conflict was logged and counted (once) */
    char subnet[];   /* canonical text, at most ADDR_STR_MAX - 1 bytes */
};

struct remote_table {
    struct hash index;
    size_t count; /* claims */
    struct remote_entry *head;
    struct remote_names names;  /* peers by DNS name */
    struct host_presence hosts; /* every claim's host, counted: since when present or gone */
};

/* An empty table. Returns -1 when out of memory. */
int remote_table_init(struct remote_table *table);
/* Frees every entry and the index; the table may be initialized again. */
void remote_table_clear(struct remote_table *table);

/* The winning (oldest) claim of a peer's address, or NULL. */
struct remote_entry *remote_table_find_peer(const struct remote_table *table, const char *subnet,
                                            uint32_t addr);
/* The member record of host vtep in subnet, or NULL. */
struct remote_entry *remote_table_find_member(const struct remote_table *table, const char *subnet,
                                              const struct ip_addr *vtep);
/* The claim of host vtep on a key (a member's: addr is ignored), or NULL. */
struct remote_entry *remote_table_find_claim(const struct remote_table *table, const char *subnet,
                                             bool is_peer, uint32_t addr,
                                             const struct ip_addr *vtep);
/* Whether entry is its key's winning claim. */
bool remote_table_wins(const struct remote_table *table, const struct remote_entry *entry);
/* A new zeroed claim of host vtep with its key set (a member's addr is ignored), in
 * the table at its place by created; NULL when out of memory. The caller has checked
 * that the claim is not present. */
struct remote_entry *remote_table_add(struct remote_table *table, const char *subnet, bool is_peer,
                                      uint32_t addr, const struct ip_addr *vtep, int64_t created);
/* A claim's key was created again (a listing after missed events): moves it to
 * its place in its chain. */
void remote_table_set_created(struct remote_table *table, struct remote_entry *entry,
                              int64_t created);
/* Sets a member's public key text (a copy; "" or NULL: none). -1 when out of memory
 * (the old key stays). */
int remote_table_set_key(struct remote_entry *entry, const char *key);
/* Whether entry's key is key ("" or NULL: none). */
bool remote_table_key_is(const struct remote_entry *entry, const char *key);
/* Sets a peer's names (a copy; "" or NULL: none). -1 when out of memory (the old
 * names stay). */
int remote_table_set_names(struct remote_table *table, struct remote_entry *entry,
                           const char *names);
/* The claims whose names hold name (follow ->next; every subnet, programmed or
 * not), or NULL. */
const struct remote_name_ref *remote_table_named(const struct remote_table *table,
                                                 const char *name);
/* Unlinks and frees entry; the next claim of its key, if any, now wins. */
void remote_table_remove(struct remote_table *table, struct remote_entry *entry);

#endif
