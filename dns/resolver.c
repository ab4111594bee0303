/*
 * resolver.c: weft's DNS resolver (resolver.h). One thread polls every overlay's
 * socket and the relay's sockets. The overlays list changes under r->lock from the
 * fabric's hooks; the thread rebuilds its poll set whenever the list's generation
 * moves, and a port is closed only once the thread has let go of its socket (it
 * acknowledges the generation it polls), so no fd is closed under its poll.
 */
#include "dns/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/weft_metrics.h"
#include "dns/dns_query.h"
#include "dns/dns_tcp.h"
#include "dns/upstream_relay.h"
#include "vxlan/segment.h"
#include "vxlan/service_port.h"

#define OVERLAYS_MAX 256
#define DNS_PORT 53
#define SUBNETS_MAX (1 + FABRIC_EXTRA_SUBNETS_MAX)

struct overlay {
    struct overlay *next;
    char subnet[ADDR_STR_MAX]; /* the first: names the overlay */
    /* Its IPv4 subnets: the first, then the network's extra ones (issue 12), whose
     * containers ask here too (the port holds an on-link route to each). */
    struct ipv4_subnet cidrs[SUBNETS_MAX];
    int cidr_count;
    bool has_cidr6;           /* dual stack */
    struct ipv6_subnet cidr6; /* when has_cidr6: its IPv6 pool, for ip6.arpa names */
    uint32_t gateway;         /* network order */
    struct service_port port;
    int fd;     /* UDP, in the port's namespace */
    int tcp_fd; /* listening, beside it (dns_tcp.h) */
};

/* What became of the messages, for the exit log line (/metrics has them too). */
struct resolver_stats {
    unsigned long queries;   /* every message received on an overlay */
    unsigned long answered;  /* the overlay's names, answered here */
    unsigned long forwarded; /* relayed to the host's resolvers */
    unsigned long failed;    /* relayed or not, no resolver answered: SERVFAIL */
    unsigned long dropped;   /* malformed, or no answer possible (SERVFAIL not buildable) */
    unsigned long refused;   /* from a source outside the overlay's subnet */
};

struct resolver {
    pthread_mutex_t lock;
    pthread_cond_t acked;         /* polled_generation moved */
    struct overlay *overlays;     /* guarded by lock */
    unsigned generation;          /* of the overlays list; guarded by lock */
    unsigned polled_generation;   /* the list the thread polls; guarded by lock */
    struct fabric *fabric;        /* guarded by lock */
    struct resolver_stats stats;  /* guarded by lock */
    bool stopping;                /* guarded by lock */
    int wake_fd;                  /* eventfd: the list changed, or stopping */
    struct nl *nl;                /* the hooks' netlink socket (they run one at a time) */
    struct upstream_relay *relay; /* the thread's only */
    struct dns_tcp *tcp;          /* the thread's only: DNS-over-TCP connections */
    unsigned rotate;              /* the thread's only */
    pthread_t thread;
};

static void wake(struct resolver *r)
{
    uint64_t one = 1;
    if (write(r->wake_fd, &one, sizeof(one)) < 0)
        log_warn("waking the resolver thread failed", "errno=%d", errno);
}

/* ---- the overlay's names, for dns_query.h ---- */

struct names_view {
    struct resolver *r;
    const struct overlay *overlay;
};

static size_t view_addresses(void *ctx, const char *name, size_t start, uint32_t *out, size_t max)
{
    struct names_view *v = ctx;
    return v->r->fabric
               ? fabric_name_addresses(v->r->fabric, v->overlay->subnet, name, start, out, max)
               : 0;
}

static size_t view_addresses6(void *ctx, const char *name, size_t start, struct ipv6_addr *out,
                              size_t max)
{
    struct names_view *v = ctx;
    return v->r->fabric
               ? fabric_name_addresses6(v->r->fabric, v->overlay->subnet, name, start, out, max)
               : 0;
}

