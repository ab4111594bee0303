/*
 * upstream_relay.c: relaying the questions weft does not answer (upstream_relay.h).
 * A small table of questions in flight, found by their relay ID; the UDP sockets
 * are one per address family, not bound (the kernel picks a port each); a question
 * relayed over TCP holds its own connection (upstream_stream.h) while in flight.
 */
#include "dns/upstream_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "dns/dns_query.h"
#include "dns/resolv_conf.h"
#include "dns/upstream_stream.h"

struct in_flight {
    uint16_t client_id;
    struct upstream_client client;
    char subnet[ADDR_STR_MAX];
    struct sockaddr_storage server; /* where it went last */
    size_t server_index;
    long deadline_ms;
    uint8_t query[512]; /* kept to send it to the next server; longer ones are tried once */
    size_t query_len;
    bool over_tcp;                  /* its client asked over TCP, and a connection was free */
    struct upstream_stream *stream; /* when over_tcp: the exchange with the current server */
};

struct upstream_relay {
    struct resolv_conf *conf;
    int fd4, fd6;
    /* Which entries are in flight, and their relay IDs, looked at on every answer and
     * tick: kept apart from the entries (370 KiB together), so that only the pages of
     * entries ever used are touched, and so resident. */
    bool used[UPSTREAM_IN_FLIGHT_MAX];
    uint16_t relay_id[UPSTREAM_IN_FLIGHT_MAX];
    struct in_flight flight[UPSTREAM_IN_FLIGHT_MAX];
    size_t streams; /* entries over_tcp */
};

int upstream_relay_new(struct upstream_relay **out, const char *resolv_conf, struct weft_err *err)
{
    if (sodium_init() < 0) /* relay IDs are random: unguessable to a spoofer */
        return weft_err_set(err, -EIO, "libsodium could not start");
    struct upstream_relay *u = calloc(1, sizeof(*u));
    if (!u || !(u->conf = resolv_conf_new(resolv_conf ? resolv_conf : RESOLV_CONF_DEFAULT))) {
        free(u);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    u->fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    u->fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); /* may fail: no v6 */
    if (u->fd4 < 0) {
        weft_err_set(err, -errno, "cannot open a socket to the host's resolvers: %s",
                     strerror(errno));
        upstream_relay_free(u);
        return -1;
    }
    *out = u;
    return 0;
}

/* Entry q goes on over UDP (its TCP connection failed, or could not start), or is
 * forgotten. */
static void stop_stream(struct upstream_relay *u, struct in_flight *q)
{
    upstream_stream_free(q->stream);
    q->stream = NULL;
    q->over_tcp = false;
    u->streams--;
}

/* Drops entry slot from the table, with its TCP connection if it has one. */
static void forget(struct upstream_relay *u, size_t slot)
{
    struct in_flight *q = &u->flight[slot];
    u->used[slot] = false;
    if (q->over_tcp)
        stop_stream(u, q);
}

void upstream_relay_free(struct upstream_relay *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < UPSTREAM_IN_FLIGHT_MAX && u->streams > 0; i++)
        if (u->used[i])
            forget(u, i);
    if (u->fd4 >= 0)
        close(u->fd4);
    if (u->fd6 >= 0)
        close(u->fd6);
    resolv_conf_free(u->conf);
    free(u);
}

