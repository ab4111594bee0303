/*
 * nl.c: rtnetlink requests for links, FDB and neighbour entries, and the
 * address/route lookups weft needs (see nl.h). Built on libmnl: each request
 * is one message with NLM_F_ACK; inside a batch, messages queue in one buffer
 * and go out with a single sendto.
 */
#include "netlink/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One sendto must stay under the default socket send buffer (208 KiB, else
 * EMSGSIZE), and its acks (about 1 KiB of receive buffer each) under the
 * 4 MiB receive buffer nl_open asks for. */
#define NL_BATCH_SIZE (128 * 1024)
#define NL_BATCH_MAX_MSGS 2048

struct nl {
    struct mnl_socket *sock;
    unsigned int portid;
    unsigned int seq;
    char *rx; /* receive buffer, MNL_SOCKET_BUFFER_SIZE * 8 */
    size_t rx_size;
    bool batching;   /* between nl_batch_begin and nl_batch_end */
    char *batch_buf; /* queued requests, NL_BATCH_SIZE bytes */
    size_t batch_len;
    size_t batch_len_sent;
    int *batch_ok_errno; /* per queued message: an errno that means "already so" */
    unsigned int batch_first_seq;
    unsigned int batch_count;
    char batch_error[WEFT_ERR_MAX]; /* first failure of the running batch */
    char ext_msg[200];              /* the kernel's extended-ack text for the last error */
};

int nl_open(struct nl **out, struct weft_err *err)
{
    struct nl *nl = calloc(1, sizeof(*nl));
    if (!nl)
        return weft_errf(err, "out of memory");
    nl->rx_size = MNL_SOCKET_BUFFER_SIZE * 8;
    nl->rx = malloc(nl->rx_size);
    nl->sock = mnl_socket_open(NETLINK_ROUTE);
    if (!nl->rx || !nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        weft_errf(err, "cannot open a netlink socket: %s", strerror(errno));
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

/* ---------- sending and acks ---------- */

/* A message buffer on the stack of each request builder. */
struct nl_msg {
    char buf[8192]; /* one request; the largest (a veth pair) is far smaller */
    struct nlmsghdr *hdr;
};

static struct nlmsghdr *msg_start(struct nl *nl, struct nl_msg *m, uint16_t type, uint16_t flags)
{
    memset(m->buf, 0, sizeof(m->buf));
    m->hdr = mnl_nlmsg_put_header(m->buf);
    m->hdr->nlmsg_type = type;
    m->hdr->nlmsg_flags = NLM_F_REQUEST | flags;
    m->hdr->nlmsg_seq = ++nl->seq;
    return m->hdr;
}

/* The errno of an ack (0: done); a kernel explanation (extended ack) goes to
 * nl->ext_msg, so errors can say more than strerror. */
static int ack_errno(struct nl *nl, const struct nlmsghdr *h)
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
                *kernel_errno = ack_errno(nl, h);
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

/* Whether a request's answer means its goal is met. ok_errno is what the caller
 * accepts: ENOENT (removing what is gone, its device included: ENODEV), EEXIST
 * (appending what is there), or EOPNOTSUPP (forgetting what a bridge learned on a
 * link that is no bridge port, so learned nothing: gone too). */
static bool already_done(int ok_errno, int code)
{
    if (code == 0 || code == ok_errno)
        return true;
    return (ok_errno == ENOENT || ok_errno == EOPNOTSUPP) && (code == ENOENT || code == ENODEV);
}

/* "File exists", or with the kernel's own explanation when it gave one. */
static void reason(const struct nl *nl, int code, char *out, size_t n)
{
    if (nl->ext_msg[0])
        snprintf(out, n, "%s (%s)", strerror(code), nl->ext_msg);
    else
        snprintf(out, n, "%s", strerror(code));
}

/* Names a queued request for an error message, from the request itself. */
static void describe_request(const struct nlmsghdr *h, char *out, size_t n)
{
    const char *name = NULL;
    const void *lladdr = NULL, *dst = NULL;
    size_t header = 0;
    if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
        header = sizeof(struct ifinfomsg);
    else if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH)
        header = sizeof(struct ndmsg);
    if (!header || mnl_nlmsg_get_payload_len(h) < header) {
        snprintf(out, n, "netlink request type %u", h->nlmsg_type);
        return;
    }
    const struct nlattr *attr;
    mnl_attr_for_each(attr, h, header)
    {
        uint16_t type = mnl_attr_get_type(attr);
        if (header == sizeof(struct ifinfomsg) && type == IFLA_IFNAME)
            name = mnl_attr_get_str(attr);
        else if (header == sizeof(struct ndmsg) && type == NDA_LLADDR &&
                 mnl_attr_get_payload_len(attr) == 6)
            lladdr = mnl_attr_get_payload(attr);
        else if (header == sizeof(struct ndmsg) && type == NDA_DST &&
                 mnl_attr_get_payload_len(attr) == 4)
            dst = mnl_attr_get_payload(attr);
    }
    bool adding = h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_NEWNEIGH;
    if (header == sizeof(struct ifinfomsg)) {
        snprintf(out, n, "%s link %.15s", h->nlmsg_type == RTM_DELLINK ? "deleting" : "changing",
                 name ? name : "?");
        return;
    }
    const struct ndmsg *nd = mnl_nlmsg_get_payload(h);
    char ip[INET_ADDRSTRLEN] = "?", mac[18] = "?";
    if (dst)
        inet_ntop(AF_INET, dst, ip, sizeof(ip));
    if (lladdr) {
        const uint8_t *b = lladdr;
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                 b[5]);
    }
    if (nd->ndm_family == AF_BRIDGE)
        snprintf(out, n, "%s fdb %s dst %s", adding ? "adding" : "removing", mac, ip);
    else
        snprintf(out, n, "%s neighbour %s", adding ? "adding" : "removing", ip);
}

