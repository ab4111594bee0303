/*
 * nl.h: the only code in weft that talks rtnetlink (libmnl).
 *
 * Owns a NETLINK_ROUTE socket and the messages for links (bridge, vxlan,
 * veth), bridge/vxlan FDB entries, neighbour entries, a service port's address
 * and on-link routes, and the default-route lookup. Each call sends its request
 * with NLM_F_ACK and waits for the ack, so a -1 return carries the kernel's
 * reason ("File exists", ...). Callers: vxlan/ (overlay devices, peers, service
 * ports) and daemon/ (advertise address).
 * One struct nl per thread: it is not thread-safe.
 * ALL uint32_t IPv4 addresses in nl.h are NETWORK byte order (as inet_addr
 * gives them); ports and VNIs are host order. A VTEP (the underlay address of a
 * vxlan device or an FDB destination) is a struct ip_addr of either family
 * (common/ip_addr.h, issue 12): IPv4, or IPv6 on an IPv6-only underlay.
 * In this module "peer" is never the other end of a veth (that is the
 * container end): a peer is a remote endpoint, as everywhere in weft.
 *
 * The module's files, in the layers of iproute2's lib/ and libmnl:
 *   nl_socket.c  the socket, sending one request and reading its ack, dumps
 *   nl_batch.c   many changes in one sendto, their acks read at the end
 *   nl_link.c    link messages (bridge, vxlan, veth, up/alias/MAC/master/MTU,
 *                a bridge port's neigh_suppress)
 *   nl_neigh.c   FDB and neighbour entries, and listing them
 *   nl_lookup.c  reading links, routes and addresses
 *   nl_addr.c    an interface's address, moving a link into a namespace
 *   nl_route.c   adding routes (on-link, for service ports)
 *   nl_tc.c      traffic control: clsact qdiscs, shared blocks, u32 filters on a
 *                destination MAC with a mirred redirect (the overlay fast path)
 * Messages are built into a caller's buffer by the nl_build_* functions of
 * nl_build.h (pure, tested byte by byte without root) and sent apart.
 */
#ifndef WEFT_NL_H
#define WEFT_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip_addr.h"

struct nl;

int nl_open(struct nl **out, struct weft_err *err);
void nl_close(struct nl *nl);

/* Between these two, changes (link, FDB, neighbour add/delete) queue into one
 * buffer sent with a single sendto (flushed early when full), and their acks
 * are read at the end: many entries cost one round trip. Calls return 0 while
 * queued; nl_batch_end reports the first failure (the other entries still
 * apply). Queries are refused inside a batch. begin inside a batch returns -1. */
int nl_batch_begin(struct nl *nl);
int nl_batch_end(struct nl *nl, struct weft_err *err);

/* Interface index of name, or 0 when there is no such link (not an error).
 * Lookups answer from the namespace the socket was opened in. This one also
 * answers inside a batch (from the kernel's present state, not the queue). */
int nl_link_index(struct nl *nl, const char *name, int *ifindex, struct weft_err *err);
/* Deletes a link by name; a missing link is not an error. */
int nl_link_delete(struct nl *nl, const char *name, struct weft_err *err);
/* Sets a link administratively up. */
int nl_link_set_up(struct nl *nl, const char *name, struct weft_err *err);
/* Sets a link up and its alias, in one message. */
int nl_link_set_up_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err);
/* Sets a link administratively down and its alias (when alias), in one message. */
int nl_link_set_down_alias(struct nl *nl, const char *name, const char *alias,
                           struct weft_err *err);
int nl_link_set_mac(struct nl *nl, const char *name, const uint8_t mac[6], struct weft_err *err);
/* Attaches a link to a bridge (master_ifindex 0 detaches). */
int nl_link_set_master(struct nl *nl, const char *name, int master_ifindex, struct weft_err *err);
int nl_link_set_mtu(struct nl *nl, const char *name, int mtu, struct weft_err *err);
/* MTU of a link (for "underlay MTU minus VXLAN overhead"). */
int nl_link_get_mtu(struct nl *nl, const char *name, int *mtu, struct weft_err *err);

/* A bridge: STP off, forwarding delay 0, given MTU (0: kernel default). Fails if it exists. */
int nl_bridge_create(struct nl *nl, const char *name, int mtu, struct weft_err *err);

