/*
 * tap.h: the TAP device of an encrypted overlay, its kernel end of weft's
 * user-space data path (issue 11).
 *
 * Per encrypted overlay the bridge "wbr<vni>" gets "wtp<vni>" in place of the
 * VXLAN device: a persistent multi-queue TAP (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR | IFF_MULTI_QUEUE) whose queues (one file descriptor each) the
 * data path's workers read frames from and write frames to. Persistent, so a
 * daemon restart keeps the device, its bridge port and the containers' links:
 * the next daemon opens the same device again and gets new queues.
 * Offloads (TUNSETOFFLOAD): partial checksums and TCP TSO over IPv4 and IPv6,
 * which datapath/ completes and segments itself; the kernel segments everything
 * else (UDP) before it reaches the TAP. So a read gives a frame of at most MTU +
 * 14 bytes, or a TCP super-frame of up to 64 KiB, behind a virtio-net header.
 *
 * The /dev/net/tun ioctls live here; MTU, master and "up" go through netlink/
 * (the only room that speaks netlink). Callers: fabric/ (next) and the tests.
 * /dev/net/tun makes and finds the device in the calling thread's network
 * namespace: call tap_open in the namespace nl was opened in.
 * Not thread-safe (one struct nl per thread, as netlink/ says); the queue
 * descriptors, once open, belong to whoever runs the data path.
 */
#ifndef WEFT_TAP_H
#define WEFT_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "netlink/nl.h"

/* The kernel allows 256 queues per TAP; weft uses one per worker (core). */
#define TAP_MAX_QUEUES 16
/* struct virtio_net_hdr, in front of every frame read or written. */
#define TAP_VNET_HDR_LEN 10

struct tap_queues {
    char name[IF_NAMESIZE];
    int ifindex;
    int fds[TAP_MAX_QUEUES]; /* non-blocking, close-on-exec */
    int count;
};

void tap_name(uint32_t vni, char name[IF_NAMESIZE]);

/* Creates "wtp<vni>" or opens it again when it exists (a restarted daemon), with
 * nqueues queues (1..TAP_MAX_QUEUES), MTU mtu, attached to bridge bridge_ifindex
 * and up. On failure the queues opened are closed and a device this call
 * created is deleted; one that existed before stays. */
int tap_open(struct nl *nl, uint32_t vni, int nqueues, int mtu, int bridge_ifindex,
             struct tap_queues *out, struct weft_err *err);
/* Closes the queues; the device stays (it is persistent) for the next tap_open. */
void tap_close(struct tap_queues *queues);
/* Deletes "wtp<vni>" (the overlay is gone); gone already is not an error. Open
 * queues should be closed first: their reads then fail. */
int tap_delete(struct nl *nl, uint32_t vni, struct weft_err *err);

#endif