static bool view_name_of(void *ctx, uint32_t addr, char *out, size_t out_len)
{
    struct names_view *v = ctx;
    return v->r->fabric &&
           fabric_address_name(v->r->fabric, v->overlay->subnet, addr, out, out_len);
}

static bool view_name_of6(void *ctx, const struct ipv6_addr *addr, char *out, size_t out_len)
{
    struct names_view *v = ctx;
    return v->r->fabric &&
           fabric_address6_name(v->r->fabric, v->overlay->subnet, addr, out, out_len);
}

/* ---- the thread ---- */

static struct overlay *overlay_by_fd(struct resolver *r, int fd)
{
    for (struct overlay *o = r->overlays; o; o = o->next)
        if (o->fd == fd)
            return o;
    return NULL;
}

static struct overlay *overlay_by_tcp_fd(struct resolver *r, int fd)
{
    for (struct overlay *o = r->overlays; o; o = o->next)
        if (o->tcp_fd == fd)
            return o;
    return NULL;
}

static struct overlay *overlay_by_subnet(struct resolver *r, const char *subnet)
{
    for (struct overlay *o = r->overlays; o; o = o->next)
        if (strcmp(o->subnet, subnet) == 0)
            return o;
    return NULL;
}

/* A response to client: on its TCP connection, or over UDP from the overlay's
 * socket. Under r->lock. */
static void reply(struct resolver *r, const struct overlay *o, const struct upstream_client *client,
                  const uint8_t *msg, size_t len)
{
    if (client->stream)
        dns_tcp_send(r->tcp, client->stream, msg, len);
    else
        sendto(o->fd, msg, len, 0, (const struct sockaddr *)&client->addr, sizeof(client->addr));
}

/* An answer from the host's resolvers, back to its client. Under r->lock. */
static void deliver(void *ctx, const char *subnet, const struct upstream_client *client,
                    const uint8_t *msg, size_t len)
{
    struct resolver *r = ctx;
    struct overlay *o = overlay_by_subnet(r, subnet);
    if (o)
        reply(r, o, client, msg, len);
}

/* Counts what became of a message, in the stats and on /metrics. Under r->lock. */
static void note(struct resolver *r, enum weft_metrics_dns outcome)
{
    unsigned long *const counts[] = {
        [WEFT_DNS_ANSWERED] = &r->stats.answered, [WEFT_DNS_FORWARDED] = &r->stats.forwarded,
        [WEFT_DNS_FAILED] = &r->stats.failed,     [WEFT_DNS_DROPPED] = &r->stats.dropped,
        [WEFT_DNS_REFUSED] = &r->stats.refused,
    };
    (*counts[outcome])++;
    weft_metrics_dns_query(outcome);
}

/* A question no resolver answered (none configured, none in time, no room to relay
 * it), answered SERVFAIL so that the client need not wait out its timeout (an
 * upstream_deliver_fn; len 0: not kept, nothing to answer with). Under r->lock. */
static void answer_servfail(void *ctx, const char *subnet, const struct upstream_client *client,
                            const uint8_t *query, size_t len)
{
    struct resolver *r = ctx;
    struct overlay *o = overlay_by_subnet(r, subnet);
    uint8_t answer[DNS_MESSAGE_MAX];
    size_t answer_len;
    if (!o || len == 0 ||
        dns_query_servfail(query, len, answer, sizeof(answer), &answer_len) != DNS_ANSWER) {
        note(r, WEFT_DNS_DROPPED);
        return;
    }
    note(r, WEFT_DNS_FAILED);
    reply(r, o, client, answer, answer_len);
}

/* Whether a query from source is the overlay's to answer: from a container of one
 * of its subnets, not from the port's own address. */
static bool source_is_a_container(const struct overlay *o, const struct sockaddr_in *from)
{
    if (from->sin_family != AF_INET || from->sin_addr.s_addr == o->gateway)
        return false;
    uint32_t source = ntohl(from->sin_addr.s_addr);
    for (int i = 0; i < o->cidr_count; i++)
        if (ipv4_subnet_contains(&o->cidrs[i], source))
            return true;
    return false;
}

