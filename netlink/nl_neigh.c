/*
 * nl_neigh.c: FDB and neighbour entries, as iproute2's bridge/fdb.c and
 * ip/ipneigh.c: the entries a vxlan device sends by (mac -> remote VTEP),
 * the bridge's own entries (static ones it forwards by, learned ones), the permanent IPv4
 * and IPv6 neighbours that proxy ARP and proxy neighbour discovery answer from, and listing
 * what the kernel holds of them. Each nl_build_* fills a caller's buffer (see nl_build.h);
 * the nl_* call beside it sends.
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

/* ---------- building ---------- */

/* A neighbour message and its ndmsg, for the caller to fill. */
static struct ndmsg *neigh_msg(struct nl_msg *m, uint16_t type, uint16_t flags, uint8_t family,
                               int ifindex)
{
    nl_build_start(m, type, flags | NLM_F_ACK);
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*nd));
    nd->ndm_family = family;
    nd->ndm_ifindex = ifindex;
    return nd;
}

static void fdb_msg(struct nl_msg *m, uint16_t type, uint16_t flags, int ifindex,
                    const uint8_t mac[6], const struct ip_addr *dst)
{
    struct ndmsg *nd = neigh_msg(m, type, flags, AF_BRIDGE, ifindex);
    nd->ndm_flags = NTF_SELF;
    nd->ndm_state = NUD_PERMANENT | NUD_NOARP;
    mnl_attr_put(m->hdr, NDA_LLADDR, 6, mac);
    mnl_attr_put(m->hdr, NDA_DST, (size_t)ip_addr_len(dst), dst->bytes); /* 4 or 16 bytes */
}

void nl_build_fdb_add(struct nl_msg *m, int ifindex, const uint8_t mac[6],
                      const struct ip_addr *dst, bool append)
{
    uint16_t flags = NLM_F_CREATE | (append ? NLM_F_APPEND : NLM_F_REPLACE);
    fdb_msg(m, RTM_NEWNEIGH, flags, ifindex, mac, dst);
}

void nl_build_fdb_del(struct nl_msg *m, int ifindex, const uint8_t mac[6],
                      const struct ip_addr *dst)
{
    fdb_msg(m, RTM_DELNEIGH, 0, ifindex, mac, dst);
}

void nl_build_bridge_fdb_del(struct nl_msg *m, int port_ifindex, const uint8_t mac[6])
{
    struct ndmsg *nd = neigh_msg(m, RTM_DELNEIGH, 0, AF_BRIDGE, port_ifindex);
    nd->ndm_flags = NTF_MASTER;
    mnl_attr_put(m->hdr, NDA_LLADDR, 6, mac);
}

void nl_build_bridge_fdb_add(struct nl_msg *m, int port_ifindex, const uint8_t mac[6])
{
    struct ndmsg *nd =
        neigh_msg(m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_BRIDGE, port_ifindex);
    nd->ndm_flags = NTF_MASTER;
    /* Static: NUD_NOARP alone. NUD_PERMANENT would make mac the bridge's own
     * ("local"): frames for it would go up to the host, not out of the port. */
    nd->ndm_state = NUD_NOARP;
    mnl_attr_put(m->hdr, NDA_LLADDR, 6, mac);
}

/* A permanent neighbour of family: dst (addr_len bytes, network order) -> mac,
 * or (mac NULL) its deletion. One builder for IPv4 and IPv6. */
static void neigh_entry_msg(struct nl_msg *m, uint16_t type, uint16_t flags, uint8_t family,
                            int ifindex, const void *dst, uint16_t addr_len, const uint8_t *mac)
{
    struct ndmsg *nd = neigh_msg(m, type, flags, family, ifindex);
    nd->ndm_state = NUD_PERMANENT;
    mnl_attr_put(m->hdr, NDA_DST, addr_len, dst);
    if (mac)
        mnl_attr_put(m->hdr, NDA_LLADDR, 6, mac);
}

void nl_build_neigh_add(struct nl_msg *m, int ifindex, uint32_t ip, const uint8_t mac[6])
{
    neigh_entry_msg(m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_INET, ifindex, &ip, 4, mac);
}

void nl_build_neigh_del(struct nl_msg *m, int ifindex, uint32_t ip)
{
    neigh_entry_msg(m, RTM_DELNEIGH, 0, AF_INET, ifindex, &ip, 4, NULL);
}

