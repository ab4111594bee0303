/*
 * test_nl_tc_builders.c: the bytes of the traffic-control requests of netlink/nl_tc.c
 * (the overlay fast path's), read back with libmnl: the tcmsg (block or device
 * ingress, priority and protocol), the clsact qdisc's blocks, the u32 selector's
 * keys (the destination MAC as the words at -16 and -12 before the network header)
 * and the mirred action. Pure: no socket.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netlink/nl_build.h"

#define TYPES 16

static int collect_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    uint16_t type = mnl_attr_get_type(attr);
    assert_true(type < TYPES);
    assert_null(tb[type]);
    tb[type] = attr;
    return MNL_CB_OK;
}

static const struct tcmsg *parse(const struct nl_msg *m, uint16_t type, uint16_t flags,
                                 const struct nlattr *tb[TYPES])
{
    assert_int_equal(m->hdr->nlmsg_type, type);
    assert_int_equal(m->hdr->nlmsg_flags, NLM_F_REQUEST | flags);
    memset(tb, 0, TYPES * sizeof(tb[0]));
    assert_int_equal(mnl_attr_parse(m->hdr, sizeof(struct tcmsg), collect_cb, tb), MNL_CB_OK);
    return mnl_nlmsg_get_payload(m->hdr);
}

static void nested(const struct nlattr *nest, const struct nlattr *tb[TYPES])
{
    assert_non_null(nest);
    memset(tb, 0, TYPES * sizeof(tb[0]));
    assert_int_equal(mnl_attr_parse_nested(nest, collect_cb, tb), MNL_CB_OK);
}

static void a_clsact_binds_its_blocks(void **state)
{
    (void)state;
    struct nl_msg m;
    const struct nlattr *tb[TYPES];
    nl_build_clsact(&m, true, 7, 0, 4242);
    const struct tcmsg *t = parse(&m, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, tb);
    assert_int_equal(t->tcm_ifindex, 7);
    assert_int_equal(t->tcm_parent, TC_H_CLSACT);
    assert_int_equal(t->tcm_handle, TC_H_MAKE(TC_H_CLSACT, 0));
    assert_string_equal(mnl_attr_get_str(tb[TCA_KIND]), "clsact");
    assert_null(tb[TCA_INGRESS_BLOCK]); /* 0: a block of its own */
    assert_int_equal(mnl_attr_get_u32(tb[TCA_EGRESS_BLOCK]), 4242);
    nl_build_clsact(&m, false, 7, 0, 4242);
    parse(&m, RTM_DELQDISC, NLM_F_ACK, tb);
    assert_null(tb[TCA_EGRESS_BLOCK]);
}

static void a_mac_filter_on_a_block_redirects_to_the_vxlan_device(void **state)
{
    (void)state;
    struct nl_msg m;
    const struct nlattr *tb[TYPES], *opts[TYPES], *acts[TYPES], *act[TYPES], *mir[TYPES];
    const uint8_t mac[6] = {0x02, 0x42, 0x0a, 0x4f, 0x00, 0x21};
    const uint8_t all[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct nl_tc_target target = {.block = 4242};
    nl_build_mac_filter(&m, &target, 256, mac, all, 9);
    const struct tcmsg *t = parse(&m, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, tb);
    assert_int_equal((uint32_t)t->tcm_ifindex, 0xffffffffu); /* TCM_IFINDEX_MAGIC_BLOCK */
    assert_int_equal(t->tcm_block_index, 4242);
    assert_int_equal(t->tcm_info, TC_H_MAKE(256u << 16, htons(ETH_P_ALL)));
    assert_int_equal(t->tcm_handle, 0);
    assert_string_equal(mnl_attr_get_str(tb[TCA_KIND]), "u32");
    nested(tb[TCA_OPTIONS], opts);
    const struct tc_u32_sel *sel = mnl_attr_get_payload(opts[TCA_U32_SEL]);
    assert_int_equal(mnl_attr_get_payload_len(opts[TCA_U32_SEL]),
                     sizeof(*sel) + 2 * sizeof(sel->keys[0]));
    assert_int_equal(sel->flags, TC_U32_TERMINAL);
    assert_int_equal(sel->nkeys, 2);
    const uint8_t w0[4] = {0, 0, 0x02, 0x42}, m0[4] = {0, 0, 0xff, 0xff};
    const uint8_t w1[4] = {0x0a, 0x4f, 0x00, 0x21}, m1[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(sel->keys[0].off, -16);
    assert_memory_equal(&sel->keys[0].val, w0, 4);
    assert_memory_equal(&sel->keys[0].mask, m0, 4);
    assert_int_equal(sel->keys[1].off, -12);
    assert_memory_equal(&sel->keys[1].val, w1, 4);
    assert_memory_equal(&sel->keys[1].mask, m1, 4);
    nested(opts[TCA_U32_ACT], acts);
    nested(acts[1], act);
    assert_string_equal(mnl_attr_get_str(act[TCA_ACT_KIND]), "mirred");
    nested(act[TCA_ACT_OPTIONS], mir);
    const struct tc_mirred *p = mnl_attr_get_payload(mir[TCA_MIRRED_PARMS]);
    assert_int_equal(p->action, TC_ACT_STOLEN);
    assert_int_equal(p->eaction, TCA_EGRESS_REDIR);
    assert_int_equal(p->ifindex, 9);
}

static void a_pass_filter_on_a_device_has_no_action_and_a_zero_mask_no_key(void **state)
{
    (void)state;
    struct nl_msg m;
    const struct nlattr *tb[TYPES], *opts[TYPES];
    const uint8_t bit[6] = {0x01, 0, 0, 0, 0, 0}, zero[6] = {0};
    struct nl_tc_target target = {.ifindex = 5};
    nl_build_mac_filter(&m, &target, 1, bit, bit, 0);
    const struct tcmsg *t = parse(&m, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, tb);
    assert_int_equal(t->tcm_ifindex, 5);
    assert_int_equal(t->tcm_parent, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
    nested(tb[TCA_OPTIONS], opts);
    assert_null(opts[TCA_U32_ACT]);
    const struct tc_u32_sel *sel = mnl_attr_get_payload(opts[TCA_U32_SEL]);
    assert_int_equal(sel->nkeys, 1); /* the word at -12 is all mask 0 */
    assert_int_equal(sel->keys[0].off, -16);
    nl_build_mac_filter(&m, &target, 0xfff0, zero, zero, 5);
    parse(&m, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, tb);
    nested(tb[TCA_OPTIONS], opts);
    sel = mnl_attr_get_payload(opts[TCA_U32_SEL]);
    assert_int_equal(sel->nkeys, 0); /* every frame */
    nl_build_filter_del(&m, &target, 0);
    t = parse(&m, RTM_DELTFILTER, NLM_F_ACK, tb);
    assert_int_equal(t->tcm_info, 0); /* every filter */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_clsact_binds_its_blocks),
        cmocka_unit_test(a_mac_filter_on_a_block_redirects_to_the_vxlan_device),
        cmocka_unit_test(a_pass_filter_on_a_device_has_no_action_and_a_zero_mask_no_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
