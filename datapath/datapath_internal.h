/*
 * datapath_internal.h: what the files of datapath/ share and nobody else uses:
 * a worker's buffers and counters, the datapath that holds the workers, and the
 * frame and header helpers (frame.c) the workers call per packet.
 * Each worker's fields belong to its thread, except the counters, which
 * datapath_stats reads from the owner's thread (single writer, relaxed atomics).
 */
#ifndef WEFT_DATAPATH_INTERNAL_H
#define WEFT_DATAPATH_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "datapath/datapath.h"

/* Datagrams per recvmmsg/sendmmsg, and frames read from the TAP per wake-up. */
#define DATAPATH_BATCH 32
/* struct virtio_net_hdr in front of every TAP frame (vxlan/tap.h sets this size). */
#define DATAPATH_VNET_HDR_LEN 10
/* One datagram: weft header + the largest frame + the largest transform overhead. */
#define DATAPATH_SLOT_LEN (DATAPATH_HDR_LEN + DATAPATH_FRAME_MAX + DATAPATH_TRANSFORM_OVERHEAD_MAX)

struct worker_counters {
    _Atomic uint64_t tap_frames, sent, received, tap_written;
    _Atomic uint64_t drops[DATAPATH_DROP_COUNT];
};

/* Batched datagrams: BATCH slots, their iovecs, addresses and message headers. */
struct datagram_batch {
    uint8_t *slots; /* DATAPATH_BATCH * DATAPATH_SLOT_LEN */
    struct mmsghdr msgs[DATAPATH_BATCH];
    struct iovec iov[DATAPATH_BATCH];
    struct sockaddr_in addr[DATAPATH_BATCH];
    unsigned count;
};

struct worker {
    const struct datapath *dp;
    int index;
    int tap_fd; /* borrowed from the config */
    int udp_fd;
    pthread_t thread;
    bool started;
    /* virtio-net header + frame, one read from or written to the TAP at a time. */
    uint8_t *tap_in, *tap_out;
    struct datagram_batch out, in;
    uint32_t vteps[DATAPATH_MAX_FANOUT];
    _Alignas(64) struct worker_counters counters;
};

struct datapath {
    struct datapath_config config;
    int stop_fd; /* an eventfd, readable once datapath_stop asks the workers to end */
    int nworkers;
    struct worker *workers;
};

/* The worker thread's body (worker.c). */
void *worker_run(void *arg);

/* One thread writes a counter, others read it: a relaxed load and store, no lock. */
static inline void counter_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* frame.c: the frame behind a TAP read's virtio-net header (buf, n bytes), its
 * checksum completed when the kernel left it partial. */
enum datapath_drop frame_from_tap(uint8_t *buf, size_t n, uint8_t **frame, size_t *len);
/* frame.c: the weft header for vni, and its check on a received datagram. */
void wire_header_write(uint8_t hdr[DATAPATH_HDR_LEN], uint32_t vni);
enum datapath_drop wire_header_check(const uint8_t *pkt, size_t len, uint32_t vni);

#endif
