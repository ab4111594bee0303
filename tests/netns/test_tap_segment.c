/*
 * test_tap_segment.c: an encrypted overlay's bridge + TAP (vxlan/tap_segment.h)
 * as the kernel shows them, and ARP kept on the host by the bridge's neighbour
 * suppression: a container's request for a peer is answered by the bridge and
 * nothing of it reaches the TAP, while a request for an unknown address does; the
 * same for IPv6's neighbour solicitations when a peer has an IPv6 address; and a
 * sweep (vxlan/remote_sweep.h) removes the entries of peers no one claims.
 *
 *   container namespace: eth0 10.71.0.1 --veth-- wv0 on wbr71 + wtp71 (this test's
 *   namespace; the test reads wtp71's queues as weft's data path would)
 *
 * Runs in a private network namespace (netns_fixture.h) with the container in one
 * more, both gone when the process exits; skipped without CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel_look.h"
#include "netns_fixture.h"

#include "vxlan/remote_sweep.h"
#include "vxlan/segment.h"
#include "vxlan/tap_segment.h"

#define VNI 71
#define MTU 1400
#define NQUEUES 2

static struct nl *nl;
static int ctr_ns = -1;
static struct tap_segment_devices dev;
static struct tap_queues queues;
static uint32_t peer_ip, other_peer_ip, unknown_ip;
static uint8_t peer6[16], other_peer6[16]; /* fd71::2, fd71::4 */
static const uint8_t peer_mac[6] = {0x02, 0x42, 0x0a, 0x47, 0x00, 0x02};
static const uint8_t other_peer_mac[6] = {0x02, 0x42, 0x0a, 0x47, 0x00, 0x03};

