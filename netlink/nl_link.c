/*
 * nl_link.c: link messages, as iproute2's ip/iplink*.c: creating a bridge, a
 * VXLAN device or a veth pair (each kind's attributes visible in its own
 * builder, on a shared begin/end pair), and changing a link (delete, up and
 * alias, MAC, master, MTU, a bridge port's neighbour suppression). Each
 * nl_build_* fills a caller's buffer (see nl_build.h); the nl_* call beside it
 * sends that and names the change in its error. Reading links back is
 * nl_lookup.c.
 */
#include "netlink/nl_internal.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/* ---------- building ---------- */

/* A link message for name (none when NULL); its ifinfomsg for the caller to fill. */
static struct ifinfomsg *link_msg(struct nl_msg *m, uint16_t type, uint16_t flags, const char *name)
{
    nl_build_start(m, type, flags);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    if (name)
        mnl_attr_put_strz(m->hdr, IFLA_IFNAME, name);
    return ifi;
}

void nl_build_link_delete(struct nl_msg *m, const char *name)
{
    link_msg(m, RTM_DELLINK, NLM_F_ACK, name);
}

void nl_build_link_set(struct nl_msg *m, const char *name, bool up, const char *alias)
{
    struct ifinfomsg *ifi = link_msg(m, RTM_NEWLINK, NLM_F_ACK, name);
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    if (alias)
        mnl_attr_put_strz(m->hdr, IFLA_IFALIAS, alias);
}

void nl_build_link_set_mac(struct nl_msg *m, const char *name, const uint8_t mac[6])
{
    link_msg(m, RTM_NEWLINK, NLM_F_ACK, name);
    mnl_attr_put(m->hdr, IFLA_ADDRESS, 6, mac);
}

void nl_build_link_set_master(struct nl_msg *m, const char *name, int master_ifindex)
{
    link_msg(m, RTM_NEWLINK, NLM_F_ACK, name);
    mnl_attr_put_u32(m->hdr, IFLA_MASTER, (uint32_t)master_ifindex);
}

void nl_build_link_set_mtu(struct nl_msg *m, const char *name, int mtu)
{
    link_msg(m, RTM_NEWLINK, NLM_F_ACK, name);
    mnl_attr_put_u32(m->hdr, IFLA_MTU, (uint32_t)mtu);
}

void nl_build_link_get(struct nl_msg *m, const char *name, int ifindex)
{
    /* NLM_F_ACK: a plain GET answers one message and no DONE; the ack ends the read. */
    struct ifinfomsg *ifi = link_msg(m, RTM_GETLINK, NLM_F_ACK, name);
    ifi->ifi_index = name ? 0 : ifindex;
    mnl_attr_put_u32(m->hdr, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS); /* smaller answer */
}

void nl_build_bridge_port_neigh_suppress(struct nl_msg *m, int port_ifindex, bool on)
{
    /* What `bridge link set dev X neigh_suppress on` sends: the bridge (AF_BRIDGE)
     * reads a port's settings from IFLA_PROTINFO, a nest (NLA_F_NESTED, which
     * mnl_attr_nest_start sets; without it the kernel takes the old STP state byte). */
    struct ifinfomsg *ifi = link_msg(m, RTM_SETLINK, NLM_F_ACK, NULL);
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = port_ifindex;
    struct nlattr *port = mnl_attr_nest_start(m->hdr, IFLA_PROTINFO);
    mnl_attr_put_u8(m->hdr, IFLA_BRPORT_NEIGH_SUPPRESS, on ? 1 : 0);
    mnl_attr_nest_end(m->hdr, port);
}

/* The nests of an RTM_NEWLINK being built: IFLA_LINKINFO and its IFLA_INFO_DATA. */
struct link_nests {
    struct nlattr *info;
    struct nlattr *data;
};

/* Starts creating link name of kind (exclusive: an existing link is an error), with MTU
 * and master when set; the kind's own attributes follow, then new_link_end. */
