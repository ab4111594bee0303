/*
 * peer_transform.c: the data path's seal and open over the peer table (see
 * peer_table.h), run by every worker at once. Each holds the table's rwlock
 * shared for one packet (workers never wait for each other on it) and one
 * session's mutex while tunnel_seal or tunnel_open runs; the counters and the
 * peer's failing-state are atomics, so nothing else is locked per packet.
 * Nothing here logs key material: the log lines name the peer's address.
 */
#include <string.h>

#include "common/log.h"
#include "tunnel/packet.h"
#include "tunnel/peer_table_internal.h"

enum datapath_drop peer_table_seal(void *ctx, const struct ip_addr *peer_vtep, const uint8_t *aad,
                                   size_t aad_len, const uint8_t *frame, size_t len, uint8_t *out,
                                   size_t cap, size_t *out_len)
{
    struct tunnel_peer_table *table = ctx;
    *out_len = 0;
    if (cap < TUNNEL_OVERHEAD || len > cap - TUNNEL_OVERHEAD)
        return DATAPATH_DROP_TOO_BIG;
    uint64_t now = peer_table_now(table);
    pthread_rwlock_rdlock(&table->lock);
    struct peer *p = peer_find(table, peer_vtep);
    if (!p) {
        pthread_rwlock_unlock(&table->lock);
        return DATAPATH_DROP_NO_KEY;
    }
    struct peer_session *s = p->sessions[0]; /* the newest key's */
    pthread_mutex_lock(&s->tx_lock);
    int rc = tunnel_seal(s->tx, now, aad, aad_len, frame, len, out, cap, out_len, NULL);
    pthread_mutex_unlock(&s->tx_lock);
    pthread_rwlock_unlock(&table->lock);
    return rc == 0 ? DATAPATH_OK : DATAPATH_DROP_SEAL; /* too much AAD, or epochs used up */
}

/* What the peer's newest run published (the sessions seal uses); false without one. */
bool peer_table_partial_csum(void *ctx, const struct ip_addr *peer_vtep)
{
    struct tunnel_peer_table *table = ctx;
    pthread_rwlock_rdlock(&table->lock);
    struct peer *p = peer_find(table, peer_vtep);
    bool partial = p && p->sessions[0]->partial_csum;
    pthread_rwlock_unlock(&table->lock);
    return partial;
}

/* Tries the peer's sessions, newest first, until one opens the packet or knows it
 * as its own: replayed and too_old come after the tag verified (tunnel/packet.c),
 * so they are final. auth_failed means every session refused the tag; a session
 * that does not take the packet's epoch says nothing about the others, but is the
 * verdict when none took it. Under table->lock, shared. */
static enum tunnel_drop open_any(struct peer *p, uint64_t now, const uint8_t *aad, size_t aad_len,
                                 const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                                 size_t *out_len)
{
    enum tunnel_drop verdict = TUNNEL_DROP_AUTH_FAILED;
    for (int i = 0; i < TUNNEL_PEER_SESSIONS_MAX && p->sessions[i]; i++) {
        struct peer_session *s = p->sessions[i];
        enum tunnel_drop why = TUNNEL_DROP_NONE;
        pthread_mutex_lock(&s->rx_lock);
        int rc = tunnel_open(s->rx, now, &p->vtep, aad, aad_len, pkt, len, out, cap, out_len, &why);
        pthread_mutex_unlock(&s->rx_lock);
        if (rc == 0)
            return TUNNEL_DROP_NONE;
        if (why == TUNNEL_DROP_UNKNOWN_EPOCH)
            verdict = why;
        else if (why != TUNNEL_DROP_AUTH_FAILED)
            return why; /* this session's (a replay), or the same for all (the header) */
    }
    return verdict;
}

