/*
 * dns_tcp.c: the resolver's DNS-over-TCP connections (dns_tcp.h). A small array,
 * compacted as connections close; each connection's buffer is allocated when it is
 * accepted and freed when it closes, so an idle resolver holds none.
 */
#include "dns/dns_tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "dns/dns_query.h"

/* A length prefix and the longest message taken. */
#define FRAME_MAX (2 + DNS_MESSAGE_MAX)

struct conn {
    int fd;
    uint32_t id;
    char subnet[ADDR_STR_MAX];
    struct sockaddr_in peer;
    uint8_t *buf; /* FRAME_MAX bytes: what came and is not yet a whole message */
    size_t have;
    long idle_until; /* clock_monotonic_ms() */
};

struct dns_tcp {
    struct conn conns[DNS_TCP_CONNS_MAX];
    size_t count;
    uint32_t last_id;
};

struct dns_tcp *dns_tcp_new(void)
{
    return calloc(1, sizeof(struct dns_tcp));
}

static void conn_close(struct dns_tcp *t, size_t i)
{
    close(t->conns[i].fd);
    free(t->conns[i].buf);
    t->conns[i] = t->conns[--t->count];
}

void dns_tcp_free(struct dns_tcp *t)
{
    if (!t)
        return;
    while (t->count > 0)
        conn_close(t, t->count - 1);
    free(t);
}

static struct conn *by_id(struct dns_tcp *t, uint32_t id, size_t *index)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->conns[i].id == id) {
            *index = i;
            return &t->conns[i];
        }
    return NULL;
}

/* The index of fd's connection, or -1. */
static long index_of_fd(const struct dns_tcp *t, int fd)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->conns[i].fd == fd)
            return (long)i;
    return -1;
}

void dns_tcp_accept(struct dns_tcp *t, int listen_fd, const char *subnet)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof(peer);
        int fd =
            accept4(listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: all taken; anything else: the next poll tries again */
        uint8_t *buf = t->count < DNS_TCP_CONNS_MAX ? malloc(FRAME_MAX) : NULL;
        if (!buf || peer.sin_family != AF_INET) {
            close(fd); /* too many open: the client retries, or asks over UDP */
            free(buf);
            continue;
        }
        uint32_t id = ++t->last_id;
        if (id == 0) /* 0 names no connection (upstream_relay.h) */
            id = ++t->last_id;
        struct conn *c = &t->conns[t->count++];
        *c = (struct conn){.fd = fd,
                           .id = id,
                           .peer = peer,
                           .buf = buf,
                           .idle_until = clock_monotonic_ms() + DNS_TCP_IDLE_MS};
        snprintf(c->subnet, sizeof(c->subnet), "%s", subnet);
    }
}

size_t dns_tcp_poll_set(const struct dns_tcp *t, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count && n < max; i++)
        fds[n++] = (struct pollfd){.fd = t->conns[i].fd, .events = POLLIN};
    return n;
}

bool dns_tcp_owns(const struct dns_tcp *t, int fd)
{
    return index_of_fd(t, fd) >= 0;
}

void dns_tcp_readable(struct dns_tcp *t, int fd, dns_tcp_query_fn on_query, void *ctx)
{
    long found = index_of_fd(t, fd);
    if (found < 0)
        return;
    size_t i = (size_t)found;
    struct conn *c = &t->conns[i];
    ssize_t n = recv(fd, c->buf + c->have, FRAME_MAX - c->have, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* the client closed, or the connection failed */
        conn_close(t, i);
        return;
    }
    c->have += (size_t)n;
    c->idle_until = clock_monotonic_ms() + DNS_TCP_IDLE_MS;
    uint32_t id = c->id;
    while (c->have >= 2) {
        size_t len = (size_t)c->buf[0] << 8 | c->buf[1];
        if (len == 0 || len > DNS_MESSAGE_MAX) {
            conn_close(t, i); /* nothing that long is a question: framing lost */
            return;
        }
        if (c->have < 2 + len)
            return;
        uint8_t msg[DNS_MESSAGE_MAX];
        memcpy(msg, c->buf + 2, len);
        c->have -= 2 + len;
        memmove(c->buf, c->buf + 2 + len, c->have);
        struct sockaddr_in peer = c->peer;
        char subnet[ADDR_STR_MAX];
        snprintf(subnet, sizeof(subnet), "%s", c->subnet);
        on_query(ctx, id, subnet, &peer, msg, len);
        /* Answering may have closed it (a client that does not read). */
        if (!(c = by_id(t, id, &i)))
            return;
    }
}

bool dns_tcp_send(struct dns_tcp *t, uint32_t id, const uint8_t *msg, size_t len)
{
    size_t i;
    struct conn *c = by_id(t, id, &i);
    if (!c)
        return false;
    if (len == 0 || len > DNS_MESSAGE_MAX) {
        conn_close(t, i);
        return false;
    }
    uint8_t frame[FRAME_MAX];
    frame[0] = (uint8_t)(len >> 8);
    frame[1] = (uint8_t)len;
    memcpy(frame + 2, msg, len);
    ssize_t sent = send(c->fd, frame, 2 + len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent != (ssize_t)(2 + len)) {
        conn_close(t, i); /* its buffer is full of answers it does not read */
        return false;
    }
    return true;
}

void dns_tcp_close_if(struct dns_tcp *t, bool (*gone)(void *ctx, const char *subnet), void *ctx)
{
    for (size_t i = 0; i < t->count;)
        if (gone(ctx, t->conns[i].subnet))
            conn_close(t, i);
        else
            i++;
}

int dns_tcp_expire(struct dns_tcp *t)
{
    long now = clock_monotonic_ms(), next = -1;
    for (size_t i = 0; i < t->count;) {
        long left = t->conns[i].idle_until - now;
        if (left <= 0) {
            conn_close(t, i);
            continue;
        }
        if (next < 0 || left < next)
            next = left;
        i++;
    }
    return next < 0 ? -1 : (int)next;
}