size_t upstream_relay_poll_set(const struct upstream_relay *u, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    if (u->fd4 >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = u->fd4, .events = POLLIN};
    if (u->fd6 >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = u->fd6, .events = POLLIN};
    for (size_t i = 0, open = 0; i < UPSTREAM_IN_FLIGHT_MAX && open < u->streams && n < max; i++) {
        if (!u->used[i] || !u->flight[i].over_tcp)
            continue;
        open++;
        const struct upstream_stream *stream = u->flight[i].stream;
        fds[n++] = (struct pollfd){.fd = upstream_stream_fd(stream),
                                   .events = upstream_stream_events(stream)};
    }
    return n;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Sends copy (the question with its relay ID) to server over q's transport. A TCP
 * connection that fails at once falls back to UDP, as one that fails later does. */
static bool send_one(struct upstream_relay *u, struct in_flight *q, const uint8_t *copy, size_t len,
                     const struct sockaddr_storage *server)
{
    if (q->over_tcp) {
        upstream_stream_free(q->stream); /* the server before, if any */
        if ((q->stream = upstream_stream_open(server, copy, len)))
            return true;
        stop_stream(u, q);
    }
    int fd = server->ss_family == AF_INET6 ? u->fd6 : u->fd4;
    return fd >= 0 &&
           sendto(fd, copy, len, 0, (const struct sockaddr *)server, addr_len(server)) >= 0;
}

/* Sends the question of entry slot, with its relay ID, to server index i, or the
 * first after it that takes it (one the host cannot reach, such as an IPv6 server
 * without IPv6, fails at once: the next is tried then, not after a timeout). false:
 * no server left. */
static bool send_to_server(struct upstream_relay *u, size_t slot, const uint8_t *msg, size_t len,
                           size_t i)
{
    struct in_flight *q = &u->flight[slot];
    struct sockaddr_storage servers[RESOLV_CONF_MAX];
    size_t count = resolv_conf_servers(u->conf, servers, RESOLV_CONF_MAX);
    uint8_t copy[DNS_MESSAGE_MAX];
    memcpy(copy, msg, len);
    copy[0] = (uint8_t)(u->relay_id[slot] >> 8); /* the header's ID: its first two bytes */
    copy[1] = (uint8_t)u->relay_id[slot];
    for (; i < count; i++)
        if (send_one(u, q, copy, len, &servers[i])) {
            q->server = servers[i];
            q->server_index = i;
            q->deadline_ms = clock_monotonic_ms() + UPSTREAM_TRY_MS;
            return true;
        }
    return false;
}

/* The entry in flight with relay ID id, or -1. */
static int by_relay_id(const struct upstream_relay *u, uint16_t id)
{
    for (int i = 0; i < UPSTREAM_IN_FLIGHT_MAX; i++)
        if (u->used[i] && u->relay_id[i] == id)
            return i;
    return -1;
}

bool upstream_relay_send(struct upstream_relay *u, const uint8_t *query, size_t len,
                         const struct upstream_client *client, const char *subnet)
{
    if (len < 12 || len > DNS_MESSAGE_MAX)
        return false;
    size_t slot = 0;
    while (slot < UPSTREAM_IN_FLIGHT_MAX && u->used[slot])
        slot++;
    if (slot == UPSTREAM_IN_FLIGHT_MAX)
        return false;
    struct in_flight *q = &u->flight[slot];
    memset(q, 0, sizeof(*q));
    do
        u->relay_id[slot] = (uint16_t)randombytes_uniform(65536);
    while (by_relay_id(u, u->relay_id[slot]) >= 0);
    q->client_id = (uint16_t)(query[0] << 8 | query[1]);
    q->client = *client;
    snprintf(q->subnet, sizeof(q->subnet), "%s", subnet);
    if (len <= sizeof(q->query)) {
        memcpy(q->query, query, len);
        q->query_len = len;
    }
    u->used[slot] = true;
    if (client->stream && u->streams < UPSTREAM_STREAMS_MAX) {
        q->over_tcp = true;
        u->streams++;
    }
    if (!send_to_server(u, slot, query, len, 0)) {
        forget(u, slot);
        return false;
    }
    return true;
}

static bool same_server(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void receive_datagrams(struct upstream_relay *u, int fd, upstream_deliver_fn deliver,
                              void *ctx)
{
    uint8_t msg[DNS_MESSAGE_MAX];
    for (;;) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        /* MSG_TRUNC: n is the datagram's whole length, even beyond msg. */
        ssize_t n = recvfrom(fd, msg, sizeof(msg), MSG_TRUNC, (struct sockaddr *)&from, &from_len);
        if (n < 0)
            return; /* EAGAIN: all read */
        if (n < 12)
            continue;
        int slot = by_relay_id(u, (uint16_t)(msg[0] << 8 | msg[1]));
        if (slot < 0 || u->flight[slot].over_tcp || !same_server(&u->flight[slot].server, &from))
            continue; /* late, or not from where the question went: ignored */
        if ((size_t)n > sizeof(msg)) {
            /* Longer than weft relays (its client offered a larger EDNS buffer): never
             * passed on cut short; the question moves on (next server, or SERVFAIL). */
            u->flight[slot].deadline_ms = 0;
            continue;
        }
        const struct in_flight *q = &u->flight[slot];
        msg[0] = (uint8_t)(q->client_id >> 8);
        msg[1] = (uint8_t)q->client_id;
        forget(u, (size_t)slot);
        deliver(ctx, q->subnet, &q->client, msg, (size_t)n);
    }
}

/* Moves entry slot's TCP exchange on; its answer, once whole, is delivered. */
static void step_stream(struct upstream_relay *u, size_t slot, upstream_deliver_fn deliver,
                        void *ctx)
{
    struct in_flight *q = &u->flight[slot];
    enum upstream_stream_state state = upstream_stream_step(q->stream);
    if (state == UPSTREAM_STREAM_BUSY)
        return;
    size_t len;
    uint8_t *msg = state == UPSTREAM_STREAM_DONE ? upstream_stream_answer(q->stream, &len) : NULL;
    if (!msg || (uint16_t)(msg[0] << 8 | msg[1]) != u->relay_id[slot]) {
        /* Refused, reset, cut, or not an answer to it: a resolver that serves no TCP
         * is asked over UDP, and the client gets what UDP gives (cut, maybe), as it
         * did before it came over TCP; with nothing to send, the next expire moves on. */
        stop_stream(u, q);
        if (!q->query_len || !send_to_server(u, slot, q->query, q->query_len, q->server_index))
            q->deadline_ms = 0;
        return;
    }
    msg[0] = (uint8_t)(q->client_id >> 8);
    msg[1] = (uint8_t)q->client_id;
    deliver(ctx, q->subnet, &q->client, msg, len);
    forget(u, slot);
}

void upstream_relay_ready(struct upstream_relay *u, int fd, upstream_deliver_fn deliver, void *ctx)
{
    if (fd == u->fd4 || fd == u->fd6) {
        receive_datagrams(u, fd, deliver, ctx);
        return;
    }
    for (size_t i = 0; i < UPSTREAM_IN_FLIGHT_MAX; i++)
        if (u->used[i] && u->flight[i].stream && upstream_stream_fd(u->flight[i].stream) == fd) {
            step_stream(u, i, deliver, ctx);
            return;
        }
}

int upstream_relay_expire(struct upstream_relay *u, upstream_deliver_fn give_up, void *ctx)
{
    long now = clock_monotonic_ms(), next = -1;
    for (size_t i = 0; i < UPSTREAM_IN_FLIGHT_MAX; i++) {
        if (!u->used[i])
            continue;
        struct in_flight *q = &u->flight[i];
        if (q->deadline_ms <= now &&
            !(q->query_len && send_to_server(u, i, q->query, q->query_len, q->server_index + 1))) {
            forget(u, i);
            give_up(ctx, q->subnet, &q->client, q->query, q->query_len);
            continue;
        }
        if (next < 0 || q->deadline_ms - now < next)
            next = q->deadline_ms - now;
    }
    return next < 0 ? -1 : (int)(next > 0 ? next : 0);
}
