/*
 * test_nl_builders.c: the bytes of every rtnetlink request netlink/ builds,
 * read back with libmnl's parsers: message type and flags, the fixed header
 * (ifinfomsg, ndmsg, rtgenmsg), and each attribute with its type, length and
 * value, nested ones included; and that nothing else rides along (no
 * multicast group on a vxlan device, no MTU when none was asked for). Pure:
 * no socket is opened, so it runs without root or CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netlink/nl_build.h"

/* ---------- reading a message back ---------- */

#define TYPES 128 /* above every IFLA_, IFLA_VXLAN_, IFLA_BR_ and NDA_ type used here */

/* One level of attributes, by type; count says how many there were. */
struct attrs {
    const struct nlattr *tb[TYPES];
    int count;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
    struct attrs *a = data;
    uint16_t type = mnl_attr_get_type(attr);
    assert_true(type < TYPES);
    assert_null(a->tb[type]); /* each attribute once */
    a->tb[type] = attr;
    a->count++;
    return MNL_CB_OK;
}

/* The message is well formed, fits its buffer, carries sequence 0 for the sender
 * to stamp, has the type and exactly the flags given, and its attributes (after
 * a fixed header of header bytes) fill it to the last byte. */
static void parse_msg(const struct nl_msg *m, uint16_t type, uint16_t flags, size_t header,
                      struct attrs *out)
{
    const struct nlmsghdr *h = m->hdr;
    assert_ptr_equal(h, (const void *)m->buf);
    assert_true(mnl_nlmsg_ok(h, (int)h->nlmsg_len));
    assert_true(h->nlmsg_len <= NL_MSG_SIZE);
    assert_int_equal(h->nlmsg_type, type);
    assert_int_equal(h->nlmsg_flags, flags);
    assert_int_equal(h->nlmsg_seq, 0);
    assert_int_equal(h->nlmsg_pid, 0);
    assert_true(mnl_nlmsg_get_payload_len(h) >= header);
    memset(out, 0, sizeof(*out));
    assert_int_equal(mnl_attr_parse(h, (unsigned int)header, collect_cb, out), MNL_CB_OK);
    size_t end = MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(header);
    const struct nlattr *attr;
    mnl_attr_for_each(attr, h, header)
    {
        end += MNL_ALIGN(mnl_attr_get_len(attr));
    }
    assert_int_equal(end, h->nlmsg_len);
}

/* The attributes inside nest, which must be well formed and fill it exactly. */
static void parse_nest(const struct nlattr *nest, struct attrs *out)
{
    assert_non_null(nest);
    assert_true(mnl_attr_get_type(nest) >= 1);
    memset(out, 0, sizeof(*out));
    assert_int_equal(mnl_attr_parse_nested(nest, collect_cb, out), MNL_CB_OK);
    size_t used = 0;
    const struct nlattr *attr;
    mnl_attr_for_each_nested(attr, nest)
    {
        used += MNL_ALIGN(mnl_attr_get_len(attr));
    }
    assert_int_equal(used, mnl_attr_get_payload_len(nest));
}

static void assert_str_attr(const struct nlattr *attr, const char *want)
{
    assert_non_null(attr);
    assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_NUL_STRING), 0);
    assert_string_equal(mnl_attr_get_str(attr), want);
}

static void assert_u32_attr(const struct nlattr *attr, uint32_t want)
{
    assert_non_null(attr);
    assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_U32), 0);
    assert_int_equal(mnl_attr_get_u32(attr), want);
}

static void assert_u8_attr(const struct nlattr *attr, uint8_t want)
{
    assert_non_null(attr);
    assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_U8), 0);
    assert_int_equal(mnl_attr_get_u8(attr), want);
}

static void assert_bytes_attr(const struct nlattr *attr, const void *want, size_t len)
{
    assert_non_null(attr);
    assert_int_equal(mnl_attr_get_payload_len(attr), len);
    assert_memory_equal(mnl_attr_get_payload(attr), want, len);
}

static const struct ifinfomsg *ifinfo(const struct nl_msg *m)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m->hdr);
    assert_int_equal(ifi->ifi_family, AF_UNSPEC);
    assert_int_equal(ifi->ifi_type, 0);
    return ifi;
}

