/*
 * test_netlink.c: netlink/ requests as the kernel answers them: errors carry
 * the kernel's reason, deletes are idempotent, batches apply every entry in
 * one round trip, and the advertise-address lookups. Runs in a private
 * network namespace (unshare); needs root.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_look.h"

#include "netlink/nl.h"

static struct nl *nl;

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static int setup(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0)
        return -1;
    struct weft_err err;
    return nl_open(&nl, &err);
}

static int teardown(void **state)
{
    (void)state;
    nl_close(nl);
    return 0;
}

static void no_default_route_is_reported(void **state)
{
    (void)state;
    uint32_t ip;
    char ifname[IF_NAMESIZE];
    struct weft_err err = {""};
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no default route");
}

static void default_route_gives_the_advertise_address(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add up0 type veth peer name up1 && "
                            "ip addr add 192.168.50.7/24 dev up0 && ip link set up0 up && "
                            "ip link set up1 up && ip route add default via 192.168.50.1"),
                     0);
    uint32_t ip;
    char ifname[IF_NAMESIZE];
    struct weft_err err = {""};
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(ip, inet_addr("192.168.50.7"));
    assert_string_equal(ifname, "up0");
    assert_int_equal(nl_addr_ifname(nl, inet_addr("192.168.50.7"), ifname, sizeof(ifname), &err),
                     0);
    assert_string_equal(ifname, "up0");
    assert_int_equal(nl_addr_ifname(nl, inet_addr("192.168.50.8"), ifname, sizeof(ifname), &err),
                     -1);
    assert_non_null(strstr(err.msg, "no interface holds 192.168.50.8"));
    int mtu = 0;
    assert_int_equal(nl_link_get_mtu(nl, "up0", &mtu, &err), 0);
    assert_int_equal(mtu, 1500);
    assert_int_equal(system("ip link del up0"), 0);
}

static void kernel_errors_name_the_change(void **state)
{
    (void)state;
    struct weft_err err = {""};
    assert_int_equal(nl_bridge_create(nl, "tbr0", 1400, &err), 0);
    assert_int_equal(nl_bridge_create(nl, "tbr0", 1400, &err), -1);
    assert_string_equal(err.msg, "creating bridge tbr0: File exists");
    assert_int_equal(nl_link_delete(nl, "tbr0", &err), 0);
    assert_int_equal(nl_link_delete(nl, "tbr0", &err), 0); /* already gone: fine */
    assert_int_equal(nl_link_set_up(nl, "nosuch0", &err), -1);
    assert_non_null(strstr(err.msg, "nosuch0"));
    uint32_t vni, local;
    assert_int_equal(system("ip link add tveth0 type veth peer name tveth1"), 0);
    assert_int_equal(nl_vxlan_get(nl, "tveth0", &vni, &local, &err), -1);
    assert_non_null(strstr(err.msg, "not a VXLAN device"));
    assert_int_equal(system("ip link del tveth0"), 0);
}

static void failed_veth_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add taken0 type veth peer name taken1"), 0);
    struct nl_veth_spec spec = {.host_name = "newhost0", .peer_name = "taken0", .mtu = 1450};
    struct weft_err err = {""};
    assert_int_equal(nl_veth_create(nl, &spec, &err), -1);
    assert_non_null(strstr(err.msg, "File exists"));
    assert_null(strstr(look("ip link show"), "newhost0"));
    assert_int_equal(system("ip link del taken0"), 0);
}

static void batch_programs_many_entries_at_once(void **state)
{
    (void)state;
    struct weft_err err = {""};
    struct nl_vxlan_spec spec = {.name = "tvx0", .vni = 9, .dst_port = 4789, .mtu = 1450};
    spec.local_ip = inet_addr("192.168.60.1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    int ifindex;
    assert_int_equal(nl_link_index(nl, "tvx0", &ifindex, &err), 0);
    assert_true(ifindex > 0);
    assert_int_equal(nl_batch_begin(nl), 0);
    assert_int_equal(nl_batch_begin(nl), -1); /* no nesting */
    for (int i = 0; i < 1000; i++) {
        uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x00, (uint8_t)(i >> 8), (uint8_t)i};
        uint32_t ip = htonl(0x0a000000u | (uint32_t)(i + 1));
        assert_int_equal(nl_fdb_add(nl, ifindex, mac, inet_addr("192.168.60.2"), false, &err), 0);
        assert_int_equal(nl_neigh_add(nl, ifindex, ip, mac, &err), 0);
    }
    int mtu;
    assert_int_equal(nl_link_get_mtu(nl, "tvx0", &mtu, &err), -1); /* no queries in a batch */
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_int_equal(count_lines(look("bridge fdb show dev tvx0"), "dst 192.168.60.2"), 1000);
    assert_int_equal(count_lines(look("ip neigh show dev tvx0"), "PERMANENT"), 1000);

    /* One bad entry (no such device) is reported; the good ones still apply. */
    uint8_t mac[6] = {0x02, 0x42, 0x0b, 0, 0, 1};
    assert_int_equal(nl_batch_begin(nl), 0);
    nl_neigh_add(nl, ifindex, inet_addr("10.1.0.1"), mac, &err);
    nl_neigh_add(nl, 999999, inet_addr("10.1.0.2"), mac, &err);
    nl_neigh_add(nl, ifindex, inet_addr("10.1.0.3"), mac, &err);
    assert_int_equal(nl_batch_end(nl, &err), -1);
    assert_non_null(strstr(err.msg, "entry 2 of 3"));
    const char *neigh = look("ip neigh show dev tvx0");
    assert_non_null(strstr(neigh, "10.1.0.1 "));
    assert_non_null(strstr(neigh, "10.1.0.3 "));
    /* Deletes of missing entries in a batch are not failures. */
    assert_int_equal(nl_batch_begin(nl), 0);
    nl_neigh_del(nl, ifindex, inet_addr("10.9.9.9"), &err);
    nl_fdb_del(nl, ifindex, mac, inet_addr("192.168.60.9"), &err);
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_int_equal(nl_link_delete(nl, "tvx0", &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_default_route_is_reported),
        cmocka_unit_test(default_route_gives_the_advertise_address),
        cmocka_unit_test(kernel_errors_name_the_change),
        cmocka_unit_test(failed_veth_leaves_nothing),
        cmocka_unit_test(batch_programs_many_entries_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
