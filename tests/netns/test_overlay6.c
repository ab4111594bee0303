/*
 * test_overlay6.c: IPv6 neighbour entries of remote endpoints (issue 12's
 * dual-stack overlays) as the kernel shows them: add, replace, list and delete,
 * alone and inside a netlink batch; the remote sweep with and without its peer6
 * question; and across two hosts, that the vxlan device's proxy answers the
 * containers' neighbour solicitations from these entries, so IPv6 pings cross
 * while a capture on the underlay sees no solicitation. Every namespace is this
 * process's own (netns_fixture.h); skipped without CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel_look.h"
#include "netns_fixture.h"
#include "overlay_sides.h"

#include "common/addr6.h"
#include "vxlan/remote_sweep.h"
#include "vxlan/segment.h"

static struct nl *nl;
static struct ip_addr vtep_local, vtep_b;
static const uint8_t mac_a[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
static const uint8_t mac_b[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x06};
static pid_t capture_pid; /* the underlay capture while one runs (a timeout(1) around tcpdump) */
static char capture_file[64], capture_log[64];

static int setup(void **state)
{
    (void)state;
    if (netns_private() < 0)
        return -1;
    if (system("ip link add und0 type veth peer name und1 && "
               "ip addr add 192.168.201.1/24 dev und0 && ip link set und0 up && "
               "ip link set und1 up") != 0)
        return -1;
    vtep_local = vtep_parse("192.168.201.1");
    vtep_b = vtep_parse("192.168.201.2");
    snprintf(capture_file, sizeof(capture_file), "/tmp/weft-overlay6-%d.pcap", (int)getpid());
    snprintf(capture_log, sizeof(capture_log), "/tmp/weft-overlay6-%d.log", (int)getpid());
    struct weft_err err;
    return nl_open(&nl, &err);
}

/* Ends the capture (by its recorded pid) and waits for it to have written its file. */
static void capture_stop(void)
{
    if (capture_pid <= 0)
        return;
    kill(capture_pid, SIGTERM);
    for (int i = 0; i < 50 && kill(capture_pid, 0) == 0; i++) {
        char stat_path[64], stat[256] = "";
        snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)capture_pid);
        FILE *f = fopen(stat_path, "r");
        if (f) {
            if (!fgets(stat, sizeof(stat), f))
                stat[0] = '\0';
            fclose(f);
        }
        const char *state = strrchr(stat, ')');
        if (state && state[1] == ' ' && state[2] == 'Z')
            break; /* exited, not yet reaped by whoever adopted it */
        usleep(100 * 1000);
    }
    capture_pid = 0;
}

static int teardown(void **state)
{
    (void)state;
    capture_stop();
    unlink(capture_file);
    unlink(capture_log);
    nl_close(nl);
    return 0;
}

static struct ipv6_addr ip6_of(const char *text)
{
    struct ipv6_addr a;
    struct weft_err err;
    assert_int_equal(ipv6_parse(text, &a, &err), 0);
    return a;
}

/* What nl_neigh6_list reports, as "addr mac;" pieces in one string. */
struct listed {
    char text[1024];
    int count;
};

static void note_neigh6(void *ctx, const uint8_t ip6[16], const uint8_t mac[6])
{
    struct listed *l = ctx;
    struct ipv6_addr a;
    char addr[ADDR_STR_MAX];
    memcpy(a.bytes, ip6, 16);
    ipv6_format(&a, addr);
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof(l->text) - used, "%s %02x:%02x:%02x:%02x:%02x:%02x;", addr,
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    l->count++;
}

static void note_neigh4(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ip, (void)mac;
    ((struct listed *)ctx)->count++;
}

static struct listed list6(int ifindex)
{
    struct listed l = {0};
    struct weft_err err = {0};
    assert_int_equal(nl_neigh6_list(nl, ifindex, note_neigh6, &l, &err), 0);
    return l;
}