static const struct ndmsg *ndinfo(const struct nl_msg *m, uint8_t family, int ifindex)
{
    const struct ndmsg *nd = mnl_nlmsg_get_payload(m->hdr);
    assert_int_equal(nd->ndm_family, family);
    assert_int_equal(nd->ndm_ifindex, ifindex);
    assert_int_equal(nd->ndm_type, 0);
    return nd;
}

#define CHANGE (NLM_F_REQUEST | NLM_F_ACK)
#define CREATE (CHANGE | NLM_F_CREATE | NLM_F_EXCL)

static const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x63, 0x00, 0x07};

/* The LINKINFO of a new link: its kind, and the attributes of INFO_DATA in *data. */
static void link_info(const struct attrs *top, const char *kind, struct attrs *data)
{
    struct attrs info;
    parse_nest(top->tb[IFLA_LINKINFO], &info);
    assert_int_equal(info.count, 2);
    assert_str_attr(info.tb[IFLA_INFO_KIND], kind);
    parse_nest(info.tb[IFLA_INFO_DATA], data);
}

/* ---------- new links ---------- */

static void vxlan_carries_vni_port_local_and_learning_off(void **state)
{
    (void)state;
    struct nl_vxlan_spec spec = {.name = "wvx42",
                                 .vni = 42,
                                 .local = ip_addr_from_ipv4(inet_addr("192.168.60.1")),
                                 .dst_port = 4789,
                                 .mtu = 1450,
                                 .master_ifindex = 7};
    struct nl_msg m;
    struct weft_err err = {0};
    assert_int_equal(nl_build_vxlan(&m, &spec, &err), 0);
    struct attrs top, data;
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    const struct ifinfomsg *ifi = ifinfo(&m);
    assert_int_equal(ifi->ifi_index, 0);
    assert_int_equal(ifi->ifi_flags, 0);
    assert_int_equal(ifi->ifi_change, 0);
    assert_int_equal(top.count, 4);
    assert_str_attr(top.tb[IFLA_IFNAME], "wvx42");
    assert_u32_attr(top.tb[IFLA_MTU], 1450);
    assert_u32_attr(top.tb[IFLA_MASTER], 7);
    link_info(&top, "vxlan", &data);
    assert_int_equal(data.count, 6); /* no group, no fixed remote, no TTL: nothing else */
    assert_u32_attr(data.tb[IFLA_VXLAN_ID], 42);
    uint32_t local = inet_addr("192.168.60.1");
    assert_bytes_attr(data.tb[IFLA_VXLAN_LOCAL], &local, 4);
    assert_null(data.tb[IFLA_VXLAN_LOCAL6]);
    const uint8_t port[2] = {0x12, 0xb5}; /* 4789, network byte order on the wire */
    assert_int_equal(mnl_attr_validate(data.tb[IFLA_VXLAN_PORT], MNL_TYPE_U16), 0);
    assert_bytes_attr(data.tb[IFLA_VXLAN_PORT], port, 2);
    assert_u8_attr(data.tb[IFLA_VXLAN_LEARNING], 0);
    assert_u8_attr(data.tb[IFLA_VXLAN_PROXY], 1);
    assert_u8_attr(data.tb[IFLA_VXLAN_UDP_CSUM], 1);
    assert_null(data.tb[IFLA_VXLAN_GROUP]);

    /* No MTU and no bridge asked for: neither attribute is sent. */
    spec.mtu = 0;
    spec.master_ifindex = 0;
    assert_int_equal(nl_build_vxlan(&m, &spec, &err), 0);
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_null(top.tb[IFLA_MTU]);
    assert_null(top.tb[IFLA_MASTER]);
    link_info(&top, "vxlan", &data);
    assert_u32_attr(data.tb[IFLA_VXLAN_ID], 42);

    /* An IPv6 VTEP (issue 12): IFLA_VXLAN_LOCAL6 instead, so the device sends over IPv6. */
    uint8_t local6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21};
    spec.local = ip_addr_from_ipv6(local6);
    assert_int_equal(nl_build_vxlan(&m, &spec, &err), 0);
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    link_info(&top, "vxlan", &data);
    assert_int_equal(data.count, 6);
    assert_null(data.tb[IFLA_VXLAN_LOCAL]);
    assert_bytes_attr(data.tb[IFLA_VXLAN_LOCAL6], local6, 16);
}

