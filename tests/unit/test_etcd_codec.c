/*
 * test_etcd_codec.c: the pure parts of the store: base64 as the etcd gateway
 * wants it, prefix range ends, and the key layout of store/keys.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/etcd.h"
#include "store/keys.h"

static void assert_round_trip(const char *data, size_t len, const char *want_b64)
{
    char *enc = etcd_b64_encode(data, len);
    assert_non_null(enc);
    if (want_b64)
        assert_string_equal(enc, want_b64);
    size_t out_len = 12345;
    char *dec = etcd_b64_decode(enc, &out_len);
    assert_non_null(dec);
    assert_int_equal(out_len, len);
    assert_memory_equal(dec, data, len);
    assert_int_equal(dec[len], '\0');
    free(enc);
    free(dec);
}

static void test_b64_known_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10, covering no, one and two padding characters. */
    assert_round_trip("", 0, "");
    assert_round_trip("f", 1, "Zg==");
    assert_round_trip("fo", 2, "Zm8=");
    assert_round_trip("foo", 3, "Zm9v");
    assert_round_trip("foob", 4, "Zm9vYg==");
    assert_round_trip("fooba", 5, "Zm9vYmE=");
    assert_round_trip("foobar", 6, "Zm9vYmFy");
    assert_round_trip("/weft/", 6, "L3dlZnQv");
    assert_round_trip("\xfb\xff", 2, "+/8="); /* the two non-alphanumeric letters */
}

static void test_b64_binary_round_trip(void **state)
{
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    for (size_t len = 0; len <= sizeof(all); len++)
        assert_round_trip(all, len, NULL);
    assert_round_trip("a\0b", 3, "YQBi"); /* embedded NUL survives */
}

static void test_b64_rejects_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zg",       /* unpadded */
        "Zg=",      /* short padding */
        "Z===",     /* too much padding */
        "=Zg=",     /* padding first */
        "Zg==Zm8=", /* padding in the middle */
        "Zm9v!A==", /* not in the alphabet */
        "Zm9-",     /* URL-safe alphabet is not the standard one */
        "Zm 9v",    /* whitespace */
        "Zm=v",     /* padding before data */
        "Zm9vYg",   /* unpadded, a whole group short */
        "Zm9vY",    /* a dangling sixth of a byte */
        "Zh==",     /* bits after the last byte (only "Zg==" encodes "f") */
        "Zm9v\n",   /* a line break */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        char *dec = etcd_b64_decode(bad[i], &len);
        if (dec)
            fail_msg("\"%s\" should be rejected", bad[i]);
    }
    assert_null(etcd_b64_decode(NULL, NULL));
}

static void test_err_unreachable_kinds(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_false(etcd_err_unreachable(NULL));
    assert_false(etcd_err_unreachable(&err)); /* no error set */
    weft_err_set(&err, -ETIMEDOUT, "store unreachable (a:1): timeout");
    assert_true(etcd_err_unreachable(&err));
    weft_err_set(&err, -ECONNREFUSED, "store unreachable (a:1): refused");
    assert_true(etcd_err_unreachable(&err));
    weft_err_wrap(&err, "reading the overlay"); /* context keeps the kind */
    assert_true(etcd_err_unreachable(&err));
    weft_err_set(&err, -EEXIST, "taken");
    assert_false(etcd_err_unreachable(&err));
}

static void assert_prefix_end(const char *prefix, const char *want)
{
    char *end = etcd_prefix_end(prefix);
    assert_non_null(end);
    assert_string_equal(end, want);
    free(end);
}

static void test_prefix_end(void **state)
{
    (void)state;
    assert_prefix_end("/weft/", "/weft0");
    assert_prefix_end("/weft/v1/joined/10.77.0.0_24/", "/weft/v1/joined/10.77.0.0_240");
    assert_prefix_end("a", "b");
    assert_prefix_end("a\xff", "b"); /* 0xff cannot be bumped: carry into the byte before */
    assert_prefix_end("a\x7f", "a\x80");
    assert_prefix_end("", ""); /* empty: no upper bound */
    assert_prefix_end("\xff\xff", "");
}