void nl_build_neigh6_add(struct nl_msg *m, int ifindex, const uint8_t ip6[16], const uint8_t mac[6])
{
    neigh_entry_msg(m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, AF_INET6, ifindex, ip6, 16, mac);
}

void nl_build_neigh6_del(struct nl_msg *m, int ifindex, const uint8_t ip6[16])
{
    neigh_entry_msg(m, RTM_DELNEIGH, 0, AF_INET6, ifindex, ip6, 16, NULL);
}

/* ---------- sending ---------- */

static void fdb_what(char *what, size_t n, const char *verb, const uint8_t mac[6],
                     const struct ip_addr *dst)
{
    char dst_text[ADDR_STR_MAX];
    ip_addr_format(dst, dst_text);
    snprintf(what, n, "%s fdb %02x:%02x:%02x:%02x:%02x:%02x dst %s", verb, mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5], dst_text);
}

int nl_fdb_add(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               bool append, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_fdb_add(&m, ifindex, mac, dst, append);
    char what[112];
    fdb_what(what, sizeof(what), "adding", mac, dst);
    /* Appending an entry that exists answers EEXIST: it is there, which is the goal. */
    return nl_change(nl, &m, append ? EEXIST : 0, err, what);
}

int nl_fdb_del(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               struct weft_err *err)
{
    struct nl_msg m;
    nl_build_fdb_del(&m, ifindex, mac, dst);
    char what[112];
    fdb_what(what, sizeof(what), "removing", mac, dst);
    return nl_change(nl, &m, ENOENT, err, what);
}

int nl_bridge_fdb_del(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err)
{
    struct nl_msg m;
    nl_build_bridge_fdb_del(&m, port_ifindex, mac);
    char what[96];
    snprintf(what, sizeof(what), "forgetting learned fdb %02x:%02x:%02x:%02x:%02x:%02x", mac[0],
             mac[1], mac[2], mac[3], mac[4], mac[5]);
    return nl_change(nl, &m, EOPNOTSUPP, err, what);
}

int nl_bridge_fdb_add(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err)
{
    struct nl_msg m;
    nl_build_bridge_fdb_add(&m, port_ifindex, mac);
    char what[96];
    snprintf(what, sizeof(what), "adding static fdb %02x:%02x:%02x:%02x:%02x:%02x on port %d",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], port_ifindex);
    return nl_change(nl, &m, 0, err, what);
}

/* Sends a built neighbour change, named in err as "adding neighbour 10.77.0.5" or
 * "removing neighbour fd00::5" (addr as family's). */
static int neigh_change(struct nl *nl, struct nl_msg *m, int ok_errno, const char *verb, int family,
                        const void *addr, struct weft_err *err)
{
    char ip_text[INET6_ADDRSTRLEN], what[80];
    inet_ntop(family, addr, ip_text, sizeof(ip_text));
    snprintf(what, sizeof(what), "%s neighbour %s", verb, ip_text);
    return nl_change(nl, m, ok_errno, err, what);
}

int nl_neigh_add(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6],
                 struct weft_err *err)
{
    struct nl_msg m;
    nl_build_neigh_add(&m, ifindex, ip, mac);
    return neigh_change(nl, &m, 0, "adding", AF_INET, &ip, err);
}

int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_neigh_del(&m, ifindex, ip);
    return neigh_change(nl, &m, ENOENT, "removing", AF_INET, &ip, err);
}

int nl_neigh6_add(struct nl *nl, int ifindex, const uint8_t ip6[16], const uint8_t mac[6],
                  struct weft_err *err)
{
    struct nl_msg m;
    nl_build_neigh6_add(&m, ifindex, ip6, mac);
    return neigh_change(nl, &m, 0, "adding", AF_INET6, ip6, err);
}

int nl_neigh6_del(struct nl *nl, int ifindex, const uint8_t ip6[16], struct weft_err *err)
{
    struct nl_msg m;
    nl_build_neigh6_del(&m, ifindex, ip6);
    return neigh_change(nl, &m, ENOENT, "removing", AF_INET6, ip6, err);
}

/* ---------- listing ---------- */

struct neigh_dump {
    int ifindex;
    nl_fdb_fn fdb_fn; /* one of these four */
    nl_neigh_fn neigh_fn;
    nl_neigh6_fn neigh6_fn;
    nl_bridge_fdb_fn bridge_fdb_fn;
    void *ctx;
};

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if (type == NDA_DST || type == NDA_LLADDR || type == NDA_VLAN)
        tb[type] = attr;
    return MNL_CB_OK;
}