static void bridge_has_stp_off_and_no_forward_delay(void **state)
{
    (void)state;
    struct nl_msg m;
    struct weft_err err = {0};
    assert_int_equal(nl_build_bridge(&m, "wbr42", 1400, &err), 0);
    struct attrs top, data;
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(ifinfo(&m)->ifi_index, 0);
    assert_int_equal(top.count, 3);
    assert_str_attr(top.tb[IFLA_IFNAME], "wbr42");
    assert_u32_attr(top.tb[IFLA_MTU], 1400);
    assert_null(top.tb[IFLA_MASTER]);
    link_info(&top, "bridge", &data);
    assert_int_equal(data.count, 2);
    assert_u32_attr(data.tb[IFLA_BR_STP_STATE], 0);
    assert_u32_attr(data.tb[IFLA_BR_FORWARD_DELAY], 0);

    assert_int_equal(nl_build_bridge(&m, "wbr43", 0, &err), 0); /* the kernel's MTU */
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_null(top.tb[IFLA_MTU]);
}

/* VETH_INFO_PEER holds an ifinfomsg, then the container end's attributes. */
static void container_end(const struct attrs *data, struct attrs *out)
{
    const struct nlattr *nest = data->tb[VETH_INFO_PEER];
    assert_non_null(nest);
    size_t len = mnl_attr_get_payload_len(nest);
    assert_true(len >= sizeof(struct ifinfomsg));
    const struct ifinfomsg *ifi = mnl_attr_get_payload(nest);
    assert_int_equal(ifi->ifi_family, AF_UNSPEC);
    assert_int_equal(ifi->ifi_index, 0);
    const struct nlattr *first =
        (const struct nlattr *)((const char *)ifi + MNL_ALIGN(sizeof(*ifi)));
    size_t used = MNL_ALIGN(sizeof(*ifi)), size = len - used;
    memset(out, 0, sizeof(*out));
    const struct nlattr *attr;
    mnl_attr_for_each_payload(first, size)
    {
        collect_cb(attr, out);
        used += MNL_ALIGN(mnl_attr_get_len(attr));
    }
    assert_int_equal(used, len);
}