/* One message from client on overlay o: answered, relayed, or dropped. Under r->lock. */
static void serve_query(struct resolver *r, struct overlay *o, const struct upstream_client *client,
                        const uint8_t *query, size_t len)
{
    r->stats.queries++;
    if (!source_is_a_container(o, &client->addr)) {
        note(r, WEFT_DNS_REFUSED);
        return;
    }
    struct names_view view = {r, o};
    struct dns_names names = {view_addresses, view_name_of, &view, view_addresses6, view_name_of6};
    uint8_t answer[DNS_MESSAGE_MAX];
    size_t answer_len = 0;
    const struct ipv6_subnet *cidr6 = o->has_cidr6 ? &o->cidr6 : NULL;
    enum dns_verdict verdict =
        client->stream
            ? dns_query_answer_stream(&names, o->cidrs, (size_t)o->cidr_count, cidr6, query, len,
                                      r->rotate++, answer, sizeof(answer), &answer_len)
            : dns_query_answer(&names, o->cidrs, (size_t)o->cidr_count, cidr6, query, len,
                               r->rotate++, answer, sizeof(answer), &answer_len);
    switch (verdict) {
    case DNS_ANSWER:
        note(r, WEFT_DNS_ANSWERED);
        reply(r, o, client, answer, answer_len);
        break;
    case DNS_FORWARD:
        if (upstream_relay_send(r->relay, query, len, client, o->subnet))
            note(r, WEFT_DNS_FORWARDED);
        else
            answer_servfail(r, o->subnet, client, query, len);
        break;
    case DNS_DROP:
        note(r, WEFT_DNS_DROPPED);
        break;
    }
}

/* Every query waiting on o's UDP socket. Under r->lock. */
static void serve_overlay(struct resolver *r, struct overlay *o)
{
    uint8_t query[DNS_MESSAGE_MAX];
    for (;;) {
        struct upstream_client client = {0};
        socklen_t from_len = sizeof(client.addr);
        ssize_t n =
            recvfrom(o->fd, query, sizeof(query), 0, (struct sockaddr *)&client.addr, &from_len);
        if (n < 0)
            return;
        serve_query(r, o, &client, query, (size_t)n);
    }
}

/* A whole message on a DNS-over-TCP connection (a dns_tcp_query_fn). Under r->lock. */
static void serve_stream(void *ctx, uint32_t id, const char *subnet, const struct sockaddr_in *peer,
                         const uint8_t *msg, size_t len)
{
    struct resolver *r = ctx;
    struct overlay *o = overlay_by_subnet(r, subnet);
    struct upstream_client client = {.addr = *peer, .stream = id};
    if (o)
        serve_query(r, o, &client, msg, len);
}

/* Whether the overlay of subnet is gone (its connections are closed). Under r->lock. */
static bool overlay_gone(void *ctx, const char *subnet)
{
    return overlay_by_subnet(ctx, subnet) == NULL;
}

/* The poll set: wake fd, the relay's sockets (UDP, and its TCP connections to the
 * resolvers), two per overlay (UDP, TCP listener), the TCP connections (when the
 * list changed, those of overlays gone closed first). Under r->lock. */
static size_t poll_set(struct resolver *r, struct pollfd *fds, size_t max)
{
    if (r->polled_generation != r->generation)
        dns_tcp_close_if(r->tcp, overlay_gone, r);
    size_t n = 0;
    fds[n++] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
    n += upstream_relay_poll_set(r->relay, fds + n, 2 + UPSTREAM_STREAMS_MAX);
    for (struct overlay *o = r->overlays; o && n + 1 < max; o = o->next) {
        fds[n++] = (struct pollfd){.fd = o->fd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = o->tcp_fd, .events = POLLIN};
    }
    n += dns_tcp_poll_set(r->tcp, fds + n, max - n);
    r->polled_generation = r->generation;
    pthread_cond_broadcast(&r->acked);
    return n;
}