/* The queued request with sequence number seq (first + i is the i-th queued). */
static const struct nlmsghdr *batch_request(const struct nl *nl, unsigned int index)
{
    int left = (int)nl->batch_len_sent;
    const struct nlmsghdr *h = (const struct nlmsghdr *)nl->batch_buf;
    for (unsigned int i = 0; mnl_nlmsg_ok(h, left); i++, h = mnl_nlmsg_next(h, &left))
        if (i == index)
            return h;
    return NULL;
}

/* Sends every queued batch message at once and reads their acks. The first
 * failure is kept in batch_error; each message's tolerated errno (removing
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
        if (!nl->batch_error[0])
            snprintf(nl->batch_error, sizeof(nl->batch_error),
                     "sending %u netlink requests at once: %s", count, strerror(errno));
        return;
    }
    unsigned int acked = 0;
    while (acked < count) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rx, nl->rx_size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* Acks lost (a full receive buffer): later reads skip the rest by sequence. */
            if (!nl->batch_error[0])
                snprintf(nl->batch_error, sizeof(nl->batch_error),
                         "reading the acks of %u netlink requests: %s", count, strerror(errno));
            return;
        }
        int left = (int)n;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)nl->rx; mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left)) {
            unsigned int index = h->nlmsg_seq - first; /* unsigned: wraps safely */
            if (h->nlmsg_type != NLMSG_ERROR || index >= count)
                continue;
            acked++;
            nl->ext_msg[0] = '\0';
            int code = ack_errno(nl, h);
            if (already_done(nl->batch_ok_errno[index], code) || nl->batch_error[0])
                continue;
            char what[96] = "netlink request", why[WEFT_ERR_MAX / 2];
            const struct nlmsghdr *req = batch_request(nl, index);
            if (req)
                describe_request(req, what, sizeof(what));
            reason(nl, code, why, sizeof(why));
            snprintf(nl->batch_error, sizeof(nl->batch_error), "%s: %s (batch entry %u of %u)",
                     what, why, index + 1, count);
        }
    }
}

/* Sends one change and waits for its ack; *kernel_errno gets the kernel's answer.
 * Inside a batch the message is queued instead and 0 returned. */
static int send_request(struct nl *nl, struct nl_msg *m, int ok_errno, int *kernel_errno)
{
    *kernel_errno = 0;
    nl->ext_msg[0] = '\0';
    m->hdr->nlmsg_flags |= NLM_F_ACK;
    if (nl->batching) {
        if (nl->batch_len + NLMSG_ALIGN(m->hdr->nlmsg_len) > NL_BATCH_SIZE ||
            nl->batch_count == NL_BATCH_MAX_MSGS)
            batch_flush(nl);
        nl->batch_ok_errno[nl->batch_count] = ok_errno;
        m->hdr->nlmsg_seq = nl->batch_first_seq + nl->batch_count;
        nl->seq = m->hdr->nlmsg_seq;
        memcpy(nl->batch_buf + nl->batch_len, m->hdr, m->hdr->nlmsg_len);
        nl->batch_len += NLMSG_ALIGN(m->hdr->nlmsg_len);
        nl->batch_count++;
        return 0;
    }
    if (mnl_socket_sendto(nl->sock, m->hdr, m->hdr->nlmsg_len) < 0) {
        *kernel_errno = errno;
        return -1;
    }
    return receive_until(nl, m->hdr->nlmsg_seq, NULL, NULL, kernel_errno);
}

