/*
 * test_tunnel_peer_table.c: two hosts' peer tables with the same cluster secret
 * seal and open each other's frames through the data path's transform, with the
 * data path's header as AAD; a changed byte, another overlay's header and a
 * replay are dropped as auth / auth / replay and counted; a host with another
 * secret gets auth drops, and the one warning once its packets have failed for
 * TUNNEL_PEER_AUTH_FAIL_SECONDS, and one line when they authenticate again; a
 * peer that restarts gets new sessions (seal uses them, packets of its old key
 * still open), an old key never comes back; unknown hosts are NO_KEY; threads
 * sealing to one peer at once never repeat a counter (every packet opens once).
 * Hosts on an IPv6 underlay do the same with IPv6 VTEPs.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tunnel/packet.h"
#include "tunnel/peer_table.h"
#include "tests/unit/tunnel_fixture.h"

#define FRAME_LEN 200
#define PKT_MAX (FRAME_LEN + TUNNEL_OVERHEAD)

/* The data path's header of overlay 42 and of 43: the transform's AAD. */
static const uint8_t vni42[DATAPATH_HDR_LEN] = {1, 1, 0, 0, 0, 0, 42, 0};
static const uint8_t vni43[DATAPATH_HDR_LEN] = {1, 1, 0, 0, 0, 0, 43, 0};

/* The clock every table here reads, moved by the tests. */
static uint64_t fake_now = 1000;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static struct tunnel_peer_table *table_new(const struct tunnel_secret *secret, struct ip_addr me)
{
    struct weft_err err = {0};
    struct tunnel_peer_table *t = NULL;
    assert_int_equal(tunnel_peer_table_new(secret, &me, &t, &err), 0);
    tunnel_peer_table_set_clock(t, fake_clock, NULL);
    return t;
}

/* Each table learns the other's public key, as from its member record. */
static void introduce(struct tunnel_peer_table *a, struct ip_addr va, struct tunnel_peer_table *b,
                      struct ip_addr vb)
{
    struct weft_err err = {0};
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(b, key);
    assert_int_equal(tunnel_peer_table_set(a, &vb, key, tunnel_peer_table_ciphers(b), false, &err),
                     0);
    tunnel_peer_table_public_key(a, key);
    assert_int_equal(tunnel_peer_table_set(b, &va, key, tunnel_peer_table_ciphers(a), false, &err),
                     0);
}

struct sealed {
    uint8_t frame[FRAME_LEN];
    uint8_t pkt[PKT_MAX];
    size_t len;
};

/* from seals a frame (its bytes from seed) for to_vtep into s. */
static enum datapath_drop seal_to(struct tunnel_peer_table *from, struct ip_addr to_vtep,
                                  uint8_t seed, struct sealed *s)
{
    struct datapath_transform tf = tunnel_peer_table_transform(from);
    for (size_t i = 0; i < FRAME_LEN; i++)
        s->frame[i] = (uint8_t)(seed + i * 31);
    return tf.seal(tf.ctx, &to_vtep, vni42, sizeof(vni42), s->frame, FRAME_LEN, s->pkt,
                   sizeof(s->pkt), &s->len);
}

/* to opens s as from from_vtep with aad; an opened frame must be s's. */
static enum datapath_drop open_from(struct tunnel_peer_table *to, struct ip_addr from_vtep,
                                    const uint8_t *aad, const struct sealed *s)
{
    struct datapath_transform tf = tunnel_peer_table_transform(to);
    uint8_t out[PKT_MAX];
    size_t out_len = 1;
    enum datapath_drop r = tf.open(tf.ctx, &from_vtep, aad, DATAPATH_HDR_LEN, s->pkt, s->len, out,
                                   sizeof(out), &out_len);
    if (r == DATAPATH_OK) {
        assert_int_equal(out_len, FRAME_LEN);
        assert_memory_equal(out, s->frame, FRAME_LEN);
    } else {
        assert_int_equal(out_len, 0);
    }
    return r;
}

