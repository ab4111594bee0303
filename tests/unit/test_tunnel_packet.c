/*
 * test_tunnel_packet.c: frames of 0..9000 bytes seal and open back with either
 * AEAD, the same frame twice to ciphertexts with nothing in common; a byte changed anywhere in the
 * datagram, or another sender address, is dropped and leaves the receiver as it was; a replay is
 * dropped (after its tag verified: a forgery with a seen counter is auth_failed), packets out of
 * order within the window are accepted once, older ones are dropped; the sender rekeys on time and
 * after its packet limit, the receiver follows, keeps the previous epoch for the grace and not
 * after, refuses an epoch two ahead and catches up after a long loss; a cipher mismatch is its own
 * drop reason; the caller's extra AAD (the data path's header with the VNI) is bound: another one,
 * or none, fails to authenticate. The clock is the `now` passed in.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tunnel/packet.h"

#define FRAME_MAX 9000
/* 10.0.1.1 and 10.0.1.2; an IPv6 pair for the IPv6 underlay's case. */
static const struct ip_addr vtep_a = {.family = AF_INET, .bytes = {10, 0, 1, 1}};
static const struct ip_addr vtep_b = {.family = AF_INET, .bytes = {10, 0, 1, 2}};
static const struct ip_addr vtep6_a = {.family = AF_INET6, .bytes = {0xfd, 0, 0, 0x77, [15] = 1}};
static const struct ip_addr vtep6_b = {.family = AF_INET6, .bytes = {0xfd, 0, 0, 0x77, [15] = 2}};

/* The extra AAD every packet here carries: a data path header for VNI 42. */
static const uint8_t weft_hdr[8] = {1, 1, 0, 0, 0, 0, 42, 0};

struct pair {
    struct ip_addr a, b;
    struct tunnel_tx *tx; /* A -> B */
    struct tunnel_rx *rx; /* B, from A */
    uint8_t frame[FRAME_MAX], packet[FRAME_MAX + TUNNEL_OVERHEAD], out[FRAME_MAX];
};

/* A pair of sessions from a to b. */
static struct pair *pair_between(int tx_cipher, int rx_cipher, const struct ip_addr *a,
                                 const struct ip_addr *b)
{
    struct weft_err err = {0};
    struct pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->a = *a;
    p->b = *b;
    unsigned char base[TUNNEL_KEY_BYTES];
    randombytes_buf(base, sizeof(base));
    assert_int_equal(tunnel_tx_new(base, tx_cipher, a, b, 0, &p->tx, &err), 0);
    assert_int_equal(tunnel_rx_new(base, rx_cipher, b, a, 0, &p->rx, &err), 0);
    sodium_memzero(base, sizeof(base));
    assert_int_equal((uintptr_t)p->tx % 16, 0); /* AES-GCM's state is aligned */
    assert_int_equal((uintptr_t)p->rx % 16, 0);
    randombytes_buf(p->frame, sizeof(p->frame));
    return p;
}

static struct pair *pair_new(int tx_cipher, int rx_cipher)
{
    return pair_between(tx_cipher, rx_cipher, &vtep_a, &vtep_b);
}

static void pair_free(struct pair *p)
{
    tunnel_tx_free(p->tx);
    tunnel_rx_free(p->rx);
    free(p);
}

/* What sealing with cipher adds to a frame (at most TUNNEL_OVERHEAD). */
static size_t overhead_of(int cipher)
{
    return TUNNEL_HEADER_BYTES + tunnel_aead_tag_bytes(cipher);
}

/* Seals len bytes of the pair's frame at now into packet (a copy for later). */
static size_t seal(struct pair *p, uint64_t now, size_t len, uint8_t *packet)
{
    struct weft_err err = {0};
    size_t out_len = 0;
    assert_int_equal(tunnel_seal(p->tx, now, weft_hdr, sizeof(weft_hdr), p->frame, len, packet,
                                 len + TUNNEL_OVERHEAD, &out_len, &err),
                     0);
    assert_int_equal(out_len, len + overhead_of(p->tx->cipher));
    return out_len;
}

