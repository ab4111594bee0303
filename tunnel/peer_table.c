/*
 * peer_table.c: the table of peers and their sessions (see peer_table.h): making
 * it, setting a peer's public key, the counters and their report. The hot path,
 * seal and open, is peer_transform.c. A session is made whole (keys derived,
 * tx and rx allocated) before the table's lock is taken to publish it, so the
 * workers wait only for a few pointer moves.
 */
#include "tunnel/peer_table_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "tunnel/packet.h"

static uint64_t monotonic_seconds(void *ctx)
{
    (void)ctx;
    return (uint64_t)clock_monotonic_coarse_s();
}

uint64_t peer_table_now(const struct tunnel_peer_table *table)
{
    return table->now(table->now_ctx);
}

/* By the address's bytes (unused ones are zero: common/ip_addr.h). */
static uint32_t vtep_hash(const struct ip_addr *vtep)
{
    return hash_bytes(HASH_SEED, vtep->bytes, (size_t)ip_addr_len(vtep));
}

static bool peer_matches(const struct hash_node *node, const void *key)
{
    return ip_addr_equal(&HASH_ENTRY(node, struct peer, node)->vtep, key);
}

struct peer *peer_find(const struct tunnel_peer_table *table, const struct ip_addr *vtep)
{
    struct hash_node *node = hash_find(&table->peers, vtep_hash(vtep), vtep);
    return node ? HASH_ENTRY(node, struct peer, node) : NULL;
}

/* A rwlock that lets set in while workers keep reading: glibc's default prefers
 * readers, and the workers read without pause. */
static int table_lock_init(pthread_rwlock_t *lock, struct weft_err *err)
{
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr) != 0)
        return weft_err_set(err, -ENOMEM, "out of memory for the tunnel peer table's lock");
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0)
        return weft_err_set(err, -rc, "making the tunnel peer table's lock failed");
    return 0;
}

int tunnel_peer_table_new(const struct tunnel_secret *secret, const struct ip_addr *my_vtep,
                          struct tunnel_peer_table **out, struct weft_err *err)
{
    *out = NULL;
    struct tunnel_peer_table *table = calloc(1, sizeof(*table));
    if (!table)
        return weft_err_set(err, -ENOMEM, "out of memory for the tunnel peer table");
    if (table_lock_init(&table->lock, err) < 0)
        goto undo_table;
    if (hash_init(&table->peers, 16, peer_matches) < 0) {
        weft_err_set(err, -ENOMEM, "out of memory for the tunnel peer table");
        goto undo_lock;
    }
    if (tunnel_host_keys_new(&table->keys, err) < 0)
        goto undo_hash;
    table->secret = secret;
    table->my_vtep = *my_vtep;
    table->ciphers = tunnel_ciphers_available();
    table->now = monotonic_seconds;
    *out = table;
    return 0;
undo_hash:
    hash_fini(&table->peers);
undo_lock:
    pthread_rwlock_destroy(&table->lock);
undo_table:
    free(table);
    return -1;
}

static void session_free(struct peer_session *s)
{
    if (!s)
        return;
    tunnel_tx_free(s->tx); /* sodium_free: wiped */
    tunnel_rx_free(s->rx);
    pthread_mutex_destroy(&s->tx_lock);
    pthread_mutex_destroy(&s->rx_lock);
    free(s);
}

void tunnel_peer_table_free(struct tunnel_peer_table *table)
{
    if (!table)
        return;
    struct hash_iter it;
    hash_iter_init(&it, &table->peers);
    struct hash_node *node;
    while ((node = hash_iter_next(&it))) {
        struct peer *p = HASH_ENTRY(node, struct peer, node);
        hash_remove(&table->peers, node);
        for (int i = 0; i < TUNNEL_PEER_SESSIONS_MAX; i++)
            session_free(p->sessions[i]);
        free(p->replaced);
        free(p);
    }
    hash_fini(&table->peers);
    tunnel_host_keys_free(table->keys);
    pthread_rwlock_destroy(&table->lock);
    free(table);
}

void tunnel_peer_table_public_key(const struct tunnel_peer_table *table,
                                  char text[TUNNEL_PUBLIC_KEY_TEXT_MAX])
{
    tunnel_public_key_format(table->keys->public_key, text);
}

unsigned tunnel_peer_table_ciphers(const struct tunnel_peer_table *table)
{
    return table->ciphers;
}

void tunnel_peer_table_set_ciphers(struct tunnel_peer_table *table, unsigned ciphers)
{
    table->ciphers = ciphers & tunnel_ciphers_available();
}

void tunnel_peer_table_set_clock(struct tunnel_peer_table *table, uint64_t (*now)(void *ctx),
                                 void *ctx)
{
    table->now = now ? now : monotonic_seconds;
    table->now_ctx = ctx;
}

