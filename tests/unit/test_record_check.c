/* test_record_check.c: a fabric/ record from the store is believed only when its key
 * and body agree, its addresses lie where they must and its VTEP and MAC are
 * unicast; this host's own records and overlay records likewise (and an endpoint's
 * interface is one weft makes); each refusal says what is wrong. The refused-record set logs a record
 * once per revision and follows listings. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fabric/record_check.h"
#include "fabric/rejected_records.h"
#include "tunnel/aead.h"

#define PEERS "/weft/v1/fabric/192.168.77.2/10.77.0.0_24/peers/"
#define MEMBER(host) "/weft/v1/fabric/" host "/10.77.0.0_24/member"
#define PEERS6 "/weft/v1/fabric/fd00--21/10.77.0.0_24/peers/"
#define GOOD_PEER6 "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"fd00::21\"}"
#define GOOD_PEER "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.2\"}"

struct record_case {
    const char *key;
    const char *value;   /* NULL: only the key is checked */
    const char *message; /* NULL: accepted; else a fragment the refusal must contain */
};

static const struct record_case cases[] = {
    /* accepted */
    {PEERS "10.77.0.5", GOOD_PEER, NULL},
    /* IPv6 VTEPs (an IPv6 underlay): the key's host with dashes, as weft writes it */
    {PEERS6 "10.77.0.5", GOOD_PEER6, NULL},
    {MEMBER("fd00--21"), "{\"vtep\":\"fd00::21\"}", NULL},
    {MEMBER("fd00--21"), "{\"vtep\":\"fd00::22\"}", "member body names VTEP"},
    {MEMBER("fd00--21"), "{\"vtep\":\"192.168.77.2\"}", "member body names VTEP"},
    {PEERS6 "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.2\"}",
     "peer body names VTEP"},
    {PEERS "10.77.0.5", GOOD_PEER6, "peer body names VTEP"},
    {MEMBER("fd00-0--21"), "{\"vtep\":\"fd00::21\"}", "not written as weft writes it"},
    {MEMBER("FD00--21"), "{\"vtep\":\"fd00::21\"}", "not written as weft writes it"},
    {MEMBER("fd00::21"), "{\"vtep\":\"fd00::21\"}", "not a key weft writes"},
    {MEMBER("ff02--1"), "{\"vtep\":\"ff02::1\"}", "not a unicast"},
    {MEMBER("--1"), "{\"vtep\":\"::1\"}", "not a unicast"},
    {MEMBER("--"), "{\"vtep\":\"::\"}", "not a unicast"},
    {MEMBER("--ffff-192.168.77.2"), "{\"vtep\":\"::ffff:192.168.77.2\"}", "not a unicast"},
    {MEMBER("fd00--g"), "{\"vtep\":\"fd00::g\"}", "VTEP"},
    {MEMBER("192.168.77.2"), "{\"vtep\":\"192.168.77.2\"}", NULL},
    {PEERS "10.77.0.5", NULL, NULL},
    /* keys weft never writes */
    {"/weft/v1/fabric/192.168.77.2/10.77.0.0_24/bogus/x", "{}", "not a key weft writes"},
    {"/weft/v1/fabric/nonsense", "x", "not a key weft writes"},
    {"/weft/v1/fabric/10.77.0.0_24/peers/10.77.0.5", GOOD_PEER, "not a key weft writes"}, /* old */
    {"/weft/v1/fabric/10.77.0.0_24/members/192.168.77.2", "{}", "not a key weft writes"},
    {MEMBER("192.168.77.2") "/x", "{}", "not a key weft writes"},
    {PEERS "10.77.0.5/extra", GOOD_PEER, "not a key weft writes"},
    {"/weft/v1/fabric/192.168.77.2/10.77.0.5_24/peers/10.77.0.5", GOOD_PEER, "host bits set"},
    {"/weft/v1/fabric/192.168.77.2/10.77.0.0_33/peers/10.77.0.5", GOOD_PEER,
     "overlay subnet in the key"},
    {"/weft/v1/fabric/192.168.77.2/10.77.0.0_024/peers/10.77.0.5", GOOD_PEER, "overlay subnet"},
    /* the key's host: one unicast VTEP */
    {"/weft/v1/fabric/224.0.0.1/10.77.0.0_24/peers/10.77.0.5", GOOD_PEER, "host in the key"},
    {"/weft/v1/fabric/host-b/10.77.0.0_24/peers/10.77.0.5", GOOD_PEER, "host in the key"},
    {"/weft/v1/fabric/192.168.077.2/10.77.0.0_24/peers/10.77.0.5", GOOD_PEER, "host in the key"},
    /* a peer address outside the overlay, or not a host address of it */
    {PEERS "10.99.0.5",
     "{\"ip\":\"10.99.0.5\",\"mac\":\"02:42:0a:63:00:05\",\"vtep\":\"192.168.77.2\"}",
     "not a host address of 10.77.0.0/24"},
    {PEERS "10.77.0.0", GOOD_PEER, "not a host address"},
    {PEERS "10.77.0.255", GOOD_PEER, "not a host address"},
    {PEERS "10.77.0.05", GOOD_PEER, "peer address in the key"},
    {PEERS "x", GOOD_PEER, "peer address in the key"},
    /* key and body disagree */
    {PEERS "10.77.0.6", GOOD_PEER, "peer body names address 10.77.0.5, its key another"},
    {MEMBER("192.168.77.2"), "{\"vtep\":\"192.168.77.3\"}", "member body names VTEP"},
    /* an encrypted overlay's member: a key that is no public key */
    {MEMBER("192.168.77.2"), "{\"vtep\":\"192.168.77.2\",\"key\":\"short\"}", "member body's key"},
    /* and a cipher list that is none */
    {MEMBER("192.168.77.2"),
     "{\"vtep\":\"192.168.77.2\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
     "\"ciphers\":\"AES-GCM\"}",
     "member body's ciphers"},
    /* a dual-stack peer's IPv6 address that is none */
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.2\",\"ip6\":\"fd00:"
     ":g\"}",
     "peer IPv6 address in the body"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.2\",\"ip6\":7}",
     "field ip6"},
    /* a record believed only from its owner's prefix: another host's VTEP in the body */
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.3\"}",
     "peer body names VTEP 192.168.77.3, not the host whose key it is under"},
    /* VTEPs that are no single host */
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"224.0.0.1\"}",
     "VTEP 224.0.0.1 is not a unicast host address"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"239.1.1.1\"}",
     "not a unicast"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"255.255.255.255\"}",
     "not a unicast"},
    {PEERS "10.77.0.5", "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"0.0.0.0\"}",
     "not a unicast"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"127.0.0.1\"}",
     "not a unicast"},
    {PEERS "10.77.0.5", "{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"host-b\"}",
     "VTEP"},
    {MEMBER("224.0.0.1"), "{\"vtep\":\"224.0.0.1\"}", "not a unicast"},
    {MEMBER("224.0.0.1"), NULL, "not a unicast"},
    {MEMBER("b"), "{\"vtep\":\"b\"}", "VTEP"},
    /* MACs */
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"01:00:5e:00:00:01\",\"vtep\":\"192.168.77.2\"}", "multicast"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"ff:ff:ff:ff:ff:ff\",\"vtep\":\"192.168.77.2\"}", "multicast"},
    {PEERS "10.77.0.5",
     "{\"ip\":\"10.77.0.5\",\"mac\":\"00:00:00:00:00:00\",\"vtep\":\"192.168.77.2\"}",
     "not a usable address"},
    /* bodies that are not records */
    {MEMBER("192.168.77.2"), "not json", "not a JSON object"},
    {MEMBER("192.168.77.2"), "", "not a JSON object"},
    {MEMBER("192.168.77.2"), "{}", "field vtep"},
    {PEERS "10.77.0.5", "[1]", "not a JSON object"},
    /* no MAC: an address claimed at its allocation, believed as a claim only */
    {PEERS "10.77.0.5", "{\"ip\":\"10.77.0.5\",\"vtep\":\"192.168.77.2\"}", NULL},
    {PEERS "10.77.0.5", "{\"ip\":\"10.77.0.5\",\"mac\":7,\"vtep\":\"192.168.77.2\"}", "field mac"},
    {PEERS "10.77.0.5", "{\"ip\":5,\"mac\":\"02:42:0a:4d:00:05\",\"vtep\":\"192.168.77.2\"}",
     "field ip"},
};

