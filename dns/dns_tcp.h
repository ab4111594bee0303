/*
 * dns_tcp.h: DNS over TCP at weft's resolvers (RFC 7766), for the clients a
 * truncated UDP answer sends there (glibc, and Docker's embedded DNS, which asks
 * weft over TCP what it was asked over TCP). Owns the accepted connections: their
 * sockets, the two-byte length framing of what they send and what is sent back,
 * and their idle timeout. Each connection has an id that outlives it (a relayed
 * question's answer may come after the client left: then it goes nowhere). A
 * connection that sends a message longer than DNS_MESSAGE_MAX or an empty one, or
 * does not read its answers, is closed. Callers: dns/resolver.c, on its one
 * thread, and tests. Not thread-safe.
 */
#ifndef WEFT_DNS_TCP_H
#define WEFT_DNS_TCP_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections open at once, over every overlay; one more is closed at its accept. */
#define DNS_TCP_CONNS_MAX 64
/* A connection that sends nothing for this long is closed (RFC 7766 6.2.3: seconds). */
#define DNS_TCP_IDLE_MS 10000

struct dns_tcp;

/* A whole message from connection id (of the overlay of subnet, from peer). */
typedef void (*dns_tcp_query_fn)(void *ctx, uint32_t id, const char *subnet,
                                 const struct sockaddr_in *peer, const uint8_t *msg, size_t len);

struct dns_tcp *dns_tcp_new(void);
/* Closes every connection. */
void dns_tcp_free(struct dns_tcp *t);
/* Takes every connection waiting on listen_fd (nonblocking) for the overlay of subnet. */
void dns_tcp_accept(struct dns_tcp *t, int listen_fd, const char *subnet);
/* The connections' sockets to poll (POLLIN), at most max into fds; returns how many. */
size_t dns_tcp_poll_set(const struct dns_tcp *t, struct pollfd *fds, size_t max);
/* Whether fd is one of the connections'. */
bool dns_tcp_owns(const struct dns_tcp *t, int fd);
/* Reads what fd's connection sent; each whole message goes to on_query. A closed or
 * failed connection, or one that broke the framing, is closed. */
void dns_tcp_readable(struct dns_tcp *t, int fd, dns_tcp_query_fn on_query, void *ctx);
/* Sends msg on connection id, framed; false when it is gone or could not take it all
 * (then it is closed). */
bool dns_tcp_send(struct dns_tcp *t, uint32_t id, const uint8_t *msg, size_t len);
/* Closes the connections of the overlays gone says are gone. */
void dns_tcp_close_if(struct dns_tcp *t, bool (*gone)(void *ctx, const char *subnet), void *ctx);
/* Closes idle connections; the ms until the next may be, or -1 when none is open. */
int dns_tcp_expire(struct dns_tcp *t);

#endif
