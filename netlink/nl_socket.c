/*
 * nl_socket.c: the NETLINK_ROUTE socket and one request's round trip (see
 * nl_internal.h): open and close, stamping and sending a message, reading
 * until its ack or the end of its dump, and turning the kernel's answer into
 * an errno and a reason. The layer iproute2 keeps in lib/libnetlink.c and
 * libmnl in its socket and callback code; batching sits on top (nl_batch.c).
 */
#include "netlink/nl_internal.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/weft_metrics.h"

int nl_open(struct nl **out, struct weft_err *err)
{
    struct nl *nl = calloc(1, sizeof(*nl));
    if (!nl)
        return weft_err_set(err, -ENOMEM, "out of memory");
    nl->rx_size = MNL_SOCKET_BUFFER_SIZE * 8;
    nl->rx = malloc(nl->rx_size);
    nl->sock = mnl_socket_open(NETLINK_ROUTE);
    if (!nl->rx || !nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        weft_err_set(err, -errno, "cannot open a netlink socket: %s", strerror(errno));
        nl_close(nl);
        return -1;
    }
    /* Batches get one ack per message back at once: give them room. */
    int rcvbuf = 4 * 1024 * 1024;
    int fd = mnl_socket_get_fd(nl->sock);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)); /* capped, not root */
    int on = 1;
    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &on, sizeof(on));
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = (unsigned int)time(NULL);
    *out = nl;
    return 0;
}

void nl_close(struct nl *nl)
{
    if (!nl)
        return;
    free(nl->batch_buf);
    free(nl->batch_ok_errno);
    if (nl->sock)
        mnl_socket_close(nl->sock);
    free(nl->rx);
    free(nl);
}

/* ---------- building ---------- */

void nl_build_start(struct nl_msg *m, uint16_t type, uint16_t flags)
{
    memset(m->buf, 0, sizeof(m->buf));
    m->hdr = mnl_nlmsg_put_header(m->buf);
    m->hdr->nlmsg_type = type;
    m->hdr->nlmsg_flags = NLM_F_REQUEST | flags;
}

void nl_build_dump(struct nl_msg *m, uint16_t type, uint8_t family)
{
    nl_build_start(m, type, NLM_F_DUMP);
    /* A struct rtmsg's room, as iproute2 asks: the family is its first byte too. */
    struct rtgenmsg *gen = mnl_nlmsg_put_extra_header(m->hdr, sizeof(struct rtmsg));
    gen->rtgen_family = family;
}

/* ---------- answers ---------- */

int nl_ack_errno(struct nl *nl, const struct nlmsghdr *h)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
    if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
        return EBADMSG;
    int code = -e->error;
    if (code == 0 || !(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return code;
    /* The TLVs follow the echoed request, which is cut to its header when capped. */
    size_t offset = sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
        offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
    offset = MNL_ALIGN(offset);
    if (offset >= mnl_nlmsg_get_payload_len(h))
        return code;
    const struct nlattr *attr;
    mnl_attr_for_each(attr, h, offset)
    {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
            snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%s", mnl_attr_get_str(attr));
    }
    return code;
}

/* Reads until the answer to seq ends: its ack, or NLMSG_DONE for a dump; data
 * messages go to data_cb. Messages with other sequence numbers are left over
 * from an earlier request that was cut short (a failed read) and are skipped,
 * so one lost ack cannot shift every later answer. */
static int receive_until(struct nl *nl, unsigned int seq, mnl_cb_t data_cb, void *data,
                         int *kernel_errno)
{
    *kernel_errno = 0;
    nl->ext_msg[0] = '\0';
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rx, nl->rx_size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *kernel_errno = errno;
            return -1;
        }
        int left = (int)n;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)nl->rx; mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left)) {
            if (h->nlmsg_seq != seq)
                continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                *kernel_errno = nl_ack_errno(nl, h);
                return *kernel_errno ? -1 : 0;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                const int *status = mnl_nlmsg_get_payload(h);
                if (mnl_nlmsg_get_payload_len(h) >= sizeof(int) && *status < 0) {
                    *kernel_errno = -*status;
                    return -1;
                }
                return 0;
            }
            if (data_cb && data_cb(h, data) == MNL_CB_ERROR) {
                *kernel_errno = errno ? errno : EBADMSG;
                return -1;
            }
        }
    }
}

bool nl_already_done(int ok_errno, int code)
{
    if (code == 0 || code == ok_errno)
        return true;
    return (ok_errno == ENOENT || ok_errno == EOPNOTSUPP) && (code == ENOENT || code == ENODEV);
}

void nl_reason(const struct nl *nl, int code, char *out, size_t n)
{
    if (nl->ext_msg[0])
        snprintf(out, n, "%s (%s)", strerror(code), nl->ext_msg);
    else
        snprintf(out, n, "%s", strerror(code));
}

/* ---------- sending ---------- */

int nl_query(struct nl *nl, struct nl_msg *m, mnl_cb_t data_cb, void *data, int *kernel_errno)
{
    *kernel_errno = 0;
    nl->ext_msg[0] = '\0';
    m->hdr->nlmsg_seq = ++nl->seq;
    if (mnl_socket_sendto(nl->sock, m->hdr, m->hdr->nlmsg_len) < 0) {
        *kernel_errno = errno;
        return -1;
    }
    return receive_until(nl, m->hdr->nlmsg_seq, data_cb, data, kernel_errno);
}

int nl_change(struct nl *nl, struct nl_msg *m, int ok_errno, struct weft_err *err, const char *what)
{
    m->hdr->nlmsg_flags |= NLM_F_ACK; /* the builders ask already; a change is never blind */
    if (nl->batching) {
        nl->ext_msg[0] = '\0';
        nl_batch_queue(nl, m, ok_errno);
        return 0;
    }
    int kernel_errno;
    if (nl_query(nl, m, NULL, NULL, &kernel_errno) == 0 || nl_already_done(ok_errno, kernel_errno))
        return 0;
    weft_metrics_netlink_error();
    char why[WEFT_ERR_MAX / 2];
    nl_reason(nl, kernel_errno, why, sizeof(why));
    return weft_err_set(err, -kernel_errno, "%s: %s", what, why);
}

int nl_dump(struct nl *nl, uint16_t type, uint8_t family, mnl_cb_t cb, void *data,
            struct weft_err *err, const char *what)
{
    if (nl->batching)
        return weft_err_set(err, -EBUSY, "netlink query inside a batch");
    struct nl_msg m;
    nl_build_dump(&m, type, family);
    int kernel_errno;
    if (nl_query(nl, &m, cb, data, &kernel_errno) < 0)
        return weft_err_set(err, -kernel_errno, "%s: %s", what, strerror(kernel_errno));
    return 0;
}
