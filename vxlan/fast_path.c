/*
 * fast_path.c: the tc filters of fast_path.h, built from netlink/'s nl_tc_* calls.
 * Priorities on the block: 1 broadcast/multicast and 2 service ports (both on to
 * the bridge), an endpoint's from FAST_PATH_PRIO_FIRST (on to the bridge), and
 * PRIO_REMOTE last (everything else to the VXLAN device).
 */
#include "vxlan/fast_path.h"

#include <inttypes.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"
#include "vxlan/service_port.h"

#define PRIO_MULTICAST 1
#define PRIO_SERVICE 2
#define PRIO_REMOTE 0xfff0

static const uint8_t zero_mac[6];
static const uint8_t multicast_bit[6] = {0x01, 0, 0, 0, 0, 0};
/* A service port's MAC (service_port.h): its two first bytes, then a hash. */
static const uint8_t service_prefix[6] = {SERVICE_PORT_MAC_0, SERVICE_PORT_MAC_1, 0, 0, 0, 0};
static const uint8_t service_mask[6] = {0xff, 0xff, 0, 0, 0, 0};
static const uint8_t whole_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct nl_tc_target block_of(const struct fast_path *fp)
{
    return (struct nl_tc_target){.block = fp->block};
}

static struct nl_tc_target vxlan_ingress_of(const struct fast_path *fp)
{
    return (struct nl_tc_target){.ifindex = fp->vxlan_ifindex};
}

void fast_path_off(struct nl *nl, struct fast_path *fp, const struct weft_err *why)
{
    struct weft_err err = {0};
    struct nl_tc_target block = block_of(fp);
    if (nl_tc_filter_del(nl, &block, 0, &err) < 0 ||
        nl_tc_clsact_del(nl, fp->vxlan_ifindex, &err) < 0 ||
        nl_tc_clsact_del(nl, fp->bridge_ifindex, &err) < 0)
        log_debug("undo failed: fast path filters left behind", "vni=%" PRIu32 " error=\"%s\"",
                  fp->block, err.msg);
    log_warn("fast path unavailable: the segment's unicast keeps the bridge path",
             "vni=%" PRIu32 " reason=\"%s\"", fp->block, why->msg);
    fp->on = false;
    fp->forwarding = false;
}

void fast_path_ensure(struct nl *nl, uint32_t vni, const struct segment_devices *dev,
                      struct fast_path *fp)
{
    memset(fp, 0, sizeof(*fp));
    fp->block = vni;
    fp->bridge_ifindex = dev->bridge_ifindex;
    fp->vxlan_ifindex = dev->vxlan_ifindex;
    struct weft_err err = {0};
    struct nl_tc_target block = block_of(fp), rx = vxlan_ingress_of(fp);
    if (nl_tc_clsact_add(nl, fp->bridge_ifindex, 0, fp->block, &err) < 0 ||
        nl_tc_clsact_add(nl, fp->vxlan_ifindex, 0, 0, &err) < 0 ||
        nl_tc_filter_del(nl, &block, 0, &err) < 0 || nl_tc_filter_del(nl, &rx, 0, &err) < 0) {
        fast_path_off(nl, fp, &err);
        return;
    }
    fp->on = true;
}

void fast_path_start(struct nl *nl, struct fast_path *fp)
{
    if (!fp->on || fp->forwarding)
        return;
    struct weft_err err = {0};
    struct nl_tc_target block = block_of(fp);
    if (nl_tc_mac_filter_add(nl, &block, PRIO_MULTICAST, multicast_bit, multicast_bit, 0, &err) <
            0 ||
        nl_tc_mac_filter_add(nl, &block, PRIO_SERVICE, service_prefix, service_mask, 0, &err) < 0 ||
        nl_tc_mac_filter_add(nl, &block, PRIO_REMOTE, zero_mac, zero_mac, fp->vxlan_ifindex, &err) <
            0) {
        fast_path_off(nl, fp, &err);
        return;
    }
    fp->forwarding = true;
    log_info("fast path on: unicast to remote endpoints skips the bridge", "vni=%" PRIu32,
             fp->block);
}

static bool prio_take(struct fast_path *fp, uint16_t *prio)
{
    for (int i = 0; i < FAST_PATH_ENDPOINTS_MAX; i++)
        if (!(fp->used[i / 8] & (1u << (i % 8)))) {
            fp->used[i / 8] |= (uint8_t)(1u << (i % 8));
            *prio = (uint16_t)(FAST_PATH_PRIO_FIRST + i);
            return true;
        }
    return false;
}

static void prio_give_back(struct fast_path *fp, uint16_t prio)
{
    int i = prio - FAST_PATH_PRIO_FIRST;
    if (i >= 0 && i < FAST_PATH_ENDPOINTS_MAX)
        fp->used[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

int fast_path_endpoint_add(struct nl *nl, struct fast_path *fp, const char *host_name,
                           const uint8_t mac[6], uint16_t *prio, struct weft_err *err)
{
    *prio = 0;
    if (!fp->on)
        return 0;
    int ifindex = 0;
    if (nl_link_index(nl, host_name, &ifindex, err) < 0)
        return -1;
    if (!ifindex)
        return weft_err_set(err, -ENOENT, "fast path: no link %s", host_name);
    uint16_t p;
    if (!prio_take(fp, &p))
        return weft_err_set(err, -ENOSPC, "fast path of VNI %" PRIu32 " holds %d endpoints already",
                            fp->block, FAST_PATH_ENDPOINTS_MAX);
    struct nl_tc_target block = block_of(fp), rx = vxlan_ingress_of(fp);
    if (nl_tc_mac_filter_add(nl, &block, p, mac, whole_mac, 0, err) < 0)
        goto undo_prio;
    if (nl_tc_clsact_add(nl, ifindex, fp->block, 0, err) < 0)
        goto undo_tx;
    if (nl_tc_mac_filter_add(nl, &rx, p, mac, whole_mac, ifindex, err) < 0)
        goto undo_tx; /* the qdisc goes with the veth, which the caller deletes */
    *prio = p;
    return 0;
undo_tx:;
    struct weft_err undo_err = {0};
    if (nl_tc_filter_del(nl, &block, p, &undo_err) < 0)
        log_warn("undo failed: fast path filter left behind", "link=%s error=\"%s\"", host_name,
                 undo_err.msg);
undo_prio:
    prio_give_back(fp, p);
    return weft_err_wrap(err, "fast path for %s", host_name);
}

int fast_path_endpoint_del(struct nl *nl, struct fast_path *fp, uint16_t prio, struct weft_err *err)
{
    if (!prio || !fp->on)
        return 0;
    struct nl_tc_target block = block_of(fp), rx = vxlan_ingress_of(fp);
    int rc = nl_tc_filter_del(nl, &rx, prio, err);
    struct weft_err tx_err = {0};
    if (nl_tc_filter_del(nl, &block, prio, rc < 0 ? &tx_err : err) < 0)
        rc = -1;
    prio_give_back(fp, prio);
    return rc;
}
