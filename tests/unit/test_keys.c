/* test_keys.c: the key layout of store/keys.h, above all for IPv6 subnets and
 * addresses: one key level each, colons never in a key, and read back exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/keys.h"

static void ipv4_keys_are_unchanged(void **state)
{
    (void)state;
    char key[WEFT_KEY_MAX];
    key_addr(key, "10.77.0.0/24", "10.77.0.5");
    assert_string_equal(key, "/weft/v1/addrs/10.77.0.0_24/10.77.0.5");
    key_addr_prefix(key, "10.77.0.0/24");
    assert_string_equal(key, "/weft/v1/addrs/10.77.0.0_24/");
    key_overlay(key, "10.77.0.0/24");
    assert_string_equal(key, "/weft/v1/overlays/10.77.0.0_24");
    char ip[WEFT_KEY_PART_MAX];
    assert_int_equal(key_parse_addr("/weft/v1/addrs/10.77.0.0_24/10.77.0.5", "10.77.0.0/24", ip),
                     0);
    assert_string_equal(ip, "10.77.0.5");
}

static void ipv6_keys_have_no_colons_and_read_back(void **state)
{
    (void)state;
    char key[WEFT_KEY_MAX];
    key_addr(key, "fd81::/64", "fd81::5");
    assert_string_equal(key, "/weft/v1/addrs/fd81--_64/fd81--5");
    key_addr_prefix(key, "2001:db8:1234:5678:9abc:def0:1234:5600/120");
    assert_string_equal(key, "/weft/v1/addrs/2001-db8-1234-5678-9abc-def0-1234-5600_120/");
    key_addr(key, "2001:db8:1234:5678:9abc:def0:1234:5600/120",
             "2001:db8:1234:5678:9abc:def0:1234:56ff");
    assert_null(strchr(key, ':'));
    char ip[WEFT_KEY_PART_MAX];
    assert_int_equal(key_parse_addr(key, "2001:db8:1234:5678:9abc:def0:1234:5600/120", ip), 0);
    assert_string_equal(ip, "2001:db8:1234:5678:9abc:def0:1234:56ff");
    /* Another subnet's key, a deeper key, an empty address: none of this pool's. */
    assert_int_equal(key_parse_addr("/weft/v1/addrs/fd81--_64/fd81--5", "fd81::/120", ip), -1);
    assert_int_equal(key_parse_addr("/weft/v1/addrs/fd81--_64/fd81--5/x", "fd81::/64", ip), -1);
    assert_int_equal(key_parse_addr("/weft/v1/addrs/fd81--_64/", "fd81::/64", ip), -1);
    /* A /64's prefix is not a prefix of a /120 of the same network (the level ends in '/'). */
    char p64[WEFT_KEY_MAX], p120[WEFT_KEY_MAX];
    key_addr_prefix(p64, "fd81::/64");
    key_addr_prefix(p120, "fd81::/120");
    assert_int_not_equal(strncmp(p120, p64, strlen(p64)), 0);
}

static void fabric_keys_read_ipv6_back(void **state)
{
    (void)state;
    char key[WEFT_KEY_MAX];
    key_peer(key, "192.168.0.1", "fd81::/64", "fd81::9");
    assert_string_equal(key, "/weft/v1/fabric/192.168.0.1/fd81--_64/peers/fd81--9");
    struct fabric_key parsed;
    assert_int_equal(key_parse_fabric(key, &parsed), 0);
    assert_string_equal(parsed.subnet, "fd81::/64");
    assert_string_equal(parsed.ip, "fd81::9");
    assert_true(parsed.is_peer);
    key_member(key, "192.168.0.1", "10.77.0.0/24");
    assert_int_equal(key_parse_fabric(key, &parsed), 0);
    assert_string_equal(parsed.subnet, "10.77.0.0/24");
}

/* An IPv6 VTEP (issue 12) as a key's host level: dashes for colons in every key that
 * names a host, read back with colons; a host level written with colons is not ours. */
static void ipv6_hosts_have_no_colons_and_read_back(void **state)
{
    (void)state;
    char key[WEFT_KEY_MAX];
    key_peer(key, "fd00::21", "10.77.0.0/24", "10.77.0.5");
    assert_string_equal(key, "/weft/v1/fabric/fd00--21/10.77.0.0_24/peers/10.77.0.5");
    struct fabric_key parsed;
    assert_int_equal(key_parse_fabric(key, &parsed), 0);
    assert_string_equal(parsed.host, "fd00::21");
    assert_string_equal(parsed.ip, "10.77.0.5");
    key_member(key, "fd00::21", "10.77.0.0/24");
    assert_string_equal(key, "/weft/v1/fabric/fd00--21/10.77.0.0_24/member");
    key_fabric_host_prefix(key, "fd00::21");
    assert_string_equal(key, "/weft/v1/fabric/fd00--21/");
    key_joined(key, "10.77.0.0/24", "fd00::21");
    assert_string_equal(key, "/weft/v1/joined/10.77.0.0_24/fd00--21");
    key_host_alive(key, "fd00::21");
    assert_string_equal(key, "/weft/v1/hosts/fd00--21/alive");
    key_host_prefix(key, "fd00::21");
    assert_string_equal(key, "/weft/v1/hosts/fd00--21/");
    key_host_network(key, "fd00::21", "n1");
    assert_string_equal(key, "/weft/v1/hosts/fd00--21/networks/n1");
    key_host_endpoints_prefix(key, "fd00::21");
    assert_string_equal(key, "/weft/v1/hosts/fd00--21/endpoints/");
    assert_int_equal(key_parse_fabric("/weft/v1/fabric/fd00::21/10.77.0.0_24/member", &parsed), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_keys_are_unchanged),
        cmocka_unit_test(ipv6_keys_have_no_colons_and_read_back),
        cmocka_unit_test(fabric_keys_read_ipv6_back),
        cmocka_unit_test(ipv6_hosts_have_no_colons_and_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