static int setup(void **state)
{
    (void)state;
    if (netns_private() < 0)
        return -1;
    /* No IPv6 chatter (router solicitations, MLD) on the ports: only ARP and ICMP. */
    if (system("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
               "net.ipv6.conf.default.disable_ipv6=1") != 0)
        return -1;
    peer_ip = inet_addr("10.71.0.2");
    other_peer_ip = inet_addr("10.71.0.3");
    unknown_ip = inet_addr("10.71.0.9");
    if (inet_pton(AF_INET6, "fd71::2", peer6) != 1 ||
        inet_pton(AF_INET6, "fd71::4", other_peer6) != 1)
        return -1;
    struct weft_err err = {0};
    if (nl_open(&nl, &err) < 0)
        return -1;
    ctr_ns = new_netns();
    return ctr_ns < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    struct weft_err err = {0};
    tap_close(&queues);
    if (nl && tap_segment_remove(nl, VNI, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    nl_close(nl);
    if (ctr_ns >= 0)
        close(ctr_ns);
    return 0;
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static bool link_exists(const char *name)
{
    int ifindex = -1;
    struct weft_err err = {0};
    assert_int_equal(nl_link_index(nl, name, &ifindex, &err), 0);
    return ifindex > 0;
}

/* ---------- the devices ---------- */

static void ensure_creates_bridge_and_tap_with_neigh_suppress(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(tap_segment_ensure(nl, VNI, MTU, NQUEUES, &dev, &queues, &err), 0);
    assert_string_equal(dev.bridge, "wbr71");
    assert_string_equal(dev.tap, "wtp71");
    assert_true(dev.bridge_ifindex > 0 && dev.tap_ifindex > 0);
    assert_int_equal(queues.count, NQUEUES);
    assert_int_equal(queues.ifindex, dev.tap_ifindex);
    assert_non_null(strstr(look("bridge -d link show dev wtp71"), "neigh_suppress on"));
    const char *tap = look("ip -d link show wtp71");
    assert_non_null(strstr(tap, "master wbr71"));
    assert_non_null(strstr(tap, "mtu 1400"));
    assert_non_null(strstr(tap, "multi_queue"));
    assert_non_null(strstr(tap, ",UP"));
    const char *br = look("ip -d link show wbr71");
    assert_non_null(strstr(br, "mtu 1400"));
    assert_non_null(strstr(br, ",UP"));
    assert_non_null(strstr(br, "stp_state 0"));
}

/* A restarted daemon: the queues closed, the devices stay and are adopted. */
static void ensure_again_adopts_the_devices(void **state)
{
    (void)state;
    struct tap_segment_devices again;
    struct weft_err err = {0};
    tap_close(&queues);
    assert_int_equal(tap_segment_ensure(nl, VNI, MTU, NQUEUES, &again, &queues, &err), 0);
    assert_int_equal(again.bridge_ifindex, dev.bridge_ifindex);
    assert_int_equal(again.tap_ifindex, dev.tap_ifindex);
    assert_int_equal(queues.count, NQUEUES);
    assert_non_null(strstr(look("bridge -d link show dev wtp71"), "neigh_suppress on"));
    dev = again;
}

/* ---------- ARP ---------- */

/* Reads every queue dry; counts the ARP requests for target and the IPv4 frames to mac. */
static void drain_tap(uint32_t target, int *arps, const uint8_t *mac, int *to_mac)
{
    uint8_t frame[TAP_VNET_HDR_LEN + 65536];
    *arps = 0;
    if (to_mac)
        *to_mac = 0;
    for (int q = 0; q < queues.count; q++) {
        ssize_t n;
        while ((n = read(queues.fds[q], frame, sizeof(frame))) > 0) {
            const uint8_t *eth = frame + TAP_VNET_HDR_LEN;
            if (n < TAP_VNET_HDR_LEN + 14)
                continue;
            uint16_t type = (uint16_t)(eth[12] << 8 | eth[13]);
            /* ARP over Ethernet/IPv4: the target's address 24 bytes into the header. */
            if (type == 0x0806 && n >= TAP_VNET_HDR_LEN + 14 + 28 &&
                memcmp(eth + 14 + 24, &target, 4) == 0 && eth[14 + 7] == 1)
                (*arps)++;
            if (to_mac && type == 0x0800 && memcmp(eth, mac, 6) == 0)
                (*to_mac)++;
        }
    }
}

/* Both peers' entries: static FDB entries on the TAP port, neighbours on the bridge. */
static void assert_peer_entries(void)
{
    const char *fdb = look("bridge fdb show dev wtp71");
    assert_non_null(strstr(fdb, "02:42:0a:47:00:02 master wbr71 static"));
    assert_non_null(strstr(fdb, "02:42:0a:47:00:03 master wbr71 static"));
    const char *neigh = look("ip neigh show dev wbr71");
    assert_non_null(strstr(neigh, "10.71.0.2 lladdr 02:42:0a:47:00:02 PERMANENT"));
    assert_non_null(strstr(neigh, "10.71.0.3 lladdr 02:42:0a:47:00:03 PERMANENT"));
}

/* The container: eth0 10.71.0.1/24 in its namespace, its host end wv0 on the bridge.
 * wv0's MAC is below any other: a bridge without a MAC of its own would take it,
 * and that change would flush the bridge's neighbour entries. */
static void plug_container(void)
{
    assert_int_equal(system("ip link show wv0 >/dev/null 2>&1") == 0, 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "ip link add wv0 mtu %d address 00:00:00:00:00:01 type veth "
             "peer name eth0 mtu %d netns /proc/self/fd/%d && "
             "ip link set wv0 master wbr71 up",
             MTU, MTU, ctr_ns);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(in_ns(ctr_ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && "
                                   "ip addr add 10.71.0.1/24 dev eth0 && ip link set eth0 up"),
                     0);
    /* The port forwards once the kernel has seen the veth's carrier (linkwatch runs
     * up to a second later); an ARP request sent before is dropped. */
    int tries = 0;
    while (!strstr(look("bridge link show dev wv0"), "state forwarding") && ++tries < 50)
        usleep(100 * 1000);
    assert_true(tries < 50);
}

static void peers_put_their_entries_on_the_bridge_and_its_tap_port(void **state)
{
    (void)state;
    struct weft_err err = {0};
    /* In one batch, as fabric/ programs many peers. */
    assert_int_equal(segment_batch_begin(nl), 0);
    assert_int_equal(tap_segment_peer_add(nl, &dev, peer_ip, NULL, peer_mac, &err), 0);
    assert_int_equal(tap_segment_peer_add(nl, &dev, other_peer_ip, NULL, other_peer_mac, &err), 0);
    assert_int_equal(segment_batch_end(nl, &err), 0);
    /* Again, alone: add replaces. */
    assert_int_equal(tap_segment_peer_add(nl, &dev, peer_ip, NULL, peer_mac, &err), 0);
    assert_peer_entries();
    /* A restart (queues closed, devices adopted) keeps them. */
    tap_close(&queues);
    assert_int_equal(tap_segment_ensure(nl, VNI, MTU, NQUEUES, &dev, &queues, &err), 0);
    assert_peer_entries();
}

static void the_bridge_answers_arp_for_a_peer_and_the_tap_sees_none_of_it(void **state)
{
    (void)state;
    plug_container();
    assert_peer_entries(); /* a port joining flushed nothing */
    int arps, to_mac;
    drain_tap(peer_ip, &arps, NULL, NULL);
    /* No echo reply comes (nobody is there): the ARP reply is what counts. */
    in_ns(ctr_ns, "ping -c1 -W1 10.71.0.2 >/dev/null 2>&1");
    assert_int_equal(in_ns(ctr_ns, "ip neigh show 10.71.0.2 dev eth0 | "
                                   "grep -q 'lladdr 02:42:0a:47:00:02 REACHABLE'"),
                     0);
    usleep(100 * 1000);
    drain_tap(peer_ip, &arps, peer_mac, &to_mac);
    printf("ARP requests for 10.71.0.2 on the TAP: %d, frames to its MAC: %d\n", arps, to_mac);
    assert_int_equal(arps, 0);
    /* The echo request itself went out of the TAP, to the peer's MAC: the queues are read. */
    assert_true(to_mac >= 1);
}

static void arp_for_an_unknown_address_goes_out_of_the_tap(void **state)
{
    (void)state;
    int arps;
    drain_tap(unknown_ip, &arps, NULL, NULL);
    in_ns(ctr_ns, "ping -c1 -W1 10.71.0.9 >/dev/null 2>&1");
    usleep(100 * 1000);
    drain_tap(unknown_ip, &arps, NULL, NULL);
    printf("ARP requests for 10.71.0.9 on the TAP: %d\n", arps);
    assert_true(arps >= 1);
}

static void peer_del_removes_both_entries(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(tap_segment_peer_del(nl, &dev, peer_ip, NULL, peer_mac, &err), 0);
    assert_null(strstr(look("bridge fdb show dev wtp71"), "02:42:0a:47:00:02"));
    assert_null(strstr(look("ip neigh show dev wbr71"), "10.71.0.2 "));
    /* The other peer stays; deleting what is gone is fine. */
    assert_non_null(strstr(look("bridge fdb show dev wtp71"), "02:42:0a:47:00:03"));
    assert_int_equal(tap_segment_peer_del(nl, &dev, peer_ip, NULL, peer_mac, &err), 0);
    /* Now a request for it leaves the host. */
    int arps;
    in_ns(ctr_ns, "ip neigh flush dev eth0; ping -c1 -W1 10.71.0.2 >/dev/null 2>&1");
    usleep(100 * 1000);
    drain_tap(peer_ip, &arps, NULL, NULL);
    assert_true(arps >= 1);
}

/* ---------- neighbour discovery ---------- */

/* Reads every queue dry; counts the neighbour solicitations for target and the IPv6
 * frames to mac. */
static void drain_tap6(const uint8_t target[16], int *solicitations, const uint8_t *mac,
                       int *to_mac)
{
    uint8_t frame[TAP_VNET_HDR_LEN + 65536];
    *solicitations = *to_mac = 0;
    for (int q = 0; q < queues.count; q++) {
        ssize_t n;
        while ((n = read(queues.fds[q], frame, sizeof(frame))) > 0) {
            const uint8_t *eth = frame + TAP_VNET_HDR_LEN, *ip6 = eth + 14;
            if (n < TAP_VNET_HDR_LEN + 14 + 40 || eth[12] != 0x86 || eth[13] != 0xdd)
                continue;
            if (memcmp(eth, mac, 6) == 0)
                (*to_mac)++;
            /* ICMPv6 (next header 58) type 135, the target 8 bytes into the message. */
            if (ip6[6] == 58 && n >= TAP_VNET_HDR_LEN + 14 + 40 + 24 && ip6[40] == 135 &&
                memcmp(ip6 + 40 + 8, target, 16) == 0)
                (*solicitations)++;
        }
    }
}

/* A dual-stack peer of an encrypted overlay: its IPv6 address gets a neighbour entry on
 * the bridge too, whose neighbour suppression answers the container's solicitations
 * (none reaches the TAP); deleting the peer takes it away with the others. */
static void an_ipv6_peer_is_answered_by_the_bridge(void **state)
{
    (void)state;
    struct weft_err err = {0};
    /* IPv6 on the bridge (its neighbour table) and the container's eth0 only. */
    assert_int_equal(system("sysctl -qw net.ipv6.conf.wbr71.disable_ipv6=0"), 0);
    assert_int_equal(in_ns(ctr_ns, "sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 && "
                                   "ip -6 addr add fd71::1/64 dev eth0 nodad"),
                     0);
    assert_int_equal(tap_segment_peer_add(nl, &dev, peer_ip, peer6, peer_mac, &err), 0);
    assert_non_null(
        strstr(look("ip -6 neigh show dev wbr71"), "fd71::2 lladdr 02:42:0a:47:00:02 PERMANENT"));
    assert_non_null(strstr(look("ip neigh show dev wbr71"), "10.71.0.2 lladdr"));
    int solicitations, to_mac;
    drain_tap6(peer6, &solicitations, peer_mac, &to_mac);
    in_ns(ctr_ns, "ping -6 -c1 -W1 fd71::2 >/dev/null 2>&1");
    assert_int_equal(in_ns(ctr_ns, "ip -6 neigh show fd71::2 dev eth0 | "
                                   "grep -q 'lladdr 02:42:0a:47:00:02 REACHABLE'"),
                     0);
    usleep(100 * 1000);
    drain_tap6(peer6, &solicitations, peer_mac, &to_mac);
    printf("solicitations for fd71::2 on the TAP: %d, IPv6 frames to its MAC: %d\n", solicitations,
           to_mac);
    assert_int_equal(solicitations, 0);
    assert_true(to_mac >= 1); /* the echo request went out of the TAP */
    assert_int_equal(tap_segment_peer_del(nl, &dev, peer_ip, peer6, peer_mac, &err), 0);
    assert_null(strstr(look("ip -6 neigh show dev wbr71"), "fd71::2 "));
    assert_null(strstr(look("ip neigh show dev wbr71"), "10.71.0.2 "));
    assert_null(strstr(look("bridge fdb show dev wtp71"), "02:42:0a:47:00:02"));
}

/* A failed IPv6 entry (IPv6 off on the bridge) leaves none of the peer's others. */
static void a_failed_ipv6_entry_undoes_the_peers_others(void **state)
{
    (void)state;
    struct weft_err err = {0};
    uint8_t peer6[16];
    assert_int_equal(inet_pton(AF_INET6, "fd71::3", peer6), 1);
    assert_int_equal(system("sysctl -qw net.ipv6.conf.wbr71.disable_ipv6=1"), 0);
    assert_int_equal(tap_segment_peer_add(nl, &dev, unknown_ip, peer6, peer_mac, &err), -1);
    printf("%s\n", err.msg);
    assert_null(strstr(look("ip neigh show dev wbr71"), "10.71.0.9 "));
    assert_null(strstr(look("bridge fdb show dev wtp71"), "02:42:0a:47:00:02"));
}

/* ---------- a sweep after a restart ---------- */

/* The caller's claims in the sweep below: the peer (10.71.0.2, fd71::2), not the
 * other one (10.71.0.3, fd71::4). */
static int fdb_asked_with_vtep;
static bool claims_peer(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ctx;
    return ip == peer_ip && memcmp(mac, peer_mac, 6) == 0;
}
static bool claims_peer6(void *ctx, const uint8_t ip6[16], const uint8_t mac[6])
{
    (void)ctx;
    return memcmp(ip6, peer6, 16) == 0 && memcmp(mac, peer_mac, 6) == 0;
}
static bool claims_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep)
{
    (void)ctx;
    fdb_asked_with_vtep += vtep != NULL;
    return memcmp(mac, peer_mac, 6) == 0;
}
static bool claims_no_flood(void *ctx, const struct ip_addr *vtep)
{
    (void)ctx;
    (void)vtep;
    fail_msg("a TAP segment has no flooding entries to ask about");
    return false;
}

/* What an earlier run programmed for a peer that left while it was down goes: its
 * neighbour entries on the bridge (IPv4 and IPv6) and its static entry on the TAP
 * port; the claimed peer's stay, and so does the TAP's own (permanent) entry. */
static void a_sweep_removes_the_entries_no_one_claims(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(system("sysctl -qw net.ipv6.conf.wbr71.disable_ipv6=0"), 0);
    assert_int_equal(tap_segment_peer_add(nl, &dev, peer_ip, peer6, peer_mac, &err), 0);
    assert_int_equal(
        tap_segment_peer_add(nl, &dev, other_peer_ip, other_peer6, other_peer_mac, &err), 0);
    assert_peer_entries();
    const char *own = strstr(look("bridge fdb show dev wtp71"), " permanent");
    assert_non_null(own); /* the TAP's own address, which the bridge holds as local */

    struct segment_remote_keep keep = {
        .peer = claims_peer, .fdb = claims_fdb, .flood = claims_no_flood, .peer6 = claims_peer6};
    const struct segment_sweep_target at = segment_sweep_tap(dev.bridge_ifindex, dev.tap_ifindex);
    size_t removed = 0;
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 3); /* the other peer's IPv4 and IPv6 neighbours, its FDB entry */
    assert_int_equal(fdb_asked_with_vtep, 0);
    const char *fdb = look("bridge fdb show dev wtp71");
    assert_non_null(strstr(fdb, "02:42:0a:47:00:02 master wbr71 static"));
    assert_null(strstr(fdb, "02:42:0a:47:00:03"));
    assert_non_null(strstr(fdb, " permanent"));
    const char *neigh = look("ip neigh show dev wbr71; ip -6 neigh show dev wbr71");
    assert_non_null(strstr(neigh, "10.71.0.2 lladdr 02:42:0a:47:00:02 PERMANENT"));
    assert_non_null(strstr(neigh, "fd71::2 lladdr 02:42:0a:47:00:02 PERMANENT"));
    assert_null(strstr(neigh, "10.71.0.3 "));
    assert_null(strstr(neigh, "fd71::4 "));
    /* Nothing left to remove: a second sweep removes nothing. */
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(tap_segment_peer_del(nl, &dev, peer_ip, peer6, peer_mac, &err), 0);
}

static void remove_deletes_both_devices(void **state)
{
    (void)state;
    struct weft_err err = {0};
    tap_close(&queues);
    assert_int_equal(tap_segment_remove(nl, VNI, &err), 0);
    assert_false(link_exists("wtp71"));
    assert_false(link_exists("wbr71"));
    assert_int_equal(tap_segment_remove(nl, VNI, &err), 0); /* gone is fine */
}

/* ---------- failures leave nothing this call made ---------- */

/* Runs a failing ensure of vni; no device of its own and no queue stay behind. */
static void ensure_fails(uint32_t vni, int nqueues, const char *why)
{
    struct tap_segment_devices d;
    struct tap_queues q = {0};
    struct weft_err err = {0};
    int fds = open_fds();
    assert_int_equal(tap_segment_ensure(nl, vni, MTU, nqueues, &d, &q, &err), -1);
    printf("%s\n", err.msg);
    assert_non_null(strstr(err.msg, why));
    assert_int_equal(open_fds(), fds);
}

/* Someone else's TAP of that name, single-queue: weft does not take it over. */
static void a_name_clash_on_the_tap_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(system("ip tuntap add dev wtp72 mode tap"), 0);
    ensure_fails(72, NQUEUES, "not a multi-queue TAP");
    assert_false(link_exists("wbr72"));
    assert_true(link_exists("wtp72")); /* not weft's: it stays */
    assert_int_equal(system("ip link del wtp72"), 0);
}