/* Opens a datagram from A at now: the drop reason, TUNNEL_DROP_NONE when it opened. */
static enum tunnel_drop open_from(struct pair *p, uint64_t now, const struct ip_addr *sender,
                                  const uint8_t *packet, size_t len)
{
    enum tunnel_drop reason = TUNNEL_DROP_NONE;
    size_t out_len = 0;
    int rc = tunnel_open(p->rx, now, sender, weft_hdr, sizeof(weft_hdr), packet, len, p->out,
                         sizeof(p->out), &out_len, &reason);
    if (rc == 0) {
        assert_int_equal(reason, TUNNEL_DROP_NONE);
        assert_int_equal(out_len, len - overhead_of(p->rx->cipher));
        assert_memory_equal(p->out, p->frame, out_len);
    } else {
        assert_int_not_equal(reason, TUNNEL_DROP_NONE);
        assert_int_equal(out_len, 0);
    }
    return reason;
}

static enum tunnel_drop open_at(struct pair *p, uint64_t now, const uint8_t *packet, size_t len)
{
    return open_from(p, now, &p->a, packet, len);
}

static void round_trip(int cipher)
{
    struct pair *p = pair_new(cipher, cipher);
    for (size_t len = 0; len <= FRAME_MAX; len++) {
        size_t n = seal(p, 0, len, p->packet);
        assert_int_equal(p->packet[0], TUNNEL_MAGIC);
        assert_int_equal(p->packet[1], TUNNEL_TYPE_DATA);
        assert_int_equal(p->packet[2], cipher);
        if (len >= 16) /* nothing of the frame shows */
            assert_memory_not_equal(p->packet + TUNNEL_HEADER_BYTES, p->frame, 16);
        assert_int_equal(open_at(p, 0, p->packet, n), TUNNEL_DROP_NONE);
    }
    assert_int_equal(p->rx->stats.accepted, FRAME_MAX + 1);
    /* The same frame twice: nothing of the ciphertext repeats (a new nonce each time). */
    static uint8_t again[1400 + TUNNEL_OVERHEAD];
    seal(p, 0, 1400, p->packet);
    seal(p, 0, 1400, again);
    for (size_t i = TUNNEL_HEADER_BYTES; i + 8 <= sizeof(again); i += 8)
        assert_memory_not_equal(p->packet + i, again + i, 8);
    pair_free(p);
}

static void frames_of_every_size_round_trip(void **state)
{
    (void)state;
    round_trip(TUNNEL_CIPHER_CHACHA20POLY1305);
    if (crypto_aead_aes256gcm_is_available())
        round_trip(TUNNEL_CIPHER_AES256GCM);
    else
        print_message("no AES-256-GCM on this CPU: ChaCha20-Poly1305 only\n");
    if (tunnel_ciphers_available() & TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AEGIS128L))
        round_trip(TUNNEL_CIPHER_AEGIS128L);
    else
        print_message("no AEGIS-128L (libsodium %s, AES-NI %d)\n", sodium_version_string(),
                      sodium_runtime_has_aesni());
}

/* Two hosts agree on the best cipher both run, whatever order they ask in; a member
 * record's list reads back as written, names this build does not know are left out,
 * and an older weft's record (no list) offers the two ciphers it chose between. */