static struct tunnel_stats stats_of(struct tunnel_peer_table *t, struct ip_addr peer)
{
    struct tunnel_stats s;
    assert_true(tunnel_peer_table_stats(t, &peer, &s));
    return s;
}

/* a (at va) and b (at vb), introduced, seal and open 5 frames each way. */
static void five_each_way(struct tunnel_peer_table *a, struct ip_addr va,
                          struct tunnel_peer_table *b, struct ip_addr vb)
{
    introduce(a, va, b, vb);
    struct sealed s;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(seal_to(a, vb, (uint8_t)i, &s), DATAPATH_OK);
        assert_int_equal(s.len, FRAME_LEN + TUNNEL_HEADER_BYTES +
                                    tunnel_aead_tag_bytes(tunnel_cipher_choose()));
        assert_int_equal(s.pkt[0], TUNNEL_MAGIC);
        assert_int_equal(open_from(b, va, vni42, &s), DATAPATH_OK);
        assert_int_equal(seal_to(b, va, (uint8_t)i, &s), DATAPATH_OK);
        assert_int_equal(open_from(a, vb, vni42, &s), DATAPATH_OK);
    }
    assert_int_equal(stats_of(b, va).accepted, 5);
    assert_int_equal(stats_of(a, vb).accepted, 5);
}

static void a_seals_for_b_and_b_opens(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb);
    assert_int_equal(tunnel_peer_table_transform(a).overhead, TUNNEL_OVERHEAD);
    five_each_way(a, va, b, vb);
    struct sealed s;
    /* Setting the same key again changes nothing: the sessions go on. */
    struct weft_err err = {0};
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(b, key);
    assert_int_equal(tunnel_peer_table_set(a, &vb, key, tunnel_ciphers_available(), false, &err),
                     0);
    assert_int_equal(seal_to(a, vb, 9, &s), DATAPATH_OK);
    assert_int_equal(open_from(b, va, vni42, &s), DATAPATH_OK);
    /* A key that does not parse, or our own VTEP: refused. */
    assert_int_equal(tunnel_peer_table_set(a, VTEP("10.0.0.3"), "not-a-key",
                                           tunnel_ciphers_available(), false, &err),
                     -1);
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(tunnel_peer_table_set(a, &va, key, tunnel_ciphers_available(), false, &err),
                     -1);
    assert_int_equal(err.code, -EINVAL);
    /* A frame that does not fit: too big, nothing sealed. */
    struct datapath_transform tf = tunnel_peer_table_transform(a);
    size_t n = 1;
    assert_int_equal(tf.seal(tf.ctx, &vb, vni42, 8, s.frame, FRAME_LEN, s.pkt, FRAME_LEN, &n),
                     DATAPATH_DROP_TOO_BIG);
    assert_int_equal(n, 0);
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    sodium_free(secret);
}

static void tampered_other_overlay_and_replayed_packets_are_dropped(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb);
    introduce(a, va, b, vb);
    struct sealed s, bad;
    assert_int_equal(seal_to(a, vb, 1, &s), DATAPATH_OK);
    bad = s;
    bad.pkt[TUNNEL_HEADER_BYTES + 7] ^= 0x20; /* a byte of the ciphertext */
    assert_int_equal(open_from(b, va, vni42, &bad), DATAPATH_DROP_AUTH);
    bad = s;
    bad.pkt[s.len - 1] ^= 1; /* of the tag */
    assert_int_equal(open_from(b, va, vni42, &bad), DATAPATH_DROP_AUTH);
    /* The same datagram presented as overlay 43's. */
    assert_int_equal(open_from(b, va, vni43, &s), DATAPATH_DROP_AUTH);
    /* From another address than the sealer's (one B knows). */
    assert_int_equal(open_from(b, vtep("10.0.0.3"), vni42, &s), DATAPATH_DROP_NO_KEY);
    assert_int_equal(open_from(b, va, vni42, &s), DATAPATH_OK);
    assert_int_equal(open_from(b, va, vni42, &s), DATAPATH_DROP_REPLAY);
    bad = s;
    bad.pkt[4] ^= 0x40; /* an epoch far ahead: not one B accepts */
    assert_int_equal(open_from(b, va, vni42, &bad), DATAPATH_DROP_OPEN);
    struct tunnel_stats st = stats_of(b, va);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.auth_failed, 3);
    assert_int_equal(st.replayed, 1);
    assert_int_equal(st.unknown_epoch, 1);
    tunnel_peer_table_report(b); /* logs these drops (seen in the output) */
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    sodium_free(secret);
}

