/*
 * packet.c: sealing frames into datagrams and opening them (see packet.h). The
 * header is checked before any key is touched, the epoch before the tag; the
 * replay window is checked after the tag verified (so replayed and too_old mean
 * genuine packets, and a packet of another key is auth_failed whatever its
 * counter: the peer table tells a peer's keys apart by that), and the window and
 * the epochs move only then. A replay costs a verification, as forged packets
 * with fresh counters always did.
 */
#include "tunnel/packet.h"

#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* aad = header || sender VTEP || receiver VTEP (network order, 4 or 16 bytes each:
 * an IPv4 underlay's AAD is what it was before IPv6 underlays) || the caller's extra
 * (extra_len <= TUNNEL_EXTRA_AAD_MAX, checked by the callers). Returns its length. */
static size_t make_aad(uint8_t aad[TUNNEL_AAD_BYTES_MAX + TUNNEL_EXTRA_AAD_MAX],
                       const uint8_t *header, const struct ip_addr *sender,
                       const struct ip_addr *receiver, const uint8_t *extra, size_t extra_len)
{
    size_t n = TUNNEL_HEADER_BYTES, sender_len = (size_t)ip_addr_len(sender),
           receiver_len = (size_t)ip_addr_len(receiver);
    memcpy(aad, header, TUNNEL_HEADER_BYTES);
    memcpy(aad + n, sender->bytes, sender_len);
    n += sender_len;
    memcpy(aad + n, receiver->bytes, receiver_len);
    n += receiver_len;
    if (extra_len > 0)
        memcpy(aad + n, extra, extra_len);
    return n + extra_len;
}

int tunnel_seal(struct tunnel_tx *tx, uint64_t now, const uint8_t *extra_aad, size_t extra_len,
                const uint8_t *frame, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                struct weft_err *err)
{
    *out_len = 0;
    if (extra_len > TUNNEL_EXTRA_AAD_MAX)
        return weft_err_set(err, -EINVAL, "%zu bytes of extra AAD (at most %d)", extra_len,
                            TUNNEL_EXTRA_AAD_MAX);
    size_t overhead = TUNNEL_HEADER_BYTES + tunnel_aead_tag_bytes(tx->cipher);
    if (out_cap < overhead || len > out_cap - overhead)
        return weft_err_set(err, -EMSGSIZE, "a %zu-byte frame does not fit %zu bytes sealed", len,
                            out_cap);
    uint32_t epoch;
    uint64_t counter;
    if (tunnel_tx_next(tx, now, &epoch, &counter, err) < 0)
        return -1;
    out[0] = TUNNEL_MAGIC;
    out[1] = TUNNEL_TYPE_DATA;
    out[2] = tx->cipher;
    out[3] = 0;
    put_be32(out + 4, epoch);
    put_be64(out + 8, counter);
    uint8_t aad[TUNNEL_AAD_BYTES_MAX + TUNNEL_EXTRA_AAD_MAX];
    size_t aad_len = make_aad(aad, out, &tx->my_vtep, &tx->peer_vtep, extra_aad, extra_len);
    if (tunnel_aead_seal(&tx->key, out + TUNNEL_HEADER_BYTES, frame, len, aad, aad_len,
                         out + 4) < 0)
        return weft_err_set(err, -EINVAL, "the tunnel session has no key");
    *out_len = len + overhead;
    return 0;
}

/* The header's verdict before any key is used; overhead: what the frame is shorter. */
static enum tunnel_drop check_header(const struct tunnel_rx *rx, size_t extra_len,
                                     const uint8_t *packet, size_t len, size_t out_cap,
                                     size_t *overhead_out)
{
    size_t overhead = TUNNEL_HEADER_BYTES + tunnel_aead_tag_bytes(rx->cipher);
    *overhead_out = overhead;
    if (extra_len > TUNNEL_EXTRA_AAD_MAX || len < TUNNEL_HEADER_BYTES ||
        packet[0] != TUNNEL_MAGIC || packet[1] != TUNNEL_TYPE_DATA || packet[3] != 0)
        return TUNNEL_DROP_BAD_HEADER;
    if (packet[2] != rx->cipher)
        return TUNNEL_DROP_WRONG_CIPHER;
    if (len < overhead || len - overhead > out_cap)
        return TUNNEL_DROP_BAD_HEADER;
    return TUNNEL_DROP_NONE;
}

static int dropped(struct tunnel_rx *rx, enum tunnel_drop why, enum tunnel_drop *reason)
{
    *reason = why;
    tunnel_rx_count_drop(rx, why);
    return -1;
}

int tunnel_open(struct tunnel_rx *rx, uint64_t now, const struct ip_addr *sender_vtep,
                const uint8_t *extra_aad, size_t extra_len, const uint8_t *packet, size_t len,
                uint8_t *out, size_t out_cap, size_t *out_len, enum tunnel_drop *reason)
{
    *out_len = 0;
    size_t overhead;
    enum tunnel_drop why = check_header(rx, extra_len, packet, len, out_cap, &overhead);
    if (why != TUNNEL_DROP_NONE)
        return dropped(rx, why, reason);
    uint32_t epoch = get_be32(packet + 4);
    uint64_t counter = get_be64(packet + 8);
    const struct tunnel_aead_key *key = tunnel_rx_key(rx, now, epoch);
    if (!key)
        return dropped(rx, TUNNEL_DROP_UNKNOWN_EPOCH, reason);
    uint8_t aad[TUNNEL_AAD_BYTES_MAX + TUNNEL_EXTRA_AAD_MAX];
    size_t aad_len = make_aad(aad, packet, sender_vtep, &rx->my_vtep, extra_aad, extra_len);
    if (tunnel_aead_open(key, out, packet + TUNNEL_HEADER_BYTES, len - TUNNEL_HEADER_BYTES, aad,
                         aad_len, packet + 4) < 0)
        return dropped(rx, TUNNEL_DROP_AUTH_FAILED, reason);
    why = tunnel_rx_check(rx, epoch, counter); /* after the tag: a replay is genuine */
    if (why != TUNNEL_DROP_NONE)
        return dropped(rx, why, reason);
    tunnel_rx_accept(rx, now, epoch, counter);
    *out_len = len - overhead;
    *reason = TUNNEL_DROP_NONE;
    return 0;
}