static void ciphers_are_agreed_and_listed(void **state)
{
    (void)state;
    const unsigned aegis = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AEGIS128L),
                   aes = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AES256GCM),
                   chacha = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_CHACHA20POLY1305),
                   all = aegis | aes | chacha;
    assert_int_equal(tunnel_cipher_pick(all, all), TUNNEL_CIPHER_AEGIS128L);
    assert_int_equal(tunnel_cipher_pick(all, aes | chacha), TUNNEL_CIPHER_AES256GCM);
    assert_int_equal(tunnel_cipher_pick(aes | chacha, all), TUNNEL_CIPHER_AES256GCM);
    assert_int_equal(tunnel_cipher_pick(chacha, all), TUNNEL_CIPHER_CHACHA20POLY1305);
    assert_int_equal(tunnel_cipher_pick(aegis | chacha, aes | chacha),
                     TUNNEL_CIPHER_CHACHA20POLY1305);
    assert_int_equal(tunnel_cipher_pick(aegis, aes), 0);
    assert_int_equal(tunnel_cipher_pick(tunnel_ciphers_available(), tunnel_ciphers_available()),
                     tunnel_cipher_choose());
    assert_true(tunnel_ciphers_available() & chacha);

    char text[TUNNEL_CIPHERS_TEXT_MAX];
    tunnel_ciphers_format(all, text);
    assert_string_equal(text, "aegis128l aes256gcm chacha20poly1305");
    struct weft_err err = {0};
    unsigned set = 0;
    assert_int_equal(tunnel_ciphers_parse(text, &set, &err), 0);
    assert_int_equal(set, all);
    tunnel_ciphers_format(chacha, text);
    assert_string_equal(text, "chacha20poly1305");
    assert_int_equal(tunnel_ciphers_parse("", &set, &err), 0);
    assert_int_equal(set, TUNNEL_CIPHERS_LEGACY);
    assert_int_equal(tunnel_ciphers_parse("aegis256 chacha20poly1305", &set, &err), 0);
    assert_int_equal(set, chacha); /* a cipher of a newer weft: not ours, left out */
    assert_int_equal(tunnel_ciphers_parse("aegis256", &set, &err), 0);
    assert_int_equal(set, 0); /* parses, and then no cipher in common */
    const char *bad[] = {"AES256GCM",
                         "aes256gcm  chacha20poly1305",
                         " aes256gcm",
                         "aes256gcm ",
                         "aes-256-gcm",
                         "aes256gcm,chacha20poly1305",
                         "chacha20poly1305 chacha20poly1305 chacha20poly1305 a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        set = 7;
        assert_int_equal(tunnel_ciphers_parse(bad[i], &set, &err), -1);
        assert_int_equal(err.code, -EINVAL);
        assert_int_equal(set, 7);
    }
    assert_int_equal(tunnel_aead_tag_bytes(TUNNEL_CIPHER_AES256GCM), 16);
    assert_int_equal(tunnel_aead_tag_bytes(TUNNEL_CIPHER_CHACHA20POLY1305), 16);
    assert_int_equal(tunnel_aead_tag_bytes(9), 0);
    if (TUNNEL_HAVE_AEGIS)
        assert_int_equal(tunnel_aead_tag_bytes(TUNNEL_CIPHER_AEGIS128L), TUNNEL_TAG_BYTES_MAX);
    /* A cipher this process does not run: refused, with why. */
    if (!(tunnel_ciphers_available() & aegis)) {
        struct tunnel_aead_key key = {0};
        unsigned char base[TUNNEL_KEY_BYTES] = {1};
        assert_int_equal(tunnel_aead_key_set(&key, TUNNEL_CIPHER_AEGIS128L, base, 0, &err), -1);
        assert_int_equal(err.code, -ENOTSUP);
        assert_int_equal(key.cipher, 0);
    }
}

/* On an IPv6 underlay the AAD binds both 16-byte VTEPs whole: a sender that shares
 * A's last 32 bits, or A's IPv4-looking first bytes, is not A. */
static void ipv6_vteps_are_bound_whole(void **state)
{
    (void)state;
    struct pair *p =
        pair_between(tunnel_cipher_choose(), tunnel_cipher_choose(), &vtep6_a, &vtep6_b);
    uint8_t good[100 + TUNNEL_OVERHEAD];
    size_t n = seal(p, 0, 100, good);
    struct ip_addr same_tail = vtep6_a, same_head = vtep6_a;
    same_tail.bytes[0] = 0xfe;
    same_head.bytes[15] = 3;
    const struct ip_addr as_ipv4 = {.family = AF_INET, .bytes = {0xfd, 0, 0, 0x77}};
    assert_int_equal(open_from(p, 0, &same_tail, good, n), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_from(p, 0, &same_head, good, n), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_from(p, 0, &as_ipv4, good, n), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_from(p, 0, &vtep6_b, good, n), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_at(p, 0, good, n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, good, n), TUNNEL_DROP_REPLAYED);
    for (size_t len = 0; len <= FRAME_MAX; len += 997) {
        n = seal(p, 0, len, p->packet);
        assert_int_equal(open_at(p, 0, p->packet, n), TUNNEL_DROP_NONE);
    }
    assert_int_equal(p->rx->stats.auth_failed, 4);
    pair_free(p);
}

static void a_changed_byte_anywhere_is_dropped(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    uint8_t good[100 + TUNNEL_OVERHEAD], bad[sizeof(good)];
    size_t n = seal(p, 0, 100, good);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, good, n);
            bad[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(open_at(p, 0, bad, n), TUNNEL_DROP_NONE);
        }
    }
    memcpy(bad, good, n);
    assert_int_not_equal(open_at(p, 0, bad, n - 1), TUNNEL_DROP_NONE); /* cut short */
    assert_int_equal(open_at(p, 0, bad, overhead_of(p->rx->cipher) - 1), TUNNEL_DROP_BAD_HEADER);
    /* From another address (the AAD's sender), to another host: not authentic. */
    assert_int_equal(open_from(p, 0, &vtep_b, good, n), TUNNEL_DROP_AUTH_FAILED);
    /* Nothing moved: the genuine packet still opens, once. */
    assert_int_equal(p->rx->stats.accepted, 0);
    assert_int_equal(open_at(p, 0, good, n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, good, n), TUNNEL_DROP_REPLAYED);
    const struct tunnel_stats *s = &p->rx->stats;
    assert_true(s->bad_header > 0 && s->auth_failed > 0 && s->wrong_cipher > 0);
    assert_int_equal(s->bad_header + s->auth_failed + s->wrong_cipher + s->unknown_epoch +
                         s->replayed + s->too_old,
                     n * 8 + 2 + 1 + 1);
    pair_free(p);
}

