/*
 * test_netlink.c: netlink/ requests as the kernel answers them: errors carry
 * the kernel's reason, deletes are idempotent, batches apply every entry in
 * one round trip, on-link routes, and the advertise-address lookups. Runs in a private
 * network namespace (netns_fixture.h); skipped without CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_look.h"
#include "netns_fixture.h"

#include "netlink/nl.h"

/* An IPv4 VTEP from its text, as netlink/ takes it (valid to the end of the block). */
#define V4(text) ((const struct ip_addr[]){ip_addr_from_ipv4(inet_addr(text))})

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
    if (netns_private() < 0)
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
    struct ip_addr ip;
    char ifname[IF_NAMESIZE];
    struct weft_err err = {0};
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no default route");
    assert_int_equal(err.code, -ENOENT);
}

/* Bridges without ports stand in for dummy links (this kernel may lack the
 * dummy driver): whatever the default route would send is dropped, and the
 * route lives in this test's private namespace, gone with the process. */
static void default_route_gives_the_advertise_address(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add up0 type bridge && ip link add up1 type bridge && "
                            "ip addr add 192.168.50.7/24 dev up0 && "
                            "ip addr add 192.168.50.9/24 dev up0 && "
                            "ip addr add 192.168.51.7/24 dev up1 && "
                            "ip link set up0 up && ip link set up1 up && "
                            "ip route add 10.77.0.0/16 via 192.168.51.1"),
                     0);
    struct ip_addr ip;
    char ifname[IF_NAMESIZE];
    struct weft_err err = {0};
    /* A route that is not the default one does not count. */
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no default route");
    assert_int_equal(err.code, -ENOENT);

    /* No preferred source: the first address of the route's link. */
    assert_int_equal(system("ip route add default via 192.168.50.1"), 0);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(ip_addr_ipv4(&ip), inet_addr("192.168.50.7"));
    assert_string_equal(ifname, "up0");

    /* The route's own source address wins. */
    assert_int_equal(system("ip route replace default via 192.168.50.1 src 192.168.50.9"), 0);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(ip_addr_ipv4(&ip), inet_addr("192.168.50.9"));
    assert_string_equal(ifname, "up0");

    /* An ECMP default route (no RTA_OIF): its first next hop's link. */
    assert_int_equal(system("ip route del default && ip route add default "
                            "nexthop via 192.168.51.1 dev up1 nexthop via 192.168.50.1 dev up0"),
                     0);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(ip_addr_ipv4(&ip), inet_addr("192.168.51.7"));
    assert_string_equal(ifname, "up1");

    assert_int_equal(nl_addr_ifname(nl, V4("192.168.50.9"), ifname, sizeof(ifname), &err), 0);
    assert_string_equal(ifname, "up0");
    assert_int_equal(nl_addr_ifname(nl, V4("192.168.51.7"), ifname, sizeof(ifname), &err), 0);
    assert_string_equal(ifname, "up1");
    assert_int_equal(nl_addr_ifname(nl, V4("192.168.50.8"), ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no interface holds 192.168.50.8");
    int mtu = 0;
    assert_int_equal(nl_link_get_mtu(nl, "up0", &mtu, &err), 0);
    assert_int_equal(mtu, 1500);
    /* Deleting the links takes their routes: back to no default route. */
    assert_int_equal(system("ip link del up0 && ip link del up1"), 0);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no default route");
    assert_int_equal(err.code, -ENOENT);
}

static struct ip_addr v6(const char *text)
{
    struct ip_addr a;
    assert_int_equal(ip_addr_parse(text, &a, NULL), 0);
    return a;
}

/* An IPv6-only host (issue 12): no IPv4 default route, so the IPv6 one's global
 * address (not the link-local one) is the advertise address, and its link is found
 * by it. */
static void ipv6_default_route_gives_the_advertise_address(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add up6 type bridge && "
                            "ip -6 addr add fd00:50::7/64 dev up6 nodad && "
                            "ip link set up6 up && ip -6 route add default via fd00:50::1 dev up6"),
                     0);
    struct ip_addr ip, want = v6("fd00:50::7");
    char ifname[IF_NAMESIZE];
    struct weft_err err = {0};
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_true(ip_addr_equal(&ip, &want));
    assert_string_equal(ifname, "up6");
    assert_int_equal(nl_addr_ifname(nl, &want, ifname, sizeof(ifname), &err), 0);
    assert_string_equal(ifname, "up6");
    struct ip_addr other = v6("fd00:50::8");
    assert_int_equal(nl_addr_ifname(nl, &other, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no interface holds fd00:50::8");
    /* The route's own source address wins here too. */
    assert_int_equal(system("ip -6 addr add fd00:50::9/64 dev up6 nodad && ip -6 route replace "
                            "default via fd00:50::1 dev up6 src fd00:50::9"),
                     0);
    want = v6("fd00:50::9");
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_true(ip_addr_equal(&ip, &want));
    /* An IPv4 default route, when there is one, comes first (as before issue 12). */
    assert_int_equal(system("ip addr add 192.168.52.7/24 dev up6 && "
                            "ip route add default via 192.168.52.1"),
                     0);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(ip.family, AF_INET);
    assert_int_equal(ip_addr_ipv4(&ip), inet_addr("192.168.52.7"));
    assert_int_equal(system("ip link del up6"), 0);
}

/* A vxlan device with an IPv6 local address sends to IPv6 VTEPs: LOCAL6 reads back,
 * FDB entries carry 16-byte destinations, and the listing gives them back whole. */
struct fdb_seen {
    int count;
    struct ip_addr last;
};

static void note_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *dst)
{
    (void)mac;
    struct fdb_seen *seen = ctx;
    seen->count++;
    seen->last = *dst;
}

