/*
 * test_overlay.c: overlay devices, endpoint veths and peer entries as the
 * kernel shows them. Runs in a private network namespace (netns_fixture.h), so
 * it touches nothing on the host and leaves nothing behind; skipped without
 * CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include "overlay_sides.h"

#include "vxlan/segment.h"
#include "vxlan/remote_sweep.h"

static struct nl *nl;
static struct ip_addr vtep_local, vtep_b, vtep_c;
static const uint8_t mac_a[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
static const uint8_t mac_b[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x06};

static int setup(void **state)
{
    (void)state;
    if (netns_private() < 0)
        return -1;
    if (system("ip link add und0 type veth peer name und1 && "
               "ip addr add 192.168.200.1/24 dev und0 && ip link set und0 up && ip link set und1 "
               "up") != 0)
        return -1;
    vtep_local = vtep_parse("192.168.200.1");
    vtep_b = vtep_parse("192.168.200.2");
    vtep_c = vtep_parse("192.168.200.3");
    struct weft_err err;
    return nl_open(&nl, &err);
}

static int teardown(void **state)
{
    (void)state;
    nl_close(nl);
    return 0;
}

static void ensure_creates_bridge_and_vxlan(void **state)
{
    (void)state;
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 42, &vtep_local, 1450, &dev, &err), 0);
    assert_string_equal(dev.bridge, "wbr42");
    assert_string_equal(dev.vxlan, "wvx42");
    assert_true(dev.bridge_ifindex > 0 && dev.vxlan_ifindex > 0);
    const char *vx = look("ip -d link show wvx42");
    assert_non_null(strstr(vx, "vxlan id 42 "));
    assert_non_null(strstr(vx, "local 192.168.200.1"));
    assert_non_null(strstr(vx, "dstport 4789"));
    assert_non_null(strstr(vx, "nolearning"));
    assert_non_null(strstr(vx, "proxy"));
    assert_non_null(strstr(vx, "mtu 1450"));
    assert_non_null(strstr(vx, "master wbr42"));
    assert_non_null(strstr(vx, ",UP"));
    const char *br = look("ip -d link show wbr42");
    assert_non_null(strstr(br, "bridge forward_delay 0"));
    assert_non_null(strstr(br, "stp_state 0"));
}

static void ensure_adopts_existing_devices(void **state)
{
    (void)state;
    struct segment_devices first, second;
    struct weft_err err;
    assert_int_equal(segment_ensure(nl, 43, &vtep_local, 1450, &first, &err), 0);
    assert_int_equal(segment_ensure(nl, 43, &vtep_local, 1450, &second, &err), 0);
    assert_int_equal(first.bridge_ifindex, second.bridge_ifindex);
    assert_int_equal(first.vxlan_ifindex, second.vxlan_ifindex);
    assert_int_equal(segment_remove(nl, 43, &vtep_local, 1450, &first, &err), 0);
}

static void ensure_refuses_a_device_with_another_vni(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add wvx44 type vxlan id 99 dstport 4789 local 192.168.200.1"),
                     0);
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 44, &vtep_local, 1450, &dev, &err), -1);
    assert_non_null(strstr(err.msg, "VNI 99"));
    /* What this call created (the bridge) is gone again; the foreign device stays. */
    assert_null(strstr(look("ip link show"), "wbr44"));
    assert_non_null(strstr(look("ip link show"), "wvx44"));
    assert_int_equal(system("ip link del wvx44"), 0);
}

static void ensure_rebuilds_the_vxlan_when_the_host_address_changed(void **state)
{
    (void)state;
    struct segment_devices first, second;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 45, &vtep_local, 1450, &first, &err), 0);
    assert_int_equal(segment_ensure(nl, 45, &vtep_b, 1400, &second, &err), 0);
    assert_int_equal(first.bridge_ifindex, second.bridge_ifindex);
    const char *vx = look("ip -d link show wvx45");
    assert_non_null(strstr(vx, "local 192.168.200.2"));
    assert_non_null(strstr(vx, "mtu 1400"));
    assert_non_null(strstr(vx, "master wbr45"));
    assert_non_null(strstr(look("ip link show wbr45"), "mtu 1400"));
    assert_int_equal(segment_remove(nl, 45, &vtep_b, 1400, &second, &err), 0);
}

