/*
 * send_batch.c: sending a worker's queued datagrams (datapath_internal.h). Runs
 * of datagrams to one VTEP with one size (the last may be shorter), as the
 * segments of a super-frame are, go as one message with UDP_SEGMENT (UDP GSO):
 * the kernel routes, builds and passes one packet per run and cuts it at the
 * end (or the far socket, with UDP_GRO, takes it whole). A kernel that refuses
 * GSO gets every datagram alone from then on.
 */
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "common/log.h"
#include "datapath/datapath_internal.h"

/* The kernel's UDP_MAX_SEGMENTS was 64 before Linux 6.2; a GSO packet's payload
 * stays under 64 KiB with its UDP and IP headers. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES (65535 - 20 - 8)

/* How many datagrams from first form one run (1 when GSO is off). */
static unsigned run_length(const struct datagram_batch *b, unsigned first, bool gso)
{
    size_t size = b->iov[first].iov_len, total = size;
    unsigned j = first + 1;
    while (gso && j < b->count && j - first < GSO_MAX_SEGMENTS &&
           udp_peer_same_host(&b->addr[j], &b->addr[first]) && b->iov[j - 1].iov_len == size &&
           b->iov[j].iov_len <= size && total + b->iov[j].iov_len <= GSO_MAX_BYTES)
        total += b->iov[j++].iov_len;
    return j - first;
}

/* Messages for datagrams [first, count): one per run; returns how many. */
static unsigned build_messages(struct datagram_batch *b, unsigned first, bool gso)
{
    unsigned nmsg = 0;
    for (unsigned i = first; i < b->count; nmsg++) {
        unsigned n = run_length(b, i, gso);
        struct msghdr *h = &b->msgs[nmsg].msg_hdr;
        *h = (struct msghdr){.msg_name = &b->addr[i],
                             .msg_namelen = udp_peer_len(&b->addr[i]),
                             .msg_iov = &b->iov[i],
                             .msg_iovlen = n};
        if (n > 1) {
            uint16_t size = (uint16_t)b->iov[i].iov_len;
            h->msg_control = b->control[nmsg].buf;
            h->msg_controllen = sizeof(b->control[nmsg].buf);
            struct cmsghdr *cm = CMSG_FIRSTHDR(h);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(size));
            memcpy(CMSG_DATA(cm), &size, sizeof(size));
        }
        i += n;
    }
    return nmsg;
}

void send_batch_flush(struct worker *w)
{
    struct datagram_batch *b = &w->out;
    unsigned done = 0; /* datagrams */
    while (done < b->count) {
        unsigned nmsg = build_messages(b, done, w->udp_gso);
        int sent = sendmmsg(w->udp_fd, b->msgs, nmsg, 0);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0) {
            size_t first_run = b->msgs[0].msg_hdr.msg_iovlen;
            if (first_run > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) {
                log_warn("data path sends without UDP GSO", "worker=%d error=\"%s\"", w->index,
                         strerror(errno));
                w->udp_gso = false; /* resend the run one datagram at a time */
                continue;
            }
            counter_add(&w->counters.drops[DATAPATH_DROP_SEND], first_run);
            done += (unsigned)first_run;
            continue;
        }
        unsigned datagrams = 0;
        for (int m = 0; m < sent; m++)
            datagrams += (unsigned)b->msgs[m].msg_hdr.msg_iovlen;
        counter_add(&w->counters.sent, datagrams);
        done += datagrams;
    }
    b->count = 0;
}
