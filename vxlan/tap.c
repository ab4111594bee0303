/*
 * tap.c: the persistent multi-queue TAP of tap.h: /dev/net/tun for the device
 * and its queues, netlink/ for MTU, bridge and "up".
 */
#include "vxlan/tap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE)

void tap_name(uint32_t vni, char name[IF_NAMESIZE])
{
    snprintf(name, IF_NAMESIZE, "wtp%" PRIu32, vni);
}

/* One queue of the device name (TUNSETIFF makes the device when it does not exist,
 * and adds a queue when it does). */
static int open_queue(const char *name, int *fd_out, struct weft_err *err)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return weft_err_set(err, -errno, "opening /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = TAP_FLAGS;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EINVAL)
            return weft_err_set(err, -EEXIST,
                                "device %s exists and is not a multi-queue TAP with a "
                                "virtio-net header",
                                name);
        return weft_err_set(err, -e, "opening a queue of TAP %s: %s", name, strerror(e));
    }
    *fd_out = fd;
    return 0;
}

/* What applies to the device, set through its first queue: persistence, the
 * header size, and the offloads datapath/ handles: partial checksums and TCP
 * super-frames over IPv4 and IPv6 (it cuts them itself); the kernel segments
 * anything else. */
static int set_device_options(int fd, const char *name, struct weft_err *err)
{
    int hdr_len = TAP_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETPERSIST, 1) < 0)
        return weft_err_set(err, -errno, "making TAP %s persistent: %s", name, strerror(errno));
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
        return weft_err_set(err, -errno, "setting the header size of TAP %s: %s", name,
                            strerror(errno));
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
        return weft_err_set(err, -errno, "setting the offloads of TAP %s: %s", name,
                            strerror(errno));
    return 0;
}

static int open_queues(struct tap_queues *q, int nqueues, struct weft_err *err)
{
    for (q->count = 0; q->count < nqueues; q->count++) {
        if (open_queue(q->name, &q->fds[q->count], err) < 0)
            return -1;
        if (q->count == 0 && set_device_options(q->fds[0], q->name, err) < 0) {
            close(q->fds[0]);
            return -1;
        }
    }
    return 0;
}

static int attach_and_up(struct nl *nl, const struct tap_queues *q, int mtu, int bridge_ifindex,
                         struct weft_err *err)
{
    if (nl_link_set_mtu(nl, q->name, mtu, err) < 0 ||
        nl_link_set_master(nl, q->name, bridge_ifindex, err) < 0 ||
        nl_link_set_up(nl, q->name, err) < 0)
        return -1;
    return 0;
}

int tap_open(struct nl *nl, uint32_t vni, int nqueues, int mtu, int bridge_ifindex,
             struct tap_queues *out, struct weft_err *err)
{
    struct tap_queues q;
    memset(&q, 0, sizeof(q));
    tap_name(vni, q.name);
    if (nqueues < 1 || nqueues > TAP_MAX_QUEUES)
        return weft_err_set(err, -EINVAL, "a TAP has 1 to %d queues, not %d", TAP_MAX_QUEUES,
                            nqueues);
    int existing = 0;
    if (nl_link_index(nl, q.name, &existing, err) < 0)
        return weft_err_wrap(err, "setting up TAP %s", q.name);
    if (open_queues(&q, nqueues, err) < 0)
        goto undo_queues;
    if (attach_and_up(nl, &q, mtu, bridge_ifindex, err) < 0 ||
        nl_link_index(nl, q.name, &q.ifindex, err) < 0)
        goto undo_queues;
    *out = q;
    return 0;

undo_queues:
    tap_close(&q);
    if (!existing) { /* persistent: closing the queues does not take it */
        struct weft_err undo_err;
        if (nl_link_delete(nl, q.name, &undo_err) < 0)
            log_error("a clean-up step failed", "step=\"deleting a TAP\" name=%s error=\"%s\"",
                      q.name, undo_err.msg);
    }
    return weft_err_wrap(err, "setting up TAP %s", q.name);
}

void tap_close(struct tap_queues *queues)
{
    for (int i = 0; i < queues->count; i++)
        close(queues->fds[i]);
    queues->count = 0;
}

int tap_delete(struct nl *nl, uint32_t vni, struct weft_err *err)
{
    char name[IF_NAMESIZE];
    tap_name(vni, name);
    return nl_link_delete(nl, name, err);
}