static void vxlan_over_ipv6_takes_ipv6_vteps(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct nl_vxlan_spec spec = {.name = "tvx6", .vni = 6, .dst_port = 4789, .mtu = 1430};
    spec.local = v6("fd00:60::1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    assert_non_null(strstr(look("ip -d -j link show tvx6"), "\"local6\":\"fd00:60::1\""));
    uint32_t vni = 0;
    struct ip_addr local;
    assert_int_equal(nl_vxlan_get(nl, "tvx6", &vni, &local, &err), 0);
    assert_int_equal(vni, 6);
    assert_true(ip_addr_equal(&local, &spec.local));
    int vx;
    assert_int_equal(nl_link_index(nl, "tvx6", &vx, &err), 0);
    const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x06, 0, 2}, zero[6] = {0};
    struct ip_addr b = v6("fd00:60::2");
    assert_int_equal(nl_fdb_add(nl, vx, mac, &b, false, &err), 0);
    assert_int_equal(nl_fdb_add(nl, vx, zero, &b, true, &err), 0);
    const char *fdb = look("bridge fdb show dev tvx6");
    assert_non_null(strstr(fdb, "02:42:0a:06:00:02 dst fd00:60::2"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst fd00:60::2"));
    struct fdb_seen seen = {0};
    assert_int_equal(nl_fdb_list(nl, vx, note_fdb, &seen, &err), 0);
    assert_int_equal(seen.count, 2);
    assert_true(ip_addr_equal(&seen.last, &b));
    /* The kernel's rule: a destination of the other family is refused. */
    assert_int_equal(nl_fdb_add(nl, vx, mac, V4("192.168.60.2"), false, &err), -1);
    assert_int_equal(nl_fdb_del(nl, vx, mac, &b, &err), 0);
    assert_int_equal(nl_fdb_del(nl, vx, zero, &b, &err), 0);
    assert_null(strstr(look("bridge fdb show dev tvx6"), "dst fd00:60::2"));
    assert_int_equal(nl_link_delete(nl, "tvx6", &err), 0);
}

static void kernel_errors_name_the_change(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(nl_bridge_create(nl, "tbr0", 1400, &err), 0);
    assert_int_equal(nl_bridge_create(nl, "tbr0", 1400, &err), -1);
    assert_string_equal(err.msg, "creating bridge tbr0: File exists");
    assert_int_equal(err.code, -EEXIST); /* the kernel's errno is the kind */
    assert_int_equal(nl_link_delete(nl, "tbr0", &err), 0);
    assert_int_equal(nl_link_delete(nl, "tbr0", &err), 0); /* already gone: fine */
    assert_int_equal(nl_link_set_up(nl, "nosuch0", &err), -1);
    assert_non_null(strstr(err.msg, "nosuch0"));
    assert_int_equal(err.code, -ENODEV);
    uint32_t vni;
    struct ip_addr local;
    assert_int_equal(system("ip link add tveth0 type veth peer name tveth1"), 0);
    assert_int_equal(nl_vxlan_get(nl, "tveth0", &vni, &local, &err), -1);
    assert_non_null(strstr(err.msg, "not a VXLAN device"));
    assert_int_equal(err.code, -EEXIST); /* the name is taken by another kind of link */
    assert_int_equal(system("ip link del tveth0"), 0);
}

static void failed_veth_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add taken0 type veth peer name taken1"), 0);
    struct nl_veth_spec spec = {.host_name = "newhost0", .container_name = "taken0", .mtu = 1450};
    struct weft_err err = {0};
    assert_int_equal(nl_veth_create(nl, &spec, &err), -1);
    assert_non_null(strstr(err.msg, "File exists"));
    assert_int_equal(err.code, -EEXIST);
    assert_null(strstr(look("ip link show"), "newhost0"));
    assert_int_equal(system("ip link del taken0"), 0);
}