static void ipv6_neighbours_add_replace_list_and_delete(void **state)
{
    (void)state;
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 61, &vtep_local, 1450, &dev, &err), 0);
    int vx = dev.vxlan_ifindex;
    struct ipv6_addr p5 = ip6_of("fd00:61::5"), p6 = ip6_of("fd00:61::6");
    assert_int_equal(segment_peer6_add(nl, vx, p5.bytes, mac_a, &err), 0);
    assert_int_equal(segment_peer6_add(nl, vx, p6.bytes, mac_b, &err), 0);
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.61.0.7"), mac_b, &vtep_b, &err), 0);
    const char *neigh = look("ip -6 neigh show dev wvx61");
    assert_non_null(strstr(neigh, "fd00:61::5 lladdr 02:42:0a:4d:00:05 PERMANENT"));
    assert_non_null(strstr(neigh, "fd00:61::6 lladdr 02:42:0a:4d:00:06 PERMANENT"));
    struct listed l = list6(vx);
    assert_int_equal(l.count, 2); /* not the IPv4 one, nor the link-local ones the kernel makes */
    assert_non_null(strstr(l.text, "fd00:61::5 02:42:0a:4d:00:05;"));
    assert_non_null(strstr(l.text, "fd00:61::6 02:42:0a:4d:00:06;"));
    struct listed l4 = {0};
    assert_int_equal(nl_neigh_list(nl, vx, note_neigh4, &l4, &err), 0);
    assert_int_equal(l4.count, 1); /* and the IPv4 listing has only the IPv4 one */

    /* An endpoint whose MAC changed: adding again replaces, no duplicate. */
    assert_int_equal(segment_peer6_add(nl, vx, p5.bytes, mac_b, &err), 0);
    l = list6(vx);
    assert_int_equal(l.count, 2);
    assert_non_null(strstr(l.text, "fd00:61::5 02:42:0a:4d:00:06;"));

    assert_int_equal(segment_peer6_del(nl, vx, p5.bytes, &err), 0);
    assert_null(strstr(look("ip -6 neigh show dev wvx61"), "fd00:61::5 "));
    /* Withdrawing twice is not an error (a repeated watch event). */
    assert_int_equal(segment_peer6_del(nl, vx, p5.bytes, &err), 0);
    assert_int_equal(list6(vx).count, 1);

    /* In a batch: three adds, a delete of one of them and of a missing one. */
    struct ipv6_addr q[3] = {ip6_of("fd00:61::10"), ip6_of("fd00:61::11"),
                             ip6_of("2001:db8:61::12")};
    assert_int_equal(nl_batch_begin(nl), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nl_neigh6_add(nl, vx, q[i].bytes, mac_a, &err), 0);
    assert_int_equal(nl_neigh6_del(nl, vx, q[1].bytes, &err), 0);
    assert_int_equal(nl_neigh6_del(nl, vx, p5.bytes, &err), 0);          /* already gone */
    assert_int_equal(nl_neigh6_list(nl, vx, note_neigh6, &l, &err), -1); /* no dump in a batch */
    assert_int_equal(nl_batch_end(nl, &err), 0);
    l = list6(vx);
    assert_int_equal(l.count, 3);
    assert_non_null(strstr(l.text, "fd00:61::6 02:42:0a:4d:00:06;"));
    assert_non_null(strstr(l.text, "fd00:61::10 02:42:0a:4d:00:05;"));
    assert_null(strstr(l.text, "fd00:61::11 "));
    assert_non_null(strstr(l.text, "2001:db8:61::12 02:42:0a:4d:00:05;"));
    assert_non_null(strstr(look("ip -6 neigh show dev wvx61"),
                           "2001:db8:61::12 lladdr 02:42:0a:4d:00:05 PERMANENT"));
    assert_int_equal(segment_remove(nl, 61, &vtep_local, 1450, &dev, &err), 0);
}

/* The sweep's caller claims everything but the IPv6 neighbour fd00:62::6. */
static bool claim_all_peers(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ctx, (void)ip, (void)mac;
    return true;
}

static bool claim_all_fdb(void *ctx, const uint8_t mac[6], const struct ip_addr *vtep)
{
    (void)ctx, (void)mac, (void)vtep;
    return true;
}

static bool claim_all_floods(void *ctx, const struct ip_addr *vtep)
{
    (void)ctx, (void)vtep;
    return true;
}

static bool claim_peer6(void *ctx, const uint8_t ip6[16], const uint8_t mac[6])
{
    (void)ctx;
    struct ipv6_addr kept = ip6_of("fd00:62::5");
    return memcmp(ip6, kept.bytes, 16) == 0 && memcmp(mac, mac_a, 6) == 0;
}

