/* test_records.c: etcd record values survive a round trip, and damaged ones are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/records.h"

static void overlay_round_trip(void **state)
{
    (void)state;
    struct overlay_record in = {.subnet = "10.77.0.0/24", .vni = 16777214, .mtu = 1400};
    char *text = overlay_record_encode(&in);
    assert_non_null(text);
    struct overlay_record out;
    struct weft_err err;
    assert_int_equal(overlay_record_decode(text, &out, &err), 0);
    assert_string_equal(out.subnet, "10.77.0.0/24");
    assert_int_equal(out.vni, 16777214);
    assert_int_equal(out.mtu, 1400);
    free(text);
}

static void overlay_mtu_is_optional(void **state)
{
    (void)state;
    struct overlay_record out;
    struct weft_err err;
    assert_int_equal(overlay_record_decode("{\"subnet\":\"10.1.0.0/16\",\"vni\":7}", &out, &err),
                     0);
    assert_int_equal(out.mtu, 0);
}

/* "encrypted" is written only when true, so a plain overlay's record keeps the text it
 * always had (joining compares it), and it comes back as written. */
static void overlay_encrypted_flag(void **state)
{
    (void)state;
    struct overlay_record plain = {.subnet = "10.77.0.0/24", .vni = 7};
    char *text = overlay_record_encode(&plain);
    assert_string_equal(text, "{\"mtu\":0,\"subnet\":\"10.77.0.0/24\",\"vni\":7}");
    free(text);
    struct overlay_record sealed = {.subnet = "10.88.0.0/24", .vni = 8, .encrypted = true};
    text = overlay_record_encode(&sealed);
    assert_non_null(strstr(text, "\"encrypted\":true"));
    struct overlay_record out;
    struct weft_err err;
    assert_int_equal(overlay_record_decode(text, &out, &err), 0);
    assert_true(out.encrypted);
    free(text);
    assert_int_equal(overlay_record_decode("{\"subnet\":\"10.1.0.0/16\",\"vni\":7,\"encrypted\":1}",
                                           &out, &err),
                     -1);
    assert_non_null(strstr(err.msg, "encrypted must be true or false"));
}

