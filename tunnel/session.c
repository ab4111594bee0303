/*
 * session.c: per-direction epochs, counters and replay windows (see session.h).
 * The receive side keeps three epoch slots and rotates their indices, so keys are
 * never copied: current, previous (during the grace) and one ahead (cached).
 */
#include "tunnel/session.h"

#include <string.h>

static const char *const drop_names[] = {
    [TUNNEL_DROP_NONE] = "none",
    [TUNNEL_DROP_BAD_HEADER] = "bad_header",
    [TUNNEL_DROP_UNKNOWN_EPOCH] = "unknown_epoch",
    [TUNNEL_DROP_AUTH_FAILED] = "auth_failed",
    [TUNNEL_DROP_REPLAYED] = "replayed",
    [TUNNEL_DROP_TOO_OLD] = "too_old",
    [TUNNEL_DROP_WRONG_CIPHER] = "wrong_cipher",
};

const char *tunnel_drop_name(enum tunnel_drop reason)
{
    if ((size_t)reason >= sizeof(drop_names) / sizeof(drop_names[0]))
        return "unknown";
    return drop_names[reason];
}

/* sodium_malloc places the block at the end of its pages, so the block is as
 * aligned as its size is a multiple of 16: AES-GCM's state needs 16. */
static void *secure_alloc(size_t size, struct weft_err *err)
{
    _Static_assert(sizeof(struct tunnel_tx) % 16 == 0, "tx keeps AES-GCM's alignment");
    _Static_assert(sizeof(struct tunnel_rx) % 16 == 0, "rx keeps AES-GCM's alignment");
    if (sodium_init() < 0) {
        weft_err_set(err, -EIO, "initialising libsodium failed");
        return NULL;
    }
    void *p = sodium_malloc(size);
    if (!p) {
        weft_err_set(err, -ENOMEM, "out of memory (or locked memory) for a tunnel session");
        return NULL;
    }
    memset(p, 0, size);
    return p;
}

int tunnel_tx_new(const unsigned char base_key[TUNNEL_KEY_BYTES], int cipher,
                  const struct ip_addr *my_vtep, const struct ip_addr *peer_vtep, uint64_t now,
                  struct tunnel_tx **out, struct weft_err *err)
{
    *out = NULL;
    struct tunnel_tx *tx = secure_alloc(sizeof(*tx), err);
    if (!tx)
        return -1;
    if (tunnel_aead_key_set(&tx->key, cipher, base_key, 0, err) < 0) {
        sodium_free(tx);
        return -1;
    }
    memcpy(tx->base_key, base_key, TUNNEL_KEY_BYTES);
    tx->packet_limit = TUNNEL_REKEY_PACKETS;
    tx->epoch_since = now;
    tx->my_vtep = *my_vtep;
    tx->peer_vtep = *peer_vtep;
    tx->cipher = (uint8_t)cipher;
    *out = tx;
    return 0;
}

void tunnel_tx_free(struct tunnel_tx *tx)
{
    sodium_free(tx); /* wipes it */
}

void tunnel_tx_set_packet_limit(struct tunnel_tx *tx, uint64_t limit)
{
    tx->packet_limit = limit > 0 ? limit : 1;
}

int tunnel_tx_next(struct tunnel_tx *tx, uint64_t now, uint32_t *epoch, uint64_t *counter,
                   struct weft_err *err)
{
    bool due = tx->counter >= tx->packet_limit ||
               (now >= tx->epoch_since && now - tx->epoch_since >= TUNNEL_REKEY_SECONDS);
    if (due) {
        if (tx->epoch == UINT32_MAX)
            return weft_err_set(err, -EOVERFLOW, "the tunnel used up its epochs: it needs new "
                                                 "host keys (restart the daemon)");
        if (tunnel_aead_key_set(&tx->key, tx->cipher, tx->base_key, tx->epoch + 1, err) < 0)
            return -1;
        tx->epoch++;
        tx->counter = 0;
        tx->epoch_since = now;
    }
    *epoch = tx->epoch;
    *counter = tx->counter++;
    return 0;
}

static void slot_wipe(struct tunnel_rx_epoch *slot)
{
    tunnel_aead_key_wipe(&slot->key);
    tunnel_replay_reset(&slot->window);
    slot->epoch = 0;
    slot->valid = false;
}

int tunnel_rx_new(const unsigned char base_key[TUNNEL_KEY_BYTES], int cipher,
                  const struct ip_addr *my_vtep, const struct ip_addr *peer_vtep, uint64_t now,
                  struct tunnel_rx **out, struct weft_err *err)
{
    *out = NULL;
    struct tunnel_rx *rx = secure_alloc(sizeof(*rx), err);
    if (!rx)
        return -1;
    rx->cur = 0, rx->prev = 1, rx->ahead = 2;
    if (tunnel_aead_key_set(&rx->slots[rx->cur].key, cipher, base_key, 0, err) < 0) {
        sodium_free(rx);
        return -1;
    }
    rx->slots[rx->cur].valid = true;
    memcpy(rx->base_key, base_key, TUNNEL_KEY_BYTES);
    rx->cur_since = now;
    rx->my_vtep = *my_vtep;
    rx->peer_vtep = *peer_vtep;
    rx->cipher = (uint8_t)cipher;
    *out = rx;
    return 0;
}

