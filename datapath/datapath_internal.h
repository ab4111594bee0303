/*
 * datapath_internal.h: what the files of datapath/ share and nobody else uses:
 * a worker's buffers and counters, the table of overlays, the datapath that
 * holds both, and the frame and header helpers (frame.c) the workers call per
 * packet. Each worker's fields belong to its thread, except the counters, which
 * datapath_stats reads from the owner's thread (single writer, relaxed atomics),
 * and its epoll set, which datapath_overlay_add/remove change from the owner's.
 * The overlay table's locking is written down at struct overlay_table.
 */
#ifndef WEFT_DATAPATH_INTERNAL_H
#define WEFT_DATAPATH_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "datapath/datapath.h"

#define ETH_HDR_LEN 14
/* Datagrams per recvmmsg/sendmmsg, and frames read from the TAP per wake-up. */
#define DATAPATH_BATCH 64
/* Messages per recvmmsg, each up to 64 KiB: the kernel may join a run of
 * datagrams from one sender into one (UDP_GRO). */
#define DATAPATH_RECV_BATCH 16
#define DATAPATH_RECV_SLOT_LEN 65536
/* struct virtio_net_hdr in front of every TAP frame (vxlan/tap.h sets this size). */
#define DATAPATH_VNET_HDR_LEN 10
/* The largest frame a TAP read gives: a 64 KiB IPv4 super-frame behind Ethernet. */
#define DATAPATH_TAP_READ_MAX (ETH_HDR_LEN + 65535)
/* One datagram: weft header + the largest frame + the largest transform overhead. */
#define DATAPATH_SLOT_LEN (DATAPATH_HDR_LEN + DATAPATH_FRAME_MAX + DATAPATH_TRANSFORM_OVERHEAD_MAX)

/* A frame read from the TAP: plain (gso_size 0, checksums complete) or a TCP
 * super-frame (over IPv4 or IPv6) for tso.c to cut into gso_size-byte segments. */
struct tap_frame {
    uint8_t *data;
    size_t len;
    uint16_t gso_size;
};
/* frame.c: the frame behind a TAP read's virtio-net header (buf, n bytes), its
 * checksum completed when the kernel left it partial. */
enum datapath_drop frame_from_tap(uint8_t *buf, size_t n, struct tap_frame *out);
/* frame.c: whether an Ethernet frame carries TCP (over IPv4 or IPv6). */
bool frame_is_tcp(const uint8_t *frame, size_t len);
/* frame.c: the Internet checksum: words added up, then folded (not complemented). */
uint64_t csum_add(uint64_t sum, const uint8_t *data, size_t len);
uint16_t csum_fold(uint64_t sum);
/* frame.c: the unfolded sum of TCP/IPv4's pseudo header (the addresses of the IPv4
 * header at ip, protocol 6, tcp_len) to start a TCP checksum from; and of
 * TCP/IPv6's (the IPv6 header's addresses, tcp_len as 32 bits, next header 6). */
uint64_t tcp4_pseudo_sum(const uint8_t *ip, size_t tcp_len);
uint64_t tcp6_pseudo_sum(const uint8_t *ip, size_t tcp_len);

/* tso.c: cuts a TCP super-frame (IPv4, or IPv6 without extension headers) into
 * frames of at most mss payload bytes, each with its own IP length (and IPv4's
 * ID and header checksum), TCP sequence, flags and checksum. The
 * cut is made in place: each segment's headers are written just in front of
 * its payload, over the end of the payload before it, so no payload byte is
 * copied; the super-frame is spent, and a segment lasts until the next call. */
#define TSO_HDR_MAX (ETH_HDR_LEN + 60 + 60)
struct tso_iter {
    uint8_t *frame;
    size_t len, ip_off, tcp_off, payload_off, next;
    uint16_t mss;
    unsigned index;
    bool ipv6;
    bool partial_csum;        /* leave each TCP checksum as the pseudo header's sum (IPv4) */
    uint8_t hdr[TSO_HDR_MAX]; /* the super-frame's headers, as the kernel gave them */
};
/* partial_csum: the receiver takes partial TCP checksums (datapath_transform). */
enum datapath_drop tso_begin(struct tso_iter *it, const struct tap_frame *f, bool partial_csum);
/* The next segment (at most cap bytes) in *seg, *seg_len bytes long; false when
 * every byte went out (or a segment would be longer than cap). */