static void records_are_checked(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct record_case *c = &cases[i];
        struct fabric_record rec;
        struct weft_err err = {0};
        int rc = record_check_key(c->key, &rec, &err);
        if (rc == 0 && c->value)
            rc = record_check_body(c->value, &rec, &err);
        if (!c->message && rc != 0)
            fail_msg("case %zu (%s %s) refused: %s", i, c->key, c->value ? c->value : "", err.msg);
        if (c->message && (rc != -1 || !strstr(err.msg, c->message)))
            fail_msg("case %zu (%s %s): rc %d, message \"%s\", want \"%s\"", i, c->key,
                     c->value ? c->value : "", rc, err.msg, c->message);
    }
}

#define NID "1111111111111111111111111111111111111111111111111111111111111111"
#define EID "2222222222222222222222222222222222222222222222222222222222222222"
#define HOST_EP "/weft/v1/hosts/192.168.77.1/endpoints/" EID
#define HOST_NET "/weft/v1/hosts/192.168.77.1/networks/" NID
#define EP_BODY(ip, mac, ifname)                                                                   \
    "{\"endpoint_id\":\"" EID "\",\"network_id\":\"" NID "\",\"ip\":\"" ip "\",\"mac\":\"" mac       \
    "\",\"ifname\":\"" ifname "\"}"

