/*
 * test_tunnel_keys.c: two hosts with the same cluster secret derive the same pair
 * of base keys (one's tx is the other's rx) whichever side derives; a host with
 * another secret derives different keys from the same public keys (what etcd
 * holds), and its packets are dropped as auth_failed; public keys read back from
 * their text; equal VTEPs, a VTEP of no family and an unusable public key are
 * refused. On an IPv6 underlay the same holds with 16-byte VTEPs, all of whose
 * bytes are bound.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tunnel/host_keys.h"
#include "tunnel/packet.h"
#include "tests/unit/tunnel_fixture.h"

/* Hosts at va and vb (texts) derive mirrored keys, the same ones again, and other
 * ones with a peer of the same key pair at other_vtep. */
static void derive_mirrored(const char *va_text, const char *vb_text, const char *other_vtep)
{
    struct weft_err err = {0};
    struct tunnel_secret *secret = new_secret();
    struct tunnel_host_keys *a, *b;
    assert_int_equal(tunnel_host_keys_new(&a, &err), 0);
    assert_int_equal(tunnel_host_keys_new(&b, &err), 0);
    struct ip_addr va = vtep(va_text), vb = vtep(vb_text);
    struct tunnel_pair_keys ka, kb;
    assert_int_equal(tunnel_pair_derive(secret, a, &va, b->public_key, &vb, &ka, &err), 0);
    assert_int_equal(tunnel_pair_derive(secret, b, &vb, a->public_key, &va, &kb, &err), 0);
    assert_memory_equal(ka.tx, kb.rx, sizeof(ka.tx));
    assert_memory_equal(ka.rx, kb.tx, sizeof(ka.rx));
    assert_memory_not_equal(ka.tx, ka.rx, sizeof(ka.tx));

    /* Deriving again gives the same keys (nothing random in the derivation). */
    struct tunnel_pair_keys again;
    assert_int_equal(tunnel_pair_derive(secret, a, &va, b->public_key, &vb, &again, &err), 0);
    assert_memory_equal(&again, &ka, sizeof(ka));
    /* The VTEPs are part of the key: the same key pairs at other addresses differ. */
    assert_int_equal(
        tunnel_pair_derive(secret, a, &va, b->public_key, VTEP(other_vtep), &again, &err), 0);
    assert_memory_not_equal(again.tx, ka.tx, sizeof(ka.tx));
    assert_memory_not_equal(again.rx, ka.rx, sizeof(ka.rx));
    sodium_memzero(&ka, sizeof(ka));
    sodium_memzero(&kb, sizeof(kb));
    tunnel_host_keys_free(a);
    tunnel_host_keys_free(b);
    sodium_free(secret);
}

static void both_hosts_derive_mirrored_keys(void **state)
{
    (void)state;
    /* 10.0.0.9 < 10.0.0.10 numerically though not as text: the order is the address's. */
    derive_mirrored("10.0.0.10", "10.0.0.9", "10.0.0.11");
}

static void ipv6_vteps_derive_mirrored_keys_bound_to_every_byte(void **state)
{
    (void)state;
    /* fd00:77::2 is lower than fd00:77::1:1: the order is the bytes', not the text's.
     * fd01:77::2 differs from fd00:77::2 only in its first bytes (the last 32 bits
     * the same): no key is shared by truncating an IPv6 VTEP. */
    derive_mirrored("fd00:77::1:1", "fd00:77::2", "fd01:77::2");
}