bool tso_next(struct tso_iter *it, size_t cap, uint8_t **seg, size_t *seg_len);

/* coalesce.c: consecutive TCP segments (IPv4 or IPv6) of one flow from a receive batch,
 * joined into one super-frame written to the TAP with a GSO virtio-net header
 * (the kernel's GRO, done before the TAP): the receiving stack handles one
 * packet instead of dozens. */
#define COALESCE_MAX 65535
struct coalescer {
    uint8_t *buf; /* virtio-net header + up to COALESCE_MAX frame bytes */
    int tap_fd;   /* the TAP queue the held frame goes to */
    size_t len;   /* frame bytes held; 0: empty */
    size_t tcp_off; /* the held frame's TCP header: IPv4's or IPv6's */
    uint16_t mss;
    uint32_t next_seq;
    unsigned segments;
    bool closed; /* a short or PSH segment ended it: nothing more joins */
};
/* Adds a frame for TAP queue tap_fd (opened; len bytes at buf + the virtio-net
 * header's length, that header all zero, and zero again on return; a TCP
 * checksum may be partial) to the worker's coalescer, writing what it held first
 * when the frame cannot join (another TAP or flow); counts what it writes. */
struct worker;
void coalesce_add(struct worker *w, int tap_fd, uint8_t *buf, size_t len);
/* Writes what the worker's coalescer holds to its TAP (end of a receive batch,
 * before the worker lets go of the overlays). */
void coalesce_flush(struct worker *w);

struct worker_counters {
    _Atomic uint64_t tap_frames, sent, received, tap_written;
    _Atomic uint64_t drops[DATAPATH_DROP_COUNT];
};

/* A datagram's far end, in the data path's family (the local VTEP's): the
 * family and port are set once per slot (datapath.c), the address per datagram. */
union udp_peer {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* An address of family (AF_INET or AF_INET6) on port (host order), any host. */
static inline union udp_peer udp_peer_init(sa_family_t family, uint16_t port)
{
    union udp_peer p = {.sa.sa_family = family};
    if (family == AF_INET6)
        p.v6.sin6_port = htons(port);
    else
        p.v4.sin_port = htons(port);
    return p;
}

/* Its length for sendmsg and bind. */
static inline socklen_t udp_peer_len(const union udp_peer *p)
{
    return p->sa.sa_family == AF_INET6 ? sizeof(p->v6) : sizeof(p->v4);
}

/* Whether a and b (of one family) name the same host. */
static inline bool udp_peer_same_host(const union udp_peer *a, const union udp_peer *b)
{
    if (a->sa.sa_family == AF_INET6)
        return memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
    return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/* Points p at vtep, which is of p's family (the caller checked). */
static inline void udp_peer_set(union udp_peer *p, const struct ip_addr *vtep)
{
    if (p->sa.sa_family == AF_INET6)
        memcpy(&p->v6.sin6_addr, vtep->bytes, 16);
    else
        memcpy(&p->v4.sin_addr, vtep->bytes, 4);
}

/* The VTEP a datagram came from. */
static inline struct ip_addr udp_peer_vtep(const union udp_peer *p)
{
    if (p->sa.sa_family == AF_INET6)
        return ip_addr_from_ipv6(p->v6.sin6_addr.s6_addr);
    return ip_addr_from_ipv4(p->v4.sin_addr.s_addr);
}

/* Batched datagrams: BATCH slots, their iovecs, addresses and message headers
 * (on the sending side a message may carry a run of datagrams, with its
 * UDP_SEGMENT size in control). */
struct datagram_batch {
    uint8_t *slots; /* sending: DATAPATH_BATCH * DATAPATH_SLOT_LEN; receiving:
                     * DATAPATH_RECV_BATCH * DATAPATH_RECV_SLOT_LEN */
    struct mmsghdr msgs[DATAPATH_BATCH];
    struct iovec iov[DATAPATH_BATCH];
    union udp_peer addr[DATAPATH_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(int))]; /* UDP_SEGMENT's uint16_t, UDP_GRO's int */
        struct cmsghdr align;
    } control[DATAPATH_BATCH];
    unsigned count;
};

