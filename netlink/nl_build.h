/*
 * nl_build.h: the rtnetlink requests weft sends, built into a caller's buffer.
 *
 * Owns the bytes of every message: header, type, flags, the fixed part
 * (ifinfomsg, ndmsg, rtgenmsg, ifaddrmsg, rtmsg) and each attribute. Nothing
 * here opens a socket or sends: netlink/ sends what these build (nl_internal.h),
 * and tests check the bytes with libmnl's parsers, without root or CAP_NET_ADMIN.
 * Callers: netlink/ itself and tests; the rest of weft goes through nl.h.
 * Pure functions: thread-safe on distinct buffers.
 *
 * Every message is NLM_F_REQUEST, changes and single reads also NLM_F_ACK,
 * with sequence number 0: the sender stamps it. Addresses and byte orders as
 * in nl.h. Interface names are the kernel's (under IF_NAMESIZE); the
 * builders that create links check theirs and say so in err.
 */
#ifndef WEFT_NL_BUILD_H
#define WEFT_NL_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "netlink/nl.h"

struct nlmsghdr;

/* One request; the largest (a veth pair) is far smaller. */
#define NL_MSG_SIZE 8192

/* A message buffer, usually on the stack of whoever builds and sends it. */
struct nl_msg {
    char buf[NL_MSG_SIZE]; /* first, so aligned as the struct (pointer alignment) */
    struct nlmsghdr *hdr;  /* the message in buf, once built */
};

/* Clears m and starts a message of type with NLM_F_REQUEST | flags. */
void nl_build_start(struct nl_msg *m, uint16_t type, uint16_t flags);

/* ---- links (nl_link.c) ---- */

/* RTM_DELLINK of name. */
void nl_build_link_delete(struct nl_msg *m, const char *name);
/* RTM_NEWLINK that sets name up (when up) or down, and its IFLA_IFALIAS (when alias). */
void nl_build_link_set(struct nl_msg *m, const char *name, bool up, const char *alias);
void nl_build_link_set_mac(struct nl_msg *m, const char *name, const uint8_t mac[6]);
/* IFLA_MASTER; 0 detaches. */
void nl_build_link_set_master(struct nl_msg *m, const char *name, int master_ifindex);
void nl_build_link_set_mtu(struct nl_msg *m, const char *name, int mtu);
/* RTM_SETLINK, AF_BRIDGE, of bridge port port_ifindex: IFLA_PROTINFO (nested)
 * with IFLA_BRPORT_NEIGH_SUPPRESS. */
void nl_build_bridge_port_neigh_suppress(struct nl_msg *m, int port_ifindex, bool on);
/* RTM_GETLINK of one link, by name or (name NULL) by ifindex, without stats. */
void nl_build_link_get(struct nl_msg *m, const char *name, int ifindex);

/* ---- addresses and namespaces (nl_addr.c) ---- */

/* RTM_NEWLINK moving name into the network namespace of ns_fd (IFLA_NET_NS_FD). */
void nl_build_link_set_netns(struct nl_msg *m, const char *name, int ns_fd);
/* RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL: ip (network order)/prefix_len on ifindex. */
void nl_build_addr_add(struct nl_msg *m, int ifindex, uint32_t ip, int prefix_len);

/* ---- routes (nl_route.c) ---- */

/* RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, AF_INET, main table, static, scope link,
 * unicast: RTA_DST dst (network order)/prefix_len, RTA_OIF ifindex, nothing else. */
void nl_build_route_add_onlink(struct nl_msg *m, int ifindex, uint32_t dst, int prefix_len);

/* RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, IFLA_LINKINFO of the kind. MTU and
 * master go in only when set (> 0). -1 with err for a name that does not fit. */
int nl_build_bridge(struct nl_msg *m, const char *name, int mtu, struct weft_err *err);
int nl_build_vxlan(struct nl_msg *m, const struct nl_vxlan_spec *spec, struct weft_err *err);
/* The pair, in one message: host end outside, container end in VETH_INFO_PEER
 * (the kernel's word for the other end). Up and alias are a second message,
 * nl_build_link_set (the kernel ignores an alias given at creation). */
int nl_build_veth(struct nl_msg *m, const struct nl_veth_spec *spec, struct weft_err *err);

/* ---- FDB and neighbours (nl_neigh.c) ---- */

/* AF_BRIDGE, NTF_SELF, permanent: mac -> dst (4 or 16 bytes) on vxlan device ifindex.
 * append: NLM_F_APPEND (flooding entries), else NLM_F_REPLACE. */
void nl_build_fdb_add(struct nl_msg *m, int ifindex, const uint8_t mac[6],
                      const struct ip_addr *dst, bool append);
void nl_build_fdb_del(struct nl_msg *m, int ifindex, const uint8_t mac[6],
                      const struct ip_addr *dst);
/* AF_BRIDGE, NTF_MASTER, NUD_NOARP (static), replacing: mac behind bridge port
 * port_ifindex in the bridge's own FDB. */
void nl_build_bridge_fdb_add(struct nl_msg *m, int port_ifindex, const uint8_t mac[6]);
/* What a bridge holds about mac on port_ifindex (NTF_MASTER): learned or static. */
void nl_build_bridge_fdb_del(struct nl_msg *m, int port_ifindex, const uint8_t mac[6]);
/* AF_INET, permanent: ip -> mac on ifindex, replacing. */
void nl_build_neigh_add(struct nl_msg *m, int ifindex, uint32_t ip, const uint8_t mac[6]);
void nl_build_neigh_del(struct nl_msg *m, int ifindex, uint32_t ip);
/* The same with AF_INET6 and a 16-byte NDA_DST (ip6, network order). */
void nl_build_neigh6_add(struct nl_msg *m, int ifindex, const uint8_t ip6[16],
                         const uint8_t mac[6]);
void nl_build_neigh6_del(struct nl_msg *m, int ifindex, const uint8_t ip6[16]);

/* ---- traffic control (nl_tc.c) ---- */

/* RTM_NEWQDISC (add: NLM_F_CREATE | NLM_F_EXCL, with TCA_INGRESS_BLOCK / TCA_EGRESS_BLOCK
 * when > 0) or RTM_DELQDISC of the clsact qdisc on ifindex. */
void nl_build_clsact(struct nl_msg *m, bool add, int ifindex, uint32_t ingress_block,
                     uint32_t egress_block);
/* RTM_NEWTFILTER (create) of a u32 node at prio, protocol all, handle the kernel's: a
 * terminal selector with a key per destination-MAC word the mask covers, and, when
 * redirect_ifindex > 0, action 1 mirred egress redirect (stolen) to it. */
void nl_build_mac_filter(struct nl_msg *m, const struct nl_tc_target *t, uint16_t prio,
                         const uint8_t mac[6], const uint8_t mask[6], int redirect_ifindex);
/* RTM_DELTFILTER of prio's filters (prio 0: every filter, protocol 0). */
void nl_build_filter_del(struct nl_msg *m, const struct nl_tc_target *t, uint16_t prio);

/* ---- reading (nl_socket.c) ---- */

/* NLM_F_DUMP of type (RTM_GETLINK, RTM_GETNEIGH, ...) for family. */
void nl_build_dump(struct nl_msg *m, uint16_t type, uint8_t family);

#endif