static void replays_and_old_counters_are_dropped_out_of_order_accepted_once(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    enum { N = 3000, LEN = 64 };
    uint8_t(*packets)[LEN + TUNNEL_OVERHEAD] = calloc(N, LEN + TUNNEL_OVERHEAD);
    assert_non_null(packets);
    for (int i = 0; i < N; i++)
        seal(p, 0, LEN, packets[i]);
    size_t n = LEN + overhead_of(p->tx->cipher);
    assert_int_equal(open_at(p, 0, packets[10], n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, packets[10], n), TUNNEL_DROP_REPLAYED);
    /* The window is asked after the tag: a forgery with a seen counter is not genuine. */
    uint8_t forged[LEN + TUNNEL_OVERHEAD];
    memcpy(forged, packets[10], n);
    forged[n - 1] ^= 1;
    assert_int_equal(open_at(p, 0, forged, n), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_at(p, 0, packets[5], n), TUNNEL_DROP_NONE); /* late, in the window */
    assert_int_equal(open_at(p, 0, packets[5], n), TUNNEL_DROP_REPLAYED);
    assert_int_equal(open_at(p, 0, packets[0], n), TUNNEL_DROP_NONE);
    /* 2999 moves the window past 0..1014 (it spans TUNNEL_REPLAY_WINDOW counters). */
    assert_int_equal(open_at(p, 0, packets[2999], n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, packets[6], n), TUNNEL_DROP_TOO_OLD);
    assert_int_equal(open_at(p, 0, packets[2999 - TUNNEL_REPLAY_WINDOW], n), TUNNEL_DROP_TOO_OLD);
    assert_int_equal(open_at(p, 0, packets[2999 - TUNNEL_REPLAY_WINDOW + 1], n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, packets[2000], n), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 0, packets[2000], n), TUNNEL_DROP_REPLAYED);
    assert_int_equal(open_at(p, 0, packets[10], n), TUNNEL_DROP_TOO_OLD);
    assert_int_equal(p->rx->stats.accepted, 6);
    assert_int_equal(p->rx->stats.replayed, 3);
    assert_int_equal(p->rx->stats.too_old, 3);
    assert_int_equal(p->rx->stats.auth_failed, 1);
    free(packets);
    pair_free(p);
}

enum { LEN = 40, PLEN = LEN + TUNNEL_OVERHEAD }; /* PLEN: room for any cipher */

/* The length of a sealed LEN-byte frame with the pairs' cipher below. */
static size_t plen(void)
{
    return LEN + overhead_of(tunnel_cipher_choose());
}

static uint32_t epoch_of(const uint8_t *packet)
{
    return (uint32_t)packet[4] << 24 | (uint32_t)packet[5] << 16 | (uint32_t)packet[6] << 8 |
           packet[7];
}

static void the_previous_epoch_is_accepted_during_the_grace_only(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    uint8_t old1[PLEN], old2[PLEN], old3[PLEN], new1[PLEN], before[PLEN];
    seal(p, 0, LEN, before);
    assert_int_equal(open_at(p, 0, before, plen()), TUNNEL_DROP_NONE);
    seal(p, 100, LEN, old1);
    seal(p, 119, LEN, old2);
    seal(p, 119, LEN, old3);
    seal(p, 120, LEN, new1); /* TUNNEL_REKEY_SECONDS after the start: epoch 1 */
    assert_int_equal(epoch_of(old3), 0);
    assert_int_equal(epoch_of(new1), 1);
    assert_int_equal(open_at(p, 121, new1, plen()), TUNNEL_DROP_NONE);
    /* Packets of epoch 0 still on their way: accepted until 121 + GRACE. */
    assert_int_equal(open_at(p, 125, old1, plen()), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 125, old1, plen()), TUNNEL_DROP_REPLAYED);
    assert_int_equal(open_at(p, 121 + TUNNEL_REKEY_GRACE_SECONDS - 1, old2, plen()),
                     TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 121 + TUNNEL_REKEY_GRACE_SECONDS, old3, plen()),
                     TUNNEL_DROP_UNKNOWN_EPOCH);
    assert_int_equal(p->rx->stats.unknown_epoch, 1);
    /* The sender moves one epoch at a time, however long it was quiet. */
    uint8_t later[PLEN];
    seal(p, 10000, LEN, later);
    assert_int_equal(epoch_of(later), 2);
    assert_int_equal(open_at(p, 10000, later, plen()), TUNNEL_DROP_NONE);
    pair_free(p);
}

