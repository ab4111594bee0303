/*
 * fuzz_tunnel.c: libFuzzer target over tunnel_open (tunnel/packet.c) and the
 * receive side's epochs and replay windows (tunnel/session.c).
 *
 * A fixed base key gives a sender A and a receiver B. The first input byte sets
 * A's packets per epoch (1..8, or 2^48 when its top bit is set) and, with bit 6,
 * puts both hosts on an IPv6 underlay (16-byte VTEPs in the AAD); the rest is a
 * program of steps, each an opcode byte and its operands:
 *   0 LEN_HI LEN_LO BYTES  open BYTES as a datagram from A (anything at all)
 *   1 LEN BYTES            seal a frame of LEN*6 bytes (as many as remain) into
 *                          history slot (count % 4)
 *   2 SLOT INDEX XOR       open history slot SLOT with byte INDEX xored with XOR
 *                          (XOR 0: as sealed), from A, or from another host
 *                          when the top bit of SLOT is set, with the data path
 *                          header of another overlay (the extra AAD) when bit 6 is
 *   3 SECONDS              let time pass
 * What must hold: a datagram changed after sealing, from another host or presented
 * as another overlay's, is never
 * accepted; one as sealed is never dropped as bad_header, wrong_cipher or
 * auth_failed, opens to its frame, and is accepted at most once; drops are counted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/packet.h"

/* A and B on an IPv4 underlay ([0]) and an IPv6 one ([1]); which one, per input. */
static const struct ip_addr vteps_a[2] = {{.family = AF_INET, .bytes = {10, 0, 1, 1}},
                                          {.family = AF_INET6, .bytes = {0xfd, [15] = 1}}};
static const struct ip_addr vteps_b[2] = {{.family = AF_INET, .bytes = {10, 0, 1, 2}},
                                          {.family = AF_INET6, .bytes = {0xfd, [15] = 2}}};
static const struct ip_addr *vtep_a, *vtep_b;
#define FRAME_MAX (255 * 6)
#define SLOTS 4

/* The extra AAD of every packet: the data path's header of overlay 42, and of 43. */
static const uint8_t weft_hdr[8] = {1, 1, 0, 0, 0, 0, 42, 0};
static const uint8_t other_hdr[8] = {1, 1, 0, 0, 0, 0, 43, 0};

struct sealed {
    uint8_t packet[FRAME_MAX + TUNNEL_OVERHEAD];
    uint8_t frame[FRAME_MAX];
    size_t len; /* the packet's; 0 for an empty slot */
    int accepted;
};

static struct sealed history[SLOTS];
static uint8_t out[FRAME_MAX + 64], datagram[FRAME_MAX + TUNNEL_OVERHEAD];

static uint64_t drops(const struct tunnel_stats *s)
{
    return s->bad_header + s->unknown_epoch + s->auth_failed + s->replayed + s->too_old +
           s->wrong_cipher;
}

/* Opens a datagram and checks what the receiver says against what it must say. */
static void open_checked(struct tunnel_rx *rx, uint64_t now, const struct ip_addr *sender,
                         const uint8_t *hdr, const uint8_t *p, size_t len, struct sealed *genuine)
{
    uint64_t before = drops(&rx->stats), accepted_before = rx->stats.accepted;
    enum tunnel_drop reason = TUNNEL_DROP_NONE;
    size_t out_len = 0;
    int rc = tunnel_open(rx, now, sender, hdr, sizeof(weft_hdr), p, len, out, sizeof(out), &out_len,
                         &reason);
    if (rc == 0 ? reason != TUNNEL_DROP_NONE || rx->stats.accepted != accepted_before + 1
                : reason == TUNNEL_DROP_NONE || drops(&rx->stats) != before + 1 || out_len != 0)
        abort(); /* the verdict and the counters disagree */
    if (!genuine)
        return;
    if (rc == 0) {
        if (genuine->accepted++ ||
            out_len + TUNNEL_HEADER_BYTES + tunnel_aead_tag_bytes(rx->cipher) != genuine->len ||
            memcmp(out, genuine->frame, out_len) != 0)
            abort(); /* accepted twice, or opened to something else */
    } else if (reason == TUNNEL_DROP_BAD_HEADER || reason == TUNNEL_DROP_WRONG_CIPHER ||
               reason == TUNNEL_DROP_AUTH_FAILED) {
        abort(); /* a genuine packet refused as not genuine */
    }
}