static void endpoint_veth_carries_mac_mtu_and_master(void **state)
{
    (void)state;
    struct weft_err err = {0};
    const char *id = "0123456789abcdef0123";
    assert_int_equal(segment_endpoint_create(nl, 42, id, mac_a, 1450, NULL, &err), 0);
    const char *peer = look("ip link show wc0123456789");
    assert_non_null(strstr(peer, "02:42:0a:4d:00:05"));
    assert_non_null(strstr(peer, "mtu 1450"));
    const char *host = look("ip link show wh0123456789");
    assert_non_null(strstr(host, "master wbr42"));
    assert_non_null(strstr(host, "mtu 1450"));
    /* Creating it again (a retried request) replaces the pair, and keeps an alias. */
    assert_int_equal(segment_endpoint_create(nl, 42, id, mac_a, 1450, "weft test alias", &err), 0);
    assert_non_null(strstr(look("ip link show wh0123456789"), "alias weft test alias"));
    assert_int_equal(segment_endpoint_delete(nl, "wh0123456789", &err), 0);
    assert_null(strstr(look("ip link show"), "wh0123456789"));
    assert_null(strstr(look("ip link show"), "wc0123456789"));
    assert_int_equal(segment_endpoint_delete(nl, "wh0123456789", &err), 0); /* gone is fine */
}

/* A spare sits on the bridge down and marked; taking it sets the peer's MAC, the
 * host end's alias and "up" without renaming; leftovers are found and removed. */
static void spares_are_taken_without_a_rename(void **state)
{
    (void)state;
    struct weft_err err = {0};
    char spare[IF_NAMESIZE], other[IF_NAMESIZE], peer[IF_NAMESIZE];
    assert_int_equal(segment_spare_create(nl, 42, 7, 1450, spare, &err), 0);
    assert_string_equal(spare, "ws7");
    segment_ctr_name(spare, peer);
    assert_string_equal(peer, "wt7");
    const char *host = look("ip link show ws7");
    assert_non_null(strstr(host, "master wbr42"));
    assert_non_null(strstr(host, "mtu 1450"));
    assert_non_null(strstr(host, "alias " SEGMENT_SPARE_ALIAS));
    assert_null(strstr(host, ",UP"));
    assert_int_equal(segment_spare_take(nl, spare, mac_a, "taken", &err), 0);
    host = look("ip link show ws7");
    assert_non_null(strstr(host, ",UP"));
    assert_non_null(strstr(host, "alias taken"));
    assert_non_null(strstr(look("ip link show wt7"), "02:42:0a:4d:00:05"));
    /* Two more spares; the cleanup takes those and leaves the taken one. */
    assert_int_equal(segment_spare_create(nl, 42, 8, 1450, other, &err), 0);
    assert_int_equal(segment_spare_create(nl, 42, 9, 1450, other, &err), 0);
    segment_spares_delete_all(nl);
    const char *links = look("ip link show");
    assert_null(strstr(links, "ws8"));
    assert_null(strstr(links, "wt9"));
    assert_non_null(strstr(links, "ws7"));
    assert_int_equal(segment_endpoint_delete(nl, spare, &err), 0);
    assert_null(strstr(look("ip link show"), "wt7"));
    /* No overlay, no spare. */
    assert_int_equal(segment_spare_create(nl, 777, 10, 1450, other, &err), -1);
    assert_non_null(strstr(err.msg, "wbr777"));
}

/* A taken spare is a spare again once its container end is back (Docker's Leave
 * renames it and moves it out of the container): down on both ends, marked. While that
 * end is in a container it cannot be, and the caller deletes the pair. */