/* Runs fn with stderr going to a file, and returns what was written (malloc'd). */
static char *stderr_of(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/weft-test-peer-table-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) == 2);
    fn(arg);
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    fputs(text, stderr); /* still visible in the test's output */
    return text;
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

struct hosts {
    struct tunnel_peer_table *a, *b, *c;
    struct ip_addr va, vb, vc;
    int failed_line; /* of the first CHECK that failed while stderr was a file */
};

/* An assertion for code run by stderr_of: cmocka's would leave stderr redirected. */
#define CHECK(h, got, want)                                                                        \
    do {                                                                                           \
        if ((got) != (want) && !(h)->failed_line)                                                  \
            (h)->failed_line = __LINE__;                                                           \
    } while (0)

/* C has another secret: for TUNNEL_PEER_AUTH_FAIL_SECONDS nothing is said, then
 * one warning however many more fail. */
static void other_secret_traffic(void *arg)
{
    struct hosts *h = arg;
    struct sealed s;
    for (int i = 0; i < 3 * TUNNEL_PEER_AUTH_FAIL_SECONDS; i++, fake_now++) {
        CHECK(h, seal_to(h->c, h->va, (uint8_t)i, &s), DATAPATH_OK);
        CHECK(h, open_from(h->a, h->vc, vni42, &s), DATAPATH_DROP_AUTH);
        CHECK(h, open_from(h->a, h->vc, vni42, &s), DATAPATH_DROP_AUTH);
    }
    tunnel_peer_table_report(h->a);
    tunnel_peer_table_report(h->a); /* nothing moved since */
}

static void another_secret_fails_auth_warns_once(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret(), *other = new_secret();
    struct hosts h = {.va = vtep("10.0.0.1"), .vc = vtep("10.0.0.3")};
    h.a = table_new(secret, h.va);
    h.c = table_new(other, h.vc);
    introduce(h.a, h.va, h.c, h.vc);
    char *log = stderr_of(other_secret_traffic, &h);
    assert_int_equal(h.failed_line, 0);
    assert_int_equal(count_of(log, "level=warn msg=\"encrypted packets from a host fail to "
                                   "authenticate\" peer=10.0.0.3 hint=\"its cluster secret "
                                   "(--secret-file) differs, or the packets were altered\""),
                     1);
    assert_int_equal(count_of(log, "msg=\"encrypted packets dropped\" peer=10.0.0.3 "
                                   "auth_failed=30 "),
                     1);
    assert_int_equal(count_of(log, "authenticate again"), 0);
    free(log);
    struct tunnel_stats st = stats_of(h.a, h.vc);
    assert_int_equal(st.auth_failed, 6 * TUNNEL_PEER_AUTH_FAIL_SECONDS);
    assert_int_equal(st.accepted, 0);
    tunnel_peer_table_free(h.a);
    tunnel_peer_table_free(h.c);
    sodium_free(secret);
    sodium_free(other);
}

/* B restarted (table c, B's VTEP) and A has not seen its new key for a while:
 * its packets fail, A warns; once A has the key they authenticate, A says so. */