static void batch_programs_many_entries_at_once(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct nl_vxlan_spec spec = {.name = "tvx0", .vni = 9, .dst_port = 4789, .mtu = 1450};
    spec.local = *V4("192.168.60.1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    int ifindex;
    assert_int_equal(nl_link_index(nl, "tvx0", &ifindex, &err), 0);
    assert_true(ifindex > 0);
    assert_int_equal(nl_batch_begin(nl), 0);
    assert_int_equal(nl_batch_begin(nl), -1); /* no nesting */
    for (int i = 0; i < 1000; i++) {
        uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x00, (uint8_t)(i >> 8), (uint8_t)i};
        uint32_t ip = htonl(0x0a000000u | (uint32_t)(i + 1));
        assert_int_equal(nl_fdb_add(nl, ifindex, mac, V4("192.168.60.2"), false, &err), 0);
        assert_int_equal(nl_neigh_add(nl, ifindex, ip, mac, &err), 0);
    }
    int mtu, again = 0;
    assert_int_equal(nl_link_get_mtu(nl, "tvx0", &mtu, &err), -1); /* no queries in a batch */
    assert_string_equal(err.msg, "netlink query inside a batch");
    assert_int_equal(err.code, -EBUSY);
    /* ...except the index, which the overlay code needs while it queues. */
    assert_int_equal(nl_link_index(nl, "tvx0", &again, &err), 0);
    assert_int_equal(again, ifindex);
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
    assert_int_equal(err.code, -ENODEV); /* the failed entry's own errno */
    const char *neigh = look("ip neigh show dev tvx0");
    assert_non_null(strstr(neigh, "10.1.0.1 "));
    assert_non_null(strstr(neigh, "10.1.0.3 "));
    /* Deletes of missing entries in a batch are not failures. */
    assert_int_equal(nl_batch_begin(nl), 0);
    nl_neigh_del(nl, ifindex, inet_addr("10.9.9.9"), &err);
    nl_fdb_del(nl, ifindex, mac, V4("192.168.60.9"), &err);
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_int_equal(nl_link_delete(nl, "tvx0", &err), 0);
}

