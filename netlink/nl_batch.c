/*
 * nl_batch.c: many changes, one sendto (see nl_batch_begin in nl.h). Between
 * begin and end, nl_change queues each message here with consecutive sequence
 * numbers; a flush sends the buffer and reads one ack per message, matched by
 * sequence number, keeping the first failure described from the request
 * itself ("adding fdb 02:42:... dst 192.168.60.2: ... (batch entry 2 of 3)").
 * libmnl's examples do the same with mnl_nlmsg_batch.
 */
#include "netlink/nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/weft_metrics.h"

/* The name, MAC and destination a link or neighbour request carries, if any. */
struct request_facts {
    const char *name;
    const uint8_t *lladdr;
    const void *dst;
};

static void request_facts(const struct nlmsghdr *h, size_t header, struct request_facts *f)
{
    const struct nlattr *attr;
    mnl_attr_for_each(attr, h, header)
    {
        uint16_t type = mnl_attr_get_type(attr);
        if (header == sizeof(struct ifinfomsg) && type == IFLA_IFNAME)
            f->name = mnl_attr_get_str(attr);
        else if (header == sizeof(struct ndmsg) && type == NDA_LLADDR &&
                 mnl_attr_get_payload_len(attr) == 6)
            f->lladdr = mnl_attr_get_payload(attr);
        else if (header == sizeof(struct ndmsg) && type == NDA_DST &&
                 mnl_attr_get_payload_len(attr) == 4)
            f->dst = mnl_attr_get_payload(attr);
    }
}

/* Names a queued request for an error message, from the request itself. */
static void describe_request(const struct nlmsghdr *h, char *out, size_t n)
{
    size_t header = 0;
    if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
        header = sizeof(struct ifinfomsg);
    else if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH)
        header = sizeof(struct ndmsg);
    if (!header || mnl_nlmsg_get_payload_len(h) < header) {
        snprintf(out, n, "netlink request type %u", h->nlmsg_type);
        return;
    }
    struct request_facts f = {0};
    request_facts(h, header, &f);
    bool adding = h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_NEWNEIGH;
    if (header == sizeof(struct ifinfomsg)) {
        snprintf(out, n, "%s link %.15s", h->nlmsg_type == RTM_DELLINK ? "deleting" : "changing",
                 f.name ? f.name : "?");
        return;
    }
    const struct ndmsg *nd = mnl_nlmsg_get_payload(h);
    char ip[INET_ADDRSTRLEN] = "?", mac[18] = "?";
    if (f.dst)
        inet_ntop(AF_INET, f.dst, ip, sizeof(ip));
    if (f.lladdr) {
        const uint8_t *b = f.lladdr;
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                 b[5]);
    }
    if (nd->ndm_family == AF_BRIDGE)
        snprintf(out, n, "%s fdb %s dst %s", adding ? "adding" : "removing", mac, ip);
    else
        snprintf(out, n, "%s neighbour %s", adding ? "adding" : "removing", ip);
}

/* The index-th request of the batch last sent. */
static const struct nlmsghdr *batch_request(const struct nl *nl, unsigned int index)
{
    int left = (int)nl->batch_len_sent;
    const struct nlmsghdr *h = (const struct nlmsghdr *)nl->batch_buf;
    for (unsigned int i = 0; mnl_nlmsg_ok(h, left); i++, h = mnl_nlmsg_next(h, &left))
        if (i == index)
            return h;
    return NULL;
}

/* Reads the acks in one receive buffer of n bytes, counting them into *acked;
 * the first failure not tolerated by its message goes to batch_err. */