static void a_taken_spare_returns_once_its_container_end_is_back(void **state)
{
    (void)state;
    struct weft_err err = {0};
    char spare[IF_NAMESIZE];
    assert_int_equal(segment_spare_create(nl, 42, 11, 1450, spare, &err), 0);
    assert_int_equal(segment_spare_take(nl, spare, mac_a, "taken", &err), 0);
    /* Join: Docker moves the end into the container, names it eth0, sets it up. */
    int ctr = new_netns(), home = open("/proc/self/ns/net", O_RDONLY); /* ip reads home's fd */
    assert_true(ctr >= 0 && home >= 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ip link set wt11 netns /proc/self/fd/%d", ctr);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(in_ns(ctr, "ip link set wt11 name eth0 && ip link set eth0 up"), 0);
    assert_int_equal(segment_spare_return(nl, spare, &err), -1);
    assert_int_equal(err.code, -ENODEV);
    /* Leave: down, its name again, back out. */
    assert_int_equal(in_ns(ctr, "ip link set eth0 down && ip link set eth0 name wt11 && "
                                "ip link set wt11 netns /proc/self/fd/%d",
                           home),
                     0);
    assert_int_equal(segment_spare_return(nl, spare, &err), 0);
    const char *host = look("ip link show ws11");
    assert_null(strstr(host, ",UP"));
    assert_non_null(strstr(host, "alias " SEGMENT_SPARE_ALIAS));
    assert_non_null(strstr(host, "master wbr42"));
    assert_null(strstr(look("ip link show wt11"), ",UP"));
    /* A restarted daemon's sweep counts it among the spares. */
    segment_spares_delete_all(nl);
    assert_null(strstr(look("ip link show"), "ws11"));
    close(ctr);
    close(home);
}

static void endpoint_needs_the_overlay(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(segment_endpoint_create(nl, 777, "abcdef", mac_a, 1450, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "wbr777"));
}

static void peers_and_flooding_entries(void **state)
{
    (void)state;
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 42, &vtep_local, 1450, &dev, &err), 0);
    int vx = dev.vxlan_ifindex;
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.77.0.5"), mac_a, &vtep_b, &err), 0);
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.77.0.6"), mac_b, &vtep_c, &err), 0);
    assert_int_equal(segment_flood_add(nl, vx, &vtep_b, &err), 0);
    assert_int_equal(segment_flood_add(nl, vx, &vtep_c, &err), 0);
    const char *fdb = look("bridge fdb show dev wvx42");
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.2 self permanent"));
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:06 dst 192.168.200.3 self permanent"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.2 self permanent"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.3 self permanent"));
    const char *neigh = look("ip neigh show dev wvx42");
    assert_non_null(strstr(neigh, "10.77.0.5 lladdr 02:42:0a:4d:00:05 PERMANENT"));
    /* A peer that moved to another host: adding again replaces, no duplicate. */
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.77.0.5"), mac_a, &vtep_c, &err), 0);
    fdb = look("bridge fdb show dev wvx42");
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.3"));
    assert_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.2"));
    assert_int_equal(segment_peer_del(nl, vx, inet_addr("10.77.0.5"), mac_a, &vtep_c, &err), 0);
    assert_int_equal(segment_flood_del(nl, vx, &vtep_b, &err), 0);
    fdb = look("bridge fdb show dev wvx42");
    assert_null(strstr(fdb, "02:42:0a:4d:00:05"));
    assert_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.2"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.3"));
    assert_null(strstr(look("ip neigh show dev wvx42"), "10.77.0.5 "));
    /* Withdrawing twice is not an error (a repeated watch event). */
    assert_int_equal(segment_peer_del(nl, vx, inet_addr("10.77.0.5"), mac_a, &vtep_c, &err), 0);
}

