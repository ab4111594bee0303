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
    struct ip_addr local; /* family 0: none */
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
            facts->local = ip_addr_from_ipv4(*(const uint32_t *)mnl_attr_get_payload(attr));
        break;
    case IFLA_VXLAN_LOCAL6:
        if (mnl_attr_get_payload_len(attr) == 16)
            facts->local = ip_addr_from_ipv6(mnl_attr_get_payload(attr));
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

int nl_vxlan_get(struct nl *nl, const char *name, uint32_t *vni, struct ip_addr *local,
                 struct weft_err *err)
{
    struct link_facts facts;
    if (link_get(nl, name, &facts, err) < 0)
        return -1;
    if (!facts.is_vxlan)
        return weft_err_set(err, -EEXIST, "link %.15s exists but is not a VXLAN device", name);
    *vni = facts.vni;
    *local = facts.local;
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

/* Of one family: IPv4 as always, IPv6 for an IPv6-only underlay (issue 12). */
struct route_search {
    int family;
    bool found;
    struct ip_addr prefsrc; /* family 0: the route has none */
    int oif;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
    struct route_search *s = data;
    int len = s->family == AF_INET6 ? 16 : 4;
    if (mnl_attr_get_type(attr) == RTA_PREFSRC && mnl_attr_get_payload_len(attr) == len) {
        s->prefsrc = len == 16 ? ip_addr_from_ipv6(mnl_attr_get_payload(attr))
                               : ip_addr_from_ipv4(*(const uint32_t *)mnl_attr_get_payload(attr));
    } else if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
        s->oif = (int)mnl_attr_get_u32(attr);
    } else if (mnl_attr_get_type(attr) == RTA_MULTIPATH && s->oif == 0 &&
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
    if (rt->rtm_family != s->family || rt->rtm_dst_len != 0 || rt->rtm_table != RT_TABLE_MAIN ||
        rt->rtm_type != RTN_UNICAST)
        return MNL_CB_OK;
    struct route_search candidate = {.family = s->family};
    mnl_attr_parse(hdr, sizeof(*rt), route_attr_cb, &candidate);
    if (candidate.oif > 0) {
        *s = candidate;
        s->found = true;
    }
    return MNL_CB_OK;
}

struct addr_search {
    int family;
    int want_ifindex;       /* find the first address of this link, or */
    struct ip_addr want_ip; /* find the link that holds this address */
    bool found;
    struct ip_addr ip;
    int ifindex;
};

struct addr_attrs {
    int len; /* 4 or 16 */
    const void *local, *address;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
    struct addr_attrs *a = data;
    if (mnl_attr_get_payload_len(attr) != a->len)
        return MNL_CB_OK;
    if (mnl_attr_get_type(attr) == IFA_LOCAL)
        a->local = mnl_attr_get_payload(attr);
    else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
        a->address = mnl_attr_get_payload(attr);
    return MNL_CB_OK;
}

/* The address of one RTM_NEWADDR: IFA_LOCAL, else IFA_ADDRESS (IPv6 has only that). */
static struct ip_addr addr_of(const struct nlmsghdr *hdr, int family)
{
    struct addr_attrs a = {.len = family == AF_INET6 ? 16 : 4};
    mnl_attr_parse(hdr, sizeof(struct ifaddrmsg), addr_attr_cb, &a);
    const void *p = a.local ? a.local : a.address;
    struct ip_addr none = {0};
    if (!p)
        return none;
    return a.len == 16 ? ip_addr_from_ipv6(p) : ip_addr_from_ipv4(*(const uint32_t *)p);
}

static int addr_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct addr_search *s = data;
    if (s->found || hdr->nlmsg_type != RTM_NEWADDR ||
        mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifaddrmsg))
        return MNL_CB_OK;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(hdr);
    if (ifa->ifa_family != s->family)
        return MNL_CB_OK;
    struct ip_addr local = addr_of(hdr, s->family);
    /* An IPv6 link's first address may be its link-local one: a VTEP is a global one. */
    bool usable = s->family == AF_INET || ifa->ifa_scope == RT_SCOPE_UNIVERSE;
    if ((s->want_ifindex && (int)ifa->ifa_index == s->want_ifindex && usable) ||
        (s->want_ip.family && ip_addr_equal(&local, &s->want_ip))) {
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

/* The default route of family and its source address: 0, or -1 (-ENOENT: none). */
static int default_route_of(struct nl *nl, int family, struct ip_addr *ip, int *oif,
                            struct weft_err *err)
{
    struct route_search route = {.family = family};
    if (nl_dump(nl, RTM_GETROUTE, family, route_msg_cb, &route, err, "reading routes") < 0)
        return -1;
    if (!route.found)
        return weft_err_set(err, -ENOENT, "no default route");
    *oif = route.oif;
    *ip = route.prefsrc;
    if (ip->family)
        return 0;
    struct addr_search s = {.family = family, .want_ifindex = route.oif};
    if (nl_dump(nl, RTM_GETADDR, family, addr_msg_cb, &s, err, "reading addresses") < 0)
        return -1;
    if (!s.found)
        return weft_err_set(err, -EADDRNOTAVAIL, "the default route's interface has no %s address",
                            family == AF_INET6 ? "global IPv6" : "IPv4");
    *ip = s.ip;
    return 0;
}

int nl_default_route_addr(struct nl *nl, struct ip_addr *ip, char *ifname, int ifname_len,
                          struct weft_err *err)
{
    int oif = 0;
    struct weft_err v4_err = {0};
    int rc = default_route_of(nl, AF_INET, ip, &oif, &v4_err);
    if (rc < 0 && v4_err.code == -ENOENT)
        rc = default_route_of(nl, AF_INET6, ip, &oif, err); /* an IPv6-only host */
    else if (rc < 0 && err)
        *err = v4_err;
    if (rc < 0)
        return -1;
    return ifname_of(nl, oif, ifname, ifname_len, err);
}

int nl_addr_ifname(struct nl *nl, const struct ip_addr *ip, char *ifname, int ifname_len,
                   struct weft_err *err)
{
    struct addr_search s = {.family = ip->family, .want_ip = *ip};
    if (nl_dump(nl, RTM_GETADDR, ip->family, addr_msg_cb, &s, err, "reading addresses") < 0)
        return -1;
    if (!s.found) {
        char text[ADDR_STR_MAX];
        ip_addr_format(ip, text);
        return weft_err_set(err, -EADDRNOTAVAIL, "no interface holds %s", text);
    }
    return ifname_of(nl, s.ifindex, ifname, ifname_len, err);
}