static void batch_read_acks(struct nl *nl, ssize_t n, unsigned int first, unsigned int count,
                            unsigned int *acked)
{
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)nl->rx; mnl_nlmsg_ok(h, left);
         h = mnl_nlmsg_next(h, &left)) {
        unsigned int index = h->nlmsg_seq - first; /* unsigned: wraps safely */
        if (h->nlmsg_type != NLMSG_ERROR || index >= count)
            continue;
        (*acked)++;
        nl->ext_msg[0] = '\0';
        int code = nl_ack_errno(nl, h);
        if (nl_already_done(nl->batch_ok_errno[index], code))
            continue;
        weft_metrics_netlink_error();
        if (nl->batch_err.code)
            continue;
        char what[96] = "netlink request", why[WEFT_ERR_MAX / 2];
        const struct nlmsghdr *req = batch_request(nl, index);
        if (req)
            describe_request(req, what, sizeof(what));
        nl_reason(nl, code, why, sizeof(why));
        /* The kernel's errno is the kind: -EEXIST, -ENODEV... as it answered. */
        weft_err_set(&nl->batch_err, -code, "%s: %s (batch entry %u of %u)", what, why, index + 1,
                     count);
    }
}

/* Sends every queued batch message at once and reads their acks. The first
 * failure is kept in batch_err; each message's tolerated errno (removing
 * what is gone, appending what is there) counts as done. */
static void batch_flush(struct nl *nl)
{
    if (nl->batch_count == 0)
        return;
    unsigned int first = nl->batch_first_seq, count = nl->batch_count;
    nl->batch_len_sent = nl->batch_len;
    nl->batch_len = 0;
    nl->batch_count = 0;
    nl->batch_first_seq = nl->seq + 1;
    if (mnl_socket_sendto(nl->sock, nl->batch_buf, nl->batch_len_sent) < 0) {
        if (!nl->batch_err.code)
            weft_err_set(&nl->batch_err, -errno, "sending %u netlink requests at once: %s", count,
                         strerror(errno));
        return;
    }
    unsigned int acked = 0;
    while (acked < count) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rx, nl->rx_size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* Acks lost (a full receive buffer): later reads skip the rest by sequence. */
            if (!nl->batch_err.code)
                weft_err_set(&nl->batch_err, -errno, "reading the acks of %u netlink requests: %s",
                             count, strerror(errno));
            return;
        }
        batch_read_acks(nl, n, first, count, &acked);
    }
}

void nl_batch_queue(struct nl *nl, struct nl_msg *m, int ok_errno)
{
    if (nl->batch_len + NLMSG_ALIGN(m->hdr->nlmsg_len) > NL_BATCH_SIZE ||
        nl->batch_count == NL_BATCH_MAX_MSGS)
        batch_flush(nl);
    nl->batch_ok_errno[nl->batch_count] = ok_errno;
    m->hdr->nlmsg_seq = nl->batch_first_seq + nl->batch_count;
    nl->seq = m->hdr->nlmsg_seq;
    memcpy(nl->batch_buf + nl->batch_len, m->hdr, m->hdr->nlmsg_len);
    nl->batch_len += NLMSG_ALIGN(m->hdr->nlmsg_len);
    nl->batch_count++;
}

int nl_batch_begin(struct nl *nl)
{
    if (nl->batching)
        return -1;
    if (!nl->batch_buf && !(nl->batch_buf = malloc(NL_BATCH_SIZE)))
        return -1;
    if (!nl->batch_ok_errno &&
        !(nl->batch_ok_errno = calloc(NL_BATCH_MAX_MSGS, sizeof(*nl->batch_ok_errno))))
        return -1;
    nl->batching = true;
    nl->batch_len = 0;
    nl->batch_count = 0;
    nl->batch_first_seq = nl->seq + 1;
    nl->batch_err = (struct weft_err){.code = 0};
    return 0;
}

int nl_batch_end(struct nl *nl, struct weft_err *err)
{
    if (!nl->batching)
        return weft_err_set(err, -EINVAL, "no netlink batch is open");
    batch_flush(nl);
    nl->batching = false;
    /* Given back: a burst's batch (thousands of remote entries) touches all 128 KiB,
     * which would stay resident between the rare batches of a quiet host. */
    free(nl->batch_buf);
    free(nl->batch_ok_errno);
    nl->batch_buf = NULL;
    nl->batch_ok_errno = NULL;
    if (nl->batch_err.code)
        return weft_err_set(err, nl->batch_err.code, "%s", nl->batch_err.msg);
    return 0;
}
