/*
 * session.h: one peer's encryption state, per direction (issue 11): the epochs of
 * its keys, the counters that nonce each packet, the receive side's replay windows
 * and drop counters.
 *
 * Owns: struct tunnel_tx (what this host sends to one peer) and struct tunnel_rx
 * (what it receives from that peer), each in sodium_malloc'd (locked, guarded)
 * memory, wiped when freed. Epoch keys come from the direction's base key
 * (tunnel/host_keys.h) by crypto_kdf, so rekeying needs no handshake:
 *  - the sender starts at epoch 0 and moves to the next epoch when
 *    TUNNEL_REKEY_SECONDS have passed since it entered the current one, or once its
 *    packet limit (2^48) is used up, whichever comes first; it moves one epoch at a
 *    time, however long it was idle;
 *  - the receiver accepts its current epoch; the previous one for
 *    TUNNEL_REKEY_GRACE_SECONDS after leaving it (packets in flight); and the next
 *    one (its key derived on first use and cached). After a long loss (a partition
 *    while the sender kept sending) it also accepts as many epochs further as the
 *    sender can have gone through since: one per TUNNEL_REKEY_SECONDS since the
 *    receiver entered its current epoch (with GRACE of slack). Nothing else: an
 *    attacker can make it derive at most one key per packet, and moves nothing
 *    without a valid tag. Each epoch has its own replay window.
 * Nonces never repeat under one key: (epoch, counter) only grows within a tx, and a
 * tx is made once per base key, i.e. per pair of host key pairs; host key pairs are
 * new at every daemon start (host_keys.h). So the caller makes ONE tx per peer public
 * key per run and keeps it (say in a table keyed by that key, shared by every overlay
 * to that peer) until exit, even while the peer's records are gone: a second tx from
 * the same base key would start again at epoch 0, counter 0, repeat nonces (which
 * shows the XOR of two frames and lets an attacker forge) and be dropped as replays.
 * Keep the rx alike: a new one starts at epoch 0 and would refuse a sender far ahead
 * until the clock lets it catch up.
 * Time: every call takes `now`, in seconds of a monotonic clock, from the caller.
 * Callers: tunnel/packet.c (tunnel_seal, tunnel_open), the data path, tests.
 * Not thread-safe: a tx belongs to the one thread that sends to its peer, an rx to
 * the one thread that receives from it. No allocation after _new.
 */
#ifndef WEFT_TUNNEL_SESSION_H
#define WEFT_TUNNEL_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip_addr.h"
#include "tunnel/aead.h"
#include "tunnel/replay.h"

#define TUNNEL_REKEY_SECONDS 120
#define TUNNEL_REKEY_GRACE_SECONDS 10
#define TUNNEL_REKEY_PACKETS (1ULL << 48)

/* Why tunnel_open dropped a packet. */
enum tunnel_drop {
    TUNNEL_DROP_NONE = 0,
    TUNNEL_DROP_BAD_HEADER,    /* short, wrong magic/type/reserved, or too big for the caller */
    TUNNEL_DROP_UNKNOWN_EPOCH, /* not current, previous within grace, or reachable ahead */
    TUNNEL_DROP_AUTH_FAILED,   /* the tag does not verify: tampered, or another secret */
    TUNNEL_DROP_REPLAYED,      /* a counter already accepted */
    TUNNEL_DROP_TOO_OLD,       /* a counter behind the replay window */
    TUNNEL_DROP_WRONG_CIPHER,  /* the sender uses the other AEAD */
};

/* Counted by tunnel_open, per rx. */
struct tunnel_stats {
    uint64_t accepted;
    uint64_t bad_header, unknown_epoch, auth_failed, replayed, too_old, wrong_cipher;
};

/* "bad_header", ... as in struct tunnel_stats; "none" for TUNNEL_DROP_NONE. */
const char *tunnel_drop_name(enum tunnel_drop reason);

