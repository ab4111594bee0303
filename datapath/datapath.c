/*
 * datapath.c: starting and stopping the workers of datapath.h: their sockets,
 * epoll sets, buffers and threads; the counters summed; the drop reasons'
 * names. The overlays come and go in overlays.c.
 */
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "datapath/datapath_internal.h"

/* The socket buffers a burst of batches needs (the kernel caps what it grants). */
#define DATAPATH_SOCKET_BUFFER (4 << 20)

static const char *const drop_names[DATAPATH_DROP_COUNT] = {
    [DATAPATH_OK] = "ok",
    [DATAPATH_DROP_NO_PEER] = "no_peer",
    [DATAPATH_DROP_BAD_FRAME] = "bad_frame",
    [DATAPATH_DROP_TOO_BIG] = "too_big",
    [DATAPATH_DROP_NO_KEY] = "no_key",
    [DATAPATH_DROP_SEAL] = "seal",
    [DATAPATH_DROP_SEND] = "send",
    [DATAPATH_DROP_MALFORMED] = "malformed",
    [DATAPATH_DROP_WRONG_VNI] = "wrong_vni",
    [DATAPATH_DROP_AUTH] = "auth",
    [DATAPATH_DROP_REPLAY] = "replay",
    [DATAPATH_DROP_OPEN] = "open",
    [DATAPATH_DROP_TAP_WRITE] = "tap_write",
};

const char *datapath_drop_name(enum datapath_drop reason)
{
    if (reason < 0 || reason >= DATAPATH_DROP_COUNT)
        return "unknown";
    return drop_names[reason];
}

int datapath_overlay_mtu(int underlay_mtu, bool ipv6_underlay, size_t transform_overhead)
{
    /* outer IPv4 20 or IPv6 40 + UDP 8 + weft header + transform + inner Ethernet 14 */
    return underlay_mtu - (ipv6_underlay ? 40 : 20) - 8 - DATAPATH_HDR_LEN -
           (int)transform_overhead - 14;
}

int datapath_default_workers(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > DATAPATH_MAX_WORKERS ? DATAPATH_MAX_WORKERS : (int)cores;
}

static void set_buffer(int fd, int force_opt, int opt)
{
    int size = DATAPATH_SOCKET_BUFFER;
    /* The FORCE variants pass the sysctl cap with CAP_NET_ADMIN; else the capped one. */
    if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

/* A UDP socket on port of the local VTEP's family, bound to it, shared by every
 * worker through SO_REUSEPORT. */
static int open_socket(const struct ip_addr *local_vtep, uint16_t port, int *fd_out,
                       struct weft_err *err)
{
    int one = 1;
    bool ipv6 = ip_addr_is_ipv6(local_vtep);
    int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "opening a UDP socket: %s", strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0))
        goto fail;
    /* Runs of datagrams from one sender may arrive joined (UDP GRO); an old kernel
     * without it gives them one by one, which works as well. */
    (void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    union udp_peer addr = udp_peer_init(ipv6 ? AF_INET6 : AF_INET, port);
    udp_peer_set(&addr, local_vtep); /* no family: its bytes are zero, any address */
    if (bind(fd, &addr.sa, udp_peer_len(&addr)) < 0)
        goto fail;
    *fd_out = fd;
    return 0;
fail:;
    int e = errno;
    close(fd);
    return weft_err_set(err, -e, "binding UDP port %u for the data path: %s", (unsigned)port,
                        strerror(e));
}

/* Points each message of a batch at its slot and address, once for the worker's
 * life (received messages also at their control buffer, for UDP_GRO's size). */
static void batch_wire(struct datagram_batch *b, sa_family_t family, uint16_t port, unsigned nslots,
                       size_t slot_len)
{
    for (unsigned i = 0; i < nslots; i++) {
        b->iov[i].iov_base = b->slots + (size_t)i * slot_len;
        b->iov[i].iov_len = slot_len;
        b->addr[i] = udp_peer_init(family, port);
        b->msgs[i].msg_hdr = (struct msghdr){.msg_name = &b->addr[i],
                                             .msg_namelen = sizeof(b->addr[i]),
                                             .msg_iov = &b->iov[i],
                                             .msg_iovlen = 1,
                                             .msg_control = b->control[i].buf,
                                             .msg_controllen = sizeof(b->control[i].buf)};
    }
}

static void worker_free(struct worker *w)
{
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    if (w->udp_fd >= 0)
        close(w->udp_fd);
    free(w->tap_in);
    free(w->opened);
    free(w->rx.buf);
    free(w->out.slots);
    free(w->in.slots);
}

/* The worker's epoll set, with the stop eventfd and its UDP socket in it (the
 * overlays' TAP queues join and leave in overlays.c). */
static int worker_epoll(struct worker *w, struct weft_err *err)
{
    struct epoll_event stop = {.events = EPOLLIN, .data.u64 = EVENT_STOP};
    struct epoll_event udp = {.events = EPOLLIN, .data.u64 = EVENT_UDP};
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epoll_fd < 0 || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->dp->stop_fd, &stop) < 0 ||
        epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->udp_fd, &udp) < 0)
        return weft_err_set(err, -errno, "setting up a data path worker's epoll: %s",
                            strerror(errno));
    return 0;
}