struct own_case {
    char kind; /* 'n': hosts/<h>/networks, 'e': hosts/<h>/endpoints, 'o': overlays */
    const char *key;
    const char *value;
    const char *message; /* NULL: accepted */
};

static const struct own_case own_cases[] = {
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":42}", NULL},
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":42,\"mtu\":1450}",
     NULL},
    {'n', HOST_NET "x", "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":42}",
     "another network than its key"},
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.5/24\",\"vni\":42}",
     "host bits set"},
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":0}",
     "VNI 0 out of range"},
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":16777215}",
     "out of range"},
    {'n', HOST_NET, "{\"network_id\":\"" NID "\",\"subnet\":\"10.77.0.0/24\",\"vni\":4,\"mtu\":20}",
     "MTU 20 out of range"},
    {'n', HOST_NET, "[]", "not a JSON object"},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", "ws3"), NULL},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", "wh2222222222"), NULL},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", ""), NULL},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", "eth0"), "not one weft makes"},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", "ws0123456789abcdef"),
     "not one weft makes"},
    {'e', HOST_EP "3", EP_BODY("10.77.0.5/24", "02:42:0a:4d:00:05", "ws3"),
     "another endpoint than its key"},
    {'e', HOST_EP, EP_BODY("10.99.0.5/24", "02:42:0a:4d:00:05", "ws3"), "not a host address"},
    {'e', HOST_EP, EP_BODY("10.77.0.5/16", "02:42:0a:4d:00:05", "ws3"), "not a host address"},
    {'e', HOST_EP, EP_BODY("10.77.0.255/24", "02:42:0a:4d:00:05", "ws3"), "not a host address"},
    {'e', HOST_EP, EP_BODY("10.77.0.5/24", "01:00:5e:00:00:05", "ws3"), "multicast"},
    {'o', "10.77.0.0/24", "{\"subnet\":\"10.77.0.0/24\",\"vni\":42}", NULL},
    {'o', "10.77.0.0/24", "{\"subnet\":\"10.78.0.0/24\",\"vni\":42}", "another subnet"},
    {'o', "10.77.0.0/24", "{\"subnet\":\"10.77.0.0/24\",\"vni\":0}", "VNI 0 out of range"},
    {'o', "10.77.0.0/24", "{\"subnet\":\"10.77.0.0/24\",\"vni\":5,\"mtu\":70000}", "out of range"},
};

