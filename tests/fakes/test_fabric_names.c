/*
 * test_fabric_names.c: endpoints' DNS names (fabric/names.c). Names set for an endpoint
 * here ride in its peer record and its host record; bad names, unknown networks and
 * endpoints not there yet are told apart; the resolver's lookups find this host's
 * endpoints and the peers it programs, by name and by address (IPv6 ones of dual-stack
 * overlays too, for ip6.arpa; an extra subnet's peers under its own key); a restart keeps the
 * names (from the host record) before dockerd is asked again.
 */
#include "tests/fakes/fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/fabric_internal.h"
#include "store/keys.h"
#include "tests/fakes/fake_store.h"

static bool peer_key_has(const char *host, const char *ip, const char *text)
{
    char key[WEFT_KEY_MAX];
    key_peer(key, host, FX_SUBNET, ip);
    char *value = fake_store_get(key, NULL);
    bool has = value && strstr(value, text);
    free(value);
    return has;
}

struct wait_names {
    const char *ip, *text;
};

static bool own_peer_has(void *ctx)
{
    struct wait_names *w = ctx;
    return peer_key_has(FX_HOST, w->ip, w->text);
}

/* Network a1 with endpoint e1 (10.77.0.5) on this host, named names. */
static void local_endpoint_named(struct fx *fx, const char *names)
{
    create_network(fx, "a1", FX_SUBNET);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    fx_settle();
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX];
    fx_id(net, "a1");
    fx_id(ep, "e1");
    struct weft_err err = {0};
    assert_int_equal(fabric_endpoint_set_names(fx->fabric, net, ep, names, &err), 0);
}

static void names_are_set_checked_and_published(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    fx_settle();
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX], other[FABRIC_ID_MAX];
    fx_id(net, "a1");
    fx_id(ep, "e1");
    fx_id(other, "zz");
    struct weft_err err = {0};
    assert_int_equal(fabric_endpoint_set_names(fx->fabric, other, ep, "web", &err), -1);
    assert_int_equal(err.code, -ENOENT);
    assert_int_equal(fabric_endpoint_set_names(fx->fabric, net, other, "web", &err), -1);
    assert_int_equal(err.code, -EAGAIN);
    const char *bad[] = {"Web", "a..b", "web ", " web", "web  api", "a.", "w\"b", ".a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fabric_endpoint_set_names(fx->fabric, net, ep, bad[i], &err), -1);
        assert_int_equal(err.code, -EINVAL);
    }
    assert_int_equal(fabric_endpoint_set_names(fx->fabric, net, ep, "web api 0123456789ab", &err), 0);
    struct wait_names w = {"10.77.0.5", "\"names\":\"web api 0123456789ab\""};
    assert_true(fake_store_wait(own_peer_has, &w, FX_WAIT_MS));
    uint32_t addrs[4];
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "api", 0, addrs, 4), 1);
    assert_int_equal(addrs[0], fx_ip("10.77.0.5"));
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "ap", 0, addrs, 4), 0);
    assert_int_equal(fabric_name_addresses(fx->fabric, "10.88.0.0/24", "api", 0, addrs, 4), 0);
    char name[64];
    assert_true(fabric_address_name(fx->fabric, FX_SUBNET, fx_ip("10.77.0.5"), name, sizeof(name)));
    assert_string_equal(name, "web");
}

/* A remote peer's names count while it is programmed here: its host a member. */
static void remote_names_follow_the_programmed_peer(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    create_network(fx, "a1", FX_SUBNET);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.9");
    fake_store_put(key,
                   "{\"ip\":\"10.77.0.9\",\"mac\":\"02:42:0a:4d:00:09\",\"names\":\"db svc\","
                   "\"vtep\":\"" FX_OTHER_HOST "\"}",
                   lease);
    fx_settle();
    uint32_t addrs[4];
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "db", 0, addrs, 4), 0);
    put_member_of(FX_OTHER_HOST, FX_SUBNET, lease); /* now programmed */
    fx_settle();
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "svc", 0, addrs, 4), 1);
    assert_int_equal(addrs[0], fx_ip("10.77.0.9"));
    char name[64];
    assert_true(fabric_address_name(fx->fabric, FX_SUBNET, fx_ip("10.77.0.9"), name, sizeof(name)));
    assert_string_equal(name, "db");
    /* a record with names that do not check is refused whole */
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.10");
    fake_store_put(key,
                   "{\"ip\":\"10.77.0.10\",\"mac\":\"02:42:0a:4d:00:0a\",\"names\":\"BAD name\","
                   "\"vtep\":\"" FX_OTHER_HOST "\"}",
                   lease);
    fx_settle();
    assert_false(fabric_address_name(fx->fabric, FX_SUBNET, fx_ip("10.77.0.10"), name, sizeof(name)));
    fake_store_expire_lease(lease);
    fx_settle();
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "svc", 0, addrs, 4), 0);
}