/* A member record carries a public key only on encrypted overlays. */
static void member_key_is_optional(void **state)
{
    (void)state;
    struct member_record in = {.vtep = "192.168.77.2"};
    char *text = member_record_encode(&in);
    assert_string_equal(text, "{\"vtep\":\"192.168.77.2\"}");
    free(text);
    snprintf(in.key, sizeof(in.key), "%s", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
    text = member_record_encode(&in);
    struct member_record out;
    struct weft_err err;
    assert_int_equal(member_record_decode(text, &out, &err), 0);
    assert_string_equal(out.key, in.key);
    free(text);
}

/* Dual-stack overlays (issue 12): the IPv6 pool and addresses travel in optional
 * fields, absent from IPv4-only records (whose text joining compares). */
static void dual_stack_fields(void **state)
{
    (void)state;
    struct overlay_record six = {.subnet = "10.81.0.0/24", .vni = 9, .subnet6 = "fd81::/64"};
    char *text = overlay_record_encode(&six);
    assert_non_null(strstr(text, "\"subnet6\":\"fd81::/64\""));
    struct overlay_record out;
    struct weft_err err;
    assert_int_equal(overlay_record_decode(text, &out, &err), 0);
    assert_string_equal(out.subnet6, "fd81::/64");
    free(text);
    struct peer_record peer = {.ip = "10.81.0.5", .mac = "02:42:0a:51:00:05",
                               .vtep = "192.168.77.2", .ip6 = "fd81::5"};
    text = peer_record_encode(&peer);
    struct peer_record peer_out;
    assert_int_equal(peer_record_decode(text, &peer_out, &err), 0);
    assert_memory_equal(&peer, &peer_out, sizeof(peer));
    free(text);
    peer.ip6[0] = '\0';
    text = peer_record_encode(&peer);
    assert_null(strstr(text, "ip6"));
    free(text);
}

static void peer_round_trip(void **state)
{
    (void)state;
    struct peer_record in = {.ip = "10.77.0.5", .mac = "02:42:0a:4d:00:05", .vtep = "192.168.77.2"};
    char *text = peer_record_encode(&in);
    struct peer_record out;
    struct weft_err err;
    assert_int_equal(peer_record_decode(text, &out, &err), 0);
    assert_memory_equal(&in, &out, sizeof(in));
    free(text);
}

static void host_records_round_trip(void **state)
{
    (void)state;
    struct host_network_record net = {.network_id = "abc", .subnet = "10.9.0.0/24", .vni = 42};
    struct host_endpoint_record ep = {
        .endpoint_id = "def", .network_id = "abc", .ip = "10.9.0.3/24", .mac = "02:42:0a:09:00:03"};
    char *net_text = host_network_record_encode(&net);
    char *ep_text = host_endpoint_record_encode(&ep);
    struct host_network_record net_out;
    struct host_endpoint_record ep_out;
    assert_int_equal(host_network_record_decode(net_text, &net_out, NULL), 0);
    assert_int_equal(host_endpoint_record_decode(ep_text, &ep_out, NULL), 0);
    assert_memory_equal(&net, &net_out, sizeof(net));
    assert_memory_equal(&ep, &ep_out, sizeof(ep));
    assert_null(strstr(ep_text, "ifname")); /* an empty optional field is not written */
    free(net_text);
    free(ep_text);

    /* The veth's name round-trips when set; an older record without it reads as "". */
    snprintf(ep.ifname, sizeof(ep.ifname), "ws17");
    ep_text = host_endpoint_record_encode(&ep);
    assert_int_equal(host_endpoint_record_decode(ep_text, &ep_out, NULL), 0);
    assert_string_equal(ep_out.ifname, "ws17");
    free(ep_text);
    assert_int_equal(host_endpoint_record_decode("{\"endpoint_id\":\"d\",\"network_id\":\"n\","
                                                 "\"ip\":\"10.9.0.3/24\",\"mac\":\"m\"}",
                                                 &ep_out, NULL),
                     0);
    assert_string_equal(ep_out.ifname, "");
    assert_int_equal(host_endpoint_record_decode("{\"endpoint_id\":\"d\",\"network_id\":\"n\","
                                                 "\"ip\":\"i\",\"mac\":\"m\",\"ifname\":7}",
                                                 &ep_out, NULL),
                     -1);
}

static void damaged_records_are_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"subnet\":\"10.77.0.0/24\"}",
        "{\"subnet\":5,\"vni\":1}",
        "{\"subnet\":\"10.77.0.0/24\",\"vni\":-1}",
        "{\"subnet\":\"10.77.0.0/24\",\"vni\":\"7\"}",
        "{\"subnet\":\"10.77.0.0/24\",\"vni\":4294967296}",
        "{\"subnet\":\"10.77.0.0/24\",\"vni\":1,\"mtu\":70000}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct overlay_record out;
        struct weft_err err = {0};
        assert_int_equal(overlay_record_decode(bad[i], &out, &err), -1);
        assert_true(strlen(err.msg) > 0);
        assert_int_equal(err.code, -EPROTO); /* a value in the store that weft cannot read */
    }
    struct weft_err err;
    struct peer_record peer;
    char long_ip[200];
    memset(long_ip, 'a', sizeof(long_ip));
    long_ip[sizeof(long_ip) - 1] = '\0';
    char text[400];
    snprintf(text, sizeof(text), "{\"ip\":\"%s\",\"mac\":\"m\",\"vtep\":\"v\"}", long_ip);
    assert_int_equal(peer_record_decode(text, &peer, &err), -1);
    assert_non_null(strstr(err.msg, "ip"));
    assert_int_equal(err.code, -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overlay_round_trip),
        cmocka_unit_test(overlay_mtu_is_optional),
        cmocka_unit_test(overlay_encrypted_flag),
        cmocka_unit_test(dual_stack_fields),
        cmocka_unit_test(member_key_is_optional),
        cmocka_unit_test(peer_round_trip),
        cmocka_unit_test(host_records_round_trip),
        cmocka_unit_test(damaged_records_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