static void an_epoch_two_ahead_is_dropped_until_reachable(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    tunnel_tx_set_packet_limit(p->tx, 1); /* one packet per epoch */
    uint8_t e0[PLEN], e1[PLEN], e2[PLEN], e3[PLEN];
    seal(p, 0, LEN, e0);
    seal(p, 0, LEN, e1);
    seal(p, 0, LEN, e2);
    seal(p, 0, LEN, e3);
    assert_int_equal(epoch_of(e2), 2);
    assert_int_equal(open_at(p, 5, e2, plen()), TUNNEL_DROP_UNKNOWN_EPOCH);
    assert_int_equal(open_at(p, 5, e1, plen()), TUNNEL_DROP_NONE); /* one ahead, lazily */
    assert_int_equal(open_at(p, 5, e0, plen()), TUNNEL_DROP_NONE); /* previous, in the grace */
    assert_int_equal(open_at(p, 5, e3, plen()), TUNNEL_DROP_UNKNOWN_EPOCH);
    assert_int_equal(open_at(p, 5, e2, plen()), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 5, e3, plen()), TUNNEL_DROP_NONE);
    assert_int_equal(open_at(p, 5, e1, plen()), TUNNEL_DROP_UNKNOWN_EPOCH); /* two behind */
    pair_free(p);
}

static void after_a_long_loss_the_receiver_catches_up(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    uint8_t pkt[PLEN];
    seal(p, 0, LEN, pkt);
    assert_int_equal(open_at(p, 0, pkt, plen()), TUNNEL_DROP_NONE);
    for (uint64_t t = 120; t <= 360; t += 120)
        seal(p, t, LEN, pkt); /* all lost: the sender is at epoch 3 */
    assert_int_equal(epoch_of(pkt), 3);
    assert_int_equal(open_at(p, 130, pkt, plen()), TUNNEL_DROP_UNKNOWN_EPOCH); /* not yet */
    assert_int_equal(open_at(p, 361, pkt, plen()), TUNNEL_DROP_NONE);
    seal(p, 362, LEN, pkt);
    assert_int_equal(open_at(p, 362, pkt, plen()), TUNNEL_DROP_NONE);
    pair_free(p);
}

static void the_packet_limit_forces_a_rekey(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    tunnel_tx_set_packet_limit(p->tx, 3);
    uint8_t pkt[PLEN];
    for (int i = 0; i < 10; i++) {
        seal(p, 7, LEN, pkt);
        assert_int_equal(epoch_of(pkt), i / 3);
        assert_int_equal(pkt[15], i % 3); /* the counter restarts with each epoch */
        assert_int_equal(open_at(p, 7, pkt, plen()), TUNNEL_DROP_NONE);
    }
    assert_int_equal(p->tx->epoch, 3);
    pair_free(p);
}

static void a_cipher_mismatch_is_its_own_drop_reason(void **state)
{
    (void)state;
    if (!crypto_aead_aes256gcm_is_available()) {
        print_message("no AES-256-GCM on this CPU: skipped\n");
        return;
    }
    struct pair *p = pair_new(TUNNEL_CIPHER_CHACHA20POLY1305, TUNNEL_CIPHER_AES256GCM);
    uint8_t pkt[PLEN];
    seal(p, 0, LEN, pkt);
    assert_int_equal(open_at(p, 0, pkt, plen()), TUNNEL_DROP_WRONG_CIPHER);
    assert_int_equal(p->rx->stats.wrong_cipher, 1);
    assert_string_equal(tunnel_drop_name(TUNNEL_DROP_WRONG_CIPHER), "wrong_cipher");
    pair_free(p);
}