/* Like send_change, but an answer of ok_errno means the goal is already met (already_done). */
static int send_change_ignoring(struct nl *nl, struct nl_msg *m, int ok_errno, struct weft_err *err,
                                const char *what)
{
    int kernel_errno;
    if (send_request(nl, m, ok_errno, &kernel_errno) == 0 || already_done(ok_errno, kernel_errno))
        return 0;
    char why[WEFT_ERR_MAX / 2];
    reason(nl, kernel_errno, why, sizeof(why));
    return weft_errf(err, "%s: %s", what, why);
}

/* send_request with a message naming the change ("creating vxlan wvx42: File exists"). */
static int send_change(struct nl *nl, struct nl_msg *m, struct weft_err *err, const char *what)
{
    return send_change_ignoring(nl, m, 0, err, what);
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
    nl->batch_error[0] = '\0';
    return 0;
}

int nl_batch_end(struct nl *nl, struct weft_err *err)
{
    if (!nl->batching)
        return weft_errf(err, "no netlink batch is open");
    batch_flush(nl);
    nl->batching = false;
    if (nl->batch_error[0])
        return weft_errf(err, "%s", nl->batch_error);
    return 0;
}

/* ---------- links ---------- */

static struct ifinfomsg *link_msg(struct nl *nl, struct nl_msg *m, uint16_t type, uint16_t flags,
                                  const char *name)
{
    msg_start(nl, m, type, flags);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    if (name)
        mnl_attr_put_strz(m->hdr, IFLA_IFNAME, name);
    return ifi;
}

int nl_link_delete(struct nl *nl, const char *name, struct weft_err *err)
{
    struct nl_msg m;
    link_msg(nl, &m, RTM_DELLINK, 0, name);
    char what[64];
    snprintf(what, sizeof(what), "deleting %.15s", name);
    return send_change_ignoring(nl, &m, ENOENT, err, what);
}

/* Sets a link up (when up) and its alias (when set), in one message. */
static int link_set_up_alias(struct nl *nl, const char *name, bool up, const char *alias,
                             struct weft_err *err)
{
    struct nl_msg m;
    struct ifinfomsg *ifi = link_msg(nl, &m, RTM_NEWLINK, 0, name);
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = up ? IFF_UP : 0;
    if (alias)
        mnl_attr_put_strz(m.hdr, IFLA_IFALIAS, alias);
    char what[64];
    snprintf(what, sizeof(what), "setting %.15s up", name);
    return send_change(nl, &m, err, what);
}

int nl_link_set_up(struct nl *nl, const char *name, struct weft_err *err)
{
    return link_set_up_alias(nl, name, true, NULL, err);
}

int nl_link_set_up_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err)
{
    return link_set_up_alias(nl, name, true, alias, err);
}

int nl_link_set_mac(struct nl *nl, const char *name, const uint8_t mac[6], struct weft_err *err)
{
    struct nl_msg m;
    link_msg(nl, &m, RTM_NEWLINK, 0, name);
    mnl_attr_put(m.hdr, IFLA_ADDRESS, 6, mac);
    char what[64];
    snprintf(what, sizeof(what), "setting the MAC of %.15s", name);
    return send_change(nl, &m, err, what);
}

int nl_link_set_master(struct nl *nl, const char *name, int master_ifindex, struct weft_err *err)
{
    struct nl_msg m;
    link_msg(nl, &m, RTM_NEWLINK, 0, name);
    mnl_attr_put_u32(m.hdr, IFLA_MASTER, (uint32_t)master_ifindex);
    char what[64];
    snprintf(what, sizeof(what), "attaching %.15s to its bridge", name);
    return send_change(nl, &m, err, what);
}

int nl_link_set_mtu(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    if (mtu <= 0)
        return 0;
    struct nl_msg m;
    link_msg(nl, &m, RTM_NEWLINK, 0, name);
    mnl_attr_put_u32(m.hdr, IFLA_MTU, (uint32_t)mtu);
    char what[64];
    snprintf(what, sizeof(what), "setting MTU %d on %.15s", mtu, name);
    return send_change(nl, &m, err, what);
}

/* What RTM_GETLINK answers, as far as weft reads it. */
struct link_facts {
    int ifindex;
    char name[IF_NAMESIZE];
    int mtu;
    bool is_vxlan;
    uint32_t vni;
    uint32_t local_ip;
};