/* Fields are the sessions' own; outside session.c, packet.c reads them. */
struct tunnel_tx {
    struct tunnel_aead_key key; /* of epoch */
    unsigned char base_key[TUNNEL_KEY_BYTES];
    uint64_t counter;      /* the next packet's */
    uint64_t packet_limit; /* packets per epoch (TUNNEL_REKEY_PACKETS) */
    uint64_t epoch_since;  /* when this epoch began, seconds */
    uint32_t epoch;
    struct ip_addr my_vtep, peer_vtep; /* their bytes go into the AAD */
    uint8_t cipher;
};

struct tunnel_rx_epoch {
    struct tunnel_aead_key key;
    struct tunnel_replay window;
    uint32_t epoch;
    bool valid;
};

struct tunnel_rx {
    struct tunnel_rx_epoch slots[3]; /* indexed by cur, prev, ahead */
    unsigned char base_key[TUNNEL_KEY_BYTES];
    uint64_t cur_since;  /* when the receiver entered the current epoch */
    uint64_t prev_until; /* the previous epoch is accepted while now < prev_until */
    struct tunnel_stats stats;
    struct ip_addr my_vtep, peer_vtep;
    uint8_t cur, prev, ahead;
    uint8_t cipher;
};

/* A new tx/rx for one direction's base key (copied; the caller wipes its own), the
 * cipher of the process (tunnel_cipher_choose) and the two VTEPs (copied). Free
 * with tunnel_tx_free / tunnel_rx_free. */
int tunnel_tx_new(const unsigned char base_key[TUNNEL_KEY_BYTES], int cipher,
                  const struct ip_addr *my_vtep, const struct ip_addr *peer_vtep, uint64_t now,
                  struct tunnel_tx **out, struct weft_err *err);
void tunnel_tx_free(struct tunnel_tx *tx);
int tunnel_rx_new(const unsigned char base_key[TUNNEL_KEY_BYTES], int cipher,
                  const struct ip_addr *my_vtep, const struct ip_addr *peer_vtep, uint64_t now,
                  struct tunnel_rx **out, struct weft_err *err);
void tunnel_rx_free(struct tunnel_rx *rx);

/* Tests: packets per epoch instead of TUNNEL_REKEY_PACKETS (at least 1). */
void tunnel_tx_set_packet_limit(struct tunnel_tx *tx, uint64_t limit);

/* The next packet's epoch and counter, moving to the next epoch first when it is
 * due. -EOVERFLOW once the last epoch is used up (the pair needs new host keys). */
int tunnel_tx_next(struct tunnel_tx *tx, uint64_t now, uint32_t *epoch, uint64_t *counter,
                   struct weft_err *err);

/* The receive key for epoch at now, or NULL when the receiver does not accept that
 * epoch (TUNNEL_DROP_UNKNOWN_EPOCH); derives the key of an epoch ahead on first
 * use. The counter is checked only after the tag verified (tunnel_rx_check), so
 * that replayed means a genuine packet seen before, and a packet of another key
 * (a peer's old or new one) says auth_failed whatever its counter. */
const struct tunnel_aead_key *tunnel_rx_key(struct tunnel_rx *rx, uint64_t now, uint32_t epoch);
/* The window's verdict on (epoch, counter), an epoch tunnel_rx_key just accepted:
 * TUNNEL_DROP_NONE, _REPLAYED or _TOO_OLD. Checks the window, does not move it. */
enum tunnel_drop tunnel_rx_check(struct tunnel_rx *rx, uint32_t epoch, uint64_t counter);
/* After the packet (epoch, counter) authenticated and passed tunnel_rx_check: marks it
 * seen and, for an epoch ahead, makes it current (the old current becomes the
 * previous one, for TUNNEL_REKEY_GRACE_SECONDS). */
void tunnel_rx_accept(struct tunnel_rx *rx, uint64_t now, uint32_t epoch, uint64_t counter);
/* Counts a drop. */
void tunnel_rx_count_drop(struct tunnel_rx *rx, enum tunnel_drop reason);

#endif