/* The sessions with the peer at vtep for its public key: the pair's base keys
 * live on the stack only until the tx and rx have them. */
static int session_new(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                       const unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES], int cipher,
                       struct peer_session **out, struct weft_err *err)
{
    *out = NULL;
    struct tunnel_pair_keys keys;
    if (tunnel_pair_derive(table->secret, table->keys, &table->my_vtep, public_key, vtep, &keys,
                           err) < 0)
        return -1;
    struct peer_session *s = calloc(1, sizeof(*s));
    if (!s) {
        weft_err_set(err, -ENOMEM, "out of memory for a tunnel session");
        goto undo_keys;
    }
    memcpy(s->public_key, public_key, TUNNEL_PUBLIC_KEY_BYTES);
    uint64_t now = peer_table_now(table);
    if (tunnel_tx_new(keys.tx, cipher, &table->my_vtep, vtep, now, &s->tx, err) < 0)
        goto undo_session;
    if (table->packet_limit)
        tunnel_tx_set_packet_limit(s->tx, table->packet_limit);
    if (tunnel_rx_new(keys.rx, cipher, &table->my_vtep, vtep, now, &s->rx, err) < 0)
        goto undo_tx;
    pthread_mutex_init(&s->tx_lock, NULL);
    pthread_mutex_init(&s->rx_lock, NULL);
    sodium_memzero(&keys, sizeof(keys));
    *out = s;
    return 0;
undo_tx:
    tunnel_tx_free(s->tx);
undo_session:
    free(s);
undo_keys:
    sodium_memzero(&keys, sizeof(keys));
    return -1;
}

/* A peer seen for the first time, with its first session, published. */
static int peer_add(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                    struct peer_session *s, struct weft_err *err)
{
    struct peer *p = calloc(1, sizeof(*p));
    if (!p)
        return weft_err_set(err, -ENOMEM, "out of memory for a tunnel peer");
    p->vtep = *vtep;
    ip_addr_format(vtep, p->ip);
    p->sessions[0] = s;
    pthread_rwlock_wrlock(&table->lock);
    hash_add(&table->peers, &p->node, vtep_hash(vtep));
    pthread_rwlock_unlock(&table->lock);
    log_info("tunnel sessions made with a host", "peer=%s cipher=%s", p->ip,
             tunnel_cipher_name(s->tx->cipher));
    return 0;
}

/* Room for one more replaced key, made before anything is published. */
static int reserve_replaced(struct peer *p, struct weft_err *err)
{
    if (p->replaced_count < p->replaced_cap)
        return 0;
    size_t cap = p->replaced_cap ? 2 * p->replaced_cap : 4;
    void *grown = realloc(p->replaced, cap * sizeof(*p->replaced));
    if (!grown)
        return weft_err_set(err, -ENOMEM, "out of memory for a tunnel peer's keys");
    p->replaced = grown;
    p->replaced_cap = cap;
    return 0;
}

/* The peer restarted: s goes first; past TUNNEL_PEER_SESSIONS_MAX the oldest is
 * taken out under the lock, then wiped, once no worker can be using it. */
static int peer_push_session(struct tunnel_peer_table *table, struct peer *p,
                             struct peer_session *s, struct weft_err *err)
{
    struct peer_session *oldest = p->sessions[TUNNEL_PEER_SESSIONS_MAX - 1];
    if (oldest && reserve_replaced(p, err) < 0)
        return -1;
    pthread_rwlock_wrlock(&table->lock);
    memmove(&p->sessions[1], &p->sessions[0],
            (TUNNEL_PEER_SESSIONS_MAX - 1) * sizeof(p->sessions[0]));
    p->sessions[0] = s;
    pthread_rwlock_unlock(&table->lock);
    if (oldest) {
        memcpy(p->replaced[p->replaced_count++], oldest->public_key, TUNNEL_PUBLIC_KEY_BYTES);
        session_free(oldest);
    }
    log_info("a host published a new tunnel key: new sessions", "peer=%s cipher=%s", p->ip,
             tunnel_cipher_name(s->tx->cipher));
    return 0;
}

/* Whether the peer had this key before its newest: in an older session, or one
 * that was wiped. */
static bool key_was_replaced(const struct peer *p, const unsigned char *key)
{
    for (int i = 1; i < TUNNEL_PEER_SESSIONS_MAX && p->sessions[i]; i++)
        if (sodium_memcmp(p->sessions[i]->public_key, key, TUNNEL_PUBLIC_KEY_BYTES) == 0)
            return true;
    for (size_t i = 0; i < p->replaced_count; i++)
        if (sodium_memcmp(p->replaced[i], key, TUNNEL_PUBLIC_KEY_BYTES) == 0)
            return true;
    return false;
}