static int vxlan_data_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    switch (mnl_attr_get_type(attr)) {
    case IFLA_VXLAN_ID:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            facts->vni = mnl_attr_get_u32(attr);
        break;
    case IFLA_VXLAN_LOCAL:
        if (mnl_attr_get_payload_len(attr) == 4)
            memcpy(&facts->local_ip, mnl_attr_get_payload(attr), 4);
        break;
    }
    return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
        facts->is_vxlan = strcmp(mnl_attr_get_str(attr), "vxlan") == 0;
    else if (mnl_attr_get_type(attr) == IFLA_INFO_DATA)
        mnl_attr_parse_nested(attr, vxlan_data_cb, facts);
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    struct link_facts *facts = data;
    if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        snprintf(facts->name, sizeof(facts->name), "%s", mnl_attr_get_str(attr));
    else if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        facts->mtu = (int)mnl_attr_get_u32(attr);
    else if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
        mnl_attr_parse_nested(attr, linkinfo_cb, facts);
    return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct link_facts *facts = data;
    if (hdr->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(hdr);
    facts->ifindex = ifi->ifi_index;
    mnl_attr_parse(hdr, sizeof(*ifi), link_attr_cb, data);
    return MNL_CB_OK;
}

/* Asks the kernel about one link, by name or (name NULL) by index; the answer
 * comes from the socket's namespace, whatever namespace the caller is in now.
 * *kernel_errno tells a missing link (ENODEV) from other failures. */
static int link_query(struct nl *nl, const char *name, int ifindex, struct link_facts *facts,
                      int *kernel_errno)
{
    memset(facts, 0, sizeof(*facts));
    struct nl_msg m;
    /* NLM_F_ACK: a plain GET answers one message and no DONE; the ack ends the read. */
    struct ifinfomsg *ifi = link_msg(nl, &m, RTM_GETLINK, NLM_F_ACK, name);
    ifi->ifi_index = name ? 0 : ifindex;
    mnl_attr_put_u32(m.hdr, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS); /* smaller answer */
    if (mnl_socket_sendto(nl->sock, m.hdr, m.hdr->nlmsg_len) < 0) {
        *kernel_errno = errno;
        return -1;
    }
    return receive_until(nl, m.hdr->nlmsg_seq, link_msg_cb, facts, kernel_errno);
}

static int link_get(struct nl *nl, const char *name, struct link_facts *facts, struct weft_err *err)
{
    if (nl->batching)
        return weft_errf(err, "netlink query inside a batch");
    int kernel_errno;
    if (link_query(nl, name, 0, facts, &kernel_errno) < 0) {
        char why[WEFT_ERR_MAX / 2];
        reason(nl, kernel_errno, why, sizeof(why));
        return weft_errf(err, "reading link %.15s: %s", name, why);
    }
    return 0;
}

/* Allowed inside a batch (no acks are outstanding between flushes): it answers
 * from the kernel's present state, without the queued changes. */
int nl_link_index(struct nl *nl, const char *name, int *ifindex, struct weft_err *err)
{
    struct link_facts facts;
    int kernel_errno;
    *ifindex = 0;
    if (link_query(nl, name, 0, &facts, &kernel_errno) == 0) {
        *ifindex = facts.ifindex;
        return 0;
    }
    if (kernel_errno == ENODEV)
        return 0;
    return weft_errf(err, "looking up link %.15s: %s", name, strerror(kernel_errno));
}

int nl_link_get_mtu(struct nl *nl, const char *name, int *mtu, struct weft_err *err)
{
    struct link_facts facts;
    if (link_get(nl, name, &facts, err) < 0)
        return -1;
    *mtu = facts.mtu;
    return 0;
}

int nl_vxlan_get(struct nl *nl, const char *name, uint32_t *vni, uint32_t *local_ip,
                 struct weft_err *err)
{
    struct link_facts facts;
    if (link_get(nl, name, &facts, err) < 0)
        return -1;
    if (!facts.is_vxlan)
        return weft_errf(err, "link %.15s exists but is not a VXLAN device", name);
    *vni = facts.vni;
    *local_ip = facts.local_ip;
    return 0;
}

/* The nests of an RTM_NEWLINK being built: IFLA_LINKINFO and its IFLA_INFO_DATA. */
struct link_nests {
    struct nlattr *info;
    struct nlattr *data;
};

/* Starts creating link name of kind (exclusive: an existing link is an error), with MTU
 * and master when set; the kind's own attributes follow, then new_link_end. */