/* A bridge's static entry on a port as nl_bridge_fdb_add makes it: the bridge's (not the
 * port device's own, NTF_SELF), NUD_NOARP without NUD_PERMANENT (the bridge's own
 * addresses), no VLAN and no destination. */
static void bridge_fdb_entry(const struct neigh_dump *d, const struct ndmsg *nd,
                             const struct nlattr *const *tb)
{
    if (nd->ndm_family != AF_BRIDGE || (nd->ndm_flags & NTF_SELF) || tb[NDA_DST] || tb[NDA_VLAN] ||
        (nd->ndm_state & (NUD_NOARP | NUD_PERMANENT)) != NUD_NOARP || !tb[NDA_LLADDR] ||
        mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
        return;
    d->bridge_fdb_fn(d->ctx, mnl_attr_get_payload(tb[NDA_LLADDR]));
}

static int neigh_dump_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct neigh_dump *d = data;
    if (hdr->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ndmsg))
        return MNL_CB_OK;
    const struct ndmsg *nd = mnl_nlmsg_get_payload(hdr);
    if (nd->ndm_ifindex != d->ifindex)
        return MNL_CB_OK;
    const struct nlattr *tb[NDA_MAX + 1] = {0};
    mnl_attr_parse(hdr, sizeof(struct ndmsg), neigh_attr_cb, tb);
    if (d->bridge_fdb_fn) {
        bridge_fdb_entry(d, nd, tb);
        return MNL_CB_OK;
    }
    /* Only IPv4 or IPv6 destinations and Ethernet addresses: anything else is not weft's. */
    if (!tb[NDA_DST] || !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
        return MNL_CB_OK;
    const uint8_t *dst = mnl_attr_get_payload(tb[NDA_DST]);
    uint16_t dst_len = mnl_attr_get_payload_len(tb[NDA_DST]);
    const uint8_t *mac = mnl_attr_get_payload(tb[NDA_LLADDR]);
    bool permanent = nd->ndm_state & NUD_PERMANENT;
    if (d->neigh6_fn && nd->ndm_family == AF_INET6 && permanent && dst_len == 16)
        d->neigh6_fn(d->ctx, dst, mac);
    if (d->fdb_fn && nd->ndm_family == AF_BRIDGE && (nd->ndm_flags & NTF_SELF) &&
        (dst_len == 4 || dst_len == 16)) {
        uint32_t ip4;
        memcpy(&ip4, dst, 4);
        struct ip_addr vtep = dst_len == 16 ? ip_addr_from_ipv6(dst) : ip_addr_from_ipv4(ip4);
        d->fdb_fn(d->ctx, mac, &vtep); /* a remote VTEP of either family */
        return MNL_CB_OK;
    }
    if (dst_len != 4)
        return MNL_CB_OK;
    uint32_t ip;
    memcpy(&ip, dst, 4);
    if (d->neigh_fn && nd->ndm_family == AF_INET && permanent)
        d->neigh_fn(d->ctx, ip, mac);
    return MNL_CB_OK;
}

int nl_fdb_list(struct nl *nl, int ifindex, nl_fdb_fn fn, void *ctx, struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = ifindex, .fdb_fn = fn, .ctx = ctx};
    return nl_dump(nl, RTM_GETNEIGH, AF_BRIDGE, neigh_dump_msg_cb, &d, err, "listing fdb entries");
}

int nl_neigh_list(struct nl *nl, int ifindex, nl_neigh_fn fn, void *ctx, struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = ifindex, .neigh_fn = fn, .ctx = ctx};
    return nl_dump(nl, RTM_GETNEIGH, AF_INET, neigh_dump_msg_cb, &d, err, "listing neighbours");
}

int nl_neigh6_list(struct nl *nl, int ifindex, nl_neigh6_fn fn, void *ctx, struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = ifindex, .neigh6_fn = fn, .ctx = ctx};
    return nl_dump(nl, RTM_GETNEIGH, AF_INET6, neigh_dump_msg_cb, &d, err,
                   "listing IPv6 neighbours");
}

int nl_bridge_fdb_list(struct nl *nl, int port_ifindex, nl_bridge_fdb_fn fn, void *ctx,
                       struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = port_ifindex, .bridge_fdb_fn = fn, .ctx = ctx};
    return nl_dump(nl, RTM_GETNEIGH, AF_BRIDGE, neigh_dump_msg_cb, &d, err,
                   "listing bridge fdb entries");
}