static int worker_init(struct worker *w, struct datapath *dp, int index, struct weft_err *err)
{
    const struct datapath_config *c = &dp->config;
    w->dp = dp;
    w->index = index;
    w->tcp_queue = (index + 1) % c->nworkers;
    w->epoll_fd = -1;
    w->udp_fd = -1;
    w->udp_gso = true;
    w->tap_in = malloc(DATAPATH_VNET_HDR_LEN + DATAPATH_TAP_READ_MAX);
    w->opened = calloc(1, DATAPATH_VNET_HDR_LEN + DATAPATH_FRAME_MAX); /* header stays zero */
    w->rx.buf = malloc(DATAPATH_VNET_HDR_LEN + COALESCE_MAX);
    w->out.slots = malloc((size_t)DATAPATH_BATCH * DATAPATH_SLOT_LEN);
    w->in.slots = malloc((size_t)DATAPATH_RECV_BATCH * DATAPATH_RECV_SLOT_LEN);
    if (!w->tap_in || !w->opened || !w->rx.buf || !w->out.slots || !w->in.slots)
        return weft_err_set(err, -ENOMEM, "no memory for the data path's buffers");
    batch_wire(&w->out, dp->family, c->udp_port, DATAPATH_BATCH, DATAPATH_SLOT_LEN);
    batch_wire(&w->in, dp->family, c->udp_port, DATAPATH_RECV_BATCH, DATAPATH_RECV_SLOT_LEN);
    if (open_socket(&c->local_vtep, c->udp_port, &w->udp_fd, err) < 0)
        return -1;
    return worker_epoll(w, err);
}

static int check_config(const struct datapath_config *c, struct weft_err *err)
{
    if (c->nworkers < 1 || c->nworkers > DATAPATH_MAX_WORKERS)
        return weft_err_set(err, -EINVAL, "the data path runs 1 to %d workers, not %d",
                            DATAPATH_MAX_WORKERS, c->nworkers);
    if (c->local_vtep.family != 0 && ip_addr_len(&c->local_vtep) == 0)
        return weft_err_set(err, -EINVAL, "the data path's local VTEP is of no known family");
    if (!c->transform.seal || !c->transform.open)
        return weft_err_set(err, -EINVAL, "the data path needs a transform");
    if (c->transform.overhead > DATAPATH_TRANSFORM_OVERHEAD_MAX)
        return weft_err_set(err, -EINVAL, "a transform adds at most %d bytes, not %zu",
                            DATAPATH_TRANSFORM_OVERHEAD_MAX, c->transform.overhead);
    return 0;
}

/* Stops and joins the started workers, frees everything, dp included. */
static void datapath_free(struct datapath *dp)
{
    if (dp->stop_fd >= 0 && eventfd_write(dp->stop_fd, 1) < 0)
        perror("eventfd_write"); /* cannot happen on a counter this small */
    for (int i = 0; i < dp->nworkers; i++) {
        if (dp->workers[i].started)
            pthread_join(dp->workers[i].thread, NULL);
        worker_free(&dp->workers[i]);
    }
    if (dp->stop_fd >= 0)
        close(dp->stop_fd);
    overlay_table_destroy(&dp->overlays);
    free(dp->workers);
    free(dp);
}

int datapath_start(const struct datapath_config *config, struct datapath **out,
                   struct weft_err *err)
{
    if (check_config(config, err) < 0)
        return -1;
    struct datapath *dp = calloc(1, sizeof(*dp));
    if (!dp)
        return weft_err_set(err, -ENOMEM, "no memory for the data path");
    dp->config = *config;
    dp->family = ip_addr_is_ipv6(&config->local_vtep) ? AF_INET6 : AF_INET;
    if (!dp->config.udp_port)
        dp->config.udp_port = DATAPATH_UDP_PORT;
    if (overlay_table_init(&dp->overlays, err) < 0) {
        free(dp);
        return -1;
    }
    dp->stop_fd = eventfd(0, EFD_CLOEXEC);
    dp->workers = calloc((size_t)config->nworkers, sizeof(*dp->workers));
    if (dp->stop_fd < 0 || !dp->workers) {
        weft_err_set(err, -ENOMEM, "no memory for the data path");
        goto undo;
    }
    for (; dp->nworkers < config->nworkers; dp->nworkers++)
        if (worker_init(&dp->workers[dp->nworkers], dp, dp->nworkers, err) < 0) {
            dp->nworkers++; /* freed below with the others */
            goto undo;
        }
    for (int i = 0; i < dp->nworkers; i++) {
        struct worker *w = &dp->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_run, w);
        if (rc != 0) {
            weft_err_set(err, -rc, "starting a data path worker: %s", strerror(rc));
            goto undo;
        }
        w->started = true;
        char name[16];
        snprintf(name, sizeof(name), "weft-dp%u", (unsigned char)i); /* i < 16 */
        pthread_setname_np(w->thread, name);
    }
    *out = dp;
    return 0;
undo:
    datapath_free(dp);
    return -1;
}

void datapath_stop(struct datapath *dp)
{
    if (dp)
        datapath_free(dp);
}

int datapath_workers(const struct datapath *dp)
{
    return dp->nworkers;
}

/* Adds worker w's counters to out. */
static void add_worker_stats(const struct worker *w, struct datapath_stats *out)
{
    const struct worker_counters *c = &w->counters;
    out->tap_frames += atomic_load_explicit(&c->tap_frames, memory_order_relaxed);
    out->sent += atomic_load_explicit(&c->sent, memory_order_relaxed);
    out->received += atomic_load_explicit(&c->received, memory_order_relaxed);
    out->tap_written += atomic_load_explicit(&c->tap_written, memory_order_relaxed);
    for (int r = 0; r < DATAPATH_DROP_COUNT; r++)
        out->drops[r] += atomic_load_explicit(&c->drops[r], memory_order_relaxed);
}

void datapath_stats(const struct datapath *dp, struct datapath_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < dp->nworkers; i++)
        add_worker_stats(&dp->workers[i], out);
}

void datapath_worker_stats(const struct datapath *dp, int index, struct datapath_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (index >= 0 && index < dp->nworkers)
        add_worker_stats(&dp->workers[index], out);
}