/* Neighbour suppression on bridge port port_ifindex (`bridge link set dev X
 * neigh_suppress on`): the bridge answers ARP requests for addresses it has a
 * neighbour entry (on the bridge device) and an FDB entry for (on a suppressing
 * port) itself, and floods no ARP it answered out of suppressing ports. */
int nl_bridge_port_set_neigh_suppress(struct nl *nl, int port_ifindex, bool on,
                                      struct weft_err *err);

struct nl_vxlan_spec {
    const char *name;
    uint32_t vni;
    struct ip_addr local; /* the VTEP address: IFLA_VXLAN_LOCAL, or LOCAL6 for IPv6 (the
                             device then sends over IPv6, to IPv6 destinations only) */
    uint16_t dst_port; /* host order, 4789 */
    int mtu;
    int master_ifindex; /* bridge to attach to, 0 for none */
};
/* A VXLAN device with learning off, proxy ARP on, UDP checksums on. Fails if it exists. */
int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_spec *spec, struct weft_err *err);

/* Reads back VNI and local address of an existing vxlan link (adoption after restart);
 * local's family is 0 when the device has none. */
int nl_vxlan_get(struct nl *nl, const char *name, uint32_t *vni, struct ip_addr *local,
                 struct weft_err *err);

/* Moves link name into the network namespace ns_fd refers to. */
int nl_link_set_netns(struct nl *nl, const char *name, int ns_fd, struct weft_err *err);
/* Adds ip (network order)/prefix_len to link name, in nl's namespace. */
int nl_addr_add(struct nl *nl, const char *name, uint32_t ip, int prefix_len,
                struct weft_err *err);
/* Adds an on-link route to dst (network order)/prefix_len out of link name (scope
 * link, no gateway, main table), in nl's namespace: dst's hosts are asked for by ARP
 * on that link. The link must be up; a route that exists is an error (File exists). */
int nl_route_add_onlink(struct nl *nl, const char *name, uint32_t dst, int prefix_len,
                        struct weft_err *err);

/* IFALIASZ: an alias holds at most 255 bytes. */
#define NL_ALIAS_MAX 256

struct nl_veth_spec {
    const char *host_name;  /* stays in the host namespace, attached to master */
    const char *host_alias; /* kept by the kernel on host_name for its lifetime, or NULL */
    /* The container end: created beside host_name, moved into the container by Docker. */
    const char *container_name;
    const uint8_t *container_mac; /* 6 bytes or NULL */
    int mtu;
    int master_ifindex; /* bridge for host_name, 0 for none */
    bool down;          /* leave host_name down (a spare veth, to be taken later) */
};
/* Creates the pair, sets MTU on both ends, the MAC on the container end, attaches
 * host_name to master and sets host_name up unless down (with its alias). On
 * failure nothing is left behind. */
int nl_veth_create(struct nl *nl, const struct nl_veth_spec *spec, struct weft_err *err);

/* Calls fn for every link whose name starts with prefix and that has an alias.
 * fn must not use nl (the dump is still being read). Not inside a batch. */
typedef void (*nl_link_alias_fn)(void *ctx, const char *name, const char *alias);
int nl_link_aliases(struct nl *nl, const char *prefix, nl_link_alias_fn fn, void *ctx,
                    struct weft_err *err);

/*
 * FDB entries on a vxlan device (NTF_SELF, permanent):
 * mac -> remote VTEP dst (of the device's local family). An all-zero mac with append=true is a
 * flooding entry (one per remote host, as `bridge fdb append 00:00:00:00:00:00 dst X`). add with
 * append=false replaces; deleting a missing entry is not an error.
 */
int nl_fdb_add(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               bool append, struct weft_err *err);
int nl_fdb_del(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               struct weft_err *err);

/* A static entry in a bridge's own FDB (NTF_MASTER, as `bridge fdb replace mac dev
 * port master static`): frames for mac go out of port port_ifindex, and the entry
 * does not age. Replaces an entry of mac on another port. */
int nl_bridge_fdb_add(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err);
/* Removes what the bridge holds about mac on one of its ports (NTF_MASTER): learned,
 * or static from nl_bridge_fdb_add, so a withdrawn peer leaves no trace; a missing
 * entry is not an error. */
int nl_bridge_fdb_del(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err);