static void own_records_are_checked(void **state)
{
    (void)state;
    struct ipv4_subnet subnet = {0x0a4d0000, 24};
    for (size_t i = 0; i < sizeof(own_cases) / sizeof(own_cases[0]); i++) {
        const struct own_case *c = &own_cases[i];
        struct weft_err err = {0};
        int rc;
        if (c->kind == 'n') {
            struct host_network_record rec;
            struct ipv4_subnet parsed;
            rc = record_check_host_network(c->key, c->value, &rec, &parsed, &err);
        } else if (c->kind == 'e') {
            struct host_endpoint_record rec;
            uint32_t ip;
            int prefix_len;
            uint8_t mac[6];
            rc = record_check_host_endpoint(c->key, c->value, &subnet, &rec, &ip, &prefix_len, mac,
                                            &err);
        } else {
            struct overlay_record rec;
            rc = record_check_overlay(c->key, c->value, &rec, &err);
        }
        if (!c->message && rc != 0)
            fail_msg("own case %zu (%s) refused: %s", i, c->value, err.msg);
        if (c->message && (rc != -1 || !strstr(err.msg, c->message)))
            fail_msg("own case %zu (%s): rc %d, message \"%s\", want \"%s\"", i, c->value, rc,
                     err.msg, c->message);
    }
}

static void accepted_record_is_decoded(void **state)
{
    (void)state;
    struct fabric_record rec;
    assert_int_equal(record_check_key(PEERS "10.77.0.5", &rec, NULL), 0);
    assert_int_equal(rec.host.family, AF_INET);
    assert_int_equal(ip_addr_ipv4(&rec.host), htonl(0xc0a84d02));
    assert_int_equal(record_check_body(GOOD_PEER, &rec, NULL), 0);
    assert_string_equal(rec.subnet, "10.77.0.0/24");
    assert_true(rec.is_peer);
    assert_int_equal(rec.addr, htonl(0x0a4d0005));
    assert_true(ip_addr_equal(&rec.vtep, &rec.host));
    static const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
    assert_memory_equal(rec.mac, mac, 6);
    assert_false(rec.claim_only);
    assert_false(rec.has_addr6);
    /* a dual-stack peer: its IPv6 address decoded too */
    assert_int_equal(record_check_body("{\"ip\":\"10.77.0.5\",\"mac\":\"02:42:0a:4d:00:05\","
                                       "\"vtep\":\"192.168.77.2\",\"ip6\":\"fd00::5\"}",
                                       &rec, NULL),
                     0);
    assert_true(rec.has_addr6);
    static const uint8_t fd00_5[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
    assert_memory_equal(rec.addr6.bytes, fd00_5, 16);
    /* the same key without a MAC: a claim only, its MAC cleared */
    assert_int_equal(record_check_body("{\"ip\":\"10.77.0.5\",\"vtep\":\"192.168.77.2\"}", &rec,
                                       NULL),
                     0);
    assert_true(rec.claim_only);
    static const uint8_t zero[6] = {0};
    assert_memory_equal(rec.mac, zero, 6);
    assert_int_equal(record_check_key(MEMBER("192.168.77.3"), &rec, NULL), 0);
    assert_int_equal(record_check_body("{\"vtep\":\"192.168.77.3\"}", &rec, NULL), 0);
    assert_false(rec.is_peer);
    assert_int_equal(ip_addr_ipv4(&rec.host), htonl(0xc0a84d03));
    assert_true(ip_addr_equal(&rec.vtep, &rec.host));
    /* an encrypted overlay's member: its key and the ciphers its host runs; an older
     * weft's record lists none and offers the two ciphers older daemons chose from */
    assert_int_equal(
        record_check_body(
            "{\"vtep\":\"192.168.77.3\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
            "\"ciphers\":\"aegis128l chacha20poly1305\"}",
            &rec, NULL),
        0);
    assert_int_equal(rec.ciphers, TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AEGIS128L) |
                                      TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_CHACHA20POLY1305));
    assert_false(rec.partial_csum);
    assert_int_equal(
        record_check_body(
            "{\"vtep\":\"192.168.77.3\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
            &rec, NULL),
        0);
    assert_int_equal(rec.ciphers, TUNNEL_CIPHERS_LEGACY);
    assert_false(rec.partial_csum);
    /* what its data path does for senders: "csum" among words it may not know */
    static const struct {
        const char *offloads;
        bool partial;
    } offloads[] = {{"csum", true},   {"gro csum", true}, {"csum gro", true},
                    {"csums", false}, {"xcsum", false},   {"", false}};
    for (size_t i = 0; i < sizeof(offloads) / sizeof(offloads[0]); i++) {
        char body[256];
        snprintf(
            body, sizeof(body),
            "{\"vtep\":\"192.168.77.3\",\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
            "\"offloads\":\"%s\"}",
            offloads[i].offloads);
        assert_int_equal(record_check_body(body, &rec, NULL), 0);
        assert_int_equal(rec.partial_csum, offloads[i].partial);
    }
    /* a member without a key (a plain overlay's) takes nothing */
    assert_int_equal(
        record_check_body("{\"vtep\":\"192.168.77.3\",\"offloads\":\"csum\"}", &rec, NULL), 0);
    assert_false(rec.partial_csum);
}