static void veth_names_both_ends_with_mtu_mac_and_master(void **state)
{
    (void)state;
    struct nl_veth_spec spec = {.host_name = "wh0123456789",
                                .container_name = "wc0123456789",
                                .container_mac = mac,
                                .mtu = 1450,
                                .master_ifindex = 5};
    struct nl_msg m;
    struct weft_err err = {0};
    assert_int_equal(nl_build_veth(&m, &spec, &err), 0);
    struct attrs top, data, ctr;
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(ifinfo(&m)->ifi_flags, 0); /* up is a second message */
    assert_int_equal(top.count, 4);
    assert_str_attr(top.tb[IFLA_IFNAME], "wh0123456789");
    assert_u32_attr(top.tb[IFLA_MTU], 1450);
    assert_u32_attr(top.tb[IFLA_MASTER], 5);
    assert_null(top.tb[IFLA_ADDRESS]); /* the MAC is the container end's */
    assert_null(top.tb[IFLA_IFALIAS]); /* the kernel ignores one at creation */
    link_info(&top, "veth", &data);
    assert_int_equal(data.count, 1);
    container_end(&data, &ctr);
    assert_int_equal(ctr.count, 3);
    assert_str_attr(ctr.tb[IFLA_IFNAME], "wc0123456789");
    assert_bytes_attr(ctr.tb[IFLA_ADDRESS], mac, 6);
    assert_u32_attr(ctr.tb[IFLA_MTU], 1450);
    assert_null(ctr.tb[IFLA_MASTER]); /* the container end goes to the container */

    /* A spare pair: no MAC, no MTU, no bridge. */
    struct nl_veth_spec spare = {.host_name = "ws3", .container_name = "wt3", .down = true};
    assert_int_equal(nl_build_veth(&m, &spare, &err), 0);
    parse_msg(&m, RTM_NEWLINK, CREATE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_str_attr(top.tb[IFLA_IFNAME], "ws3");
    link_info(&top, "veth", &data);
    container_end(&data, &ctr);
    assert_int_equal(ctr.count, 1);
    assert_str_attr(ctr.tb[IFLA_IFNAME], "wt3");
}

static void link_builders_refuse_names_the_kernel_would(void **state)
{
    (void)state;
    struct nl_msg m;
    struct weft_err err = {0};
    assert_int_equal(nl_build_bridge(&m, "", 0, &err), -1);
    assert_string_equal(err.msg, "interface name \"\" must have 1 to 15 characters");
    assert_int_equal(nl_build_bridge(&m, "sixteen-chars-xx", 0, &err), -1);
    assert_string_equal(err.msg,
                        "interface name \"sixteen-chars-xx\" must have 1 to 15 characters");
    assert_int_equal(nl_build_bridge(&m, "fifteen-chars-x", 0, &err), 0);
    struct nl_vxlan_spec vx = {.name = NULL, .vni = 1};
    assert_int_equal(nl_build_vxlan(&m, &vx, &err), -1);
    assert_string_equal(err.msg, "interface name \"\" must have 1 to 15 characters");

    struct nl_veth_spec spec = {.host_name = "th1", .container_name = "container-name-too-long"};
    assert_int_equal(nl_build_veth(&m, &spec, &err), -1);
    assert_string_equal(err.msg,
                        "interface name \"container-name-too-long\" must have 1 to 15 characters");
    spec.container_name = "tc1";
    char alias[NL_ALIAS_MAX + 1];
    memset(alias, 'x', NL_ALIAS_MAX);
    alias[NL_ALIAS_MAX] = '\0';
    spec.host_alias = alias;
    assert_int_equal(nl_build_veth(&m, &spec, &err), -1);
    assert_string_equal(err.msg, "interface alias of 256 bytes is over the kernel's 255");
    alias[NL_ALIAS_MAX - 1] = '\0'; /* 255 bytes: the most the kernel keeps */
    assert_int_equal(nl_build_veth(&m, &spec, &err), 0);
}

/* ---------- changing links ---------- */

static void up_and_alias_go_in_one_message(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    const char *alias = "{\"endpoint_id\":\"e6\"}";
    nl_build_link_set(&m, "wh06", true, alias);
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    const struct ifinfomsg *ifi = ifinfo(&m);
    assert_int_equal(ifi->ifi_flags, IFF_UP);
    assert_int_equal(ifi->ifi_change, IFF_UP);
    assert_int_equal(top.count, 2);
    assert_str_attr(top.tb[IFLA_IFNAME], "wh06");
    assert_str_attr(top.tb[IFLA_IFALIAS], alias);

    nl_build_link_set(&m, "wbr1", true, NULL);
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 1);
    assert_int_equal(ifinfo(&m)->ifi_flags, IFF_UP);

    /* A spare (made, or made one again): down, and its mark, in one message. */
    nl_build_link_set(&m, "ws1", false, "weft spare");
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    ifi = ifinfo(&m);
    assert_int_equal(ifi->ifi_flags, 0);
    assert_int_equal(ifi->ifi_change, IFF_UP);
    assert_int_equal(top.count, 2);
    assert_str_attr(top.tb[IFLA_IFALIAS], "weft spare");
}