/* Several --subnet (issue 12): a peer of the extra subnet, keyed under that subnet,
 * is found by name and by address through the overlay's first subnet, as the
 * resolver (one per overlay) asks. */
static void extra_subnet_peers_have_names(void **state)
{
    struct fx *fx = *state;
    struct fabric_network_spec spec = fx_network("m1", FX_SUBNET);
    snprintf(spec.extra_subnets[0], sizeof(spec.extra_subnets[0]), "10.78.0.0/24");
    spec.extra_count = 1;
    struct weft_err err = {0};
    assert_int_equal(fabric_network_create(fx->fabric, &spec, &err), 0);
    int64_t lease = fake_store_grant();
    put_member_of(FX_OTHER_HOST, FX_SUBNET, lease);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, "10.78.0.0/24", "10.78.0.9");
    fake_store_put(key,
                   "{\"ip\":\"10.78.0.9\",\"mac\":\"02:42:0a:4e:00:09\",\"names\":\"far\","
                   "\"vtep\":\"" FX_OTHER_HOST "\"}",
                   lease);
    fx_settle();
    uint32_t addrs[4];
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "far", 0, addrs, 4), 1);
    assert_int_equal(addrs[0], fx_ip("10.78.0.9"));
    char name[64];
    assert_true(fabric_address_name(fx->fabric, FX_SUBNET, fx_ip("10.78.0.9"), name, sizeof(name)));
    assert_string_equal(name, "far");
    /* Not in the first subnet: nobody holds 10.77.0.9. */
    assert_false(fabric_address_name(fx->fabric, FX_SUBNET, fx_ip("10.77.0.9"), name, sizeof(name)));
}

/* Dual stack: the name of an IPv6 address, for ip6.arpa PTR, comes from this host's
 * endpoint holding it, or from the programmed peer whose record carries it; an
 * address no one holds, or another overlay's, has none. */
