/*
 * upstream_stream.c: one question over TCP to one resolver (upstream_stream.h). One
 * buffer holds the framed question while it is written, then the framed answer.
 */
#include "dns/upstream_stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_query.h"

struct upstream_stream {
    int fd;
    bool reading; /* the question is written: the answer is being read */
    size_t len;   /* writing: the frame's length; reading: the bytes read */
    size_t sent;  /* writing: the bytes written */
    uint8_t buf[2 + DNS_MESSAGE_MAX];
};

struct upstream_stream *upstream_stream_open(const struct sockaddr_storage *server,
                                             const uint8_t *msg, size_t len)
{
    if (len == 0 || len > DNS_MESSAGE_MAX)
        return NULL;
    struct upstream_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->fd = socket(server->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    s->buf[0] = (uint8_t)(len >> 8);
    s->buf[1] = (uint8_t)len;
    memcpy(s->buf + 2, msg, len);
    s->len = 2 + len;
    socklen_t server_len =
        server->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (connect(s->fd, (const struct sockaddr *)server, server_len) < 0 && errno != EINPROGRESS) {
        upstream_stream_free(s);
        return NULL;
    }
    return s;
}

void upstream_stream_free(struct upstream_stream *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s);
}

int upstream_stream_fd(const struct upstream_stream *s)
{
    return s->fd;
}

short upstream_stream_events(const struct upstream_stream *s)
{
    return s->reading ? POLLIN : POLLOUT;
}

enum upstream_stream_state upstream_stream_step(struct upstream_stream *s)
{
    if (!s->reading) {
        /* Before the connect completes this is EAGAIN; a failed connect reports here. */
        ssize_t n = send(s->fd, s->buf + s->sent, s->len - s->sent, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? UPSTREAM_STREAM_BUSY
                                                     : UPSTREAM_STREAM_FAILED;
        s->sent += (size_t)n;
        if (s->sent < s->len)
            return UPSTREAM_STREAM_BUSY;
        s->reading = true;
        s->len = 0;
        return UPSTREAM_STREAM_BUSY;
    }
    ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return UPSTREAM_STREAM_BUSY;
    if (n <= 0)
        return UPSTREAM_STREAM_FAILED; /* closed before the whole answer, or reset */
    s->len += (size_t)n;
    if (s->len < 2)
        return UPSTREAM_STREAM_BUSY;
    size_t want = (size_t)s->buf[0] << 8 | s->buf[1];
    if (want < 12 || want > DNS_MESSAGE_MAX)
        return UPSTREAM_STREAM_FAILED; /* no DNS header, or longer than a client can be sent */
    return s->len >= 2 + want ? UPSTREAM_STREAM_DONE : UPSTREAM_STREAM_BUSY;
}

uint8_t *upstream_stream_answer(struct upstream_stream *s, size_t *len)
{
    *len = (size_t)s->buf[0] << 8 | s->buf[1];
    return s->buf + 2;
}