/* Permanent neighbour entry ip -> mac on ifindex (what vxlan proxy ARP answers from;
 * on a bridge device, what its neighbour suppression answers from).
 * add replaces; deleting a missing entry is not an error. */
int nl_neigh_add(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6],
                 struct weft_err *err);
int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip, struct weft_err *err);
/* The same for IPv6 (ip6: 16 bytes, network order): what the vxlan device's proxy
 * answers neighbour solicitations from (issue 12). */
int nl_neigh6_add(struct nl *nl, int ifindex, const uint8_t ip6[16], const uint8_t mac[6],
                  struct weft_err *err);
int nl_neigh6_del(struct nl *nl, int ifindex, const uint8_t ip6[16], struct weft_err *err);

/* What the kernel holds, for sweeping entries an earlier run left behind. fn must
 * not use nl (the dump is still being read). Not inside a batch.
 * nl_fdb_list: the FDB entries of vxlan device ifindex that send to a remote VTEP
 * (NTF_SELF with a destination; flooding entries have an all-zero mac).
 * nl_neigh_list: the permanent IPv4 neighbour entries on ifindex. */
typedef void (*nl_fdb_fn)(void *ctx, const uint8_t mac[6], const struct ip_addr *dst);
int nl_fdb_list(struct nl *nl, int ifindex, nl_fdb_fn fn, void *ctx, struct weft_err *err);
typedef void (*nl_neigh_fn)(void *ctx, uint32_t ip, const uint8_t mac[6]);
int nl_neigh_list(struct nl *nl, int ifindex, nl_neigh_fn fn, void *ctx, struct weft_err *err);
/* nl_neigh6_list: the permanent IPv6 neighbour entries on ifindex. */
typedef void (*nl_neigh6_fn)(void *ctx, const uint8_t ip6[16], const uint8_t mac[6]);
int nl_neigh6_list(struct nl *nl, int ifindex, nl_neigh6_fn fn, void *ctx, struct weft_err *err);
/* nl_bridge_fdb_list: the static entries (nl_bridge_fdb_add's: neither learned nor the
 * bridge's own, no VLAN) that a bridge holds on its port port_ifindex. */
typedef void (*nl_bridge_fdb_fn)(void *ctx, const uint8_t mac[6]);
int nl_bridge_fdb_list(struct nl *nl, int port_ifindex, nl_bridge_fdb_fn fn, void *ctx,
                       struct weft_err *err);

/*
 * Traffic control (nl_tc.c), for vxlan/fast_path.c. A filter goes to a target: a
 * shared block (block > 0: every device whose clsact ingress is bound to it), or the
 * clsact ingress of device ifindex. Filters are u32, protocol all, one per priority.
 */
struct nl_tc_target {
    uint32_t block; /* > 0: this shared block */
    int ifindex;    /* else: this device's ingress */
};
/* A clsact qdisc on ifindex, its ingress / egress bound to shared block ingress_block /
 * egress_block (0: a block of its own). One that exists is not an error. */
int nl_tc_clsact_add(struct nl *nl, int ifindex, uint32_t ingress_block, uint32_t egress_block,
                     struct weft_err *err);
/* Deletes ifindex's clsact qdisc and its filters; none is not an error. */
int nl_tc_clsact_del(struct nl *nl, int ifindex, struct weft_err *err);
/* A filter at prio (> 0; a second call adds a second, equal one): frames whose destination MAC
 * under mask equals mac (a zero mask: every frame) go to redirect_ifindex's egress
 * (mirred redirect), or, with redirect_ifindex 0, on as without tc (the match ends the
 * search). */
int nl_tc_mac_filter_add(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                         const uint8_t mac[6], const uint8_t mask[6], int redirect_ifindex,
                         struct weft_err *err);
/* Deletes the filters at prio (0: every filter) of t; none is not an error. */
int nl_tc_filter_del(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                     struct weft_err *err);

/* The preferred source address of the interface holding the IPv4 default route;
 * on a host without one, of the IPv6 default route (a global address). Fails with
 * "no default route" when there is neither. */
int nl_default_route_addr(struct nl *nl, struct ip_addr *ip, char *ifname, int ifname_len,
                          struct weft_err *err);
/* The name of the interface that holds ip, for its MTU. */
int nl_addr_ifname(struct nl *nl, const struct ip_addr *ip, char *ifname, int ifname_len,
                   struct weft_err *err);

#endif