static void *resolver_main(void *arg)
{
    struct resolver *r = arg;
    struct pollfd fds[1 + 2 + UPSTREAM_STREAMS_MAX + 2 * OVERLAYS_MAX + DNS_TCP_CONNS_MAX];
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        size_t n = poll_set(r, fds, sizeof(fds) / sizeof(fds[0]));
        int timeout = upstream_relay_expire(r->relay, answer_servfail, r);
        int idle = dns_tcp_expire(r->tcp);
        if (idle >= 0 && (timeout < 0 || idle < timeout))
            timeout = idle;
        pthread_mutex_unlock(&r->lock);
        int ready = poll(fds, n, timeout);
        pthread_mutex_lock(&r->lock);
        if (ready <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            uint64_t count;
            if (read(r->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                log_warn("reading the resolver's wake-up failed", "errno=%d", errno);
        }
        for (size_t i = 1; i < n; i++) {
            if (!(fds[i].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)))
                continue;
            struct overlay *o;
            if ((o = overlay_by_fd(r, fds[i].fd)))
                serve_overlay(r, o);
            else if ((o = overlay_by_tcp_fd(r, fds[i].fd)))
                dns_tcp_accept(r->tcp, o->tcp_fd, o->subnet);
            else if (dns_tcp_owns(r->tcp, fds[i].fd))
                dns_tcp_readable(r->tcp, fds[i].fd, serve_stream, r);
            else
                upstream_relay_ready(r->relay, fds[i].fd, deliver, r);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* ---- lifecycle ---- */

int resolver_open(struct resolver **out, const char *resolv_conf, struct weft_err *err)
{
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r)
        return weft_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->acked, NULL);
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd < 0) {
        weft_err_set(err, -errno, "eventfd: %s", strerror(errno));
        goto fail;
    }
    if (segment_socket_open(&r->nl, err) < 0 || upstream_relay_new(&r->relay, resolv_conf, err) < 0)
        goto fail;
    if (!(r->tcp = dns_tcp_new())) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    int rc = pthread_create(&r->thread, NULL, resolver_main, r);
    if (rc != 0) {
        weft_err_set(err, -rc, "cannot start the resolver thread");
        goto fail;
    }
    *out = r;
    return 0;
fail:
    dns_tcp_free(r->tcp);
    upstream_relay_free(r->relay);
    if (r->nl)
        segment_socket_close(r->nl);
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    pthread_cond_destroy(&r->acked);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return -1;
}

void resolver_set_fabric(struct resolver *r, struct fabric *fabric)
{
    pthread_mutex_lock(&r->lock);
    r->fabric = fabric;
    pthread_mutex_unlock(&r->lock);
}

/* The port's MAC: locally administered, from this host's VTEP and the VNI, so it is
 * the same after a restart (containers keep their ARP entry for the gateway) and
 * differs between hosts. */
