/*
 * neigh_wait.c: when each simulated host had its remote endpoints, for make bench's
 * scale figure (issue 14 part 3: time it from the kernel, not from the harness's
 * process spawns; issue 18: up to a thousand hosts).
 *
 *   neigh_wait DEVICE WANT TIMEOUT_MS NETNS_PATH...
 *
 * WANT is N: until each host has at least N permanent IPv4 neighbour entries on
 * DEVICE; or +N: until each host has seen N new ones appear after the start (its
 * entries before are not listed, so the start is quick at any size).
 *
 * In each network namespace it opens one netlink socket subscribed to neighbour
 * notifications (RTNLGRP_NEIGH) and then, for N, lists the entries once; after that
 * it only reads notifications, so a host is timed when the kernel told it, not when a
 * read of every host came round to it. Entries are told apart by their address's low
 * 16 bits (the scale figure's subnets are /16). A notification lost to a full socket
 * buffer (ENOBUFS) makes that host listed again. Prints "ready <ms>" once subscribed
 * and listed (flushed: start the changes after it), then a line per host, "<netns
 * path> <ms since the epoch when first seen complete, or -1> <entries>", then
 * "sweep_max_ms <longest handling of one batch of notifications>": the resolution.
 * Exit 0 when every host completed, 1 on timeout, 2 on a usage or netlink error.
 * A benchmark tool, not a test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netlink/nl.h"

#define SEEN_WORDS (65536 / 64)

struct host {
    const char *path;
    struct nl *nl;  /* for the listing */
    int events;     /* the notification socket */
    int ifindex;
    long long done_ms; /* -1: not yet */
    long entries;
    uint64_t seen[SEEN_WORDS];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Marks (or, for a removal, clears) the entry for ip, in network order. */
static void host_mark(struct host *h, uint32_t ip, int add)
{
    uint32_t k = ntohl(ip) & 0xffff;
    uint64_t bit = 1ull << (k % 64);
    int had = (h->seen[k / 64] & bit) != 0;
    if (add && !had) {
        h->seen[k / 64] |= bit;
        h->entries++;
    } else if (!add && had) {
        h->seen[k / 64] &= ~bit;
        h->entries--;
    }
}

static void list_entry(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)mac;
    host_mark(ctx, ip, 1);
}

static int host_list(struct host *h)
{
    struct weft_err err = {0};
    memset(h->seen, 0, sizeof(h->seen));
    h->entries = 0;
    if (nl_neigh_list(h->nl, h->ifindex, list_entry, h, &err) < 0) {
        fprintf(stderr, "%s: %s\n", h->path, err.msg);
        return -1;
    }
    return 0;
}

static int events_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_NEIGH};
    int size = 8 << 20;
    if (fd < 0)
        return -1;
    /* Root may exceed rmem_max; a burst of thousands of entries must not overflow. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sockets made inside the namespace at path stay in it. */
static int host_open(struct host *h, int home, const char *device)
{
    struct weft_err err = {0};
    int fd = open(h->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        perror(h->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    h->events = events_open();
    int rc = h->events < 0 ? weft_err_set(&err, -errno, "notification socket") : 0;
    if (rc == 0)
        rc = nl_open(&h->nl, &err);
    if (rc == 0)
        rc = nl_link_index(h->nl, device, &h->ifindex, &err);
    if (setns(home, CLONE_NEWNET) < 0) {
        perror("back to the first namespace");
        return -1;
    }
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", h->path, err.msg);
    h->done_ms = -1;
    return rc;
}

/* One neighbour notification: an IPv4 permanent entry on the host's device. */
static void host_message(struct host *h, const struct nlmsghdr *m)
{
    if ((m->nlmsg_type != RTM_NEWNEIGH && m->nlmsg_type != RTM_DELNEIGH) ||
        m->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
        return;
    const struct ndmsg *nd = NLMSG_DATA(m);
    if (nd->ndm_family != AF_INET || nd->ndm_ifindex != h->ifindex)
        return;
    int len = (int)(m->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
    for (const struct rtattr *a = (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd)));
         RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != NDA_DST || RTA_PAYLOAD(a) != 4)
            continue;
        uint32_t ip;
        memcpy(&ip, RTA_DATA(a), 4);
        host_mark(h, ip, m->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & NUD_PERMANENT));
    }
}

/* Reads what the host's socket holds; -1 on an error other than a lost notification. */
static int host_read(struct host *h)
{
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = recv(h->events, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0 && errno == ENOBUFS) { /* lost some: the kernel's table is the truth */
            if (host_list(h) < 0)
                return -1;
            continue;
        }
        if (n < 0) {
            perror(h->path);
            return -1;
        }
        int len = (int)n;
        for (const struct nlmsghdr *m = (const struct nlmsghdr *)buf; NLMSG_OK(m, len);
             m = NLMSG_NEXT(m, len))
            host_message(h, m);
    }
}

static int wait_all(struct host *hosts, int n, long want, long long deadline, long long *sweep_max)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), pending = 0;
    if (ep < 0)
        return 2;
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (hosts[i].entries >= want)
            hosts[i].done_ms = now_ms();
        else
            pending++;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, hosts[i].events, &ev) < 0) {
            close(ep);
            return 2;
        }
    }
    static struct epoll_event evs[256];
    int status = 0;
    while (pending > 0 && status == 0) {
        long long left = deadline - now_ms();
        int k = left <= 0 ? 0 : epoll_wait(ep, evs, 256, left > 1000 ? 1000 : (int)left);
        long long start = now_ms();
        for (int j = 0; j < k && status == 0; j++) {
            struct host *h = &hosts[evs[j].data.u32];
            if (host_read(h) < 0)
                status = 2;
            else if (h->done_ms < 0 && h->entries >= want) {
                h->done_ms = now_ms();
                pending--;
            }
        }
        if (now_ms() - start > *sweep_max)
            *sweep_max = now_ms() - start;
        if (pending > 0 && now_ms() >= deadline)
            status = 1;
    }
    close(ep);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: neigh_wait DEVICE WANT|+NEW TIMEOUT_MS NETNS_PATH...\n");
        return 2;
    }
    const char *device = argv[1];
    int fresh = argv[2][0] == '+';
    long want = atol(argv[2] + fresh);
    long long deadline = now_ms() + atol(argv[3]);
    int n = argc - 4, home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    struct host *hosts = calloc((size_t)n, sizeof(*hosts));
    int status = home < 0 || !hosts ? 2 : 0;
    for (int i = 0; i < n && status == 0; i++) {
        hosts[i].path = argv[4 + i];
        hosts[i].events = -1;
        if (host_open(&hosts[i], home, device) < 0 || (!fresh && host_list(&hosts[i]) < 0))
            status = 2;
    }
    long long sweep_max = 0;
    if (status == 0) {
        printf("ready %lld\n", now_ms());
        fflush(stdout);
        status = wait_all(hosts, n, want, deadline, &sweep_max);
    }
    for (int i = 0; hosts && i < n; i++) {
        if (hosts[i].path)
            printf("%s %lld %ld\n", hosts[i].path, hosts[i].done_ms, hosts[i].entries);
        if (hosts[i].nl)
            nl_close(hosts[i].nl);
        if (hosts[i].events >= 0)
            close(hosts[i].events);
    }
    printf("sweep_max_ms %lld\n", sweep_max);
    free(hosts);
    if (home >= 0)
        close(home);
    return status;
}