/* The sweep's caller claims peer 10.77.0.5 and flooding towards vtep_c. */
static bool claim_peer(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ctx;
    return ip == inet_addr("10.77.0.5") && memcmp(mac, mac_a, 6) == 0;
}

static bool claim_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep)
{
    (void)ctx;
    return memcmp(mac, mac_a, 6) == 0 && ip_addr_equal(vtep, &vtep_b);
}

static bool claim_flood(void *ctx, const struct ip_addr *vtep)
{
    (void)ctx;
    return ip_addr_equal(vtep, &vtep_c);
}

static void sweep_removes_only_unclaimed_entries(void **state)
{
    (void)state;
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 43, &vtep_local, 1450, &dev, &err), 0);
    int vx = dev.vxlan_ifindex;
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.78.0.5"), mac_a, &vtep_b, &err), 0);
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.78.0.6"), mac_b, &vtep_c, &err), 0);
    assert_int_equal(segment_flood_add(nl, vx, &vtep_b, &err), 0);
    assert_int_equal(segment_flood_add(nl, vx, &vtep_c, &err), 0);
    const char *before_other = strdup(look("bridge fdb show dev wvx42; ip neigh show dev wvx42"));
    /* 10.78.0.5 is not claimed (only 10.77.0.5 is), though its fdb entry is. */
    const struct segment_sweep_target at = segment_sweep_vxlan(vx);
    struct segment_remote_keep keep = {
        .peer = claim_peer, .fdb = claim_fdb, .flood = claim_flood, .ctx = NULL};
    size_t removed = 0;
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 4); /* two neighbours, mac_b's fdb entry, flooding to vtep_b */
    const char *fdb = look("bridge fdb show dev wvx43");
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.2 self permanent"));
    assert_null(strstr(fdb, "02:42:0a:4d:00:06"));
    assert_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.2"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.3 self permanent"));
    assert_null(strstr(look("ip neigh show dev wvx43"), "10.78.0."));
    /* Another overlay's device is not touched. */
    assert_string_equal(look("bridge fdb show dev wvx42; ip neigh show dev wvx42"), before_other);
    free((void *)before_other);
    /* Nothing left to remove: a second sweep removes nothing. */
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(segment_remove(nl, 43, &vtep_local, 1450, &dev, &err), 0);
}

static void remove_takes_both_devices(void **state)
{
    (void)state;
    struct weft_err err;
    struct segment_devices dev;
    assert_int_equal(segment_remove(nl, 42, &vtep_local, 1450, &dev, &err), 0);
    const char *links = look("ip link show");
    assert_null(strstr(links, "wbr42"));
    assert_null(strstr(links, "wvx42"));
    assert_int_equal(segment_remove(nl, 42, &vtep_local, 1450, &dev, &err), 0);
}

/* ---------- the data path across two hosts ---------- */

