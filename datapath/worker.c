/*
 * worker.c: one worker thread of datapath/: waits (epoll) for its queue of every
 * overlay's TAP, its UDP socket and the stop eventfd; frames from a TAP are
 * sealed under their overlay's VNI and sent in sendmmsg batches, datagrams come
 * in recvmmsg batches and are opened onto the TAP of the overlay their VNI
 * names. Each batch of events runs under the overlay table's read lock
 * (datapath_internal.h). Everything it touches per packet was allocated by
 * datapath_start.
 */
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "datapath/datapath_internal.h"

static void count_drop(struct worker *w, enum datapath_drop reason)
{
    if (reason > DATAPATH_OK && reason < DATAPATH_DROP_COUNT)
        counter_add(&w->counters.drops[reason], 1);
}

/* Seals frame of overlay vni for vtep into the next free slot (flushing a full
 * batch first). */
static void queue_datagram(struct worker *w, uint32_t vni, const struct ip_addr *vtep,
                           const uint8_t *frame, size_t len)
{
    const struct datapath_config *c = &w->dp->config;
    if (vtep->family != w->dp->family) {
        count_drop(w, DATAPATH_DROP_NO_PEER); /* the sockets cannot reach it */
        return;
    }
    if (w->out.count == DATAPATH_BATCH)
        send_batch_flush(w);
    unsigned i = w->out.count;
    uint8_t *slot = w->out.slots + (size_t)i * DATAPATH_SLOT_LEN;
    size_t sealed_len = 0;
    wire_header_write(slot, vni);
    enum datapath_drop r = c->transform.seal(c->transform.ctx, vtep, slot, DATAPATH_HDR_LEN, frame,
                                             len, slot + DATAPATH_HDR_LEN,
                                             DATAPATH_SLOT_LEN - DATAPATH_HDR_LEN, &sealed_len);
    if (r != DATAPATH_OK) {
        count_drop(w, r == DATAPATH_DROP_NO_KEY || r == DATAPATH_DROP_TOO_BIG ? r
                                                                              : DATAPATH_DROP_SEAL);
        return;
    }
    w->out.iov[i].iov_len = DATAPATH_HDR_LEN + sealed_len;
    udp_peer_set(&w->out.addr[i], vtep);
    w->out.count++;
}

/* Sends frame to every VTEP of vteps (n of them). */
static void queue_frame(struct worker *w, uint32_t vni, size_t n, const uint8_t *frame, size_t len)
{
    for (size_t v = 0; v < n && v < DATAPATH_MAX_FANOUT; v++)
        queue_datagram(w, vni, &w->vteps[v], frame, len);
}

/* One frame from overlay ov's TAP, cut into segments first when it is a super-frame. */
static void send_tap_frame(struct worker *w, const struct overlay_slot *ov,
                           const struct tap_frame *f)
{
    size_t n = ov->lookup(ov->lookup_ctx, f->data, w->vteps, DATAPATH_MAX_FANOUT);
    if (n == 0) {
        count_drop(w, DATAPATH_DROP_NO_PEER);
        return;
    }
    if (f->gso_size == 0) {
        queue_frame(w, ov->vni, n, f->data, f->len);
        return;
    }
    /* One receiver that completes TCP checksums itself: the cut leaves them partial. */
    const struct datapath_transform *t = &w->dp->config.transform;
    bool partial = n == 1 && t->partial_csum && t->partial_csum(t->ctx, &w->vteps[0]);
    struct tso_iter it;
    uint8_t *seg;
    size_t seg_len;
    enum datapath_drop r = tso_begin(&it, f, partial);
    if (r != DATAPATH_OK)
        count_drop(w, r);
    while (r == DATAPATH_OK && tso_next(&it, DATAPATH_FRAME_MAX, &seg, &seg_len))
        queue_frame(w, ov->vni, n, seg, seg_len);
}

/* Reads up to a batch of frames from overlay ov's TAP queue and sends each to its VTEPs. */
static void from_tap(struct worker *w, const struct overlay_slot *ov)
{
    int tap_fd = ov->tap_fds[w->index];
    for (int round = 0; round < DATAPATH_BATCH; round++) {
        ssize_t n = read(tap_fd, w->tap_in, DATAPATH_VNET_HDR_LEN + DATAPATH_TAP_READ_MAX);
        if (n < 0)
            break; /* EAGAIN: drained (other errors show in epoll's events) */
        counter_add(&w->counters.tap_frames, 1);
        struct tap_frame f;
        enum datapath_drop r = frame_from_tap(w->tap_in, (size_t)n, &f);
        if (r != DATAPATH_OK)
            count_drop(w, r);
        else
            send_tap_frame(w, ov, &f);
    }
    send_batch_flush(w);
}

/* Opens one datagram and hands the frame to the coalescer (which writes the TAP
 * of the overlay the header's VNI names). */