static void link_changes_carry_one_attribute_each(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    nl_build_link_delete(&m, "wvx9");
    parse_msg(&m, RTM_DELLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 1);
    assert_str_attr(top.tb[IFLA_IFNAME], "wvx9");

    nl_build_link_set_mac(&m, "wt2", mac);
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_str_attr(top.tb[IFLA_IFNAME], "wt2");
    assert_bytes_attr(top.tb[IFLA_ADDRESS], mac, 6);

    nl_build_link_set_master(&m, "wvx9", 12);
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_u32_attr(top.tb[IFLA_MASTER], 12);
    nl_build_link_set_master(&m, "wvx9", 0); /* detaching is master 0, sent */
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_u32_attr(top.tb[IFLA_MASTER], 0);

    nl_build_link_set_mtu(&m, "wvx9", 1300);
    parse_msg(&m, RTM_NEWLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(top.count, 2);
    assert_u32_attr(top.tb[IFLA_MTU], 1300);
    assert_int_equal(ifinfo(&m)->ifi_change, 0); /* flags untouched */
}

/* What `bridge link set dev X neigh_suppress on` sends: AF_BRIDGE by index, the
 * port's settings in a nest the kernel only reads as one with NLA_F_NESTED. */
static void neigh_suppress_is_a_nested_port_setting(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top, port;
    nl_build_bridge_port_neigh_suppress(&m, 17, true);
    parse_msg(&m, RTM_SETLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m.hdr);
    assert_int_equal(ifi->ifi_family, AF_BRIDGE);
    assert_int_equal(ifi->ifi_index, 17);
    assert_int_equal(ifi->ifi_change, 0);
    assert_int_equal(top.count, 1);
    assert_true(top.tb[IFLA_PROTINFO]->nla_type & NLA_F_NESTED);
    parse_nest(top.tb[IFLA_PROTINFO], &port);
    assert_int_equal(port.count, 1);
    assert_u8_attr(port.tb[IFLA_BRPORT_NEIGH_SUPPRESS], 1);

    nl_build_bridge_port_neigh_suppress(&m, 17, false);
    parse_msg(&m, RTM_SETLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    parse_nest(top.tb[IFLA_PROTINFO], &port);
    assert_u8_attr(port.tb[IFLA_BRPORT_NEIGH_SUPPRESS], 0);
}

/* ---------- reading ---------- */

static void link_get_asks_by_name_or_index_without_stats(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    nl_build_link_get(&m, "wbr42", 99); /* a name wins over the index */
    parse_msg(&m, RTM_GETLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(ifinfo(&m)->ifi_index, 0);
    assert_int_equal(top.count, 2);
    assert_str_attr(top.tb[IFLA_IFNAME], "wbr42");
    assert_u32_attr(top.tb[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);

    nl_build_link_get(&m, NULL, 9);
    parse_msg(&m, RTM_GETLINK, CHANGE, sizeof(struct ifinfomsg), &top);
    assert_int_equal(ifinfo(&m)->ifi_index, 9);
    assert_int_equal(top.count, 1);
    assert_null(top.tb[IFLA_IFNAME]);
    assert_u32_attr(top.tb[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);
}

static void dumps_name_their_family_and_ask_no_ack(void **state)
{
    (void)state;
    const struct {
        uint16_t type;
        uint8_t family;
    } cases[] = {{RTM_GETNEIGH, AF_BRIDGE},
                 {RTM_GETNEIGH, AF_INET},
                 {RTM_GETLINK, AF_UNSPEC},
                 {RTM_GETROUTE, AF_INET},
                 {RTM_GETADDR, AF_INET}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nl_msg m;
        struct attrs top;
        nl_build_dump(&m, cases[i].type, cases[i].family);
        parse_msg(&m, cases[i].type, NLM_F_REQUEST | NLM_F_DUMP, sizeof(struct rtmsg), &top);
        assert_int_equal(top.count, 0);
        assert_int_equal(mnl_nlmsg_get_payload_len(m.hdr), sizeof(struct rtmsg));
        const struct rtgenmsg *gen = mnl_nlmsg_get_payload(m.hdr);
        assert_int_equal(gen->rtgen_family, cases[i].family);
        const struct rtmsg *rt = mnl_nlmsg_get_payload(m.hdr); /* the rest of it zero */
        assert_int_equal(rt->rtm_table, 0);
        assert_int_equal(rt->rtm_flags, 0);
    }
}

/* ---------- FDB and neighbours ---------- */

static void fdb_entries_send_to_a_vtep(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    uint32_t vtep = inet_addr("192.168.62.3");
    struct ip_addr dst = ip_addr_from_ipv4(vtep);
    nl_build_fdb_add(&m, 14, mac, &dst, false);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg), &top);
    const struct ndmsg *nd = ndinfo(&m, AF_BRIDGE, 14);
    assert_int_equal(nd->ndm_flags, NTF_SELF);
    assert_int_equal(nd->ndm_state, NUD_PERMANENT | NUD_NOARP);
    assert_int_equal(top.count, 2);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);
    assert_bytes_attr(top.tb[NDA_DST], &vtep, 4);

    /* A flooding entry: all-zero MAC, appended beside the other VTEPs'. */
    const uint8_t zero[6] = {0};
    nl_build_fdb_add(&m, 14, zero, &dst, true);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_APPEND, sizeof(struct ndmsg), &top);
    assert_bytes_attr(top.tb[NDA_LLADDR], zero, 6);
    assert_bytes_attr(top.tb[NDA_DST], &vtep, 4);

    nl_build_fdb_del(&m, 14, mac, &dst);
    parse_msg(&m, RTM_DELNEIGH, CHANGE, sizeof(struct ndmsg), &top);
    nd = ndinfo(&m, AF_BRIDGE, 14);
    assert_int_equal(nd->ndm_flags, NTF_SELF);
    assert_int_equal(top.count, 2);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);
    assert_bytes_attr(top.tb[NDA_DST], &vtep, 4);

    /* An IPv6 VTEP: a 16-byte destination, still an AF_BRIDGE entry. */
    const uint8_t vtep6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    struct ip_addr dst6 = ip_addr_from_ipv6(vtep6);
    nl_build_fdb_add(&m, 14, mac, &dst6, false);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg), &top);
    ndinfo(&m, AF_BRIDGE, 14);
    assert_bytes_attr(top.tb[NDA_DST], vtep6, 16);
    nl_build_fdb_del(&m, 14, zero, &dst6);
    parse_msg(&m, RTM_DELNEIGH, CHANGE, sizeof(struct ndmsg), &top);
    assert_bytes_attr(top.tb[NDA_DST], vtep6, 16);
}