static void bridge_and_vxlan_carry_their_attributes(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(nl_bridge_create(nl, "tbr1", 1400, &err), 0);
    int br;
    assert_int_equal(nl_link_index(nl, "tbr1", &br, &err), 0);
    assert_true(br > 0);
    const char *j = look("ip -d -j link show tbr1");
    assert_non_null(strstr(j, "\"mtu\":1400"));
    assert_non_null(strstr(j, "\"stp_state\":0"));
    assert_non_null(strstr(j, "\"forward_delay\":0"));

    struct nl_vxlan_spec spec = {
        .name = "tvx1", .vni = 4242, .dst_port = 4789, .mtu = 1400, .master_ifindex = br};
    spec.local = *V4("192.168.61.1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    j = look("ip -d -j link show tvx1");
    assert_non_null(strstr(j, "\"id\":4242"));
    assert_non_null(strstr(j, "\"local\":\"192.168.61.1\""));
    assert_non_null(strstr(j, "\"port\":4789"));
    assert_non_null(strstr(j, "\"learning\":false"));
    assert_non_null(strstr(j, "\"proxy\":true"));
    assert_non_null(strstr(j, "\"udp_csum\":true"));
    assert_non_null(strstr(j, "\"mtu\":1400"));
    assert_non_null(strstr(j, "\"master\":\"tbr1\""));
    const char *data = strstr(j, "\"info_data\"");
    assert_non_null(data);
    assert_null(strstr(data, "\"group\"")); /* no multicast group, no fixed remote */
    assert_null(strstr(data, "\"remote\""));

    uint32_t vni = 0;
    struct ip_addr local;
    assert_int_equal(nl_vxlan_get(nl, "tvx1", &vni, &local, &err), 0);
    assert_int_equal(vni, 4242);
    assert_true(ip_addr_equal(&local, V4("192.168.61.1")));
    int mtu = 0;
    assert_int_equal(nl_link_set_mtu(nl, "tvx1", 1300, &err), 0);
    assert_int_equal(nl_link_get_mtu(nl, "tvx1", &mtu, &err), 0);
    assert_int_equal(mtu, 1300);
    assert_int_equal(nl_link_set_master(nl, "tvx1", 0, &err), 0);
    assert_null(strstr(look("ip -d -j link show tvx1"), "\"master\""));

    assert_int_equal(nl_vxlan_create(nl, &spec, &err), -1);
    assert_string_equal(err.msg, "creating vxlan tvx1: File exists");
    assert_int_equal(err.code, -EEXIST);
    assert_int_equal(nl_vxlan_get(nl, "nosuch1", &vni, &local, &err), -1);
    assert_non_null(strstr(err.msg, "reading link nosuch1: No such device"));
    assert_int_equal(err.code, -ENODEV);
    assert_int_equal(nl_link_delete(nl, "tvx1", &err), 0);
    assert_int_equal(nl_link_delete(nl, "tbr1", &err), 0);
    assert_int_equal(nl_link_index(nl, "tbr1", &br, &err), 0);
    assert_int_equal(br, 0);
}

static void veth_pair_has_mtu_mac_master_and_host_end_up(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(nl_bridge_create(nl, "tbr2", 0, &err), 0);
    int br;
    assert_int_equal(nl_link_index(nl, "tbr2", &br, &err), 0);
    const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x63, 0x00, 0x07};
    struct nl_veth_spec spec = {.host_name = "th2",
                                .container_name = "tc2",
                                .container_mac = mac,
                                .mtu = 1450,
                                .master_ifindex = br};
    assert_int_equal(nl_veth_create(nl, &spec, &err), 0);
    const char *j = look("ip -j link show th2");
    assert_non_null(strstr(j, "\"mtu\":1450"));
    assert_non_null(strstr(j, "\"master\":\"tbr2\""));
    assert_non_null(strstr(j, ",\"UP\""));
    j = look("ip -j link show tc2");
    assert_non_null(strstr(j, "\"mtu\":1450"));
    assert_non_null(strstr(j, "\"address\":\"02:42:0a:63:00:07\""));
    assert_null(strstr(j, "\"master\""));
    /* Deleting one end takes the pair. */
    assert_int_equal(nl_link_delete(nl, "th2", &err), 0);
    assert_null(strstr(look("ip link show"), "tc2"));

    /* Inside a batch the host end is still brought up. */
    assert_int_equal(nl_batch_begin(nl), 0);
    assert_int_equal(nl_veth_create(nl, &spec, &err), 0);
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_non_null(strstr(look("ip -j link show th2"), ",\"UP\""));
    assert_int_equal(nl_link_delete(nl, "th2", &err), 0);
    assert_int_equal(nl_link_delete(nl, "tbr2", &err), 0);
}