static struct link_nests new_link_begin(struct nl *nl, struct nl_msg *m, const char *name,
                                        const char *kind, int mtu, int master_ifindex)
{
    link_msg(nl, m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
    if (mtu > 0)
        mnl_attr_put_u32(m->hdr, IFLA_MTU, (uint32_t)mtu);
    if (master_ifindex > 0)
        mnl_attr_put_u32(m->hdr, IFLA_MASTER, (uint32_t)master_ifindex);
    struct link_nests n;
    n.info = mnl_attr_nest_start(m->hdr, IFLA_LINKINFO);
    mnl_attr_put_strz(m->hdr, IFLA_INFO_KIND, kind);
    n.data = mnl_attr_nest_start(m->hdr, IFLA_INFO_DATA);
    return n;
}

/* The kernel only says "Numerical result out of range" for a long name. */
static int check_name(const char *name, struct weft_err *err)
{
    if (!name || !name[0] || strlen(name) >= IF_NAMESIZE)
        return weft_errf(err, "interface name \"%s\" must have 1 to %d characters",
                         name ? name : "", IF_NAMESIZE - 1);
    return 0;
}

static void new_link_end(struct nl_msg *m, struct link_nests n)
{
    mnl_attr_nest_end(m->hdr, n.data);
    mnl_attr_nest_end(m->hdr, n.info);
}

int nl_bridge_create(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    if (check_name(name, err) < 0)
        return -1;
    struct nl_msg m;
    struct link_nests nests = new_link_begin(nl, &m, name, "bridge", mtu, 0);
    mnl_attr_put_u32(m.hdr, IFLA_BR_STP_STATE, 0);
    mnl_attr_put_u32(m.hdr, IFLA_BR_FORWARD_DELAY, 0);
    new_link_end(&m, nests);
    char what[64];
    snprintf(what, sizeof(what), "creating bridge %.15s", name);
    return send_change(nl, &m, err, what);
}

int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_spec *spec, struct weft_err *err)
{
    if (check_name(spec->name, err) < 0)
        return -1;
    struct nl_msg m;
    struct link_nests nests =
        new_link_begin(nl, &m, spec->name, "vxlan", spec->mtu, spec->master_ifindex);
    mnl_attr_put_u32(m.hdr, IFLA_VXLAN_ID, spec->vni);
    mnl_attr_put(m.hdr, IFLA_VXLAN_LOCAL, 4, &spec->local_ip);
    mnl_attr_put_u16(m.hdr, IFLA_VXLAN_PORT, htons(spec->dst_port));
    mnl_attr_put_u8(m.hdr, IFLA_VXLAN_LEARNING, 0); /* peers are programmed, never learned */
    mnl_attr_put_u8(m.hdr, IFLA_VXLAN_PROXY, 1);    /* ARP answered locally from neigh entries */
    mnl_attr_put_u8(m.hdr, IFLA_VXLAN_UDP_CSUM, 1);
    new_link_end(&m, nests);
    char what[64];
    snprintf(what, sizeof(what), "creating vxlan %.15s", spec->name);
    return send_change(nl, &m, err, what);
}

int nl_veth_create(struct nl *nl, const struct nl_veth_spec *spec, struct weft_err *err)
{
    if (check_name(spec->host_name, err) < 0 || check_name(spec->peer_name, err) < 0)
        return -1;
    if (spec->host_alias && strlen(spec->host_alias) >= NL_ALIAS_MAX)
        return weft_errf(err, "interface alias of %zu bytes is over the kernel's %d",
                         strlen(spec->host_alias), NL_ALIAS_MAX - 1);
    struct nl_msg m;
    struct link_nests nests =
        new_link_begin(nl, &m, spec->host_name, "veth", spec->mtu, spec->master_ifindex);
    struct nlattr *peer = mnl_attr_nest_start(m.hdr, VETH_INFO_PEER);
    struct ifinfomsg *peer_ifi = mnl_nlmsg_put_extra_header(m.hdr, sizeof(*peer_ifi));
    peer_ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.hdr, IFLA_IFNAME, spec->peer_name);
    if (spec->peer_mac)
        mnl_attr_put(m.hdr, IFLA_ADDRESS, 6, spec->peer_mac);
    if (spec->mtu > 0)
        mnl_attr_put_u32(m.hdr, IFLA_MTU, (uint32_t)spec->mtu);
    mnl_attr_nest_end(m.hdr, peer);
    new_link_end(&m, nests);
    char what[80];
    snprintf(what, sizeof(what), "creating veth %.15s/%.15s", spec->host_name, spec->peer_name);
    if (send_change(nl, &m, err, what) < 0)
        return -1;
    /* The alias goes with "up": the kernel ignores one given at creation. */
    if (spec->down && !spec->host_alias)
        return 0;
    bool up = !spec->down;
    if (nl->batching) /* queued right behind the creation; a batch cannot undo */
        return link_set_up_alias(nl, spec->host_name, up, spec->host_alias, err);
    if (link_set_up_alias(nl, spec->host_name, up, spec->host_alias, err) < 0) {
        nl_link_delete(nl, spec->host_name, NULL); /* takes the peer with it */
        return -1;
    }
    return 0;
}

