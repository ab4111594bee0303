/*
 * overlay_sides.h: two "hosts" for the kernel VXLAN overlay tests
 * (test_overlay.c, test_overlay6.c): each side is a host namespace with its
 * underlay address and segment, plus a "container" namespace holding the
 * endpoint as Docker leaves it. Header-only; cmocka asserts, so include after
 * cmocka.h; single-threaded (it moves the calling thread between namespaces).
 */
#ifndef WEFT_OVERLAY_SIDES_H
#define WEFT_OVERLAY_SIDES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ip_addr.h"

#include "netns_fixture.h"
#include "vxlan/segment.h"

/* An nl socket bound to namespace ns: every later call acts there. */
static inline struct nl *nl_in(int ns)
{
    struct nl *out = NULL;
    struct weft_err err;
    int home = netns_visit(ns);
    if (home < 0)
        return NULL;
    if (nl_open(&out, &err) < 0)
        out = NULL;
    if (netns_return(home) < 0) {
        nl_close(out);
        out = NULL;
    }
    return out;
}

/* A VTEP's text as segment/ takes it: dotted IPv4, or IPv6 for an IPv6 underlay. */
static inline struct ip_addr vtep_parse(const char *text)
{
    struct ip_addr a;
    assert_int_equal(ip_addr_parse(text, &a, NULL), 0);
    return a;
}
#define VTEP_OF(text) ((const struct ip_addr[]){vtep_parse(text)})

/* One side: the host namespace with its underlay address and the overlay,
 * plus a "container" namespace holding the endpoint, as Docker leaves it. */
struct side {
    int host_ns, ctr_ns;
    struct nl *nl;
    struct segment_devices dev;
    const char *underlay, *vtep, *ip, *endpoint_id; /* vtep: IPv4, or IPv6 (an IPv6 underlay) */
    uint8_t mac[6];
};

/* The overlay MTU on a side's 1500-byte underlay: 1450 over IPv4, 1430 over IPv6. */
static inline int side_mtu(const struct side *s)
{
    return 1500 - (strchr(s->vtep, ':') ? SEGMENT_VXLAN6_OVERHEAD : SEGMENT_VXLAN_OVERHEAD);
}

static inline void side_up(struct side *s, uint32_t vni)
{
    struct weft_err err = {0};
    /* An IPv6 VTEP is the link's only address besides its link-local one (no DAD wait). */
    const char *add = strchr(s->vtep, ':')
                          ? "ip -6 addr add %s/64 dev %s nodad && ip link set %s up"
                          : "ip addr add %s/24 dev %s && ip link set %s up";
    assert_int_equal(in_ns(s->host_ns, add, s->vtep, s->underlay, s->underlay), 0);
    s->nl = nl_in(s->host_ns);
    assert_non_null(s->nl);
    assert_int_equal(segment_ensure(s->nl, vni, VTEP_OF(s->vtep), side_mtu(s), &s->dev, &err), 0);
    assert_int_equal(
        segment_endpoint_create(s->nl, vni, s->endpoint_id, s->mac, side_mtu(s), NULL, &err), 0);
    char host_name[IF_NAMESIZE], ctr_name[IF_NAMESIZE];
    segment_endpoint_names(s->endpoint_id, host_name, ctr_name);
    /* What Docker does with the peer end. */
    assert_int_equal(
        in_ns(s->host_ns, "ip link set %s netns /proc/self/fd/%d", ctr_name, s->ctr_ns), 0);
    assert_int_equal(in_ns(s->ctr_ns,
                           "ip link set %s name eth0 && ip addr add %s/24 dev eth0 && "
                           "ip link set eth0 up",
                           ctr_name, s->ip),
                     0);
}

/* The four namespaces and the underlay between the hosts: one veth, a->underlay
 * in a's host namespace, b->underlay in b's (addresses and up come in side_up). */
static inline void sides_open(struct side *a, struct side *b)
{
    a->host_ns = new_netns();
    a->ctr_ns = new_netns();
    b->host_ns = new_netns();
    b->ctr_ns = new_netns();
    assert_true(a->host_ns >= 0 && a->ctr_ns >= 0 && b->host_ns >= 0 && b->ctr_ns >= 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "ip link add %s netns /proc/self/fd/%d type veth peer name %s netns /proc/self/fd/%d",
             a->underlay, a->host_ns, b->underlay, b->host_ns);
    assert_int_equal(system(cmd), 0);
}

/* Closes what sides_open and side_up made: the namespaces and their devices go. */
static inline void sides_close(struct side *a, struct side *b)
{
    struct side *both[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        nl_close(both[i]->nl);
        both[i]->nl = NULL;
        close(both[i]->host_ns);
        close(both[i]->ctr_ns);
    }
}

/* Pings from one container to an address, a few tries (links take a moment to come up). */
static inline bool pings(int ns, const char *args, const char *ip)
{
    for (int i = 0; i < 10; i++)
        if (in_ns(ns, "ping -n -q -c 1 -W 1 %s %s >/dev/null 2>&1", args, ip) == 0)
            return true;
    return false;
}

#endif