int tunnel_peer_table_set(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                          const char *public_key, unsigned peer_ciphers, bool partial_csum,
                          struct weft_err *err)
{
    unsigned char key[TUNNEL_PUBLIC_KEY_BYTES];
    if (tunnel_public_key_parse(public_key, key, err) < 0)
        return -1;
    int cipher = tunnel_cipher_pick(table->ciphers, peer_ciphers);
    if (!cipher) {
        char mine[TUNNEL_CIPHERS_TEXT_MAX], theirs[TUNNEL_CIPHERS_TEXT_MAX];
        tunnel_ciphers_format(table->ciphers, mine);
        tunnel_ciphers_format(peer_ciphers, theirs);
        return weft_err_set(err, -EPROTO,
                            "no cipher in common: the host offers \"%s\", this one runs \"%s\"",
                            theirs, mine);
    }
    struct peer *p = peer_find(table, vtep); /* the setter reads without the lock */
    if (p && sodium_memcmp(p->sessions[0]->public_key, key, sizeof(key)) == 0)
        return 0;
    if (p && key_was_replaced(p, key))
        return weft_err_set(err, -ESTALE,
                            "host %s published a tunnel key it had replaced "
                            "already (an old record?): its newest key stays",
                            p->ip);
    struct peer_session *s;
    if (session_new(table, vtep, key, cipher, &s, err) < 0)
        return -1;
    s->partial_csum = partial_csum;
    if ((p ? peer_push_session(table, p, s, err) : peer_add(table, vtep, s, err)) < 0) {
        session_free(s);
        return -1;
    }
    return 0;
}

static void counters_load(const struct peer_counters *c, struct tunnel_stats *out)
{
    out->accepted = atomic_load_explicit(&c->accepted, memory_order_relaxed);
    out->bad_header = atomic_load_explicit(&c->bad_header, memory_order_relaxed);
    out->unknown_epoch = atomic_load_explicit(&c->unknown_epoch, memory_order_relaxed);
    out->auth_failed = atomic_load_explicit(&c->auth_failed, memory_order_relaxed);
    out->replayed = atomic_load_explicit(&c->replayed, memory_order_relaxed);
    out->too_old = atomic_load_explicit(&c->too_old, memory_order_relaxed);
    out->wrong_cipher = atomic_load_explicit(&c->wrong_cipher, memory_order_relaxed);
}

bool tunnel_peer_table_stats(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                             struct tunnel_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&table->lock);
    struct peer *p = peer_find(table, vtep);
    pthread_rwlock_unlock(&table->lock);
    if (!p)
        return false;
    counters_load(&p->counters, out); /* a peer outlives the lock */
    return true;
}

static void report_peer(struct peer *p)
{
    struct tunnel_stats now, *was = &p->reported;
    counters_load(&p->counters, &now);
    if (now.bad_header == was->bad_header && now.unknown_epoch == was->unknown_epoch &&
        now.auth_failed == was->auth_failed && now.replayed == was->replayed &&
        now.too_old == was->too_old && now.wrong_cipher == was->wrong_cipher) {
        *was = now;
        return;
    }
    log_info("encrypted packets dropped",
             "peer=%s auth_failed=%llu replayed=%llu too_old=%llu unknown_epoch=%llu "
             "bad_header=%llu wrong_cipher=%llu",
             p->ip, (unsigned long long)(now.auth_failed - was->auth_failed),
             (unsigned long long)(now.replayed - was->replayed),
             (unsigned long long)(now.too_old - was->too_old),
             (unsigned long long)(now.unknown_epoch - was->unknown_epoch),
             (unsigned long long)(now.bad_header - was->bad_header),
             (unsigned long long)(now.wrong_cipher - was->wrong_cipher));
    *was = now;
}

void tunnel_peer_table_report(struct tunnel_peer_table *table)
{
    pthread_rwlock_rdlock(&table->lock);
    struct hash_iter it;
    hash_iter_init(&it, &table->peers);
    struct hash_node *node;
    while ((node = hash_iter_next(&it)))
        report_peer(HASH_ENTRY(node, struct peer, node));
    pthread_rwlock_unlock(&table->lock);
    uint64_t unknown = atomic_load_explicit(&table->unknown_sender, memory_order_relaxed);
    if (unknown != table->unknown_reported)
        log_info("encrypted packets from hosts without a tunnel key dropped", "count=%llu",
                 (unsigned long long)(unknown - table->unknown_reported));
    table->unknown_reported = unknown;
}

struct datapath_transform tunnel_peer_table_transform(struct tunnel_peer_table *table)
{
    return (struct datapath_transform){
        .overhead = TUNNEL_OVERHEAD,
        .seal = peer_table_seal,
        .open = peer_table_open,
        .partial_csum = peer_table_partial_csum,
        .ctx = table,
    };
}

void tunnel_peer_table_set_packet_limit(struct tunnel_peer_table *table, uint64_t limit)
{
    table->packet_limit = limit;
}