static void port_mac(const struct fabric_overlay_info *info, uint8_t mac[6])
{
    uint32_t h = ntohl(info->vtep) * 2654435761u ^ info->vni * 40503u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    mac[0] = SERVICE_PORT_MAC_0;
    mac[1] = SERVICE_PORT_MAC_1;
    mac[2] = (uint8_t)(h >> 24);
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

/* o's subnets from info: the first, its extra ones, its IPv6 one. */
static int overlay_subnets(struct overlay *o, const struct fabric_overlay_info *info,
                           struct weft_err *err)
{
    snprintf(o->subnet, sizeof(o->subnet), "%s", info->subnet);
    if (info->extra_count < 0 || info->extra_count > FABRIC_EXTRA_SUBNETS_MAX)
        return weft_err_set(err, -EINVAL, "%d extra subnets on %s", info->extra_count,
                            info->subnet);
    if (ipv4_subnet_parse(info->subnet, &o->cidrs[0], err) < 0)
        return -1;
    for (int i = 0; i < info->extra_count; i++)
        if (ipv4_subnet_parse(info->extra_subnets[i], &o->cidrs[1 + i], err) < 0)
            return -1;
    o->cidr_count = 1 + info->extra_count;
    if (info->subnet6[0] && ipv6_subnet_parse(info->subnet6, &o->cidr6, err) < 0)
        return -1;
    o->has_cidr6 = info->subnet6[0] != '\0';
    return 0;
}

int resolver_overlay_up(void *resolver, const struct fabric_overlay_info *info,
                        struct weft_err *err)
{
    struct resolver *r = resolver;
    struct overlay *o = calloc(1, sizeof(*o));
    if (!o)
        return weft_err_set(err, -ENOMEM, "out of memory");
    if (overlay_subnets(o, info, err) < 0) {
        free(o);
        return -1;
    }
    o->gateway = htonl(info->gateway);
    uint8_t mac[6];
    port_mac(info, mac);
    struct service_port_spec spec = {.vni = info->vni,
                                     .bridge_ifindex = info->bridge_ifindex,
                                     .addr = o->gateway,
                                     .prefix_len = info->prefix_len,
                                     .mtu = info->mtu,
                                     .mac = mac,
                                     .onlink = &o->cidrs[1],
                                     .onlink_count = o->cidr_count - 1};
    if (service_port_open(r->nl, &spec, &o->port, err) < 0) {
        free(o);
        return weft_err_wrap(err, "the resolver's port on %s", info->subnet);
    }
    o->fd = service_port_socket(&o->port, SOCK_DGRAM, o->gateway, DNS_PORT, err);
    o->tcp_fd =
        o->fd < 0 ? -1 : service_port_socket(&o->port, SOCK_STREAM, o->gateway, DNS_PORT, err);
    if (o->tcp_fd < 0) {
        if (o->fd >= 0)
            close(o->fd);
        service_port_close(r->nl, &o->port);
        free(o);
        return weft_err_wrap(err, "the resolver's socket on %s", info->subnet);
    }
    pthread_mutex_lock(&r->lock);
    o->next = r->overlays;
    r->overlays = o;
    r->generation++;
    pthread_mutex_unlock(&r->lock);
    wake(r);
    char gateway[ADDR_STR_MAX];
    ipv4_format(info->gateway, gateway);
    log_info("resolver answers on the overlay", "subnet=%s address=%s", info->subnet, gateway);
    return 0;
}

void resolver_overlay_down(void *resolver, const char *subnet)
{
    struct resolver *r = resolver;
    pthread_mutex_lock(&r->lock);
    struct overlay *o = NULL;
    for (struct overlay **p = &r->overlays; *p; p = &(*p)->next)
        if (strcmp((*p)->subnet, subnet) == 0) {
            o = *p;
            *p = o->next;
            break;
        }
    unsigned generation = ++r->generation;
    wake(r);
    while (o && !r->stopping && r->polled_generation != generation)
        pthread_cond_wait(&r->acked, &r->lock); /* the thread lets go of o->fd */
    pthread_mutex_unlock(&r->lock);
    if (!o)
        return;
    close(o->fd);
    close(o->tcp_fd);
    service_port_close(r->nl, &o->port);
    free(o);
}

void resolver_close(struct resolver *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_mutex_unlock(&r->lock);
    wake(r);
    pthread_join(r->thread, NULL);
    log_info("resolver stopped",
             "queries=%lu answered=%lu forwarded=%lu failed=%lu dropped=%lu refused=%lu",
             r->stats.queries, r->stats.answered, r->stats.forwarded, r->stats.failed,
             r->stats.dropped, r->stats.refused);
    while (r->overlays) {
        struct overlay *o = r->overlays;
        r->overlays = o->next;
        close(o->fd);
        close(o->tcp_fd);
        service_port_close(r->nl, &o->port);
        free(o);
    }
    dns_tcp_free(r->tcp);
    upstream_relay_free(r->relay);
    segment_socket_close(r->nl);
    close(r->wake_fd);
    pthread_cond_destroy(&r->acked);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