static struct link_nests new_link_begin(struct nl_msg *m, const char *name, const char *kind,
                                        int mtu, int master_ifindex)
{
    link_msg(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, name);
    if (mtu > 0)
        mnl_attr_put_u32(m->hdr, IFLA_MTU, (uint32_t)mtu);
    if (master_ifindex > 0)
        mnl_attr_put_u32(m->hdr, IFLA_MASTER, (uint32_t)master_ifindex);
    struct link_nests n;
    n.info = mnl_attr_nest_start(m->hdr, IFLA_LINKINFO);
    mnl_attr_put_strz(m->hdr, IFLA_INFO_KIND, kind);
    n.data = mnl_attr_nest_start(m->hdr, IFLA_INFO_DATA);
    return n;
}

static void new_link_end(struct nl_msg *m, struct link_nests n)
{
    mnl_attr_nest_end(m->hdr, n.data);
    mnl_attr_nest_end(m->hdr, n.info);
}

/* The kernel only says "Numerical result out of range" for a long name. */
static int check_name(const char *name, struct weft_err *err)
{
    if (!name || !name[0] || strlen(name) >= IF_NAMESIZE)
        return weft_err_set(err, -EINVAL, "interface name \"%s\" must have 1 to %d characters",
                            name ? name : "", IF_NAMESIZE - 1);
    return 0;
}

int nl_build_bridge(struct nl_msg *m, const char *name, int mtu, struct weft_err *err)
{
    if (check_name(name, err) < 0)
        return -1;
    struct link_nests nests = new_link_begin(m, name, "bridge", mtu, 0);
    mnl_attr_put_u32(m->hdr, IFLA_BR_STP_STATE, 0);
    mnl_attr_put_u32(m->hdr, IFLA_BR_FORWARD_DELAY, 0);
    new_link_end(m, nests);
    return 0;
}

int nl_build_vxlan(struct nl_msg *m, const struct nl_vxlan_spec *spec, struct weft_err *err)
{
    if (check_name(spec->name, err) < 0)
        return -1;
    struct link_nests nests =
        new_link_begin(m, spec->name, "vxlan", spec->mtu, spec->master_ifindex);
    mnl_attr_put_u32(m->hdr, IFLA_VXLAN_ID, spec->vni);
    if (ip_addr_is_ipv6(&spec->local))
        mnl_attr_put(m->hdr, IFLA_VXLAN_LOCAL6, 16, spec->local.bytes);
    else
        mnl_attr_put(m->hdr, IFLA_VXLAN_LOCAL, 4, spec->local.bytes);
    mnl_attr_put_u16(m->hdr, IFLA_VXLAN_PORT, htons(spec->dst_port));
    mnl_attr_put_u8(m->hdr, IFLA_VXLAN_LEARNING, 0); /* peers are programmed, never learned */
    mnl_attr_put_u8(m->hdr, IFLA_VXLAN_PROXY, 1);    /* ARP answered locally from neigh entries */
    mnl_attr_put_u8(m->hdr, IFLA_VXLAN_UDP_CSUM, 1);
    new_link_end(m, nests);
    return 0;
}

int nl_build_veth(struct nl_msg *m, const struct nl_veth_spec *spec, struct weft_err *err)
{
    if (check_name(spec->host_name, err) < 0 || check_name(spec->container_name, err) < 0)
        return -1;
    if (spec->host_alias && strlen(spec->host_alias) >= NL_ALIAS_MAX)
        return weft_err_set(err, -ERANGE, "interface alias of %zu bytes is over the kernel's %d",
                            strlen(spec->host_alias), NL_ALIAS_MAX - 1);
    struct link_nests nests =
        new_link_begin(m, spec->host_name, "veth", spec->mtu, spec->master_ifindex);
    /* The kernel calls the other end the veth's peer; in weft it is the container end. */
    struct nlattr *container_end = mnl_attr_nest_start(m->hdr, VETH_INFO_PEER);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m->hdr, IFLA_IFNAME, spec->container_name);
    if (spec->container_mac)
        mnl_attr_put(m->hdr, IFLA_ADDRESS, 6, spec->container_mac);
    if (spec->mtu > 0)
        mnl_attr_put_u32(m->hdr, IFLA_MTU, (uint32_t)spec->mtu);
    mnl_attr_nest_end(m->hdr, container_end);
    new_link_end(m, nests);
    return 0;
}