/* ---------- FDB and neighbours ---------- */

static int fdb_msg(struct nl *nl, struct nl_msg *m, uint16_t type, uint16_t flags, int ifindex,
                   const uint8_t mac[6], uint32_t dst_ip)
{
    msg_start(nl, m, type, flags);
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*nd));
    nd->ndm_family = AF_BRIDGE;
    nd->ndm_ifindex = ifindex;
    nd->ndm_flags = NTF_SELF;
    nd->ndm_state = NUD_PERMANENT | NUD_NOARP;
    mnl_attr_put(m->hdr, NDA_LLADDR, 6, mac);
    mnl_attr_put(m->hdr, NDA_DST, 4, &dst_ip);
    return 0;
}

static void fdb_what(char *what, size_t n, const char *verb, const uint8_t mac[6], uint32_t dst)
{
    char dst_text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &dst, dst_text, sizeof(dst_text));
    snprintf(what, n, "%s fdb %02x:%02x:%02x:%02x:%02x:%02x dst %s", verb, mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5], dst_text);
}

int nl_fdb_add(struct nl *nl, int ifindex, const uint8_t mac[6], uint32_t dst_ip, bool append,
               struct weft_err *err)
{
    struct nl_msg m;
    uint16_t flags = NLM_F_CREATE | (append ? NLM_F_APPEND : NLM_F_REPLACE);
    fdb_msg(nl, &m, RTM_NEWNEIGH, flags, ifindex, mac, dst_ip);
    char what[96];
    fdb_what(what, sizeof(what), "adding", mac, dst_ip);
    /* Appending an entry that exists answers EEXIST: it is there, which is the goal. */
    return send_change_ignoring(nl, &m, append ? EEXIST : 0, err, what);
}

int nl_fdb_del(struct nl *nl, int ifindex, const uint8_t mac[6], uint32_t dst_ip,
               struct weft_err *err)
{
    struct nl_msg m;
    fdb_msg(nl, &m, RTM_DELNEIGH, 0, ifindex, mac, dst_ip);
    char what[96];
    fdb_what(what, sizeof(what), "removing", mac, dst_ip);
    return send_change_ignoring(nl, &m, ENOENT, err, what);
}

int nl_bridge_fdb_del(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err)
{
    struct nl_msg m;
    msg_start(nl, &m, RTM_DELNEIGH, 0);
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(m.hdr, sizeof(*nd));
    nd->ndm_family = AF_BRIDGE;
    nd->ndm_ifindex = port_ifindex;
    nd->ndm_flags = NTF_MASTER;
    mnl_attr_put(m.hdr, NDA_LLADDR, 6, mac);
    char what[96];
    snprintf(what, sizeof(what), "forgetting learned fdb %02x:%02x:%02x:%02x:%02x:%02x", mac[0],
             mac[1], mac[2], mac[3], mac[4], mac[5]);
    return send_change_ignoring(nl, &m, EOPNOTSUPP, err, what);
}

static void neigh_msg(struct nl *nl, struct nl_msg *m, uint16_t type, uint16_t flags, int ifindex,
                      uint32_t ip)
{
    msg_start(nl, m, type, flags);
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(m->hdr, sizeof(*nd));
    nd->ndm_family = AF_INET;
    nd->ndm_ifindex = ifindex;
    nd->ndm_state = NUD_PERMANENT;
    mnl_attr_put(m->hdr, NDA_DST, 4, &ip);
}

int nl_neigh_add(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6],
                 struct weft_err *err)
{
    struct nl_msg m;
    neigh_msg(nl, &m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip);
    mnl_attr_put(m.hdr, NDA_LLADDR, 6, mac);
    char ip_text[INET_ADDRSTRLEN], what[64];
    inet_ntop(AF_INET, &ip, ip_text, sizeof(ip_text));
    snprintf(what, sizeof(what), "adding neighbour %s", ip_text);
    return send_change(nl, &m, err, what);
}

int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip, struct weft_err *err)
{
    struct nl_msg m;
    neigh_msg(nl, &m, RTM_DELNEIGH, 0, ifindex, ip);
    char ip_text[INET_ADDRSTRLEN], what[64];
    inet_ntop(AF_INET, &ip, ip_text, sizeof(ip_text));
    snprintf(what, sizeof(what), "removing neighbour %s", ip_text);
    return send_change_ignoring(nl, &m, ENOENT, err, what);
}

