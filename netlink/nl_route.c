/*
 * nl_route.c: routes weft adds, as iproute2's ip/iproute.c builds them. So far one
 * kind: an on-link route (scope link, out one interface, no gateway), which a
 * service port (vxlan/service_port.c) holds to each extra subnet of its overlay
 * (issue 12), so the resolver's answers find their way back to those containers.
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <sys/socket.h>

void nl_build_route_add_onlink(struct nl_msg *m, int ifindex, uint32_t dst, int prefix_len)
{
    nl_build_start(m, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*rtm));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = (unsigned char)prefix_len;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC; /* weft's, not the kernel's own connected route */
    rtm->rtm_scope = RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(m->hdr, RTA_DST, dst);
    mnl_attr_put_u32(m->hdr, RTA_OIF, (uint32_t)ifindex);
}

int nl_route_add_onlink(struct nl *nl, const char *name, uint32_t dst, int prefix_len,
                        struct weft_err *err)
{
    int ifindex;
    if (nl_link_index(nl, name, &ifindex, err) < 0)
        return -1;
    if (ifindex == 0)
        return weft_err_set(err, -ENODEV, "no link %.15s for a route", name);
    struct nl_msg m;
    nl_build_route_add_onlink(&m, ifindex, dst, prefix_len);
    char what[80], text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &dst, text, sizeof(text));
    snprintf(what, sizeof(what), "adding a route to %s/%d on %.15s", text, prefix_len, name);
    return nl_change(nl, &m, 0, err, what);
}
