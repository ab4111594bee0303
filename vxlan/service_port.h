/*
 * service_port.h: a port on an overlay's bridge that leads into a network namespace
 * of weft's own, holding one address of the overlay (its gateway): where weft
 * answers the overlay's containers (its resolver, dns/resolver.c).
 *
 * One namespace per overlay, holding one veth end and nothing else: no route beyond
 * the overlay's subnets (the first's connected route, an on-link route to each extra
 * one, issue 12), forwarding off, IPv6 off. So a container can reach the
 * gateway address of its own overlay and nothing through it: not another overlay,
 * not the host. ARP for the gateway is answered by the port on the local bridge (the
 * VXLAN device's proxy ARP keeps it off the underlay), so every host answers for the
 * same address on its own. The namespace lives while its fd is open: closing the port
 * (or the daemon's exit) takes the namespace and the veth pair with it.
 * Callers: dns/resolver.c. Each call uses the caller's netlink socket (segment.h's
 * segment_socket_open) from one thread at a time; the namespace work runs on a
 * short-lived thread of its own, so the caller's namespace never changes.
 */
#ifndef WEFT_SERVICE_PORT_H
#define WEFT_SERVICE_PORT_H

#include <net/if.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

struct nl;

/* A service port's MAC starts with these two bytes (locally administered; the rest is
 * dns/resolver.c's hash of VTEP and VNI): the fast path (fast_path.c) leaves frames to
 * it to the bridge by this prefix. */
#define SERVICE_PORT_MAC_0 0x02
#define SERVICE_PORT_MAC_1 0x57

struct service_port {
    int ns_fd;                   /* the namespace; -1 when closed */
    char host_end[IF_NAMESIZE];  /* on the bridge: "wsp<vni>" */
    char inner_end[IF_NAMESIZE]; /* in the namespace: "wsi<vni>", holding the address */
};

/* What a service port is made with. */
struct service_port_spec {
    uint32_t vni;
    int bridge_ifindex;
    uint32_t addr; /* network order */
    int prefix_len;
    int mtu;
    const uint8_t *mac;               /* 6 bytes */
    const struct ipv4_subnet *onlink; /* onlink_count subnets reached on-link, or NULL */
    int onlink_count;
};
/* Makes the namespace and the pair for overlay vni: the host end on bridge_ifindex,
 * up, with mtu; the inner end holding addr/prefix_len and mac, up, with an on-link
 * route to each onlink subnet. The same mac across restarts keeps containers' ARP
 * entries for the gateway good. On failure nothing is left. */
int service_port_open(struct nl *nl, const struct service_port_spec *spec,
                      struct service_port *out, struct weft_err *err);
/* A socket in the port's namespace (type: SOCK_DGRAM or SOCK_STREAM, made
 * non-blocking and close-on-exec), bound to addr (network order):port; a stream
 * socket listens. Returns the fd, or -1. */
int service_port_socket(const struct service_port *port, int type, uint32_t addr, uint16_t port_no,
                        struct weft_err *err);
/* Deletes the pair and lets the namespace go. Safe on a closed port. */
void service_port_close(struct nl *nl, struct service_port *port);

#endif