/* IPv6 VTEPs (issue 12): a key's host level has its colons written as dashes, the
 * body names the same address (in any RFC 4291 text), and it is decoded whole. */
static void ipv6_vtep_record_is_decoded(void **state)
{
    (void)state;
    struct fabric_record rec;
    struct ip_addr want;
    assert_int_equal(ip_addr_parse("fd00::21", &want, NULL), 0);
    assert_int_equal(record_check_key(PEERS6 "10.77.0.5", &rec, NULL), 0);
    assert_true(ip_addr_equal(&rec.host, &want));
    assert_int_equal(record_check_body(GOOD_PEER6, &rec, NULL), 0);
    assert_true(ip_addr_equal(&rec.vtep, &want));
    assert_int_equal(rec.addr, htonl(0x0a4d0005));
    assert_int_equal(record_check_key(MEMBER("fd00--21"), &rec, NULL), 0);
    assert_int_equal(record_check_body("{\"vtep\":\"fd00:0::21\"}", &rec, NULL), 0);
    assert_false(rec.is_peer);
    assert_true(ip_addr_equal(&rec.vtep, &want));
}

static void printable_copies_cannot_break_a_log_line(void **state)
{
    (void)state;
    char out[16];
    record_check_printable("a\"b\nc\\d e\x01", out, sizeof(out));
    assert_string_equal(out, "a?b?c?d e?");
    record_check_printable("0123456789abcdefghij", out, sizeof(out));
    assert_string_equal(out, "0123456789abcde");
    record_check_printable(NULL, out, sizeof(out));
    assert_string_equal(out, "");
}

static void refused_records_are_news_once_per_revision(void **state)
{
    (void)state;
    struct rejected_records set;
    assert_int_equal(rejected_records_init(&set), 0);
    assert_true(rejected_records_note(&set, "k1", 10));
    assert_false(rejected_records_note(&set, "k1", 10)); /* listed again */
    assert_true(rejected_records_note(&set, "k1", 11));  /* written again */
    rejected_records_forget(&set, "k1");                 /* deleted, or replaced by a good one */
    assert_true(rejected_records_note(&set, "k1", 11));
    /* A listing keeps what it sees again and drops what it does not. */
    assert_true(rejected_records_note(&set, "k2", 20));
    rejected_records_mark_stale(&set);
    assert_false(rejected_records_note(&set, "k1", 11));
    rejected_records_drop_stale(&set);
    assert_int_equal(rejected_records_count(&set), 1);
    assert_true(rejected_records_note(&set, "k2", 20));
    /* Growth keeps every key. */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_true(rejected_records_note(&set, key, i));
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_false(rejected_records_note(&set, key, i));
    }
    assert_int_equal(rejected_records_count(&set), 1002);
    rejected_records_clear(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_are_checked),
        cmocka_unit_test(accepted_record_is_decoded),
        cmocka_unit_test(ipv6_vtep_record_is_decoded),
        cmocka_unit_test(own_records_are_checked),
        cmocka_unit_test(printable_copies_cannot_break_a_log_line),
        cmocka_unit_test(refused_records_are_news_once_per_revision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
