/*
 * nl_tc.c: traffic-control messages, as iproute2's tc/q_clsact.c, tc/f_u32.c and
 * tc/m_mirred.c send them: a clsact qdisc (its ingress or egress bound to a shared
 * block), a u32 filter that matches a frame's destination MAC and either ends the
 * search (the frame goes on as without tc) or redirects it to another device's
 * egress (mirred), and deleting the filters of one priority or all of them.
 * These are what the overlay fast path (vxlan/fast_path.c) is made of; this
 * kernel has cls_u32 and act_mirred but no cls_flower, hence u32.
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <string.h>

#ifndef TCM_IFINDEX_MAGIC_BLOCK
#define TCM_IFINDEX_MAGIC_BLOCK (0xFFFFFFFFU)
#endif

/* In ingress, a frame's data starts at its network header: the Ethernet header is
 * the 14 bytes before. u32 keys are 32-bit words at 4-aligned offsets, so the
 * destination MAC is the low half of the word at -16 and the whole word at -12. */
#define DST_MAC_WORD0 (-16)
#define DST_MAC_WORD1 (-12)

/* ---------- building ---------- */

static struct tcmsg *tc_msg(struct nl_msg *m, uint16_t type, uint16_t flags, int ifindex)
{
    nl_build_start(m, type, flags);
    struct tcmsg *tcm = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*tcm));
    tcm->tcm_family = AF_UNSPEC;
    tcm->tcm_ifindex = ifindex;
    return tcm;
}

void nl_build_clsact(struct nl_msg *m, bool add, int ifindex, uint32_t ingress_block,
                     uint32_t egress_block)
{
    struct tcmsg *tcm = tc_msg(m, add ? RTM_NEWQDISC : RTM_DELQDISC,
                               NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), ifindex);
    tcm->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
    tcm->tcm_parent = TC_H_CLSACT;
    mnl_attr_put_strz(m->hdr, TCA_KIND, "clsact");
    if (add && ingress_block)
        mnl_attr_put_u32(m->hdr, TCA_INGRESS_BLOCK, ingress_block);
    if (add && egress_block)
        mnl_attr_put_u32(m->hdr, TCA_EGRESS_BLOCK, egress_block);
}

/* A filter message aimed at t: a shared block, or the ingress of t->ifindex. */
static struct tcmsg *tc_filter_msg(struct nl_msg *m, uint16_t type, uint16_t flags,
                                   const struct nl_tc_target *t, uint16_t prio)
{
    struct tcmsg *tcm;
    if (t->block) {
        tcm = tc_msg(m, type, flags, (int)TCM_IFINDEX_MAGIC_BLOCK);
        tcm->tcm_block_index = t->block;
    } else {
        tcm = tc_msg(m, type, flags, t->ifindex);
        tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
    }
    /* Priority 0 with protocol 0 means "every filter" to RTM_DELTFILTER. */
    tcm->tcm_info = prio ? TC_H_MAKE((uint32_t)prio << 16, htons(ETH_P_ALL)) : 0;
    return tcm;
}

/* The u32 selector: terminal (a match ends the search), one key per word of the
 * destination MAC that the mask covers (none: every frame matches). */
static void put_u32_sel(struct nl_msg *m, const uint8_t mac[6], const uint8_t mask[6])
{
    struct {
        struct tc_u32_sel sel;
        struct tc_u32_key keys[2];
    } s;
    memset(&s, 0, sizeof(s));
    s.sel.flags = TC_U32_TERMINAL;
    uint8_t v0[4] = {0, 0, mac[0], mac[1]}, m0[4] = {0, 0, mask[0], mask[1]};
    uint8_t v1[4] = {mac[2], mac[3], mac[4], mac[5]}, m1[4] = {mask[2], mask[3], mask[4], mask[5]};
    const uint8_t *vals[2] = {v0, v1}, *masks[2] = {m0, m1};
    const int offs[2] = {DST_MAC_WORD0, DST_MAC_WORD1};
    for (int i = 0; i < 2; i++) {
        uint32_t k;
        memcpy(&k, masks[i], 4);
        if (!k)
            continue;
        struct tc_u32_key *key = &s.keys[s.sel.nkeys++];
        key->mask = k;
        memcpy(&key->val, vals[i], 4);
        key->val &= k;
        key->off = offs[i];
    }
    mnl_attr_put(m->hdr, TCA_U32_SEL, sizeof(s.sel) + s.sel.nkeys * sizeof(s.keys[0]), &s);
}