struct worker {
    struct datapath *dp;
    int index;
    /* The TAP queue its TCP frames go to: the next worker's. The TAP sends a
     * flow's frames to the queue its last frame came in by, so the answers to
     * what this worker receives (a bulk flow's ACKs, or its data when ACKs come
     * in) are read, sealed and sent by another thread: one flow keeps two cores
     * busy. Other frames go to its own queue: an echo the kernel answers during
     * the write is read without waking another thread. */
    int tcp_queue;
    int epoll_fd; /* the stop eventfd, the UDP socket, queue index of every overlay */
    int udp_fd;
    bool udp_gso; /* send runs with UDP_SEGMENT (off once the kernel refused) */
    pthread_t thread;
    bool started;
    /* virtio-net header + frame (a super-frame, up to 64 KiB) read from the TAP. */
    uint8_t *tap_in;
    uint8_t *opened;  /* a zero virtio-net header + one frame opened from a datagram */
    struct coalescer rx;
    struct datagram_batch out, in;
    struct ip_addr vteps[DATAPATH_MAX_FANOUT];
    _Alignas(64) struct worker_counters counters;
};

/* overlays.c: the overlays a data path serves, in slots. The owner changes a
 * slot under the write lock (add and remove one at a time, under owner_lock);
 * a worker reads the slots under the read lock, which it takes for one batch of
 * epoll events (never across epoll_wait) and drops after flushing its
 * coalescer. So once datapath_overlay_remove has had the write lock, no worker
 * holds an overlay's TAP queue or lookup context. An event a worker got before
 * the removal carries the slot's old generation and is ignored. Writers are
 * preferred: a busy data path cannot starve a removal. */
struct overlay_slot {
    bool used;
    uint32_t vni;
    uint32_t generation; /* bumped by every removal */
    int tap_fds[DATAPATH_MAX_WORKERS];
    datapath_lookup_fn lookup;
    void *lookup_ctx;
};
/* VNI -> slot, open addressing (a power of two, twice the slots: short probes). */
#define OVERLAY_INDEX_LEN (2 * DATAPATH_MAX_OVERLAYS)
struct overlay_table {
    pthread_rwlock_t lock;
    pthread_mutex_t owner_lock;
    struct overlay_slot slots[DATAPATH_MAX_OVERLAYS];
    int16_t by_vni[OVERLAY_INDEX_LEN]; /* slot index; -1: empty */
};
int overlay_table_init(struct overlay_table *t, struct weft_err *err);
void overlay_table_destroy(struct overlay_table *t);

static inline unsigned overlay_index_hash(uint32_t vni)
{
    return (vni * 2654435761u) & (OVERLAY_INDEX_LEN - 1);
}

/* The slot serving vni, or NULL (under the read lock, per datagram). */
static inline const struct overlay_slot *overlay_find(const struct overlay_table *t, uint32_t vni)
{
    for (unsigned h = overlay_index_hash(vni);; h = (h + 1) & (OVERLAY_INDEX_LEN - 1)) {
        int s = t->by_vni[h];
        if (s < 0)
            return NULL;
        if (t->slots[s].vni == vni)
            return &t->slots[s];
    }
}

/* What an epoll event of a worker is about: a TAP queue's carries its slot and
 * the slot's generation; these two slot numbers no overlay has. */
#define EVENT_STOP ((uint64_t)DATAPATH_MAX_OVERLAYS)
#define EVENT_UDP ((uint64_t)DATAPATH_MAX_OVERLAYS + 1)
static inline uint64_t event_tap(unsigned slot, uint32_t generation)
{
    return (uint64_t)generation << 32 | slot;
}

struct datapath {
    struct datapath_config config;
    sa_family_t family; /* the sockets' and every VTEP's: the local VTEP's, else AF_INET */
    int stop_fd; /* an eventfd, readable once datapath_stop asks the workers to end */
    int nworkers;
    struct worker *workers;
    struct overlay_table overlays;
};

/* The worker thread's body (worker.c). */
void *worker_run(void *arg);
/* Sends the queued datagrams (send_batch.c); one the kernel refuses is counted. */
void send_batch_flush(struct worker *w);

/* One thread writes a counter, others read it: a relaxed load and store, no lock. */
static inline void counter_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* frame.c: the weft header for vni, and the VNI of a received datagram's
 * (DATAPATH_DROP_MALFORMED when it is not weft's). */
void wire_header_write(uint8_t hdr[DATAPATH_HDR_LEN], uint32_t vni);
enum datapath_drop wire_header_vni(const uint8_t *pkt, size_t len, uint32_t *vni);

#endif