static void another_secret_derives_other_keys_and_its_packets_fail(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct tunnel_secret *secret = new_secret(), *other = new_secret();
    struct tunnel_host_keys *a, *b;
    assert_int_equal(tunnel_host_keys_new(&a, &err), 0);
    assert_int_equal(tunnel_host_keys_new(&b, &err), 0);
    struct ip_addr va = vtep("192.168.1.1"), vb = vtep("192.168.1.2");
    struct tunnel_pair_keys ka, kb_other;
    assert_int_equal(tunnel_pair_derive(secret, a, &va, b->public_key, &vb, &ka, &err), 0);
    /* b holds the right key pair and public keys, but another cluster secret. */
    assert_int_equal(tunnel_pair_derive(other, b, &vb, a->public_key, &va, &kb_other, &err), 0);
    assert_memory_not_equal(ka.tx, kb_other.rx, sizeof(ka.tx));
    assert_memory_not_equal(ka.rx, kb_other.tx, sizeof(ka.rx));

    int cipher = tunnel_cipher_choose();
    struct tunnel_tx *tx;
    struct tunnel_rx *rx;
    assert_int_equal(tunnel_tx_new(ka.tx, cipher, &va, &vb, 0, &tx, &err), 0);
    assert_int_equal(tunnel_rx_new(kb_other.rx, cipher, &vb, &va, 0, &rx, &err), 0);
    uint8_t frame[60] = {1, 2, 3}, packet[60 + TUNNEL_OVERHEAD], out[60];
    size_t len, out_len;
    enum tunnel_drop reason;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tunnel_seal(tx, 0, NULL, 0, frame, sizeof(frame), packet,
                                     sizeof(packet), &len, &err), 0);
        assert_int_equal(
            tunnel_open(rx, 0, &va, NULL, 0, packet, len, out, sizeof(out), &out_len, &reason), -1);
        assert_int_equal(reason, TUNNEL_DROP_AUTH_FAILED);
    }
    assert_int_equal(rx->stats.auth_failed, 3);
    assert_int_equal(rx->stats.accepted, 0);
    sodium_memzero(&ka, sizeof(ka));
    sodium_memzero(&kb_other, sizeof(kb_other));
    tunnel_tx_free(tx);
    tunnel_rx_free(rx);
    tunnel_host_keys_free(a);
    tunnel_host_keys_free(b);
    sodium_free(secret);
    sodium_free(other);
}

static void public_keys_read_back_from_text(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct tunnel_host_keys *a;
    assert_int_equal(tunnel_host_keys_new(&a, &err), 0);
    char text[TUNNEL_PUBLIC_KEY_TEXT_MAX];
    tunnel_public_key_format(a->public_key, text);
    assert_int_equal(strlen(text), 43);
    unsigned char back[TUNNEL_PUBLIC_KEY_BYTES];
    assert_int_equal(tunnel_public_key_parse(text, back, &err), 0);
    assert_memory_equal(back, a->public_key, sizeof(back));
    const char *bad[] = {"", "abc", "ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJu",
                         "ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuYA",
                         "ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL+JNti/pqWJuY"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tunnel_public_key_parse(bad[i], back, &err), -1);
        assert_int_equal(err.code, -EINVAL);
    }
    tunnel_host_keys_free(a);
}

static void equal_vteps_and_unusable_keys_are_refused(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct tunnel_secret *secret = new_secret();
    struct tunnel_host_keys *a;
    assert_int_equal(tunnel_host_keys_new(&a, &err), 0);
    struct tunnel_pair_keys k;
    memset(&k, 0x55, sizeof(k));
    assert_int_equal(
        tunnel_pair_derive(secret, a, VTEP("10.0.0.1"), a->public_key, VTEP("10.0.0.1"), &k, &err),
        -1);
    assert_int_equal(err.code, -EINVAL);
    struct ip_addr none = {0}; /* a VTEP of no family */
    assert_int_equal(
        tunnel_pair_derive(secret, a, &none, a->public_key, VTEP("10.0.0.1"), &k, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    const unsigned char zero[TUNNEL_PUBLIC_KEY_BYTES] = {0}; /* a low-order point */
    assert_int_equal(
        tunnel_pair_derive(secret, a, VTEP("10.0.0.1"), zero, VTEP("10.0.0.2"), &k, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    unsigned char wiped[sizeof(k)] = {0};
    assert_memory_equal(&k, wiped, sizeof(k)); /* nothing half-derived is left */
    tunnel_host_keys_free(a);
    sodium_free(secret);
}

int main(void)
{
    assert_true(sodium_init() >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_hosts_derive_mirrored_keys),
        cmocka_unit_test(ipv6_vteps_derive_mirrored_keys_bound_to_every_byte),
        cmocka_unit_test(another_secret_derives_other_keys_and_its_packets_fail),
        cmocka_unit_test(public_keys_read_back_from_text),
        cmocka_unit_test(equal_vteps_and_unusable_keys_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
