/*
 * test_overlay.c: overlay devices, endpoint veths and peer entries as the
 * kernel shows them. Runs in a private network namespace (unshare), so it
 * touches nothing on the host and leaves nothing behind. Needs root.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_look.h"

#include "vxlan/overlay.h"

static struct nl *nl;
static uint32_t vtep_local, vtep_b, vtep_c;
static const uint8_t mac_a[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
static const uint8_t mac_b[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x06};

static int setup(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNET) < 0) {
        fprintf(stderr, "unshare(CLONE_NEWNET) failed: run as root\n");
        return -1;
    }
    if (system("ip link set lo up && ip link add und0 type veth peer name und1 && "
               "ip addr add 192.168.200.1/24 dev und0 && ip link set und0 up && ip link set und1 "
               "up") != 0)
        return -1;
    vtep_local = inet_addr("192.168.200.1");
    vtep_b = inet_addr("192.168.200.2");
    vtep_c = inet_addr("192.168.200.3");
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
    struct overlay_devices dev;
    struct weft_err err = {""};
    assert_int_equal(overlay_ensure(nl, 42, vtep_local, 1450, &dev, &err), 0);
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
    struct overlay_devices first, second;
    struct weft_err err;
    assert_int_equal(overlay_ensure(nl, 43, vtep_local, 1450, &first, &err), 0);
    assert_int_equal(overlay_ensure(nl, 43, vtep_local, 1450, &second, &err), 0);
    assert_int_equal(first.bridge_ifindex, second.bridge_ifindex);
    assert_int_equal(first.vxlan_ifindex, second.vxlan_ifindex);
    assert_int_equal(overlay_remove(nl, 43, &err), 0);
}

static void ensure_refuses_a_device_with_another_vni(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add wvx44 type vxlan id 99 dstport 4789 local 192.168.200.1"),
                     0);
    struct overlay_devices dev;
    struct weft_err err = {""};
    assert_int_equal(overlay_ensure(nl, 44, vtep_local, 1450, &dev, &err), -1);
    assert_non_null(strstr(err.msg, "VNI 99"));
    /* What this call created (the bridge) is gone again; the foreign device stays. */
    assert_null(strstr(look("ip link show"), "wbr44"));
    assert_non_null(strstr(look("ip link show"), "wvx44"));
    assert_int_equal(system("ip link del wvx44"), 0);
}

static void endpoint_veth_carries_mac_mtu_and_master(void **state)
{
    (void)state;
    struct weft_err err = {""};
    const char *id = "0123456789abcdef0123";
    assert_int_equal(overlay_endpoint_create(nl, 42, id, mac_a, 1450, &err), 0);
    const char *peer = look("ip link show wc0123456789");
    assert_non_null(strstr(peer, "02:42:0a:4d:00:05"));
    assert_non_null(strstr(peer, "mtu 1450"));
    const char *host = look("ip link show wh0123456789");
    assert_non_null(strstr(host, "master wbr42"));
    assert_non_null(strstr(host, "mtu 1450"));
    /* Creating it again (a retried request) replaces the pair. */
    assert_int_equal(overlay_endpoint_create(nl, 42, id, mac_a, 1450, &err), 0);
    assert_int_equal(overlay_endpoint_delete(nl, id, &err), 0);
    assert_null(strstr(look("ip link show"), "wh0123456789"));
    assert_null(strstr(look("ip link show"), "wc0123456789"));
    assert_int_equal(overlay_endpoint_delete(nl, id, &err), 0); /* gone is fine */
}

static void endpoint_needs_the_overlay(void **state)
{
    (void)state;
    struct weft_err err = {""};
    assert_int_equal(overlay_endpoint_create(nl, 777, "abcdef", mac_a, 1450, &err), -1);
    assert_non_null(strstr(err.msg, "wbr777"));
}

static void peers_and_flooding_entries(void **state)
{
    (void)state;
    struct overlay_devices dev;
    struct weft_err err = {""};
    assert_int_equal(overlay_ensure(nl, 42, vtep_local, 1450, &dev, &err), 0);
    int vx = dev.vxlan_ifindex;
    assert_int_equal(overlay_peer_add(nl, vx, inet_addr("10.77.0.5"), mac_a, vtep_b, &err), 0);
    assert_int_equal(overlay_peer_add(nl, vx, inet_addr("10.77.0.6"), mac_b, vtep_c, &err), 0);
    assert_int_equal(overlay_flood_add(nl, vx, vtep_b, &err), 0);
    assert_int_equal(overlay_flood_add(nl, vx, vtep_c, &err), 0);
    const char *fdb = look("bridge fdb show dev wvx42");
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.2 self permanent"));
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:06 dst 192.168.200.3 self permanent"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.2 self permanent"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.3 self permanent"));
    const char *neigh = look("ip neigh show dev wvx42");
    assert_non_null(strstr(neigh, "10.77.0.5 lladdr 02:42:0a:4d:00:05 PERMANENT"));
    /* A peer that moved to another host: adding again replaces, no duplicate. */
    assert_int_equal(overlay_peer_add(nl, vx, inet_addr("10.77.0.5"), mac_a, vtep_c, &err), 0);
    fdb = look("bridge fdb show dev wvx42");
    assert_non_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.3"));
    assert_null(strstr(fdb, "02:42:0a:4d:00:05 dst 192.168.200.2"));
    assert_int_equal(overlay_peer_del(nl, vx, inet_addr("10.77.0.5"), mac_a, vtep_c, &err), 0);
    assert_int_equal(overlay_flood_del(nl, vx, vtep_b, &err), 0);
    fdb = look("bridge fdb show dev wvx42");
    assert_null(strstr(fdb, "02:42:0a:4d:00:05"));
    assert_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.2"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst 192.168.200.3"));
    assert_null(strstr(look("ip neigh show dev wvx42"), "10.77.0.5 "));
    /* Withdrawing twice is not an error (a repeated watch event). */
    assert_int_equal(overlay_peer_del(nl, vx, inet_addr("10.77.0.5"), mac_a, vtep_c, &err), 0);
}

static void remove_takes_both_devices(void **state)
{
    (void)state;
    struct weft_err err;
    assert_int_equal(overlay_remove(nl, 42, &err), 0);
    const char *links = look("ip link show");
    assert_null(strstr(links, "wbr42"));
    assert_null(strstr(links, "wvx42"));
    assert_int_equal(overlay_remove(nl, 42, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ensure_creates_bridge_and_vxlan),
        cmocka_unit_test(ensure_adopts_existing_devices),
        cmocka_unit_test(ensure_refuses_a_device_with_another_vni),
        cmocka_unit_test(endpoint_veth_carries_mac_mtu_and_master),
        cmocka_unit_test(endpoint_needs_the_overlay),
        cmocka_unit_test(peers_and_flooding_entries),
        cmocka_unit_test(remove_takes_both_devices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