struct seen_aliases {
    int count;
    char last[NL_ALIAS_MAX];
};

static void note_alias(void *ctx, const char *name, const char *alias)
{
    struct seen_aliases *seen = ctx;
    (void)name;
    seen->count++;
    snprintf(seen->last, sizeof(seen->last), "%s", alias);
}

/* The host end keeps its alias (set with "up", also inside a batch); the listing
 * finds it by name prefix and skips links of other names or without an alias. */
static void veth_alias_is_kept_and_listed(void **state)
{
    (void)state;
    struct weft_err err = {0};
    char long_alias[NL_ALIAS_MAX + 1];
    memset(long_alias, 'x', NL_ALIAS_MAX);
    long_alias[NL_ALIAS_MAX] = '\0';
    struct nl_veth_spec spec = {
        .host_name = "ta6", .container_name = "tb6", .host_alias = long_alias};
    assert_int_equal(nl_veth_create(nl, &spec, &err), -1);
    assert_non_null(strstr(err.msg, "alias"));
    assert_int_equal(err.code, -ERANGE);
    assert_null(strstr(look("ip link show"), "ta6"));
    spec.host_alias = "{\"endpoint_id\":\"e6\"}";
    assert_int_equal(nl_batch_begin(nl), 0);
    assert_int_equal(nl_veth_create(nl, &spec, &err), 0);
    assert_int_equal(nl_batch_end(nl, &err), 0);
    struct nl_veth_spec plain = {.host_name = "ta7", .container_name = "tb7"};
    assert_int_equal(nl_veth_create(nl, &plain, &err), 0);
    assert_int_equal(system("ip link set tb6 alias other-prefix"), 0);
    struct seen_aliases seen = {0};
    assert_int_equal(nl_link_aliases(nl, "ta", note_alias, &seen, &err), 0);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.last, "{\"endpoint_id\":\"e6\"}");
    assert_int_equal(nl_link_delete(nl, "ta6", &err), 0);
    assert_int_equal(nl_link_delete(nl, "ta7", &err), 0);
    seen.count = 0;
    assert_int_equal(nl_link_aliases(nl, "ta", note_alias, &seen, &err), 0);
    assert_int_equal(seen.count, 0);
}

static void failed_veth_with_a_bad_container_name_leaves_nothing(void **state)
{
    (void)state;
    struct nl_veth_spec spec = {
        .host_name = "newhost1", .container_name = "container-name-too-long", .mtu = 1450};
    struct weft_err err = {0};
    assert_int_equal(nl_veth_create(nl, &spec, &err), -1);
    assert_string_equal(err.msg,
                        "interface name \"container-name-too-long\" must have 1 to 15 characters");
    assert_int_equal(err.code, -EINVAL);
    const char *links = look("ip link show");
    assert_null(strstr(links, "newhost1"));
    assert_null(strstr(links, "container-name"));
    /* A master that does not exist fails the whole pair too. */
    spec.container_name = "newctr1";
    spec.master_ifindex = 999999;
    assert_int_equal(nl_veth_create(nl, &spec, &err), -1);
    links = look("ip link show");
    assert_null(strstr(links, "newhost1"));
    assert_null(strstr(links, "newctr1"));
}