static void count(struct peer_counters *c, enum tunnel_drop verdict)
{
    _Atomic uint64_t *counter = &c->accepted;
    switch (verdict) {
    case TUNNEL_DROP_NONE:
        break;
    case TUNNEL_DROP_BAD_HEADER:
        counter = &c->bad_header;
        break;
    case TUNNEL_DROP_UNKNOWN_EPOCH:
        counter = &c->unknown_epoch;
        break;
    case TUNNEL_DROP_AUTH_FAILED:
        counter = &c->auth_failed;
        break;
    case TUNNEL_DROP_REPLAYED:
        counter = &c->replayed;
        break;
    case TUNNEL_DROP_TOO_OLD:
        counter = &c->too_old;
        break;
    case TUNNEL_DROP_WRONG_CIPHER:
        counter = &c->wrong_cipher;
        break;
    }
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* The peer's failing-state: it fails once every packet from it failed to
 * authenticate for TUNNEL_PEER_AUTH_FAIL_SECONDS, and stops with the first that
 * authenticates; each change is logged once (the atomic exchange elects the
 * worker that logs). Reads first, so the common case writes nothing shared. */
static void track_auth(struct peer *p, uint64_t now, enum tunnel_drop verdict)
{
    if (verdict == TUNNEL_DROP_NONE) {
        if (atomic_load_explicit(&p->auth_failing_since, memory_order_relaxed) != 0)
            atomic_store_explicit(&p->auth_failing_since, 0, memory_order_relaxed);
        if (atomic_load_explicit(&p->auth_warned, memory_order_relaxed) &&
            atomic_exchange(&p->auth_warned, false))
            log_info("encrypted packets from a host authenticate again", "peer=%s", p->ip);
        return;
    }
    if (verdict != TUNNEL_DROP_AUTH_FAILED)
        return;
    uint64_t since = atomic_load_explicit(&p->auth_failing_since, memory_order_relaxed);
    if (since == 0) {
        since = now + 1;
        uint64_t none = 0;
        if (!atomic_compare_exchange_strong(&p->auth_failing_since, &none, since))
            since = none; /* another worker's first failure */
    }
    if (since != 0 && now + 1 - since >= TUNNEL_PEER_AUTH_FAIL_SECONDS &&
        !atomic_load_explicit(&p->auth_warned, memory_order_relaxed) &&
        !atomic_exchange(&p->auth_warned, true))
        log_warn("encrypted packets from a host fail to authenticate",
                 "peer=%s hint=\"its cluster secret (--secret-file) differs, or the packets "
                 "were altered\"",
                 p->ip);
}

static enum datapath_drop datapath_verdict(enum tunnel_drop verdict)
{
    switch (verdict) {
    case TUNNEL_DROP_NONE:
        return DATAPATH_OK;
    case TUNNEL_DROP_AUTH_FAILED:
        return DATAPATH_DROP_AUTH;
    case TUNNEL_DROP_REPLAYED:
    case TUNNEL_DROP_TOO_OLD:
        return DATAPATH_DROP_REPLAY;
    case TUNNEL_DROP_BAD_HEADER:
    case TUNNEL_DROP_UNKNOWN_EPOCH:
    case TUNNEL_DROP_WRONG_CIPHER:
        break;
    }
    return DATAPATH_DROP_OPEN;
}

enum datapath_drop peer_table_open(void *ctx, const struct ip_addr *src_vtep, const uint8_t *aad,
                                   size_t aad_len, const uint8_t *pkt, size_t len, uint8_t *out,
                                   size_t cap, size_t *out_len)
{
    struct tunnel_peer_table *table = ctx;
    *out_len = 0;
    uint64_t now = peer_table_now(table);
    pthread_rwlock_rdlock(&table->lock);
    struct peer *p = peer_find(table, src_vtep);
    if (!p) {
        pthread_rwlock_unlock(&table->lock);
        atomic_fetch_add_explicit(&table->unknown_sender, 1, memory_order_relaxed);
        return DATAPATH_DROP_NO_KEY;
    }
    enum tunnel_drop verdict = open_any(p, now, aad, aad_len, pkt, len, out, cap, out_len);
    pthread_rwlock_unlock(&table->lock);
    count(&p->counters, verdict); /* a peer outlives the lock */
    track_auth(p, now, verdict);
    return datapath_verdict(verdict);
}