/* ---------- routes and addresses ---------- */

struct route_search {
    bool found;
    uint32_t prefsrc;
    int oif;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
    struct route_search *s = data;
    if (mnl_attr_get_type(attr) == RTA_PREFSRC && mnl_attr_get_payload_len(attr) == 4)
        memcpy(&s->prefsrc, mnl_attr_get_payload(attr), 4);
    else if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        s->oif = (int)mnl_attr_get_u32(attr);
    else if (mnl_attr_get_type(attr) == RTA_MULTIPATH && s->oif == 0 &&
             mnl_attr_get_payload_len(attr) >= sizeof(struct rtnexthop)) {
        /* An ECMP default route has no RTA_OIF: its first next hop names the link. */
        const struct rtnexthop *nh = mnl_attr_get_payload(attr);
        if (nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= mnl_attr_get_payload_len(attr))
            s->oif = nh->rtnh_ifindex;
    }
    return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct route_search *s = data;
    const struct rtmsg *rt = mnl_nlmsg_get_payload(hdr);
    if (s->found || hdr->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET ||
        rt->rtm_dst_len != 0 || rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST)
        return MNL_CB_OK;
    struct route_search candidate = {0};
    mnl_attr_parse(hdr, sizeof(*rt), route_attr_cb, &candidate);
    if (candidate.oif > 0) {
        *s = candidate;
        s->found = true;
    }
    return MNL_CB_OK;
}

struct addr_search {
    int want_ifindex; /* find the first address of this link, or */
    uint32_t want_ip; /* find the link that holds this address */
    bool found;
    uint32_t ip;
    int ifindex;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
    uint32_t *local = data;
    if (mnl_attr_get_type(attr) == IFA_LOCAL && mnl_attr_get_payload_len(attr) == 4)
        memcpy(local, mnl_attr_get_payload(attr), 4);
    else if (mnl_attr_get_type(attr) == IFA_ADDRESS && *local == 0 &&
             mnl_attr_get_payload_len(attr) == 4)
        memcpy(local, mnl_attr_get_payload(attr), 4);
    return MNL_CB_OK;
}

static int addr_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct addr_search *s = data;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(hdr);
    if (s->found || hdr->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET)
        return MNL_CB_OK;
    uint32_t local = 0;
    mnl_attr_parse(hdr, sizeof(*ifa), addr_attr_cb, &local);
    if ((s->want_ifindex && (int)ifa->ifa_index == s->want_ifindex) ||
        (s->want_ip && local == s->want_ip)) {
        s->found = true;
        s->ip = local;
        s->ifindex = (int)ifa->ifa_index;
    }
    return MNL_CB_OK;
}

static int dump(struct nl *nl, uint16_t type, uint8_t family, mnl_cb_t cb, void *data,
                struct weft_err *err, const char *what)
{
    if (nl->batching)
        return weft_errf(err, "netlink query inside a batch");
    struct nl_msg m;
    msg_start(nl, &m, type, NLM_F_DUMP);
    struct rtgenmsg *gen = mnl_nlmsg_put_extra_header(m.hdr, sizeof(struct rtmsg));
    gen->rtgen_family = family;
    if (mnl_socket_sendto(nl->sock, m.hdr, m.hdr->nlmsg_len) < 0)
        return weft_errf(err, "%s: %s", what, strerror(errno));
    int kernel_errno;
    if (receive_until(nl, m.hdr->nlmsg_seq, cb, data, &kernel_errno) < 0)
        return weft_errf(err, "%s: %s", what, strerror(kernel_errno));
    return 0;
}

struct alias_dump {
    const char *prefix;
    nl_link_alias_fn fn;
    void *ctx;
};

static int alias_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if ((type == IFLA_IFNAME || type == IFLA_IFALIAS) &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        tb[type] = attr;
    return MNL_CB_OK;
}

static int alias_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct alias_dump *d = data;
    if (hdr->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ifinfomsg))
        return MNL_CB_OK;
    const struct nlattr *tb[IFLA_MAX + 1] = {0};
    mnl_attr_parse(hdr, sizeof(struct ifinfomsg), alias_attr_cb, tb);
    if (!tb[IFLA_IFNAME] || !tb[IFLA_IFALIAS])
        return MNL_CB_OK;
    const char *name = mnl_attr_get_str(tb[IFLA_IFNAME]);
    if (strncmp(name, d->prefix, strlen(d->prefix)) == 0)
        d->fn(d->ctx, name, mnl_attr_get_str(tb[IFLA_IFALIAS]));
    return MNL_CB_OK;
}