static void containers_on_two_hosts_talk_over_vxlan(void **state)
{
    (void)state;
    struct side a = {.underlay = "ula",
                     .vtep = "192.168.200.1",
                     .ip = "10.99.0.1",
                     .endpoint_id = "aaaaaaaaaaaa0001",
                     .mac = {0x02, 0x42, 0x0a, 0x63, 0, 1}};
    struct side b = {.underlay = "ulb",
                     .vtep = "192.168.200.2",
                     .ip = "10.99.0.2",
                     .endpoint_id = "bbbbbbbbbbbb0002",
                     .mac = {0x02, 0x42, 0x0a, 0x63, 0, 2}};
    sides_open(&a, &b);
    side_up(&a, 4242);
    side_up(&b, 4242);
    assert_true(pings(a.host_ns, "", b.vtep));

    struct weft_err err = {0};
    /* Flooding entries alone carry unknown unicast: with the neighbours pinned in
     * the containers (vxlan proxy ARP has no entries yet), the ping crosses. */
    assert_int_equal(segment_flood_add(a.nl, a.dev.vxlan_ifindex, VTEP_OF(b.vtep), &err), 0);
    assert_int_equal(segment_flood_add(b.nl, b.dev.vxlan_ifindex, VTEP_OF(a.vtep), &err), 0);
    assert_int_equal(in_ns(a.ctr_ns, "ip neigh replace %s lladdr 02:42:0a:63:00:02 dev eth0", b.ip),
                     0);
    assert_int_equal(in_ns(b.ctr_ns, "ip neigh replace %s lladdr 02:42:0a:63:00:01 dev eth0", a.ip),
                     0);
    assert_true(pings(a.ctr_ns, "", b.ip));

    /* Peer entries: ARP answered by the local vxlan device, frames sent straight to the VTEP. */
    assert_int_equal(in_ns(a.ctr_ns, "ip neigh flush dev eth0"), 0);
    assert_int_equal(in_ns(b.ctr_ns, "ip neigh flush dev eth0"), 0);
    assert_int_equal(
        segment_peer_add(a.nl, a.dev.vxlan_ifindex, inet_addr(b.ip), b.mac, VTEP_OF(b.vtep), &err),
        0);
    assert_int_equal(
        segment_peer_add(b.nl, b.dev.vxlan_ifindex, inet_addr(a.ip), a.mac, VTEP_OF(a.vtep), &err),
        0);
    assert_true(pings(a.ctr_ns, "", b.ip));
    assert_true(pings(b.ctr_ns, "", a.ip));
    /* The full MTU (1450: 1422 bytes of ICMP data) crosses unfragmented; one more does not fit. */
    assert_true(pings(a.ctr_ns, "-M do -s 1422", b.ip));
    assert_int_not_equal(
        in_ns(a.ctr_ns, "ping -n -q -c 1 -W 1 -M do -s 1423 %s >/dev/null 2>&1", b.ip), 0);
    /* The packets went through the tunnel. */
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "ip -s -j link show %s", a.dev.vxlan);
    int home = netns_visit(a.host_ns);
    assert_true(home >= 0);
    const char *stats = look(cmd);
    assert_int_equal(netns_return(home), 0);
    assert_non_null(strstr(stats, "\"tx\":{\"bytes\":"));
    assert_null(strstr(stats, "\"tx\":{\"bytes\":0,"));

    /* Withdrawn peer and flood entries: the containers no longer reach each other. */
    assert_int_equal(
        segment_peer_del(a.nl, a.dev.vxlan_ifindex, inet_addr(b.ip), b.mac, VTEP_OF(b.vtep), &err),
        0);
    assert_int_equal(segment_flood_del(a.nl, a.dev.vxlan_ifindex, VTEP_OF(b.vtep), &err), 0);
    assert_int_equal(in_ns(a.ctr_ns, "ip neigh flush dev eth0"), 0);
    assert_int_not_equal(in_ns(a.ctr_ns, "ping -n -q -c 1 -W 1 %s >/dev/null 2>&1", b.ip), 0);

    sides_close(&a, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ensure_creates_bridge_and_vxlan),
        cmocka_unit_test(ensure_adopts_existing_devices),
        cmocka_unit_test(ensure_refuses_a_device_with_another_vni),
        cmocka_unit_test(ensure_rebuilds_the_vxlan_when_the_host_address_changed),
        cmocka_unit_test(endpoint_veth_carries_mac_mtu_and_master),
        cmocka_unit_test(spares_are_taken_without_a_rename),
        cmocka_unit_test(a_taken_spare_returns_once_its_container_end_is_back),
        cmocka_unit_test(endpoint_needs_the_overlay),
        cmocka_unit_test(peers_and_flooding_entries),
        cmocka_unit_test(sweep_removes_only_unclaimed_entries),
        cmocka_unit_test(remove_takes_both_devices),
        cmocka_unit_test(containers_on_two_hosts_talk_over_vxlan),
    };
    return netns_run_group(tests, setup, teardown);
}