static void ipv6_addresses_have_names(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    struct fabric_network_spec net_spec = fx_network("a1", FX_SUBNET);
    snprintf(net_spec.subnet6, sizeof(net_spec.subnet6), "fd77::/64");
    struct weft_err err = {0};
    if (fabric_network_create(fx->fabric, &net_spec, &err) < 0)
        fail_msg("network create: %s", err.msg);
    struct fabric_endpoint_spec ep_spec = fx_endpoint("a1", "e1", "10.77.0.5");
    ep_spec.has_ip6 = true;
    ep_spec.prefix6_len = 64;
    assert_int_equal(ipv6_parse("fd77::5", &ep_spec.ip6, NULL), 0);
    uint8_t mac[6];
    if (fabric_endpoint_create(fx->fabric, &ep_spec, mac, &err) < 0)
        fail_msg("endpoint create: %s", err.msg);
    fx_settle();
    assert_int_equal(fabric_endpoint_set_names(fx->fabric, ep_spec.network_id, ep_spec.endpoint_id,
                                               "web api", &err),
                     0);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.9");
    fake_store_put(key,
                   "{\"ip\":\"10.77.0.9\",\"ip6\":\"fd77::9\",\"mac\":\"02:42:0a:4d:00:09\","
                   "\"names\":\"db svc\",\"vtep\":\"" FX_OTHER_HOST "\"}",
                   lease);
    fx_settle();
    struct ipv6_addr own, peer, nobody;
    assert_int_equal(ipv6_parse("fd77::5", &own, NULL), 0);
    assert_int_equal(ipv6_parse("fd77::9", &peer, NULL), 0);
    assert_int_equal(ipv6_parse("fd77::7", &nobody, NULL), 0);
    char name[64];
    assert_true(fabric_address6_name(fx->fabric, FX_SUBNET, &own, name, sizeof(name)));
    assert_string_equal(name, "web");
    assert_false(fabric_address6_name(fx->fabric, FX_SUBNET, &peer, name, sizeof(name)));
    put_member_of(FX_OTHER_HOST, FX_SUBNET, lease); /* now programmed */
    fx_settle();
    assert_true(fabric_address6_name(fx->fabric, FX_SUBNET, &peer, name, sizeof(name)));
    assert_string_equal(name, "db");
    assert_false(fabric_address6_name(fx->fabric, FX_SUBNET, &nobody, name, sizeof(name)));
    assert_false(fabric_address6_name(fx->fabric, "10.88.0.0/24", &own, name, sizeof(name)));
    struct ipv6_addr found6[2];
    assert_int_equal(fabric_name_addresses6(fx->fabric, FX_SUBNET, "db", 0, found6, 2), 1);
    assert_memory_equal(&found6[0], &peer, sizeof(peer));
    assert_int_equal(fabric_name_addresses6(fx->fabric, FX_SUBNET, "api", 7, found6, 2), 1);
    assert_memory_equal(&found6[0], &own, sizeof(own));
    fake_store_expire_lease(lease);
    fx_settle();
    assert_false(fabric_address6_name(fx->fabric, FX_SUBNET, &peer, name, sizeof(name)));
}

/* One name on this host's endpoint and three programmed peers: the count is all four,
 * and as start moves each comes first in turn, the next ones after it (at most max),
 * so a resolver rotating over a large alias reaches every container. */
static void every_address_of_a_name_takes_its_turn(void **state)
{
    struct fx *fx = *state;
    local_endpoint_named(fx, "svc");
    int64_t lease = fake_store_grant();
    static const char *const peers[] = {"10.77.0.9", "10.77.0.10", "10.77.0.11"};
    for (size_t i = 0; i < 3; i++) {
        char key[WEFT_KEY_MAX], value[256];
        key_peer(key, FX_OTHER_HOST, FX_SUBNET, peers[i]);
        snprintf(value, sizeof(value),
                 "{\"ip\":\"%s\",\"mac\":\"02:42:0a:4d:00:%02zx\",\"names\":\"svc\","
                 "\"vtep\":\"" FX_OTHER_HOST "\"}",
                 peers[i], 9 + i);
        fake_store_put(key, value, lease);
    }
    put_member_of(FX_OTHER_HOST, FX_SUBNET, lease);
    fx_settle();
    uint32_t all[4], two[2];
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "svc", 0, all, 4), 4);
    for (size_t start = 0; start < 9; start++) {
        assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "svc", start, two, 2), 4);
        assert_int_equal(two[0], all[start % 4]);
        assert_int_equal(two[1], all[(start + 1) % 4]);
    }
    for (size_t i = 0; i < 4; i++) /* four different addresses: each came first once */
        for (size_t j = i + 1; j < 4; j++)
            assert_int_not_equal(all[i], all[j]);
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "svc", 3, two, 0), 4);
}

/* A restarted daemon has its endpoints' names from their host records. */
static void restart_keeps_names(void **state)
{
    struct fx *fx = *state;
    local_endpoint_named(fx, "web");
    struct wait_names w = {"10.77.0.5", "\"names\":\"web\""};
    assert_true(fake_store_wait(own_peer_has, &w, FX_WAIT_MS));
    fx_close(fx);
    fx_open(fx);
    fx_settle();
    uint32_t addrs[2];
    assert_int_equal(fabric_name_addresses(fx->fabric, FX_SUBNET, "web", 0, addrs, 2), 1);
    assert_true(peer_key_has(FX_HOST, "10.77.0.5", "\"names\":\"web\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_are_set_checked_and_published, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(remote_names_follow_the_programmed_peer, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(extra_subnet_peers_have_names, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ipv6_addresses_have_names, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(every_address_of_a_name_takes_its_turn, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(restart_keeps_names, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