static void fdb_and_neighbour_add_replace_delete(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct nl_vxlan_spec spec = {.name = "tvx3", .vni = 3, .dst_port = 4789, .mtu = 1450};
    spec.local = *V4("192.168.62.1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    int vx;
    assert_int_equal(nl_link_index(nl, "tvx3", &vx, &err), 0);
    const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x01, 0x02, 0x03};
    const uint8_t zero[6] = {0};
    const struct ip_addr *b = V4("192.168.62.2"), *c = V4("192.168.62.3");

    /* Replace: the MAC moves from b to c, one entry. */
    assert_int_equal(nl_fdb_add(nl, vx, mac, b, false, &err), 0);
    assert_int_equal(nl_fdb_add(nl, vx, mac, c, false, &err), 0);
    const char *fdb = look("bridge fdb show dev tvx3");
    assert_int_equal(count_lines(fdb, "02:42:0a:01:02:03 dst"), 1);
    assert_non_null(strstr(fdb, "02:42:0a:01:02:03 dst 192.168.62.3 self permanent"));

    /* Append: flooding entries for two VTEPs sit side by side; appending again is fine. */
    assert_int_equal(nl_fdb_add(nl, vx, zero, b, true, &err), 0);
    assert_int_equal(nl_fdb_add(nl, vx, zero, c, true, &err), 0);
    assert_int_equal(nl_fdb_add(nl, vx, zero, c, true, &err), 0);
    fdb = look("bridge fdb show dev tvx3");
    assert_int_equal(count_lines(fdb, "00:00:00:00:00:00 dst"), 2);
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.62.2 self permanent"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.62.3 self permanent"));

    /* Neighbour: add, replace with another MAC, delete, delete again. */
    const uint8_t mac2[6] = {0x02, 0x42, 0x0a, 0x01, 0x02, 0x04};
    uint32_t ip = inet_addr("10.98.0.9");
    assert_int_equal(nl_neigh_add(nl, vx, ip, mac, &err), 0);
    assert_int_equal(nl_neigh_add(nl, vx, ip, mac2, &err), 0);
    const char *neigh = look("ip neigh show dev tvx3");
    assert_non_null(strstr(neigh, "10.98.0.9 lladdr 02:42:0a:01:02:04 PERMANENT"));
    assert_int_equal(count_lines(neigh, "10.98.0.9 "), 1);
    assert_int_equal(nl_neigh_del(nl, vx, ip, &err), 0);
    assert_int_equal(nl_neigh_del(nl, vx, ip, &err), 0);
    assert_null(strstr(look("ip neigh show dev tvx3"), "10.98.0.9 "));

    assert_int_equal(nl_fdb_del(nl, vx, zero, b, &err), 0);
    assert_int_equal(nl_fdb_del(nl, vx, zero, b, &err), 0);
    assert_int_equal(nl_fdb_del(nl, vx, mac, c, &err), 0);
    fdb = look("bridge fdb show dev tvx3");
    assert_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.62.2"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.62.3"));
    assert_null(strstr(fdb, "02:42:0a:01:02:03"));
    assert_int_equal(nl_bridge_fdb_del(nl, vx, mac, &err), 0); /* no bridge port: fine */

    /* Errors name the entry; removing from a device that is gone is done. */
    assert_int_equal(nl_neigh_add(nl, 999999, ip, mac, &err), -1);
    assert_non_null(strstr(err.msg, "adding neighbour 10.98.0.9: No such device"));
    assert_int_equal(nl_neigh_del(nl, 999999, ip, &err), 0);
    assert_int_equal(nl_fdb_del(nl, 999999, mac, b, &err), 0);
    assert_int_equal(nl_link_delete(nl, "tvx3", &err), 0);
}

/* The socket belongs to the namespace it was opened in: lookups answer from there
 * even while the calling thread sits in another one. */
static void lookups_follow_the_socket_namespace(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(nl_bridge_create(nl, "tbr4", 0, &err), 0);
    int other = new_netns();
    assert_true(other >= 0);
    int home = netns_visit(other);
    assert_true(home >= 0);
    int ifindex = 0, mtu = 0;
    int rc_index = nl_link_index(nl, "tbr4", &ifindex, &err);
    int rc_mtu = nl_link_get_mtu(nl, "tbr4", &mtu, &err);
    assert_int_equal(netns_return(home), 0);
    close(other);
    assert_int_equal(rc_index, 0);
    assert_true(ifindex > 0);
    assert_int_equal(rc_mtu, 0);
    assert_int_equal(mtu, 1500);
    assert_int_equal(nl_link_delete(nl, "tbr4", &err), 0);
}

/* A service port's on-link route to an extra subnet (issue 12): the kernel holds it
 * out of that link with scope link and no gateway; a second one is refused by name. */
