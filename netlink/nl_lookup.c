/*
 * nl_lookup.c: reading what the kernel holds, as iproute2's ip/ipaddress.c
 * and ip/iproute.c read it: one link by name or index (its index, MTU, and a
 * VXLAN device's VNI and local address), every link's alias, and the default
 * route and addresses that give the advertise address. Queries send at once,
 * outside a batch (nl_link_index alone also answers inside one).
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/* ---------- one link ---------- */

/* What RTM_GETLINK answers, as far as weft reads it. */
struct link_facts {
    int ifindex;
    char name[IF_NAMESIZE];
    int mtu;
    bool is_vxlan;
    uint32_t vni;
    uint32_t local_ip;
};

static int vxlan_data_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    switch (mnl_attr_get_type(attr)) {
    case IFLA_VXLAN_ID:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            facts->vni = mnl_attr_get_u32(attr);
        break;
    case IFLA_VXLAN_LOCAL:
        if (mnl_attr_get_payload_len(attr) == 4)
            memcpy(&facts->local_ip, mnl_attr_get_payload(attr), 4);
        break;
    }
    return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
        facts->is_vxlan = strcmp(mnl_attr_get_str(attr), "vxlan") == 0;
    else if (mnl_attr_get_type(attr) == IFLA_INFO_DATA)
        mnl_attr_parse_nested(attr, vxlan_data_cb, facts);
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        snprintf(facts->name, sizeof(facts->name), "%s", mnl_attr_get_str(attr));
    else if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        facts->mtu = (int)mnl_attr_get_u32(attr);
    else if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
        mnl_attr_parse_nested(attr, linkinfo_cb, facts);
    return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct link_facts *facts = data;
    if (hdr->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(hdr);
    facts->ifindex = ifi->ifi_index;
    mnl_attr_parse(hdr, sizeof(*ifi), link_attr_cb, data);
    return MNL_CB_OK;
}

/* Asks the kernel about one link, by name or (name NULL) by index; the answer
 * comes from the socket's namespace, whatever namespace the caller is in now.
 * *kernel_errno tells a missing link (ENODEV) from other failures. */
static int link_query(struct nl *nl, const char *name, int ifindex, struct link_facts *facts,
                      int *kernel_errno)
{
    memset(facts, 0, sizeof(*facts));
    struct nl_msg m;
    nl_build_link_get(&m, name, ifindex);
    return nl_query(nl, &m, link_msg_cb, facts, kernel_errno);
}

static int link_get(struct nl *nl, const char *name, struct link_facts *facts, struct weft_err *err)
{
    if (nl->batching)
        return weft_err_set(err, -EBUSY, "netlink query inside a batch");
    int kernel_errno;
    if (link_query(nl, name, 0, facts, &kernel_errno) < 0) {
        char why[WEFT_ERR_MAX / 2];
        nl_reason(nl, kernel_errno, why, sizeof(why));
        return weft_err_set(err, -kernel_errno, "reading link %.15s: %s", name, why);
    }
    return 0;
}

/* Allowed inside a batch (no acks are outstanding between flushes): it answers
 * from the kernel's present state, without the queued changes. */
int nl_link_index(struct nl *nl, const char *name, int *ifindex, struct weft_err *err)
{
    struct link_facts facts;
    int kernel_errno;
    *ifindex = 0;
    if (link_query(nl, name, 0, &facts, &kernel_errno) == 0) {
        *ifindex = facts.ifindex;
        return 0;
    }
    if (kernel_errno == ENODEV)
        return 0;
    return weft_err_set(err, -kernel_errno, "looking up link %.15s: %s", name,
                        strerror(kernel_errno));
}

int nl_link_get_mtu(struct nl *nl, const char *name, int *mtu, struct weft_err *err)
{
    struct link_facts facts;
    if (link_get(nl, name, &facts, err) < 0)
        return -1;
    *mtu = facts.mtu;
    return 0;
}

int nl_vxlan_get(struct nl *nl, const char *name, uint32_t *vni, uint32_t *local_ip,
                 struct weft_err *err)
{
    struct link_facts facts;
    if (link_get(nl, name, &facts, err) < 0)
        return -1;
    if (!facts.is_vxlan)
        return weft_err_set(err, -EEXIST, "link %.15s exists but is not a VXLAN device", name);
    *vni = facts.vni;
    *local_ip = facts.local_ip;
    return 0;
}

/* ---------- aliases ---------- */

struct alias_dump {
    const char *prefix;
    nl_link_alias_fn fn;
    void *ctx;
};

static int alias_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if ((type == IFLA_IFNAME || type == IFLA_IFALIAS) &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        tb[type] = attr;
    return MNL_CB_OK;
}

static int alias_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct alias_dump *d = data;
    if (hdr->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct nlattr *tb[IFLA_MAX + 1] = {0};
    mnl_attr_parse(hdr, sizeof(struct ifinfomsg), alias_attr_cb, tb);
    if (!tb[IFLA_IFNAME] || !tb[IFLA_IFALIAS])
        return MNL_CB_OK;
    const char *name = mnl_attr_get_str(tb[IFLA_IFNAME]);
    if (strncmp(name, d->prefix, strlen(d->prefix)) == 0)
        d->fn(d->ctx, name, mnl_attr_get_str(tb[IFLA_IFALIAS]));
    return MNL_CB_OK;
}