static void restart_seen_late(void *arg)
{
    struct hosts *h = arg;
    struct sealed s;
    for (int i = 0; i <= TUNNEL_PEER_AUTH_FAIL_SECONDS; i++, fake_now++) {
        CHECK(h, seal_to(h->c, h->va, (uint8_t)i, &s), DATAPATH_OK);
        CHECK(h, open_from(h->a, h->vb, vni42, &s), DATAPATH_DROP_AUTH);
    }
    struct weft_err err = {0};
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(h->c, key);
    CHECK(h, tunnel_peer_table_set(h->a, &h->vb, key, tunnel_ciphers_available(), false, &err), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(h, seal_to(h->c, h->va, (uint8_t)i, &s), DATAPATH_OK);
        CHECK(h, open_from(h->a, h->vb, vni42, &s), DATAPATH_OK);
    }
}

static void a_restarted_peer_gets_new_sessions_old_packets_still_open(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct hosts h = {.va = vtep("10.0.0.1"), .vb = vtep("10.0.0.2")};
    h.a = table_new(secret, h.va);
    struct tunnel_peer_table *b1 = table_new(secret, h.vb);
    introduce(h.a, h.va, b1, h.vb);
    struct sealed in_flight[3], s;
    for (int i = 0; i < 3; i++)
        assert_int_equal(seal_to(b1, h.va, (uint8_t)(50 + i), &in_flight[i]), DATAPATH_OK);
    assert_int_equal(open_from(h.a, h.vb, vni42, &in_flight[0]), DATAPATH_OK);
    char b1_key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(b1, b1_key);

    /* B restarts: a new table, a new key pair; A learns its key late. */
    h.c = table_new(secret, h.vb);
    char a_key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    struct weft_err err = {0};
    tunnel_peer_table_public_key(h.a, a_key);
    assert_int_equal(
        tunnel_peer_table_set(h.c, &h.va, a_key, tunnel_ciphers_available(), false, &err), 0);
    char *log = stderr_of(restart_seen_late, &h);
    assert_int_equal(h.failed_line, 0);
    assert_int_equal(count_of(log, "fail to authenticate\" peer=10.0.0.2"), 1);
    assert_int_equal(count_of(log, "msg=\"encrypted packets from a host authenticate again\" "
                                   "peer=10.0.0.2"),
                     1);
    free(log);
    /* A seals with the new sessions: B's new table opens, the old one cannot. */
    assert_int_equal(seal_to(h.a, h.vb, 7, &s), DATAPATH_OK);
    assert_int_equal(open_from(b1, h.va, vni42, &s), DATAPATH_DROP_AUTH);
    assert_int_equal(open_from(h.c, h.va, vni42, &s), DATAPATH_OK);
    /* Packets of B's old key still in flight open, once. */
    assert_int_equal(open_from(h.a, h.vb, vni42, &in_flight[2]), DATAPATH_OK);
    assert_int_equal(open_from(h.a, h.vb, vni42, &in_flight[1]), DATAPATH_OK);
    assert_int_equal(open_from(h.a, h.vb, vni42, &in_flight[1]), DATAPATH_DROP_REPLAY);
    /* B's old key is not taken back (no second tx from one base key). */
    assert_int_equal(
        tunnel_peer_table_set(h.a, &h.vb, b1_key, tunnel_ciphers_available(), false, &err), -1);
    assert_int_equal(err.code, -ESTALE);
    assert_int_equal(seal_to(h.a, h.vb, 8, &s), DATAPATH_OK);
    assert_int_equal(open_from(h.c, h.va, vni42, &s), DATAPATH_OK);

    /* More restarts: past TUNNEL_PEER_SESSIONS_MAX keys the oldest is wiped. */
    struct sealed late;
    assert_int_equal(seal_to(b1, h.va, 60, &late), DATAPATH_OK);
    for (int i = 0; i < TUNNEL_PEER_SESSIONS_MAX - 1; i++) {
        struct tunnel_peer_table *bn = table_new(secret, h.vb);
        introduce(h.a, h.va, bn, h.vb);
        assert_int_equal(seal_to(h.a, h.vb, 9, &s), DATAPATH_OK);
        assert_int_equal(open_from(bn, h.va, vni42, &s), DATAPATH_OK);
        tunnel_peer_table_free(bn);
    }
    assert_int_equal(open_from(h.a, h.vb, vni42, &late), DATAPATH_DROP_AUTH);
    assert_int_equal(
        tunnel_peer_table_set(h.a, &h.vb, b1_key, tunnel_ciphers_available(), false, &err), -1);
    assert_int_equal(err.code, -ESTALE);
    tunnel_peer_table_free(b1);
    tunnel_peer_table_free(h.a);
    tunnel_peer_table_free(h.c);
    sodium_free(secret);
}

