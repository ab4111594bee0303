/*
 * test_underlay6.c: VXLAN over an IPv6-only underlay (issue 12). Two "hosts"
 * joined by a veth that carries only IPv6 (no IPv4 address on either end), segments
 * with IPv6 VTEPs, and two "containers" that ping each other across, at the full
 * overlay MTU of an IPv6 underlay (1500 - 70). Runs in private network namespaces
 * (netns_fixture.h), touching nothing on the host; skipped without CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
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

#include "vxlan/remote_sweep.h"
#include "vxlan/segment.h"

static int setup(void **state)
{
    (void)state;
    return netns_private();
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

/* What a command run in namespace ns prints (look() there). */
static const char *look_in(int ns, const char *cmd)
{
    int home = netns_visit(ns);
    assert_true(home >= 0);
    const char *out = look(cmd);
    assert_int_equal(netns_return(home), 0);
    return out;
}

static char capture_file[64], capture_log[64];

/* Captures everything on dev in ns (timeout(1) bounds tcpdump) while ctr_ns pings ip
 * a few times, and returns once the capture has ended. */
static void capture_underlay(int ns, const char *dev, int ctr_ns, const char *ip)
{
    snprintf(capture_file, sizeof(capture_file), "/tmp/weft-underlay6-%d.pcap", (int)getpid());
    snprintf(capture_log, sizeof(capture_log), "/tmp/weft-underlay6-%d.log", (int)getpid());
    assert_int_equal(in_ns(ns, "timeout 4 tcpdump -Z root -n -U -i %s -w %s >%s 2>&1 &", dev,
                           capture_file, capture_log),
                     0);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "cat %s", capture_log);
    for (int i = 0; i < 50 && !strstr(look(cmd), "listening on"); i++)
        usleep(100 * 1000);
    assert_int_equal(in_ns(ctr_ns, "ping -n -q -c 3 -i 0.2 -W 1 %s >/dev/null 2>&1", ip), 0);
    for (int i = 0; i < 80 && !strstr(look(cmd), "packets captured"); i++)
        usleep(100 * 1000);
    assert_non_null(strstr(look(cmd), "packets captured"));
}

/* How many packets of the capture match filter. */
static int captured(const char *filter)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "tcpdump -n -r %s '%s' 2>/dev/null | grep -c '^[0-9]'", capture_file,
             filter);
    return atoi(look(cmd));
}

static bool keep_nothing_peer(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ctx, (void)ip, (void)mac;
    return false;
}

static bool keep_nothing_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep)
{
    (void)ctx, (void)mac, (void)vtep;
    return false;
}

static bool keep_flood_to_b(void *ctx, const struct ip_addr *vtep)
{
    return ip_addr_equal(vtep, ctx);
}

