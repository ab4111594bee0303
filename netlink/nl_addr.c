/*
 * nl_addr.c: an interface's IPv4 address, and moving a link into another network
 * namespace, as iproute2's ip/ipaddress.c and `ip link set netns` do. Weft's
 * service ports (vxlan/service_port.c) are built with these: a veth end moved into a
 * namespace of weft's own, then given the overlay's gateway address from inside it
 * (with a socket opened there).
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void nl_build_link_set_netns(struct nl_msg *m, const char *name, int ns_fd)
{
    nl_build_start(m, RTM_NEWLINK, NLM_F_ACK);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m->hdr, IFLA_IFNAME, name);
    mnl_attr_put_u32(m->hdr, IFLA_NET_NS_FD, (uint32_t)ns_fd);
}

void nl_build_addr_add(struct nl_msg *m, int ifindex, uint32_t ip, int prefix_len)
{
    nl_build_start(m, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix_len;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    mnl_attr_put_u32(m->hdr, IFA_LOCAL, ip);
    mnl_attr_put_u32(m->hdr, IFA_ADDRESS, ip);
}

int nl_link_set_netns(struct nl *nl, const char *name, int ns_fd, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_link_set_netns(&m, name, ns_fd);
    char what[64];
    snprintf(what, sizeof(what), "moving %.15s into its namespace", name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_addr_add(struct nl *nl, const char *name, uint32_t ip, int prefix_len,
                struct weft_err *err)
{
    int ifindex;
    if (nl_link_index(nl, name, &ifindex, err) < 0)
        return -1;
    struct nl_msg m;
    nl_build_addr_add(&m, ifindex, ip, prefix_len);
    char what[64], text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip, text, sizeof(text));
    snprintf(what, sizeof(what), "adding %s/%d to %.15s", text, prefix_len, name);
    return nl_change(nl, &m, 0, err, what);
}
