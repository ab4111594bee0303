/*
 * nl_internal.h: what the files of netlink/ share, and nobody else sees.
 *
 * Owns struct nl (the socket, its sequence numbers, the receive buffer and the
 * running batch) and the sending calls every message goes through. Callers:
 * the files of netlink/ only. Like struct nl itself, not thread-safe: one per thread.
 *
 * A request's answer is an errno: 0 done, else the kernel's reason, with its
 * extended-ack text (if any) in nl->ext_msg until the next request.
 */
#ifndef WEFT_NL_INTERNAL_H
#define WEFT_NL_INTERNAL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "netlink/nl.h"
#include "netlink/nl_build.h"

/* One sendto must stay under the default socket send buffer (208 KiB, else
 * EMSGSIZE), and its acks (about 1 KiB of receive buffer each) under the
 * 4 MiB receive buffer nl_open asks for. */
#define NL_BATCH_SIZE (128 * 1024)
#define NL_BATCH_MAX_MSGS 2048

struct nl {
    struct mnl_socket *sock;
    unsigned int portid;
    unsigned int seq; /* of the last request sent or queued */
    char *rx;         /* receive buffer, MNL_SOCKET_BUFFER_SIZE * 8 */
    size_t rx_size;
    bool batching;   /* between nl_batch_begin and nl_batch_end */
    char *batch_buf; /* queued requests, NL_BATCH_SIZE bytes; while a batch is open */
    size_t batch_len;
    size_t batch_len_sent;
    int *batch_ok_errno; /* per queued message: an errno that means "already so" */
    unsigned int batch_first_seq;
    unsigned int batch_count;
    struct weft_err batch_err; /* first failure of the running batch; code 0 while none */
    char ext_msg[200];         /* the kernel's extended-ack text for the last error */
};

/* ---- nl_socket.c ---- */

/* Stamps m with the next sequence number, sends it and reads until its answer
 * ends (its ack, or NLMSG_DONE of a dump); data messages go to data_cb (may be
 * NULL). Not batched: the caller checks nl->batching where it matters. */
int nl_query(struct nl *nl, struct nl_msg *m, mnl_cb_t data_cb, void *data, int *kernel_errno);

/* Sends a change and waits for its ack, or queues it inside a batch (and returns
 * 0). An answer of ok_errno means the goal is already met (nl_already_done). On
 * failure err says what ("creating vxlan wvx42") and the kernel's reason. */
int nl_change(struct nl *nl, struct nl_msg *m, int ok_errno, struct weft_err *err,
              const char *what);

/* Dumps type for family into cb; refused inside a batch. what names it in err. */
int nl_dump(struct nl *nl, uint16_t type, uint8_t family, mnl_cb_t cb, void *data,
            struct weft_err *err, const char *what);

/* The errno of an ack (0: done); its extended-ack text goes to nl->ext_msg. */
int nl_ack_errno(struct nl *nl, const struct nlmsghdr *h);

/* Whether answer code means the goal is met, for a caller that accepts ok_errno:
 * ENOENT (removing what is gone, its device included: ENODEV), EEXIST (appending
 * what is there), or EOPNOTSUPP (forgetting what a bridge learned on a link that
 * is no bridge port, so learned nothing: gone too). */
bool nl_already_done(int ok_errno, int code);

/* "File exists", or with the kernel's own explanation when it gave one. */
void nl_reason(const struct nl *nl, int code, char *out, size_t n);

/* ---- nl_batch.c ---- */

/* Queues m (stamped with the batch's next sequence number) and flushes first
 * when the batch is full. Only while nl->batching. */
void nl_batch_queue(struct nl *nl, struct nl_msg *m, int ok_errno);

#endif