static void sweep_removes_unclaimed_ipv6_neighbours(void **state)
{
    (void)state;
    struct segment_devices dev;
    struct weft_err err = {0};
    assert_int_equal(segment_ensure(nl, 62, &vtep_local, 1450, &dev, &err), 0);
    int vx = dev.vxlan_ifindex;
    struct ipv6_addr p5 = ip6_of("fd00:62::5"), p6 = ip6_of("fd00:62::6");
    assert_int_equal(segment_peer_add(nl, vx, inet_addr("10.62.0.5"), mac_a, &vtep_b, &err), 0);
    assert_int_equal(segment_flood_add(nl, vx, &vtep_b, &err), 0);
    assert_int_equal(segment_peer6_add(nl, vx, p5.bytes, mac_a, &err), 0);
    assert_int_equal(segment_peer6_add(nl, vx, p6.bytes, mac_b, &err), 0);
    /* Without the question, IPv6 neighbours all stay (a caller that has none). */
    const struct segment_sweep_target at = segment_sweep_vxlan(vx);
    struct segment_remote_keep keep = {
        .peer = claim_all_peers, .fdb = claim_all_fdb, .flood = claim_all_floods};
    size_t removed = 99;
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(list6(vx).count, 2);

    keep.peer6 = claim_peer6;
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 1);
    struct listed l = list6(vx);
    assert_int_equal(l.count, 1);
    assert_non_null(strstr(l.text, "fd00:62::5 02:42:0a:4d:00:05;"));
    const char *neigh = look("ip neigh show dev wvx62");
    assert_non_null(strstr(neigh, "10.62.0.5 lladdr 02:42:0a:4d:00:05 PERMANENT"));
    assert_null(strstr(neigh, "fd00:62::6"));
    assert_non_null(strstr(look("bridge fdb show dev wvx62"), "02:42:0a:4d:00:05 dst"));
    /* A second sweep finds nothing left to remove. */
    assert_int_equal(segment_remote_sweep(nl, &at, &keep, &removed, &err), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(segment_remove(nl, 62, &vtep_local, 1450, &dev, &err), 0);
}

/* ---------- proxy neighbour discovery across two hosts ---------- */

static bool capture_listening(void)
{
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "cat %s", capture_log);
    return strstr(look(cmd), "listening on") != NULL;
}

/* Starts tcpdump on the underlay in ns (VXLAN's UDP port only); its pid is
 * recorded for capture_stop. timeout(1) ends it anyway should the test die. */
static void capture_start(int ns, const char *dev)
{
    char pid_file[64];
    snprintf(pid_file, sizeof(pid_file), "/tmp/weft-overlay6-%d.pid", (int)getpid());
    assert_int_equal(
        in_ns(ns,
              "timeout 60 tcpdump -Z root -n -U --immediate-mode -i %s -w %s 'udp dst port 4789' "
              ">%s 2>&1 & echo $! > %s",
              dev, capture_file, capture_log, pid_file),
        0);
    FILE *f = fopen(pid_file, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    unlink(pid_file);
    capture_pid = pid;
    for (int i = 0; i < 50 && !capture_listening(); i++)
        usleep(100 * 1000);
    assert_true(capture_listening());
}

/* VXLAN packets of the capture that carry ICMPv6 of type: UDP header 8 bytes, VXLAN
 * 8, inner Ethernet 14 (EtherType at udp[28]), IPv6 40 (next header at udp[36]).
 * tcpdump prints a packet as a timestamped line and then its inner packet. */
static int captured_icmp6(int type)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "tcpdump -n -r %s 'udp[28:2] = 0x86dd and udp[36] = 58 and udp[70] = %d' "
             "2>/dev/null | grep -c '^[0-9]'",
             capture_file, type);
    return atoi(look(cmd));
}

/* The neighbour entry a container holds for ip6 ("" when none). */
static const char *container_neigh(int ctr_ns, const char *ip6)
{
    static char out[512];
    int home = netns_visit(ctr_ns);
    assert_true(home >= 0);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "ip -6 neigh show %s dev eth0", ip6);
    const char *text = look(cmd);
    size_t len = strnlen(text, sizeof(out) - 1);
    memcpy(out, text, len);
    out[len] = '\0';
    assert_int_equal(netns_return(home), 0);
    return out;
}