int nl_link_aliases(struct nl *nl, const char *prefix, nl_link_alias_fn fn, void *ctx,
                    struct weft_err *err)
{
    struct alias_dump d = {prefix, fn, ctx};
    return dump(nl, RTM_GETLINK, AF_UNSPEC, alias_msg_cb, &d, err, "listing links");
}

/* ---------- listing FDB and neighbour entries ---------- */

struct neigh_dump {
    int ifindex;
    nl_fdb_fn fdb_fn;     /* one of these two */
    nl_neigh_fn neigh_fn;
    void *ctx;
};

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if (type == NDA_DST || type == NDA_LLADDR)
        tb[type] = attr;
    return MNL_CB_OK;
}

static int neigh_dump_msg_cb(const struct nlmsghdr *hdr, void *data)
{
    struct neigh_dump *d = data;
    if (hdr->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(hdr) < sizeof(struct ndmsg))
        return MNL_CB_OK;
    const struct ndmsg *nd = mnl_nlmsg_get_payload(hdr);
    if (nd->ndm_ifindex != d->ifindex)
        return MNL_CB_OK;
    const struct nlattr *tb[NDA_MAX + 1] = {0};
    mnl_attr_parse(hdr, sizeof(struct ndmsg), neigh_attr_cb, tb);
    /* Only IPv4 destinations and Ethernet addresses: anything else is not weft's. */
    if (!tb[NDA_DST] || !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_DST]) != 4 ||
        mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
        return MNL_CB_OK;
    uint32_t ip;
    memcpy(&ip, mnl_attr_get_payload(tb[NDA_DST]), 4);
    const uint8_t *mac = mnl_attr_get_payload(tb[NDA_LLADDR]);
    if (d->fdb_fn && nd->ndm_family == AF_BRIDGE && (nd->ndm_flags & NTF_SELF))
        d->fdb_fn(d->ctx, mac, ip);
    else if (d->neigh_fn && nd->ndm_family == AF_INET && (nd->ndm_state & NUD_PERMANENT))
        d->neigh_fn(d->ctx, ip, mac);
    return MNL_CB_OK;
}

int nl_fdb_list(struct nl *nl, int ifindex, nl_fdb_fn fn, void *ctx, struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = ifindex, .fdb_fn = fn, .ctx = ctx};
    return dump(nl, RTM_GETNEIGH, AF_BRIDGE, neigh_dump_msg_cb, &d, err, "listing fdb entries");
}

int nl_neigh_list(struct nl *nl, int ifindex, nl_neigh_fn fn, void *ctx, struct weft_err *err)
{
    struct neigh_dump d = {.ifindex = ifindex, .neigh_fn = fn, .ctx = ctx};
    return dump(nl, RTM_GETNEIGH, AF_INET, neigh_dump_msg_cb, &d, err, "listing neighbours");
}

static int ifname_of(struct nl *nl, int ifindex, char *ifname, int ifname_len, struct weft_err *err)
{
    struct link_facts facts;
    int kernel_errno;
    if (link_query(nl, NULL, ifindex, &facts, &kernel_errno) < 0 || !facts.name[0])
        return weft_errf(err, "interface %d vanished", ifindex);
    snprintf(ifname, (size_t)ifname_len, "%s", facts.name);
    return 0;
}

int nl_default_route_addr(struct nl *nl, uint32_t *ip, char *ifname, int ifname_len,
                          struct weft_err *err)
{
    struct route_search route = {0};
    if (dump(nl, RTM_GETROUTE, AF_INET, route_msg_cb, &route, err, "reading routes") < 0)
        return -1;
    if (!route.found)
        return weft_errf(err, "no default route");
    uint32_t addr = route.prefsrc;
    if (!addr) {
        struct addr_search s = {.want_ifindex = route.oif};
        if (dump(nl, RTM_GETADDR, AF_INET, addr_msg_cb, &s, err, "reading addresses") < 0)
            return -1;
        if (!s.found)
            return weft_errf(err, "the default route's interface has no IPv4 address");
        addr = s.ip;
    }
    *ip = addr;
    return ifname_of(nl, route.oif, ifname, ifname_len, err);
}

int nl_addr_ifname(struct nl *nl, uint32_t ip, char *ifname, int ifname_len, struct weft_err *err)
{
    struct addr_search s = {.want_ip = ip};
    if (dump(nl, RTM_GETADDR, AF_INET, addr_msg_cb, &s, err, "reading addresses") < 0)
        return -1;
    if (!s.found) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ip, text, sizeof(text));
        return weft_errf(err, "no interface holds %s", text);
    }
    return ifname_of(nl, s.ifindex, ifname, ifname_len, err);
}