/* The bridge's name taken by another kind: the TAP cannot join it and goes again. */
static void a_name_clash_on_the_bridge_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(system("ip link add wbr73 type veth peer name wbq73"), 0);
    ensure_fails(73, NQUEUES, "wtp73");
    assert_false(link_exists("wtp73"));
    assert_true(link_exists("wbr73"));
    assert_int_equal(system("ip link del wbr73"), 0);
}

static void a_failure_after_the_bridge_removes_it(void **state)
{
    (void)state;
    ensure_fails(74, 0, "1 to 16 queues");
    assert_false(link_exists("wbr74"));
    assert_false(link_exists("wtp74"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ensure_creates_bridge_and_tap_with_neigh_suppress),
        cmocka_unit_test(ensure_again_adopts_the_devices),
        cmocka_unit_test(peers_put_their_entries_on_the_bridge_and_its_tap_port),
        cmocka_unit_test(the_bridge_answers_arp_for_a_peer_and_the_tap_sees_none_of_it),
        cmocka_unit_test(arp_for_an_unknown_address_goes_out_of_the_tap),
        cmocka_unit_test(peer_del_removes_both_entries),
        cmocka_unit_test(an_ipv6_peer_is_answered_by_the_bridge),
        cmocka_unit_test(a_failed_ipv6_entry_undoes_the_peers_others),
        cmocka_unit_test(a_sweep_removes_the_entries_no_one_claims),
        cmocka_unit_test(remove_deletes_both_devices),
        cmocka_unit_test(a_name_clash_on_the_tap_leaves_nothing),
        cmocka_unit_test(a_name_clash_on_the_bridge_leaves_nothing),
        cmocka_unit_test(a_failure_after_the_bridge_removes_it),
    };
    return netns_run_group(tests, setup, teardown);
}