/* On an IPv6 underlay the table keys peers by their whole 16-byte VTEP: an
 * address sharing a peer's last 32 bits (or its first four bytes, read as IPv4)
 * is another host, which has no key. */
static void ipv6_hosts_seal_and_open(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("fd00:77::1"), vb = vtep("fd00:77::2");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb);
    five_each_way(a, va, b, vb);
    struct sealed s;
    assert_int_equal(seal_to(a, vtep("fd01:77::2"), 1, &s), DATAPATH_DROP_NO_KEY);
    const struct ip_addr head_as_ipv4 = {.family = AF_INET, .bytes = {0xfd, 0, 0, 0x77}};
    assert_int_equal(seal_to(a, head_as_ipv4, 1, &s), DATAPATH_DROP_NO_KEY);
    assert_int_equal(seal_to(b, va, 9, &s), DATAPATH_OK);
    assert_int_equal(open_from(a, vtep("fd01:77::2"), vni42, &s), DATAPATH_DROP_NO_KEY);
    assert_int_equal(open_from(a, vb, vni42, &s), DATAPATH_OK);
    struct tunnel_stats st;
    assert_false(tunnel_peer_table_stats(a, VTEP("fd01:77::2"), &st));
    /* Its own VTEP is no peer. */
    struct weft_err err = {0};
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_peer_table_public_key(b, key);
    assert_int_equal(tunnel_peer_table_set(a, &va, key, tunnel_ciphers_available(), false, &err),
                     -1);
    assert_int_equal(err.code, -EINVAL);
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    sodium_free(secret);
}

/* Whether a peer takes partial TCP checksums is what its newest run published:
 * it goes with the run's key, as its ciphers do. */
static void what_a_peer_takes_goes_with_its_key(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2");
    struct tunnel_peer_table *a = table_new(secret, va), *b1 = table_new(secret, vb),
                             *b2 = table_new(secret, vb);
    struct datapath_transform tf = tunnel_peer_table_transform(a);
    struct weft_err err = {0};
    char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    unsigned all = tunnel_ciphers_available();
    assert_false(tf.partial_csum(tf.ctx, &vb)); /* no key yet */
    tunnel_peer_table_public_key(b1, key);
    assert_int_equal(tunnel_peer_table_set(a, &vb, key, all, true, &err), 0);
    assert_true(tf.partial_csum(tf.ctx, &vb));
    assert_int_equal(tunnel_peer_table_set(a, &vb, key, all, false, &err), 0); /* same key */
    assert_true(tf.partial_csum(tf.ctx, &vb));
    /* B restarts as a weft that does not take them (an older one). */
    tunnel_peer_table_public_key(b2, key);
    assert_int_equal(tunnel_peer_table_set(a, &vb, key, all, false, &err), 0);
    assert_false(tf.partial_csum(tf.ctx, &vb));
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b1);
    tunnel_peer_table_free(b2);
    sodium_free(secret);
}