static void small_buffers_and_unknown_ciphers_are_refused(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    struct weft_err err = {0};
    size_t n = 1;
    assert_int_equal(tunnel_seal(p->tx, 0, NULL, 0, p->frame, 100, p->packet,
                                 100 + overhead_of(p->tx->cipher) - 1, &n, &err),
                     -1);
    assert_int_equal(err.code, -EMSGSIZE);
    assert_int_equal(n, 0);
    n = seal(p, 0, 100, p->packet);
    enum tunnel_drop reason;
    size_t out_len;
    assert_int_equal(tunnel_open(p->rx, 0, &p->a, weft_hdr, sizeof(weft_hdr), p->packet, n, p->out,
                                 99, &out_len, &reason),
                     -1);
    assert_int_equal(reason, TUNNEL_DROP_BAD_HEADER);
    assert_int_equal(open_at(p, 0, p->packet, n), TUNNEL_DROP_NONE);
    /* The tunnel header and the longest tag (AEGIS-128L's): room for any cipher. */
    assert_int_equal(TUNNEL_OVERHEAD, 16 + 32);
    pair_free(p);
    /* A cipher nobody knows makes no session. */
    struct tunnel_tx *tx = (struct tunnel_tx *)&err;
    unsigned char base[TUNNEL_KEY_BYTES] = {1};
    assert_int_equal(tunnel_tx_new(base, 7, &vtep_a, &vtep_b, 0, &tx, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_null(tx);
}

static enum tunnel_drop open_with_extra(struct pair *p, const uint8_t *extra, size_t extra_len,
                                        const uint8_t *packet, size_t len)
{
    enum tunnel_drop reason = TUNNEL_DROP_NONE;
    size_t out_len = 0;
    tunnel_open(p->rx, 0, &p->a, extra, extra_len, packet, len, p->out, sizeof(p->out), &out_len,
                &reason);
    return reason;
}

static void the_extra_aad_is_bound(void **state)
{
    (void)state;
    struct pair *p = pair_new(tunnel_cipher_choose(), tunnel_cipher_choose());
    uint8_t pkt[PLEN], other_vni[sizeof(weft_hdr)], long_aad[TUNNEL_EXTRA_AAD_MAX + 1] = {0};
    seal(p, 0, LEN, pkt);
    memcpy(other_vni, weft_hdr, sizeof(weft_hdr));
    other_vni[6] = 43; /* the same datagram presented as another overlay's */
    assert_int_equal(open_with_extra(p, other_vni, sizeof(other_vni), pkt, plen()),
                     TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_with_extra(p, NULL, 0, pkt, plen()), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_with_extra(p, weft_hdr, 4, pkt, plen()), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_with_extra(p, long_aad, sizeof(long_aad), pkt, plen()),
                     TUNNEL_DROP_BAD_HEADER);
    assert_int_equal(open_at(p, 0, pkt, plen()), TUNNEL_DROP_NONE); /* nothing moved before */
    /* Sealed without extra AAD: opens only without. */
    struct weft_err err = {0};
    size_t n = 0;
    assert_int_equal(tunnel_seal(p->tx, 0, NULL, 0, p->frame, LEN, pkt, PLEN, &n, &err), 0);
    assert_int_equal(open_at(p, 0, pkt, plen()), TUNNEL_DROP_AUTH_FAILED);
    assert_int_equal(open_with_extra(p, NULL, 0, pkt, plen()), TUNNEL_DROP_NONE);
    assert_int_equal(
        tunnel_seal(p->tx, 0, long_aad, sizeof(long_aad), p->frame, LEN, pkt, PLEN, &n, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(p->rx->stats.accepted, 2);
    assert_int_equal(p->rx->stats.auth_failed, 4);
    pair_free(p);
}

int main(void)
{
    assert_true(sodium_init() >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_of_every_size_round_trip),
        cmocka_unit_test(ciphers_are_agreed_and_listed),
        cmocka_unit_test(a_changed_byte_anywhere_is_dropped),
        cmocka_unit_test(ipv6_vteps_are_bound_whole),
        cmocka_unit_test(replays_and_old_counters_are_dropped_out_of_order_accepted_once),
        cmocka_unit_test(the_previous_epoch_is_accepted_during_the_grace_only),
        cmocka_unit_test(an_epoch_two_ahead_is_dropped_until_reachable),
        cmocka_unit_test(after_a_long_loss_the_receiver_catches_up),
        cmocka_unit_test(the_packet_limit_forces_a_rekey),
        cmocka_unit_test(a_cipher_mismatch_is_its_own_drop_reason),
        cmocka_unit_test(small_buffers_and_unknown_ciphers_are_refused),
        cmocka_unit_test(the_extra_aad_is_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