int nl_link_aliases(struct nl *nl, const char *prefix, nl_link_alias_fn fn, void *ctx,
                    struct weft_err *err)
{
    struct alias_dump d = {prefix, fn, ctx};
    return nl_dump(nl, RTM_GETLINK, AF_UNSPEC, alias_msg_cb, &d, err, "listing links");
}

/* ---------- routes and addresses ---------- */

struct route_search {
    bool found;
    uint32_t prefsrc;
    int oif;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
    struct route_search *s = data;
    if (mnl_attr_get_type(attr) == RTA_PREFSRC && mnl_attr_get_payload_len(attr) == 4)
        memcpy(&s->prefsrc, mnl_attr_get_payload(attr), 4);
    else if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        s->oif = (int)mnl_attr_get_u32(attr);
    else if (mnl_attr_get_type(attr) == RTA_MULTIPATH && s->oif == 0 &&
             mnl_attr_get_payload_len(attr) >= sizeof(struct rtnexthop)) {
        /* An ECMP default route has no RTA_OIF: its first next hop names the link. */
        const struct rtnexthop *nh = mnl_attr_get_payload(attr);
        if (nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= mnl_attr_get_payload_len(attr))
            s->oif = nh->rtnh_ifindex;
    }
    return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct route_search *s = data;
    /* A message shorter than its header is skipped, never read past. */
    if (s->found || hdr->nlmsg_type != RTM_NEWROUTE ||
        mnl_nlmsg_get_payload_len(hdr) < sizeof(struct rtmsg))
        return MNL_CB_OK;
    const struct rtmsg *rt = mnl_nlmsg_get_payload(hdr);
    if (rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 || rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST)
        return MNL_CB_OK;
    struct route_search candidate = {0};
    mnl_attr_parse(hdr, sizeof(*rt), route_attr_cb, &candidate);
    if (candidate.oif > 0) {
        *s = candidate;
        s->found = true;
    }
    return MNL_CB_OK;
}

struct addr_search {
    int want_ifindex; /* find the first address of this link, or */
    uint32_t want_ip; /* find the link that holds this address */
    bool found;
    uint32_t ip;
    int ifindex;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
    uint32_t *local = data;
    if (mnl_attr_get_type(attr) == IFA_LOCAL && mnl_attr_get_payload_len(attr) == 4)
        memcpy(local, mnl_attr_get_payload(attr), 4);
    else if (mnl_attr_get_type(attr) == IFA_ADDRESS && *local == 0 &&
             mnl_attr_get_payload_len(attr) == 4)
        memcpy(local, mnl_attr_get_payload(attr), 4);
    return MNL_CB_OK;
}

static int addr_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct addr_search *s = data;
    if (s->found || hdr->nlmsg_type != RTM_NEWADDR ||
        mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifaddrmsg))
        return MNL_CB_OK;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(hdr);
    if (ifa->ifa_family != AF_INET)
        return MNL_CB_OK;
    uint32_t local = 0;
    mnl_attr_parse(hdr, sizeof(*ifa), addr_attr_cb, &local);
    if ((s->want_ifindex && (int)ifa->ifa_index == s->want_ifindex) ||
        (s->want_ip && local == s->want_ip)) {
        s->found = true;
        s->ip = local;
        s->ifindex = (int)ifa->ifa_index;
    }
    return MNL_CB_OK;
}

static int ifname_of(struct nl *nl, int ifindex, char *ifname, int ifname_len, struct weft_err *err)
{
    struct link_facts facts;
    int kernel_errno;
    if (link_query(nl, NULL, ifindex, &facts, &kernel_errno) < 0 || !facts.name[0])
        return weft_err_set(err, kernel_errno ? -kernel_errno : -ENODEV, "interface %d vanished",
                            ifindex);
    snprintf(ifname, (size_t)ifname_len, "%s", facts.name);
    return 0;
}

int nl_default_route_addr(struct nl *nl, uint32_t *ip, char *ifname, int ifname_len,
                          struct weft_err *err)
{
    struct route_search route = {0};
    if (nl_dump(nl, RTM_GETROUTE, AF_INET, route_msg_cb, &route, err, "reading routes") < 0)
        return -1;
    if (!route.found)
        return weft_err_set(err, -ENOENT, "no default route");
    uint32_t addr = route.prefsrc;
    if (!addr) {
        struct addr_search s = {.want_ifindex = route.oif};
        if (nl_dump(nl, RTM_GETADDR, AF_INET, addr_msg_cb, &s, err, "reading addresses") < 0)
            return -1;
        if (!s.found)
            return weft_err_set(err, -EADDRNOTAVAIL,
                                "the default route's interface has no IPv4 address");
        addr = s.ip;
    }
    *ip = addr;
    return ifname_of(nl, route.oif, ifname, ifname_len, err);
}

int nl_addr_ifname(struct nl *nl, uint32_t ip, char *ifname, int ifname_len, struct weft_err *err)
{
    struct addr_search s = {.want_ip = ip};
    if (nl_dump(nl, RTM_GETADDR, AF_INET, addr_msg_cb, &s, err, "reading addresses") < 0)
        return -1;
    if (!s.found) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ip, text, sizeof(text));
        return weft_err_set(err, -EADDRNOTAVAIL, "no interface holds %s", text);
    }
    return ifname_of(nl, s.ifindex, ifname, ifname_len, err);
}