static void unknown_hosts_have_no_key(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb);
    struct sealed s;
    assert_int_equal(seal_to(a, vb, 1, &s), DATAPATH_DROP_NO_KEY);
    assert_int_equal(s.len, 0);
    introduce(a, va, b, vb);
    assert_int_equal(seal_to(a, vb, 1, &s), DATAPATH_OK);
    assert_int_equal(seal_to(a, vtep("10.0.0.9"), 1, &s), DATAPATH_DROP_NO_KEY);
    assert_int_equal(seal_to(a, vb, 1, &s), DATAPATH_OK);
    assert_int_equal(open_from(a, vtep("10.0.0.9"), vni42, &s), DATAPATH_DROP_NO_KEY);
    struct tunnel_stats st;
    assert_false(tunnel_peer_table_stats(a, VTEP("10.0.0.9"), &st));
    tunnel_peer_table_report(a);
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    sodium_free(secret);
}

/* Hosts that run different ciphers (another build, another CPU) use the best both
 * run, each pair its own; two that share none make no sessions and say why. */
static void hosts_agree_on_a_cipher_both_run(void **state)
{
    (void)state;
    const unsigned chacha = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_CHACHA20POLY1305),
                   aes = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AES256GCM);
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2"), vc = vtep("10.0.0.3");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb),
                             *c = table_new(secret, vc);
    tunnel_peer_table_set_ciphers(b, chacha);
    assert_int_equal(tunnel_peer_table_ciphers(b), chacha);
    introduce(a, va, b, vb);
    struct sealed s;
    assert_int_equal(seal_to(a, vb, 1, &s), DATAPATH_OK);
    assert_int_equal(s.pkt[2], TUNNEL_CIPHER_CHACHA20POLY1305);
    assert_int_equal(open_from(b, va, vni42, &s), DATAPATH_OK);
    assert_int_equal(seal_to(b, va, 2, &s), DATAPATH_OK);
    assert_int_equal(s.pkt[2], TUNNEL_CIPHER_CHACHA20POLY1305);
    assert_int_equal(open_from(a, vb, vni42, &s), DATAPATH_OK);
    if (!(tunnel_ciphers_available() & aes)) {
        print_message("no AES-256-GCM on this CPU: the rest skipped\n");
    } else {
        tunnel_peer_table_set_ciphers(c, aes);
        introduce(a, va, c, vc); /* a runs all, c only AES-256-GCM */
        assert_int_equal(seal_to(c, va, 3, &s), DATAPATH_OK);
        assert_int_equal(s.pkt[2], TUNNEL_CIPHER_AES256GCM);
        assert_int_equal(open_from(a, vc, vni42, &s), DATAPATH_OK);
        /* b runs only ChaCha20-Poly1305, c only AES-256-GCM. */
        struct weft_err err = {0};
        char key[TUNNEL_PUBLIC_KEY_TEXT_MAX];
        tunnel_peer_table_public_key(c, key);
        assert_int_equal(
            tunnel_peer_table_set(b, &vc, key, tunnel_peer_table_ciphers(c), false, &err), -1);
        assert_int_equal(err.code, -EPROTO);
        assert_non_null(strstr(err.msg, "no cipher in common"));
        assert_int_equal(seal_to(b, vc, 4, &s), DATAPATH_DROP_NO_KEY);
    }
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    tunnel_peer_table_free(c);
    sodium_free(secret);
}

enum { THREADS = 4, PER_THREAD = 400 }; /* 1600 packets: all within one replay window */

struct worker {
    pthread_t thread;
    struct tunnel_peer_table *table;
    struct ip_addr peer;
    struct sealed *packets; /* all of them */
    atomic_int *next;       /* open: the next packet to take */
    int id;
    int results[DATAPATH_DROP_COUNT];
};

static void *seal_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct sealed *s = &w->packets[w->id * PER_THREAD + i];
        w->results[seal_to(w->table, w->peer, (uint8_t)(w->id * 64 + i), s)]++;
    }
    return NULL;
}

static void *open_many(void *arg)
{
    struct worker *w = arg;
    for (int i; (i = atomic_fetch_add(w->next, 1)) < THREADS * PER_THREAD;)
        w->results[open_from(w->table, w->peer, vni42, &w->packets[i])]++;
    return NULL;
}