static size_t seal_step(struct tunnel_tx *tx, uint64_t now, const uint8_t *data, size_t size,
                        unsigned *count)
{
    if (size < 1)
        return size;
    size_t want = (size_t)data[0] * 6, have = size - 1 < want ? size - 1 : want;
    struct sealed *s = &history[(*count)++ % SLOTS];
    memset(s->frame, 0, sizeof(s->frame));
    memcpy(s->frame, data + 1, have);
    s->accepted = 0;
    if (tunnel_seal(tx, now, weft_hdr, sizeof(weft_hdr), s->frame, want, s->packet,
                    sizeof(s->packet), &s->len, NULL) < 0)
        abort(); /* the buffer fits and no epochs run out here */
    return 1 + have;
}

static size_t replay_step(struct tunnel_rx *rx, uint64_t now, const uint8_t *data, size_t size)
{
    if (size < 3)
        return size;
    struct sealed *s = &history[data[0] % SLOTS];
    if (s->len == 0)
        return 3;
    memcpy(datagram, s->packet, s->len);
    size_t index = data[1] % s->len;
    datagram[index] ^= data[2];
    bool other_host = data[0] & 0x80, other_overlay = data[0] & 0x40;
    bool genuine = data[2] == 0 && !other_host && !other_overlay;
    uint64_t accepted_before = rx->stats.accepted;
    open_checked(rx, now, other_host ? vtep_b : vtep_a, other_overlay ? other_hdr : weft_hdr,
                 datagram, s->len, genuine ? s : NULL);
    if (!genuine && rx->stats.accepted != accepted_before)
        abort(); /* a changed packet, or one from another host or overlay, got through */
    return 3;
}

static void run(struct tunnel_tx *tx, struct tunnel_rx *rx, const uint8_t *data, size_t size)
{
    uint64_t now = 0;
    unsigned count = 0;
    while (size > 0) {
        uint8_t op = data[0] % 4;
        data++, size--;
        size_t used = 0;
        if (op == 0 && size >= 2) {
            size_t len = ((size_t)data[0] << 8 | data[1]) % (size - 1);
            open_checked(rx, now, vtep_a, weft_hdr, data + 2, len, NULL);
            used = 2 + len;
        } else if (op == 1) {
            used = seal_step(tx, now, data, size, &count);
        } else if (op == 2) {
            used = replay_step(rx, now, data, size);
        } else if (op == 3 && size >= 1) {
            now += data[0];
            used = 1;
        } else {
            used = size;
        }
        data += used, size -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char base_key[TUNNEL_KEY_BYTES];
    static int cipher;
    if (!cipher) {
        for (size_t i = 0; i < sizeof(base_key); i++)
            base_key[i] = (unsigned char)(i * 7 + 1);
        cipher = tunnel_cipher_choose();
    }
    if (size < 1)
        return 0;
    struct tunnel_tx *tx;
    struct tunnel_rx *rx;
    vtep_a = &vteps_a[(data[0] >> 6) & 1];
    vtep_b = &vteps_b[(data[0] >> 6) & 1];
    if (tunnel_tx_new(base_key, cipher, vtep_a, vtep_b, 0, &tx, NULL) < 0 ||
        tunnel_rx_new(base_key, cipher, vtep_b, vtep_a, 0, &rx, NULL) < 0)
        abort();
    if (!(data[0] & 0x80))
        tunnel_tx_set_packet_limit(tx, (data[0] & 7) + 1);
    memset(history, 0, sizeof(history));
    run(tx, rx, data + 1, size - 1);
    tunnel_tx_free(tx);
    tunnel_rx_free(rx);
    return 0;
}