/* Action 1 of the filter: mirred egress redirect to ifindex (the frame is stolen). */
static void put_mirred(struct nl_msg *m, int ifindex)
{
    struct nlattr *acts = mnl_attr_nest_start(m->hdr, TCA_U32_ACT);
    struct nlattr *act = mnl_attr_nest_start(m->hdr, 1);
    mnl_attr_put_strz(m->hdr, TCA_ACT_KIND, "mirred");
    struct nlattr *opts = mnl_attr_nest_start(m->hdr, TCA_ACT_OPTIONS);
    struct tc_mirred p;
    memset(&p, 0, sizeof(p));
    p.action = TC_ACT_STOLEN;
    p.eaction = TCA_EGRESS_REDIR;
    p.ifindex = (uint32_t)ifindex;
    mnl_attr_put(m->hdr, TCA_MIRRED_PARMS, sizeof(p), &p);
    mnl_attr_nest_end(m->hdr, opts);
    mnl_attr_nest_end(m->hdr, act);
    mnl_attr_nest_end(m->hdr, acts);
}

void nl_build_mac_filter(struct nl_msg *m, const struct nl_tc_target *t, uint16_t prio,
                         const uint8_t mac[6], const uint8_t mask[6], int redirect_ifindex)
{
    /* Handle 0: the kernel puts the node in the root hash table of prio's u32
     * instance (the instances of one block share their hash tables' numbers, so a
     * handle named here would land in another priority's table). */
    tc_filter_msg(m, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, t, prio);
    mnl_attr_put_strz(m->hdr, TCA_KIND, "u32");
    struct nlattr *opts = mnl_attr_nest_start(m->hdr, TCA_OPTIONS);
    put_u32_sel(m, mac, mask);
    if (redirect_ifindex > 0)
        put_mirred(m, redirect_ifindex);
    mnl_attr_nest_end(m->hdr, opts);
}

void nl_build_filter_del(struct nl_msg *m, const struct nl_tc_target *t, uint16_t prio)
{
    tc_filter_msg(m, RTM_DELTFILTER, NLM_F_ACK, t, prio);
}

/* ---------- sending ---------- */

static void target_text(const struct nl_tc_target *t, char *out, size_t n)
{
    if (t->block)
        snprintf(out, n, "block %u", t->block);
    else
        snprintf(out, n, "ifindex %d ingress", t->ifindex);
}

int nl_tc_clsact_add(struct nl *nl, int ifindex, uint32_t ingress_block, uint32_t egress_block,
                     struct weft_err *err)
{
    struct nl_msg m;
    nl_build_clsact(&m, true, ifindex, ingress_block, egress_block);
    char what[96];
    snprintf(what, sizeof(what), "adding a clsact qdisc (blocks %u/%u) on ifindex %d",
             ingress_block, egress_block, ifindex);
    return nl_change(nl, &m, EEXIST, err, what);
}

int nl_tc_clsact_del(struct nl *nl, int ifindex, struct weft_err *err)
{
    struct nl_msg m;
    nl_build_clsact(&m, false, ifindex, 0, 0);
    char what[64];
    snprintf(what, sizeof(what), "deleting the clsact qdisc on ifindex %d", ifindex);
    return nl_change(nl, &m, ENOENT, err, what);
}

int nl_tc_mac_filter_add(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                         const uint8_t mac[6], const uint8_t mask[6], int redirect_ifindex,
                         struct weft_err *err)
{
    if (!prio)
        return weft_err_set(err, -EINVAL, "a tc filter needs a priority above 0");
    struct nl_msg m;
    nl_build_mac_filter(&m, t, prio, mac, mask, redirect_ifindex);
    char where[48], what[128];
    target_text(t, where, sizeof(where));
    snprintf(what, sizeof(what), "adding u32 filter prio %u on %s", prio, where);
    return nl_change(nl, &m, 0, err, what);
}

int nl_tc_filter_del(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                     struct weft_err *err)
{
    struct nl_msg m;
    nl_build_filter_del(&m, t, prio);
    char where[48], what[128];
    target_text(t, where, sizeof(where));
    snprintf(what, sizeof(what), "deleting filters (prio %u) on %s", prio, where);
    return nl_change(nl, &m, ENOENT, err, what);
}