static void forgetting_a_learned_mac_asks_the_bridge(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    nl_build_bridge_fdb_del(&m, 21, mac);
    parse_msg(&m, RTM_DELNEIGH, CHANGE, sizeof(struct ndmsg), &top);
    const struct ndmsg *nd = ndinfo(&m, AF_BRIDGE, 21);
    assert_int_equal(nd->ndm_flags, NTF_MASTER);
    assert_int_equal(nd->ndm_state, 0);
    assert_int_equal(top.count, 1);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);
}

/* Static (NUD_NOARP), not permanent: a permanent entry is the bridge's own MAC. */
static void a_static_bridge_entry_puts_a_mac_behind_a_port(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    nl_build_bridge_fdb_add(&m, 21, mac);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg), &top);
    const struct ndmsg *nd = ndinfo(&m, AF_BRIDGE, 21);
    assert_int_equal(nd->ndm_flags, NTF_MASTER);
    assert_int_equal(nd->ndm_state, NUD_NOARP);
    assert_int_equal(top.count, 1);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);
}

static void neighbours_are_permanent_ipv4_entries(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    uint32_t ip = inet_addr("10.98.0.9");
    nl_build_neigh_add(&m, 14, ip, mac);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg), &top);
    const struct ndmsg *nd = ndinfo(&m, AF_INET, 14);
    assert_int_equal(nd->ndm_flags, 0);
    assert_int_equal(nd->ndm_state, NUD_PERMANENT);
    assert_int_equal(top.count, 2);
    assert_bytes_attr(top.tb[NDA_DST], &ip, 4);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);

    nl_build_neigh_del(&m, 14, ip);
    parse_msg(&m, RTM_DELNEIGH, CHANGE, sizeof(struct ndmsg), &top);
    nd = ndinfo(&m, AF_INET, 14);
    assert_int_equal(nd->ndm_state, NUD_PERMANENT);
    assert_int_equal(top.count, 1);
    assert_bytes_attr(top.tb[NDA_DST], &ip, 4);
}