void tunnel_rx_free(struct tunnel_rx *rx)
{
    sodium_free(rx);
}

/* How many epochs past the current one the sender can be by now: the next one at
 * any time, and one more per TUNNEL_REKEY_SECONDS since we entered the current one
 * (GRACE of slack for packets that were on their way). */
static uint64_t reachable_ahead(const struct tunnel_rx *rx, uint64_t now)
{
    uint64_t elapsed = now > rx->cur_since ? now - rx->cur_since : 0;
    return 1 + (elapsed + TUNNEL_REKEY_GRACE_SECONDS) / TUNNEL_REKEY_SECONDS;
}

/* The slot for epoch at now, deriving an epoch ahead into the ahead slot; NULL if
 * the epoch is not one the receiver accepts. */
static struct tunnel_rx_epoch *find_slot(struct tunnel_rx *rx, uint64_t now, uint32_t epoch)
{
    struct tunnel_rx_epoch *cur = &rx->slots[rx->cur], *prev = &rx->slots[rx->prev];
    if (epoch == cur->epoch)
        return cur;
    if (epoch < cur->epoch) {
        if (prev->valid && now >= rx->prev_until)
            slot_wipe(prev); /* the grace is over: no reason to keep the key */
        return prev->valid && prev->epoch == epoch ? prev : NULL;
    }
    if ((uint64_t)(epoch - cur->epoch) > reachable_ahead(rx, now))
        return NULL;
    struct tunnel_rx_epoch *ahead = &rx->slots[rx->ahead];
    if (ahead->valid && ahead->epoch == epoch)
        return ahead;
    slot_wipe(ahead);
    if (tunnel_aead_key_set(&ahead->key, rx->cipher, rx->base_key, epoch, NULL) < 0)
        return NULL;
    ahead->epoch = epoch;
    ahead->valid = true;
    return ahead;
}

const struct tunnel_aead_key *tunnel_rx_key(struct tunnel_rx *rx, uint64_t now, uint32_t epoch)
{
    struct tunnel_rx_epoch *slot = find_slot(rx, now, epoch);
    return slot ? &slot->key : NULL;
}

enum tunnel_drop tunnel_rx_check(struct tunnel_rx *rx, uint32_t epoch, uint64_t counter)
{
    struct tunnel_rx_epoch *slot = NULL;
    for (int i = 0; i < 3 && !slot; i++)
        if (rx->slots[i].valid && rx->slots[i].epoch == epoch)
            slot = &rx->slots[i];
    if (!slot)
        return TUNNEL_DROP_UNKNOWN_EPOCH; /* not after tunnel_rx_key said yes */
    switch (tunnel_replay_check(&slot->window, counter)) {
    case TUNNEL_REPLAY_SEEN:
        return TUNNEL_DROP_REPLAYED;
    case TUNNEL_REPLAY_TOO_OLD:
        return TUNNEL_DROP_TOO_OLD;
    case TUNNEL_REPLAY_FRESH:
        break;
    }
    return TUNNEL_DROP_NONE;
}

/* The ahead slot becomes current; the old current the previous one (if it was the
 * epoch just before, else there is nothing in flight worth its key). */
static void promote_ahead(struct tunnel_rx *rx, uint64_t now)
{
    uint8_t old_prev = rx->prev;
    bool consecutive = rx->slots[rx->ahead].epoch - rx->slots[rx->cur].epoch == 1;
    slot_wipe(&rx->slots[old_prev]);
    if (!consecutive)
        slot_wipe(&rx->slots[rx->cur]);
    rx->prev = rx->cur;
    rx->cur = rx->ahead;
    rx->ahead = old_prev;
    rx->prev_until = now + TUNNEL_REKEY_GRACE_SECONDS;
    rx->cur_since = now;
}

void tunnel_rx_accept(struct tunnel_rx *rx, uint64_t now, uint32_t epoch, uint64_t counter)
{
    struct tunnel_rx_epoch *ahead = &rx->slots[rx->ahead];
    if (epoch != rx->slots[rx->cur].epoch && ahead->valid && ahead->epoch == epoch)
        promote_ahead(rx, now);
    struct tunnel_rx_epoch *slot =
        epoch == rx->slots[rx->cur].epoch ? &rx->slots[rx->cur] : &rx->slots[rx->prev];
    tunnel_replay_accept(&slot->window, counter);
    rx->stats.accepted++;
}

void tunnel_rx_count_drop(struct tunnel_rx *rx, enum tunnel_drop reason)
{
    switch (reason) {
    case TUNNEL_DROP_NONE:
        break;
    case TUNNEL_DROP_BAD_HEADER:
        rx->stats.bad_header++;
        break;
    case TUNNEL_DROP_UNKNOWN_EPOCH:
        rx->stats.unknown_epoch++;
        break;
    case TUNNEL_DROP_AUTH_FAILED:
        rx->stats.auth_failed++;
        break;
    case TUNNEL_DROP_REPLAYED:
        rx->stats.replayed++;
        break;
    case TUNNEL_DROP_TOO_OLD:
        rx->stats.too_old++;
        break;
    case TUNNEL_DROP_WRONG_CIPHER:
        rx->stats.wrong_cipher++;
        break;
    }
}
