/*
 * peer_table.h: this host's encryption sessions with every other host (issue 11),
 * and the seal/open transform the data path runs with them.
 *
 * Owns: this run's X25519 key pair (tunnel/host_keys.h), and per peer VTEP the
 * public key it published, the pair's sessions (one tunnel_tx and one tunnel_rx per
 * public key per run, kept until exit, as tunnel/session.h demands: a second tx from
 * the same base key would repeat nonces), each behind its own mutex, since several
 * data path workers may send to one peer at once; per peer drop counters, and the
 * one log line per peer when its packets start failing to authenticate (another
 * cluster secret, or tampering) and when they authenticate again.
 * The transform binds the data path's weft header (VNI) into the AEAD's
 * associated data besides the tunnel header and both VTEPs.
 * Callers: daemon/main.c (new, free, report), fabric/ (set, when a member record
 * with a public key appears), the data path's workers (the transform), tests.
 * Thread-safe: set from one thread at a time (the fabric's lock); seal and open from
 * any number of workers at once.
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

struct tunnel_peer_table;

/* A new table for this host (my_vtep, network order) with a fresh key pair. The
 * secret is borrowed and must outlive the table. */
int tunnel_peer_table_new(const struct tunnel_secret *secret, uint32_t my_vtep,
                          struct tunnel_peer_table **out, struct weft_err *err);
/* Wipes and frees everything; the data path using the transform must be stopped. */
void tunnel_peer_table_free(struct tunnel_peer_table *table);

/* This host's public key, as the member records carry it. */
void tunnel_peer_table_public_key(const struct tunnel_peer_table *table,
                                  char text[TUNNEL_PUBLIC_KEY_TEXT_MAX]);

/* The peer at vtep published public_key (text form): derive the pair's keys and
 * sessions, unless it already has them for this key. A new key (the peer
 * restarted) gets new sessions; seal then uses them, and open tries the newest
 * first. -EINVAL for a key that does not parse or that crypto_kx refuses. */
int tunnel_peer_table_set(struct tunnel_peer_table *table, uint32_t vtep,
                          const char *public_key, struct weft_err *err);

/* The transform for datapath/ (ctx is the table); overhead is TUNNEL_OVERHEAD.
 * seal: DATAPATH_DROP_NO_KEY for a peer without a key yet. open: DATAPATH_DROP_AUTH
 * (also another secret), DATAPATH_DROP_REPLAY (replayed or too old),
 * DATAPATH_DROP_NO_KEY (unknown sender), DATAPATH_DROP_OPEN (anything else). */
struct datapath_transform tunnel_peer_table_transform(struct tunnel_peer_table *table);

/* Counters of what open did with one peer's packets (summed over its sessions);
 * false for an unknown peer. */
bool tunnel_peer_table_stats(struct tunnel_peer_table *table, uint32_t vtep,
                             struct tunnel_stats *out);
/* Logs, per peer, the drops counted since the last report (one line per peer whose
 * counters moved: "encrypted packets dropped" peer=... auth_failed=... replayed=...).
 * The daemon calls it every few seconds. */
void tunnel_peer_table_report(struct tunnel_peer_table *table);

#endif