/* ---------- sending ---------- */

int nl_link_delete(struct nl *nl, const char *name, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_link_delete(&m, name);
    char what[64];
    snprintf(what, sizeof(what), "deleting %.15s", name);
    return nl_change(nl, &m, ENOENT, err, what);
}

/* Sets a link up or down and its alias (when set), in one message. */
static int link_set(struct nl *nl, const char *name, bool up, const char *alias,
                    struct weft_err *err)
{
    struct nl_msg m;
    nl_build_link_set(&m, name, up, alias);
    char what[64];
    snprintf(what, sizeof(what), "setting %.15s %s", name, up ? "up" : "down");
    return nl_change(nl, &m, 0, err, what);
}

int nl_link_set_up(struct nl *nl, const char *name, struct weft_err *err)
{
    return link_set(nl, name, true, NULL, err);
}

int nl_link_set_up_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err)
{
    return link_set(nl, name, true, alias, err);
}

int nl_link_set_down_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err)
{
    return link_set(nl, name, false, alias, err);
}

int nl_link_set_mac(struct nl *nl, const char *name, const uint8_t mac[6], struct weft_err *err)
{
    struct nl_msg m;
    nl_build_link_set_mac(&m, name, mac);
    char what[64];
    snprintf(what, sizeof(what), "setting the MAC of %.15s", name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_link_set_master(struct nl *nl, const char *name, int master_ifindex, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_link_set_master(&m, name, master_ifindex);
    char what[64];
    snprintf(what, sizeof(what), "attaching %.15s to its bridge", name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_link_set_mtu(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    if (mtu <= 0)
        return 0;
    struct nl_msg m;
    nl_build_link_set_mtu(&m, name, mtu);
    char what[64];
    snprintf(what, sizeof(what), "setting MTU %d on %.15s", mtu, name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_bridge_port_set_neigh_suppress(struct nl *nl, int port_ifindex, bool on,
                                      struct weft_err *err)
{
    struct nl_msg m;
    nl_build_bridge_port_neigh_suppress(&m, port_ifindex, on);
    char what[80];
    snprintf(what, sizeof(what), "turning neigh_suppress %s on bridge port %d", on ? "on" : "off",
             port_ifindex);
    return nl_change(nl, &m, 0, err, what);
}

int nl_bridge_create(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    struct nl_msg m;
    if (nl_build_bridge(&m, name, mtu, err) < 0)
        return -1;
    char what[64];
    snprintf(what, sizeof(what), "creating bridge %.15s", name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_spec *spec, struct weft_err *err)
{
    struct nl_msg m;
    if (nl_build_vxlan(&m, spec, err) < 0)
        return -1;
    char what[64];
    snprintf(what, sizeof(what), "creating vxlan %.15s", spec->name);
    return nl_change(nl, &m, 0, err, what);
}

int nl_veth_create(struct nl *nl, const struct nl_veth_spec *spec, struct weft_err *err)
{
    struct nl_msg m;
    if (nl_build_veth(&m, spec, err) < 0)
        return -1;
    char what[80];
    snprintf(what, sizeof(what), "creating veth %.15s/%.15s", spec->host_name,
             spec->container_name);
    if (nl_change(nl, &m, 0, err, what) < 0)
        return -1;
    /* The alias goes with "up": the kernel ignores one given at creation. */
    if (spec->down && !spec->host_alias)
        return 0;
    bool up = !spec->down;
    if (nl->batching) /* queued right behind the creation; a batch cannot undo */
        return link_set(nl, spec->host_name, up, spec->host_alias, err);
    if (link_set(nl, spec->host_name, up, spec->host_alias, err) < 0) {
        /* The caller gets (and logs) the first failure; a failed undo is another
         * one, logged here, since the pair is then left behind. */
        struct weft_err undo = {0};
        if (nl_link_delete(nl, spec->host_name, &undo) < 0) /* takes the container end too */
            log_warn("undo failed: veth pair left behind", "link=%s err=\"%s\"", spec->host_name,
                     undo.msg);
        return -1;
    }
    return 0;
}