static void test_keys_layout(void **state)
{
    (void)state;
    char k[WEFT_KEY_MAX];
    key_overlay(k, "10.77.0.0/24");
    assert_string_equal(k, "/weft/v1/overlays/10.77.0.0_24");
    key_vni(k, 4097);
    assert_string_equal(k, "/weft/v1/vnis/00004097");
    key_vni_prefix(k);
    assert_string_equal(k, "/weft/v1/vnis/");
    key_addr(k, "10.77.0.0/24", "10.77.0.5");
    assert_string_equal(k, "/weft/v1/addrs/10.77.0.0_24/10.77.0.5");
    key_addr_prefix(k, "10.77.0.0/24");
    assert_string_equal(k, "/weft/v1/addrs/10.77.0.0_24/");
    key_member(k, "192.168.1.10", "10.77.0.0/24");
    assert_string_equal(k, "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/member");
    key_peer(k, "192.168.1.10", "10.77.0.0/24", "10.77.0.9");
    assert_string_equal(k, "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/peers/10.77.0.9");
    key_fabric_host_prefix(k, "192.168.1.10");
    assert_string_equal(k, "/weft/v1/fabric/192.168.1.10/");
    key_joined(k, "10.77.0.0/24", "192.168.1.10");
    assert_string_equal(k, "/weft/v1/joined/10.77.0.0_24/192.168.1.10");
    key_joined_prefix(k, "10.77.0.0/24");
    assert_string_equal(k, "/weft/v1/joined/10.77.0.0_24/");
    key_host_network(k, "192.168.1.10", "abc123");
    assert_string_equal(k, "/weft/v1/hosts/192.168.1.10/networks/abc123");
    key_host_networks_prefix(k, "192.168.1.10");
    assert_string_equal(k, "/weft/v1/hosts/192.168.1.10/networks/");
    key_host_endpoint(k, "192.168.1.10", "ep1");
    assert_string_equal(k, "/weft/v1/hosts/192.168.1.10/endpoints/ep1");
    key_host_endpoints_prefix(k, "192.168.1.10");
    assert_string_equal(k, "/weft/v1/hosts/192.168.1.10/endpoints/");
}

static void test_key_parse_fabric_round_trip(void **state)
{
    (void)state;
    char k[WEFT_KEY_MAX];
    struct fabric_key parts;
    key_peer(k, "192.168.1.10", "10.77.0.0/24", "10.77.0.9");
    assert_int_equal(key_parse_fabric(k, &parts), 0);
    assert_string_equal(parts.host, "192.168.1.10");
    assert_string_equal(parts.subnet, "10.77.0.0/24");
    assert_true(parts.is_peer);
    assert_string_equal(parts.ip, "10.77.0.9");

    key_member(k, "192.168.1.10", "172.16.0.0/12");
    assert_int_equal(key_parse_fabric(k, &parts), 0);
    assert_string_equal(parts.host, "192.168.1.10");
    assert_string_equal(parts.subnet, "172.16.0.0/12");
    assert_false(parts.is_peer);
    assert_string_equal(parts.ip, "");
}

static void test_key_parse_fabric_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "/weft/v1/overlays/10.77.0.0_24",                        /* not under fabric/ */
        "/weft/v1/fabric/10.77.0.0_24/peers/10.77.0.9",          /* the old layout */
        "/weft/v1/fabric/10.77.0.0_24/members/192.168.1.10",     /* the old layout */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24",             /* no kind */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/peers/",      /* a prefix, no name */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/peers",       /* no name */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/member/x",    /* too deep */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/members",     /* unknown kind */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/peers/1/x",   /* too deep */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0/peers/10.77.0.9", /* subnet without _ */
        "/weft/v1/fabric/192.168.1.10//peers/10.77.0.9",         /* empty subnet */
        "/weft/v1/fabric//10.77.0.0_24/member",                  /* empty host */
        "/weft/v1/fabric/192.168.1.10/10.77.0.0_24/others/1",    /* unknown kind */
        "",
    };
    struct fabric_key parts;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (key_parse_fabric(bad[i], &parts) == 0)
            fail_msg("\"%s\" should not parse", bad[i]);
    /* Parts too long are refused rather than overrun. */
    char k[WEFT_KEY_MAX];
    snprintf(k, sizeof(k), "/weft/v1/fabric/%0100d/10.77.0.0_24/member", 1);
    assert_int_equal(key_parse_fabric(k, &parts), -1);
}

static void test_open_validates_endpoints(void **state)
{
    (void)state;
    const char *bad[] = {"",         "garbage",   "host:",    ":2379", "a:99999",
                         "a:0",      "a:12x",     "a:1,,b:2", "a:1,",  "http://a:2379",
                         "a b:2379", "[::1:2379", "a:-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct etcd *etcd = NULL;
        struct weft_err err = {0};
        if (etcd_open(&etcd, bad[i], &err) == 0)
            fail_msg("\"%s\" should be refused", bad[i]);
        assert_null(etcd);
        assert_true(strlen(err.msg) > 0);
        assert_int_equal(err.code, -EINVAL);
    }
    struct weft_err err = {0};
    assert_int_equal(etcd_open(&(struct etcd *){NULL}, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(err.code, -EINVAL);

    const char *good[] = {"127.0.0.1:2379", "etcd-1.example:2379, etcd-2:2379,10.0.0.3:2379",
                          "[::1]:2379"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct etcd *etcd = NULL;
        if (etcd_open(&etcd, good[i], &err) != 0)
            fail_msg("\"%s\" refused: %s", good[i], err.msg);
        etcd_set_timeout_ms(etcd, 500);
        etcd_close(etcd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_known_vectors),
        cmocka_unit_test(test_b64_binary_round_trip),
        cmocka_unit_test(test_b64_rejects_invalid),
        cmocka_unit_test(test_prefix_end),
        cmocka_unit_test(test_err_unreachable_kinds),
        cmocka_unit_test(test_open_validates_endpoints),
        cmocka_unit_test(test_keys_layout),
        cmocka_unit_test(test_key_parse_fabric_round_trip),
        cmocka_unit_test(test_key_parse_fabric_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