static void onlink_route_goes_out_of_its_link(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(nl_bridge_create(nl, "tbr7", 0, &err), 0);
    assert_int_equal(nl_link_set_up(nl, "tbr7", &err), 0);
    assert_int_equal(nl_addr_add(nl, "tbr7", inet_addr("10.77.0.1"), 24, &err), 0);
    assert_int_equal(nl_route_add_onlink(nl, "tbr7", inet_addr("10.77.1.0"), 24, &err), 0);
    const char *routes = look("ip -4 route show dev tbr7 proto static");
    assert_non_null(strstr(routes, "10.77.1.0/24 scope link"));
    assert_null(strstr(routes, " via "));
    assert_int_equal(nl_route_add_onlink(nl, "tbr7", inet_addr("10.77.1.0"), 24, &err), -1);
    assert_string_equal(err.msg, "adding a route to 10.77.1.0/24 on tbr7: File exists");
    assert_int_equal(err.code, -EEXIST);
    assert_int_equal(nl_route_add_onlink(nl, "nosuch0", inet_addr("10.77.2.0"), 24, &err), -1);
    assert_int_equal(err.code, -ENODEV);
    assert_int_equal(nl_link_delete(nl, "tbr7", &err), 0);
    assert_null(strstr(look("ip -4 route show"), "10.77.1.0/24"));
}

static void batches_larger_than_one_send(void **state)
{
    (void)state;
    struct weft_err err = {0};
    struct nl_vxlan_spec spec = {.name = "tvx5", .vni = 5, .dst_port = 4789, .mtu = 1450};
    spec.local = *V4("192.168.63.1");
    assert_int_equal(nl_vxlan_create(nl, &spec, &err), 0);
    int vx;
    assert_int_equal(nl_link_index(nl, "tvx5", &vx, &err), 0);
    /* 12000 requests: several flushes, by count and by size. */
    assert_int_equal(nl_batch_begin(nl), 0);
    for (int i = 0; i < 6000; i++) {
        uint8_t mac[6] = {0x02, 0x42, 0x0c, 0x00, (uint8_t)(i >> 8), (uint8_t)i};
        uint32_t ip = htonl(0x0a0c0000u | (uint32_t)(i + 1));
        nl_fdb_add(nl, vx, mac, V4("192.168.63.2"), false, &err);
        nl_neigh_add(nl, vx, ip, mac, &err);
    }
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_int_equal(count_lines(look("bridge fdb show dev tvx5"), "dst 192.168.63.2"), 6000);
    assert_int_equal(count_lines(look("ip neigh show dev tvx5"), "PERMANENT"), 6000);
    /* Then plain requests still get their own answers. */
    int mtu;
    assert_int_equal(nl_link_get_mtu(nl, "tvx5", &mtu, &err), 0);
    assert_int_equal(mtu, 1450);
    assert_int_equal(nl_batch_end(nl, &err), -1); /* none open */
    assert_int_equal(nl_link_delete(nl, "tvx5", &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_default_route_is_reported),
        cmocka_unit_test(default_route_gives_the_advertise_address),
        cmocka_unit_test(ipv6_default_route_gives_the_advertise_address),
        cmocka_unit_test(vxlan_over_ipv6_takes_ipv6_vteps),
        cmocka_unit_test(kernel_errors_name_the_change),
        cmocka_unit_test(failed_veth_leaves_nothing),
        cmocka_unit_test(batch_programs_many_entries_at_once),
        cmocka_unit_test(bridge_and_vxlan_carry_their_attributes),
        cmocka_unit_test(veth_pair_has_mtu_mac_master_and_host_end_up),
        cmocka_unit_test(veth_alias_is_kept_and_listed),
        cmocka_unit_test(failed_veth_with_a_bad_container_name_leaves_nothing),
        cmocka_unit_test(fdb_and_neighbour_add_replace_delete),
        cmocka_unit_test(lookups_follow_the_socket_namespace),
        cmocka_unit_test(batches_larger_than_one_send),
        cmocka_unit_test(onlink_route_goes_out_of_its_link),
    };
    return netns_run_group(tests, setup, teardown);
}
