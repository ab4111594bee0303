/*
 * peer_table.h: this host's encryption sessions with every other host (issue 11),
 * and the seal/open transform the data path runs with them.
 *
 * Owns: this run's X25519 key pair (tunnel/host_keys.h), and per peer VTEP the
 * public keys it published and the pair's sessions: one tunnel_tx and one tunnel_rx
 * per public key per run, as tunnel/session.h demands (a second tx from the same
 * base key would repeat nonces), each behind its own mutex, since several data
 * path workers may send to (or receive from) one peer at once. A peer that
 * restarts publishes a new key: its sessions go first, seal uses them, open tries
 * the newest first and then the older ones (packets in flight). At most
 * TUNNEL_PEER_SESSIONS_MAX per peer: the oldest is then wiped and freed, and its
 * public key remembered until exit so that it never gets a second tx. Peers are
 * never removed (their sessions are kept until exit, even while their records
 * are gone). Per peer counters of what open decided, and one log line per peer
 * when its packets start failing to authenticate (another cluster secret, or
 * tampering) and one when they authenticate again.
 * The transform binds the data path's weft header (VNI) into the AEAD's
 * associated data besides the tunnel header and both VTEPs (tunnel/packet.h).
 * Callers: daemon/main.c (new, free, report), fabric/ (set, when a member record
 * with a public key appears), the data path's workers (the transform), tests.
 * Thread-safe: set from one thread at a time (the fabric's lock), report from one
 * thread at a time; seal, open and stats from any number of threads at once.
 * Locks: a rwlock guards the index of peers and each peer's list of sessions
 * (workers hold it shared for one seal or open, set exclusively only to publish a
 * peer or a session it has made outside it); a session's tx mutex and rx mutex
 * guard its tx and rx, one at a time, held for one tunnel_seal / tunnel_open.
 * Counters and the failing-state are atomics, so the hot path takes nothing else.
 */
#ifndef WEFT_TUNNEL_PEER_TABLE_H
#define WEFT_TUNNEL_PEER_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "datapath/datapath.h"
#include "tunnel/cluster_secret.h"
#include "tunnel/host_keys.h"
#include "tunnel/session.h"

/* Sessions per peer (its newest public keys) that open tries. */
#define TUNNEL_PEER_SESSIONS_MAX 3
/* A peer's packets count as failing to authenticate once every one of them has
 * failed for this long (a peer that just restarted sends with its new key before
 * its new record reaches us: that is no reason to warn). */
#define TUNNEL_PEER_AUTH_FAIL_SECONDS 5

struct tunnel_peer_table;

/* A new table for this host (my_vtep, IPv4 or IPv6, copied) with a fresh key pair.
 * The secret is borrowed and must outlive the table. */
int tunnel_peer_table_new(const struct tunnel_secret *secret, const struct ip_addr *my_vtep,
                          struct tunnel_peer_table **out, struct weft_err *err);
/* Wipes and frees everything; the data path using the transform must be stopped. */
void tunnel_peer_table_free(struct tunnel_peer_table *table);

/* This host's public key, as the member records carry it. */
void tunnel_peer_table_public_key(const struct tunnel_peer_table *table,
                                  char text[TUNNEL_PUBLIC_KEY_TEXT_MAX]);
/* The ciphers this host offers (tunnel/aead.h's set), as its member records list them. */
unsigned tunnel_peer_table_ciphers(const struct tunnel_peer_table *table);
/* Tests: offer only these of the available ciphers, for sessions made from now on. */
void tunnel_peer_table_set_ciphers(struct tunnel_peer_table *table, unsigned ciphers);

/* The peer at vtep published public_key (text form), the ciphers it runs
 * (tunnel_ciphers_parse of its list) and whether it takes partial TCP checksums
 * (the transform's partial_csum): derive the pair's keys and sessions, with the
 * best cipher both run (tunnel_cipher_pick), unless its newest sessions are for
 * this key already (then 0, nothing changes: a run's ciphers and offloads go with
 * its key). A new key (the peer restarted) gets new sessions; seal then uses them,
 * and open tries the newest first. -EINVAL for a key that does not parse or that
 * crypto_kx refuses, or for this host's own VTEP; -EPROTO when the two hosts run no
 * cipher in common; -ESTALE for a key the peer had before its newest (host keys are
 * new at every start, so that is an old record: nothing changes, its newest sessions
 * stay); -ENOMEM. On failure the table is as it was. */
int tunnel_peer_table_set(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                          const char *public_key, unsigned peer_ciphers, bool partial_csum,
                          struct weft_err *err);

/* Tests: sessions made from now on move to the next epoch every limit packets
 * (tunnel_tx_set_packet_limit) instead of every TUNNEL_REKEY_PACKETS. */
void tunnel_peer_table_set_packet_limit(struct tunnel_peer_table *table, uint64_t limit);

/* The transform for datapath/ (ctx is the table); overhead is TUNNEL_OVERHEAD.
 * seal: DATAPATH_DROP_NO_KEY for a peer without a key yet, DATAPATH_DROP_TOO_BIG
 * when out cannot hold the frame and TUNNEL_OVERHEAD. open: DATAPATH_DROP_AUTH
 * (also another secret), DATAPATH_DROP_REPLAY (replayed or too old),
 * DATAPATH_DROP_NO_KEY (unknown sender), DATAPATH_DROP_OPEN (anything else).
 * partial_csum: what the peer's newest key came with (false for a peer without one). */
struct datapath_transform tunnel_peer_table_transform(struct tunnel_peer_table *table);

/* Counters of what open decided for one peer's packets (one verdict per packet,
 * whichever of the peer's sessions it was tried with; a drop is auth_failed only
 * when every session refused the tag); false for an unknown peer. */
bool tunnel_peer_table_stats(struct tunnel_peer_table *table, const struct ip_addr *vtep,
                             struct tunnel_stats *out);
/* Logs, per peer, the drops counted since the last report (one line per peer whose
 * counters moved: "encrypted packets dropped" peer=... auth_failed=... replayed=...),
 * and the datagrams from hosts without a key. The daemon calls it every few
 * seconds, from one thread. */
void tunnel_peer_table_report(struct tunnel_peer_table *table);

/* Tests: the monotonic clock in seconds that sessions and the failing-state read
 * (CLOCK_MONOTONIC by default). Set before the first tunnel_peer_table_set. */
void tunnel_peer_table_set_clock(struct tunnel_peer_table *table, uint64_t (*now)(void *ctx),
                                 void *ctx);

#endif