static void add_ip6(const struct side *s, const char *ip6)
{
    assert_int_equal(in_ns(s->ctr_ns, "ip -6 addr add %s/64 dev eth0 nodad", ip6), 0);
}

static void peer6_add(const struct side *at, const char *ip6, const struct side *of)
{
    struct ipv6_addr a = ip6_of(ip6);
    struct weft_err err = {0};
    assert_int_equal(segment_peer6_add(at->nl, at->dev.vxlan_ifindex, a.bytes, of->mac, &err), 0);
}

static void proxy_answers_neighbour_solicitations_across_hosts(void **state)
{
    (void)state;
    struct side a = {.underlay = "ula6",
                     .vtep = "192.168.202.1",
                     .ip = "10.96.0.1",
                     .endpoint_id = "aaaaaaaaaaaa0061",
                     .mac = {0x02, 0x42, 0x0a, 0x60, 0, 1}};
    struct side b = {.underlay = "ulb6",
                     .vtep = "192.168.202.2",
                     .ip = "10.96.0.2",
                     .endpoint_id = "bbbbbbbbbbbb0062",
                     .mac = {0x02, 0x42, 0x0a, 0x60, 0, 2}};
    const char *ip6_a = "fd00:96::1", *ip6_b = "fd00:96::2";
    sides_open(&a, &b);
    side_up(&a, 4263);
    side_up(&b, 4263);
    add_ip6(&a, ip6_a);
    add_ip6(&b, ip6_b);
    assert_true(pings(a.host_ns, "", b.vtep));
    /* Flooding entries and the endpoints' FDB entries, as for IPv4: a solicitation
     * the proxy let through would have its way across. */
    struct weft_err err = {0};
    assert_int_equal(segment_flood_add(a.nl, a.dev.vxlan_ifindex, VTEP_OF(b.vtep), &err), 0);
    assert_int_equal(segment_flood_add(b.nl, b.dev.vxlan_ifindex, VTEP_OF(a.vtep), &err), 0);
    assert_int_equal(
        segment_peer_add(a.nl, a.dev.vxlan_ifindex, inet_addr(b.ip), b.mac, VTEP_OF(b.vtep), &err),
        0);
    assert_int_equal(
        segment_peer_add(b.nl, b.dev.vxlan_ifindex, inet_addr(a.ip), a.mac, VTEP_OF(a.vtep), &err),
        0);
    assert_true(pings(a.ctr_ns, "", b.ip)); /* the IPv4 path works */

    capture_start(a.host_ns, a.underlay);
    /* No IPv6 neighbour entry yet: the proxy takes the solicitation and has no
     * answer (it lets none through, answered or not). */
    assert_int_not_equal(in_ns(a.ctr_ns, "ping -6 -n -q -c 1 -W 1 %s >/dev/null 2>&1", ip6_b), 0);
    assert_null(strstr(container_neigh(a.ctr_ns, ip6_b), "lladdr"));

    peer6_add(&a, ip6_b, &b);
    peer6_add(&b, ip6_a, &a);
    assert_int_equal(in_ns(a.ctr_ns, "ip -6 neigh flush dev eth0"), 0);
    assert_true(pings(a.ctr_ns, "-6", ip6_b));
    assert_true(pings(b.ctr_ns, "-6", ip6_a));
    /* Each container learned the other's MAC, from its own host's proxy. */
    assert_non_null(strstr(container_neigh(a.ctr_ns, ip6_b), "lladdr 02:42:0a:60:00:02"));
    assert_non_null(strstr(container_neigh(b.ctr_ns, ip6_a), "lladdr 02:42:0a:60:00:01"));
    capture_stop();
    int requests = captured_icmp6(128), solicitations = captured_icmp6(135);
    printf("underlay capture: %d IPv6 echo requests, %d neighbour solicitations\n", requests,
           solicitations);
    assert_true(requests > 0); /* the capture sees inner ICMPv6 where it looks */
    assert_int_equal(solicitations, 0);
    sides_close(&a, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv6_neighbours_add_replace_list_and_delete),
        cmocka_unit_test(sweep_removes_unclaimed_ipv6_neighbours),
        cmocka_unit_test(proxy_answers_neighbour_solicitations_across_hosts),
    };
    return netns_run_group(tests, setup, teardown);
}