static void deliver(struct worker *w, const uint8_t *pkt, size_t len,
                    const struct ip_addr *src_vtep)
{
    const struct datapath_config *c = &w->dp->config;
    const struct overlay_slot *ov = NULL;
    uint32_t vni;
    enum datapath_drop r = wire_header_vni(pkt, len, &vni);
    if (r == DATAPATH_OK && !(ov = overlay_find(&w->dp->overlays, vni)))
        r = DATAPATH_DROP_WRONG_VNI;
    size_t frame_len = 0;
    if (r == DATAPATH_OK)
        r = c->transform.open(c->transform.ctx, src_vtep, pkt, DATAPATH_HDR_LEN,
                              pkt + DATAPATH_HDR_LEN, len - DATAPATH_HDR_LEN,
                              w->opened + DATAPATH_VNET_HDR_LEN, DATAPATH_FRAME_MAX, &frame_len);
    if (r == DATAPATH_OK && frame_len < ETH_HDR_LEN)
        r = DATAPATH_DROP_OPEN;
    if (r != DATAPATH_OK) {
        count_drop(w, r);
        return;
    }
    int queue = frame_is_tcp(w->opened + DATAPATH_VNET_HDR_LEN, frame_len) ? w->tcp_queue : w->index;
    coalesce_add(w, ov->tap_fds[queue], w->opened, frame_len);
}

/* The segment size of a coalesced message (UDP_GRO), or 0 for a single datagram. */
static size_t gro_size(const struct msghdr *h)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm))
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(cm), sizeof(size));
            return size > 0 ? (size_t)size : 0;
        }
    return 0;
}

/* Delivers each datagram of message i (several when the kernel joined them). */
static void deliver_message(struct worker *w, unsigned i)
{
    struct msghdr *h = &w->in.msgs[i].msg_hdr;
    const uint8_t *pkt = w->in.slots + (size_t)i * DATAPATH_RECV_SLOT_LEN;
    size_t len = w->in.msgs[i].msg_len, size = gro_size(h);
    if (h->msg_flags & MSG_TRUNC) {
        count_drop(w, DATAPATH_DROP_TOO_BIG);
        return;
    }
    if (size == 0 || size > len)
        size = len;
    const struct ip_addr src = udp_peer_vtep(&w->in.addr[i]);
    for (size_t off = 0; off < len; off += size) {
        size_t n = len - off < size ? len - off : size;
        counter_add(&w->counters.received, 1);
        deliver(w, pkt + off, n, &src);
    }
}

/* Receives datagrams in batches until the socket is drained (or a few rounds). */
static void from_udp(struct worker *w)
{
    for (int round = 0; round < 4; round++) {
        for (unsigned i = 0; i < DATAPATH_RECV_BATCH; i++) {
            w->in.msgs[i].msg_hdr.msg_namelen = sizeof(w->in.addr[i]);
            w->in.msgs[i].msg_hdr.msg_controllen = sizeof(w->in.control[i].buf);
        }
        int n = recvmmsg(w->udp_fd, w->in.msgs, DATAPATH_RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++)
            deliver_message(w, (unsigned)i);
        coalesce_flush(w);
        if (n < DATAPATH_RECV_BATCH)
            return;
    }
}

/* An event of overlay slot's TAP queue: frames to send, or the TAP went. An event
 * of a slot removed (or reused) since it was raised is ignored. */
static void tap_event(struct worker *w, const struct epoll_event *ev)
{
    unsigned slot = (unsigned)(ev->data.u64 & 0xffffffffu);
    if (slot >= DATAPATH_MAX_OVERLAYS)
        return;
    const struct overlay_slot *ov = &w->dp->overlays.slots[slot];
    if (!ov->used || ov->generation != ev->data.u64 >> 32)
        return;
    int tap_fd = ov->tap_fds[w->index];
    if (ev->events & (EPOLLERR | EPOLLHUP)) {
        /* The TAP went (deleted under us): stop waiting for it, keep receiving. */
        log_warn("data path lost a TAP queue", "worker=%d vni=%u", w->index, (unsigned)ov->vni);
        (void)epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, tap_fd, NULL);
    } else if (ev->events & EPOLLIN) {
        from_tap(w, ov);
    }
}

/* Handles one wake-up's events under the overlays' read lock; false on stop. */
static bool handle_events(struct worker *w, const struct epoll_event *events, int n)
{
    bool udp = false;
    for (int i = 0; i < n; i++) {
        if (events[i].data.u64 == EVENT_STOP)
            return false;
        udp |= events[i].data.u64 == EVENT_UDP;
    }
    struct overlay_table *t = &w->dp->overlays;
    pthread_rwlock_rdlock(&t->lock);
    for (int i = 0; i < n; i++)
        if (events[i].data.u64 != EVENT_UDP)
            tap_event(w, &events[i]);
    if (udp)
        from_udp(w); /* flushes the coalescer: nothing of an overlay outlives the lock */
    pthread_rwlock_unlock(&t->lock);
    return true;
}

#define WORKER_EVENTS 32

void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct epoll_event events[WORKER_EVENTS];
    for (;;) {
        int n = epoll_wait(w->epoll_fd, events, WORKER_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("data path worker stopped", "worker=%d error=\"%s\"", w->index,
                      strerror(errno));
            return NULL;
        }
        if (!handle_events(w, events, n))
            return NULL;
    }
}