static void containers_talk_over_an_ipv6_only_underlay(void **state)
{
    (void)state;
    struct side a = {.underlay = "ul6a",
                     .vtep = "fd00:200::1",
                     .ip = "10.96.0.1",
                     .endpoint_id = "aaaaaaaaaaaa0601",
                     .mac = {0x02, 0x42, 0x0a, 0x60, 0, 1}};
    struct side b = {.underlay = "ul6b",
                     .vtep = "fd00:200::2",
                     .ip = "10.96.0.2",
                     .endpoint_id = "bbbbbbbbbbbb0602",
                     .mac = {0x02, 0x42, 0x0a, 0x60, 0, 2}};
    sides_open(&a, &b);
    side_up(&a, 4606);
    side_up(&b, 4606);
    /* The underlay is IPv6 only, and the devices are built on it. */
    assert_string_equal(look_in(a.host_ns, "ip -4 -o addr show dev ul6a"), "");
    assert_true(pings(a.host_ns, "", b.vtep));
    const char *link = look_in(a.host_ns, "ip -d -j link show wvx4606");
    assert_non_null(strstr(link, "\"local6\":\"fd00:200::1\""));
    assert_non_null(strstr(link, "\"mtu\":1430"));

    struct weft_err err = {0};
    assert_int_equal(segment_flood_add(a.nl, a.dev.vxlan_ifindex, VTEP_OF(b.vtep), &err), 0);
    assert_int_equal(segment_flood_add(b.nl, b.dev.vxlan_ifindex, VTEP_OF(a.vtep), &err), 0);
    assert_int_equal(
        segment_peer_add(a.nl, a.dev.vxlan_ifindex, inet_addr(b.ip), b.mac, VTEP_OF(b.vtep), &err),
        0);
    assert_int_equal(
        segment_peer_add(b.nl, b.dev.vxlan_ifindex, inet_addr(a.ip), a.mac, VTEP_OF(a.vtep), &err),
        0);
    assert_non_null(strstr(look_in(a.host_ns, "bridge fdb show dev wvx4606"),
                           "02:42:0a:60:00:02 dst fd00:200::2"));
    assert_true(pings(a.ctr_ns, "", b.ip));
    assert_true(pings(b.ctr_ns, "", a.ip));
    /* The full MTU (1430: 1402 bytes of ICMP data) crosses unfragmented; one more does not fit. */
    assert_true(pings(a.ctr_ns, "-M do -s 1402", b.ip));
    assert_int_not_equal(
        in_ns(a.ctr_ns, "ping -n -q -c 1 -W 1 -M do -s 1403 %s >/dev/null 2>&1", b.ip), 0);
    /* The frames went through the tunnel, which sent them over IPv6. */
    const char *stats = look_in(a.host_ns, "ip -s -j link show wvx4606");
    assert_null(strstr(stats, "\"tx\":{\"bytes\":0,"));
    /* On the underlay wire: VXLAN in IPv6, and not one IPv4 packet. */
    capture_underlay(b.host_ns, b.underlay, a.ctr_ns, b.ip);
    assert_int_not_equal(captured("ip6 and udp dst port 4789"), 0);
    assert_int_equal(captured("ip"), 0);
    unlink(capture_file);
    unlink(capture_log);

    /* The sweep reads IPv6 destinations back: all but the flooding towards b goes. */
    struct ip_addr vtep_b = vtep_parse(b.vtep);
    struct segment_remote_keep keep = {.peer = keep_nothing_peer,
                                       .fdb = keep_nothing_fdb,
                                       .flood = keep_flood_to_b,
                                       .ctx = &vtep_b};
    size_t removed = 0;
    const struct segment_sweep_target at = segment_sweep_vxlan(a.dev.vxlan_ifindex);
    assert_int_equal(segment_remote_sweep(a.nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 2); /* b's neighbour and its FDB entry */
    const char *fdb = look_in(a.host_ns, "bridge fdb show dev wvx4606");
    assert_null(strstr(fdb, "02:42:0a:60:00:02 dst"));
    assert_non_null(strstr(fdb, "00:00:00:00:00:00 dst fd00:200::2"));
    assert_int_equal(segment_flood_del(a.nl, a.dev.vxlan_ifindex, &vtep_b, &err), 0);
    assert_null(strstr(look_in(a.host_ns, "bridge fdb show dev wvx4606"), "dst fd00:200::2"));
    sides_close(&a, &b);
}

/* A host whose VTEP changed family (a restart with an IPv6 --advertise) gets its
 * vxlan device made again on the new one: a device sends over one family only. */
static void ensure_rebuilds_the_vxlan_for_another_family(void **state)
{
    (void)state;
    int ns = new_netns();
    assert_true(ns >= 0);
    struct nl *nl = nl_in(ns);
    assert_non_null(nl);
    struct segment_devices first, second;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 4607, VTEP_OF("192.168.207.1"), 1450, &first, &err), 0);
    assert_int_equal(segment_ensure(nl, 4607, VTEP_OF("fd00:207::1"), 1430, &second, &err), 0);
    assert_int_not_equal(second.vxlan_ifindex, first.vxlan_ifindex);
    assert_int_equal(second.bridge_ifindex, first.bridge_ifindex);
    const char *link = look_in(ns, "ip -d -j link show wvx4607");
    assert_non_null(strstr(link, "\"local6\":\"fd00:207::1\""));
    assert_null(strstr(link, "\"local\":"));
    /* Adopted as it is when asked again with the same address. */
    struct segment_devices third;
    assert_int_equal(segment_ensure(nl, 4607, VTEP_OF("fd00:207::1"), 1430, &third, &err), 0);
    assert_int_equal(third.vxlan_ifindex, second.vxlan_ifindex);
    assert_int_equal(segment_remove(nl, 4607, VTEP_OF("fd00:207::1"), 1430, &third, &err), 0);
    nl_close(nl);
    close(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(containers_talk_over_an_ipv6_only_underlay),
        cmocka_unit_test(ensure_rebuilds_the_vxlan_for_another_family),
    };
    return netns_run_group(tests, setup, teardown);
}