static void run_workers(struct worker *w, void *(*fn)(void *))
{
    for (int i = 0; i < THREADS; i++) {
        memset(w[i].results, 0, sizeof(w[i].results));
        assert_int_equal(pthread_create(&w[i].thread, NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
}

/* Orders tunnel headers by their nonce (bytes 4..16: epoch and counter). */
static int compare_nonces(const void *x, const void *y)
{
    return memcmp((const uint8_t *)x + 4, (const uint8_t *)y + 4, TUNNEL_NONCE_BYTES);
}

static void threads_sealing_to_one_peer_never_repeat_a_nonce(void **state)
{
    (void)state;
    struct tunnel_secret *secret = new_secret();
    struct ip_addr va = vtep("10.0.0.1"), vb = vtep("10.0.0.2");
    struct tunnel_peer_table *a = table_new(secret, va), *b = table_new(secret, vb);
    introduce(a, va, b, vb);
    struct sealed *packets = calloc(THREADS * PER_THREAD, sizeof(*packets));
    assert_non_null(packets);
    atomic_int next = 0;
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++)
        w[i] = (struct worker){.table = a, .peer = vb, .packets = packets, .next = &next, .id = i};
    run_workers(w, seal_many);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(w[i].results[DATAPATH_OK], PER_THREAD);
    /* Every nonce (the header's epoch and counter) is different. */
    uint8_t(*nonces)[TUNNEL_HEADER_BYTES] = calloc(THREADS * PER_THREAD, TUNNEL_HEADER_BYTES);
    assert_non_null(nonces);
    for (int i = 0; i < THREADS * PER_THREAD; i++)
        memcpy(nonces[i], packets[i].pkt, TUNNEL_HEADER_BYTES);
    qsort(nonces, THREADS * PER_THREAD, TUNNEL_HEADER_BYTES, compare_nonces);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_memory_not_equal(nonces[i - 1] + 4, nonces[i] + 4, TUNNEL_NONCE_BYTES);
    free(nonces);
    /* B opens them on as many threads: each exactly once, no replay. */
    for (int i = 0; i < THREADS; i++)
        w[i].table = b, w[i].peer = va;
    run_workers(w, open_many);
    int opened = 0;
    for (int i = 0; i < THREADS; i++)
        opened += w[i].results[DATAPATH_OK];
    assert_int_equal(opened, THREADS * PER_THREAD);
    /* And again: every one a replay now. */
    atomic_store(&next, 0);
    run_workers(w, open_many);
    int replays = 0;
    for (int i = 0; i < THREADS; i++)
        replays += w[i].results[DATAPATH_DROP_REPLAY];
    assert_int_equal(replays, THREADS * PER_THREAD);
    struct tunnel_stats st = stats_of(b, va);
    assert_int_equal(st.accepted, THREADS * PER_THREAD);
    assert_int_equal(st.replayed, THREADS * PER_THREAD);
    assert_int_equal(st.auth_failed + st.too_old + st.unknown_epoch, 0);
    free(packets);
    tunnel_peer_table_free(a);
    tunnel_peer_table_free(b);
    sodium_free(secret);
}

int main(void)
{
    assert_true(sodium_init() >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_seals_for_b_and_b_opens),
        cmocka_unit_test(ipv6_hosts_seal_and_open),
        cmocka_unit_test(what_a_peer_takes_goes_with_its_key),
        cmocka_unit_test(tampered_other_overlay_and_replayed_packets_are_dropped),
        cmocka_unit_test(another_secret_fails_auth_warns_once),
        cmocka_unit_test(a_restarted_peer_gets_new_sessions_old_packets_still_open),
        cmocka_unit_test(unknown_hosts_have_no_key),
        cmocka_unit_test(hosts_agree_on_a_cipher_both_run),
        cmocka_unit_test(threads_sealing_to_one_peer_never_repeat_a_nonce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