static void ipv6_neighbours_carry_a_16_byte_destination(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    uint8_t ip6[16];
    assert_int_equal(inet_pton(AF_INET6, "fd00:98::9", ip6), 1);
    nl_build_neigh6_add(&m, 14, ip6, mac);
    parse_msg(&m, RTM_NEWNEIGH, CHANGE | NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg), &top);
    const struct ndmsg *nd = ndinfo(&m, AF_INET6, 14);
    assert_int_equal(nd->ndm_flags, 0);
    assert_int_equal(nd->ndm_state, NUD_PERMANENT);
    assert_int_equal(top.count, 2);
    assert_bytes_attr(top.tb[NDA_DST], ip6, 16);
    assert_bytes_attr(top.tb[NDA_LLADDR], mac, 6);

    nl_build_neigh6_del(&m, 14, ip6);
    parse_msg(&m, RTM_DELNEIGH, CHANGE, sizeof(struct ndmsg), &top);
    nd = ndinfo(&m, AF_INET6, 14);
    assert_int_equal(nd->ndm_state, NUD_PERMANENT);
    assert_int_equal(top.count, 1);
    assert_bytes_attr(top.tb[NDA_DST], ip6, 16);
}

/* ---------- routes ---------- */

/* A service port's route to an extra subnet: on-link out of one interface, no
 * gateway, in the main table; only RTA_DST and RTA_OIF ride along. */
static void an_onlink_route_names_its_subnet_and_interface_only(void **state)
{
    (void)state;
    struct nl_msg m;
    struct attrs top;
    nl_build_route_add_onlink(&m, 17, inet_addr("10.75.1.0"), 24);
    parse_msg(&m, RTM_NEWROUTE, CREATE, sizeof(struct rtmsg), &top);
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(m.hdr);
    assert_int_equal(rtm->rtm_family, AF_INET);
    assert_int_equal(rtm->rtm_dst_len, 24);
    assert_int_equal(rtm->rtm_src_len, 0);
    assert_int_equal(rtm->rtm_tos, 0);
    assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
    assert_int_equal(rtm->rtm_protocol, RTPROT_STATIC);
    assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
    assert_int_equal(rtm->rtm_type, RTN_UNICAST);
    assert_int_equal(rtm->rtm_flags, 0);
    assert_int_equal(top.count, 2);
    uint32_t dst = inet_addr("10.75.1.0");
    assert_bytes_attr(top.tb[RTA_DST], &dst, 4);
    assert_u32_attr(top.tb[RTA_OIF], 17);
    assert_null(top.tb[RTA_GATEWAY]);
}

/* A buffer reused for a smaller message carries nothing of the larger one. */
static void a_reused_buffer_starts_clean(void **state)
{
    (void)state;
    struct nl_msg m;
    struct weft_err err = {0};
    struct nl_veth_spec spec = {.host_name = "th5", .container_name = "tc5", .mtu = 1450};
    assert_int_equal(nl_build_veth(&m, &spec, &err), 0);
    uint32_t big = m.hdr->nlmsg_len;
    nl_build_neigh_del(&m, 3, inet_addr("10.0.0.1"));
    assert_true(m.hdr->nlmsg_len < big);
    for (uint32_t i = m.hdr->nlmsg_len; i < big; i++)
        assert_int_equal(m.buf[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vxlan_carries_vni_port_local_and_learning_off),
        cmocka_unit_test(bridge_has_stp_off_and_no_forward_delay),
        cmocka_unit_test(veth_names_both_ends_with_mtu_mac_and_master),
        cmocka_unit_test(link_builders_refuse_names_the_kernel_would),
        cmocka_unit_test(up_and_alias_go_in_one_message),
        cmocka_unit_test(link_changes_carry_one_attribute_each),
        cmocka_unit_test(neigh_suppress_is_a_nested_port_setting),
        cmocka_unit_test(link_get_asks_by_name_or_index_without_stats),
        cmocka_unit_test(dumps_name_their_family_and_ask_no_ack),
        cmocka_unit_test(fdb_entries_send_to_a_vtep),
        cmocka_unit_test(forgetting_a_learned_mac_asks_the_bridge),
        cmocka_unit_test(a_static_bridge_entry_puts_a_mac_behind_a_port),
        cmocka_unit_test(neighbours_are_permanent_ipv4_entries),
        cmocka_unit_test(ipv6_neighbours_carry_a_16_byte_destination),
        cmocka_unit_test(an_onlink_route_names_its_subnet_and_interface_only),
        cmocka_unit_test(a_reused_buffer_starts_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
