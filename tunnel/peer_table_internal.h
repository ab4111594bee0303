/*
 * peer_table_internal.h: the fields of tunnel/peer_table.h's table, shared by
 * peer_table.c (making, setting, counting, reporting) and peer_transform.c (seal
 * and open, the workers' hot path). Nobody else includes it.
 *
 * Locking, as peer_table.h says: table->lock guards table->peers and every
 * peer's sessions[] (the pointers); a peer_session's tx_lock guards its tx and
 * rx_lock its rx. A struct peer is never freed before the table, so a pointer to
 * one stays good after the rwlock is released (its atomics may be used then); a
 * peer_session may be freed by set as soon as no reader holds the rwlock, so it
 * is used only under it. The setter reads peers and sessions[] without the lock
 * (it is the only writer) and takes it exclusively to change them.
 */
#ifndef WEFT_TUNNEL_PEER_TABLE_INTERNAL_H
#define WEFT_TUNNEL_PEER_TABLE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common/addr.h"
#include "common/hash.h"
#include "tunnel/peer_table.h"

/* The sessions of one public key of one peer. */
struct peer_session {
    unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES];
    pthread_mutex_t tx_lock; /* one sealer at a time: the counter must not repeat */
    struct tunnel_tx *tx;
    pthread_mutex_t rx_lock; /* one opener at a time: windows and epochs move */
    struct tunnel_rx *rx;
    bool partial_csum; /* that run of the peer takes partial TCP checksums */
};

/* What open decided, per packet: as struct tunnel_stats, but atomic. */
struct peer_counters {
    _Atomic uint64_t accepted;
    _Atomic uint64_t bad_header, unknown_epoch, auth_failed, replayed, too_old, wrong_cipher;
};

struct peer {
    struct hash_node node;                                   /* in table->peers, by vtep */
    struct ip_addr vtep;
    char ip[ADDR_STR_MAX];                                   /* for log lines */
    struct peer_session *sessions[TUNNEL_PEER_SESSIONS_MAX]; /* newest first, then NULLs */
    /* Public keys whose sessions were wiped: never sessions again (setter only). */
    unsigned char (*replaced)[TUNNEL_PUBLIC_KEY_BYTES];
    size_t replaced_count, replaced_cap;
    struct peer_counters counters;
    struct tunnel_stats reported; /* the counters at the last report (reporter only) */
    /* 1 + the time of the first authentication failure since the last packet that
     * authenticated; 0 while packets authenticate. */
    _Atomic uint64_t auth_failing_since;
    atomic_bool auth_warned; /* the "fail to authenticate" line was logged */
};

struct tunnel_peer_table {
    pthread_rwlock_t lock;
    struct hash peers;
    const struct tunnel_secret *secret; /* borrowed */
    struct tunnel_host_keys *keys;
    struct ip_addr my_vtep;
    unsigned ciphers;      /* what this host offers (tunnel_ciphers_available) */
    uint64_t packet_limit; /* per epoch of new tx sessions; 0: TUNNEL_REKEY_PACKETS */
    uint64_t (*now)(void *ctx);
    void *now_ctx;
    _Atomic uint64_t unknown_sender; /* datagrams from a VTEP with no key */
    uint64_t unknown_reported;       /* reporter only */
};

/* The peer at vtep, or NULL; under table->lock, or from the setter. */
struct peer *peer_find(const struct tunnel_peer_table *table, const struct ip_addr *vtep);
/* The table's clock, in seconds. */
uint64_t peer_table_now(const struct tunnel_peer_table *table);

/* The transform's halves (peer_transform.c). */
enum datapath_drop peer_table_seal(void *ctx, const struct ip_addr *peer_vtep, const uint8_t *aad,
                                   size_t aad_len, const uint8_t *frame, size_t len, uint8_t *out,
                                   size_t cap, size_t *out_len);
bool peer_table_partial_csum(void *ctx, const struct ip_addr *peer_vtep);
enum datapath_drop peer_table_open(void *ctx, const struct ip_addr *src_vtep, const uint8_t *aad,
                                   size_t aad_len, const uint8_t *pkt, size_t len, uint8_t *out,
                                   size_t cap, size_t *out_len);

#endif
