/*
 * upstream_relay.h: questions that are not an overlay's, relayed to the host's own
 * resolvers and their answers relayed back (dns/resolver.c). Owns the sockets to
 * the resolvers (opened in the daemon's namespace, the host's: the service
 * namespaces have no route out), the table of questions in flight, and their
 * timeouts. A relayed question gets a new random ID (libsodium), and an answer is
 * taken only from the server it was sent to with that ID, then given back its
 * original ID: an answer is never matched by ID alone. A question asked of weft
 * over TCP is relayed over TCP (upstream_stream.h), as Docker's embedded DNS does:
 * its client came for an answer that UDP had to cut (a server that refuses TCP is
 * then asked over UDP). A question that the first server leaves unanswered for
 * UPSTREAM_TRY_MS goes to the next; after the last the caller is handed it back to
 * answer SERVFAIL (dns_query_servfail). Callers: dns/resolver.c, on its one thread,
 * and tests. Not thread-safe.
 */
#ifndef WEFT_UPSTREAM_RELAY_H
#define WEFT_UPSTREAM_RELAY_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define UPSTREAM_TRY_MS 1500
#define UPSTREAM_IN_FLIGHT_MAX 512
/* TCP connections to the resolvers open at once; a TCP client's question beyond
 * them is relayed over UDP. */
#define UPSTREAM_STREAMS_MAX 32

struct upstream_relay;

/* resolv_conf: the file naming the servers (resolv_conf.h), followed as it changes. */
int upstream_relay_new(struct upstream_relay **out, const char *resolv_conf, struct weft_err *err);
void upstream_relay_free(struct upstream_relay *u);
/* The sockets to poll, with their events: at most max into fds; returns how many. */
size_t upstream_relay_poll_set(const struct upstream_relay *u, struct pollfd *fds, size_t max);
/* Who asked: a container's address (UDP), and the DNS-over-TCP connection it asked
 * on (dns_tcp.h), 0 for none: then the question is relayed over TCP too. */
struct upstream_client {
    struct sockaddr_in addr;
    uint32_t stream;
};
/* Sends query (from client, on the overlay of subnet) to the first server. false:
 * not sent (no server, too many in flight, too short): the caller answers it
 * SERVFAIL. */
bool upstream_relay_send(struct upstream_relay *u, const uint8_t *query, size_t len,
                         const struct upstream_client *client, const char *subnet);
/* An answer back to client on the overlay of subnet, with the client's own ID. */
typedef void (*upstream_deliver_fn)(void *ctx, const char *subnet,
                                    const struct upstream_client *client, const uint8_t *msg,
                                    size_t len);
/* Moves on what fd is ready for: each answer that matches a question in flight is
 * delivered; a failed TCP exchange is asked again of its server over UDP. */
void upstream_relay_ready(struct upstream_relay *u, int fd, upstream_deliver_fn deliver, void *ctx);
/* Sends overdue questions to their next server; one that no server answered is
 * handed to give_up with the client's own message (len 0: it was too long to keep,
 * and was tried once) and forgotten. Returns the ms until the next deadline, or -1
 * when none is in flight. */
int upstream_relay_expire(struct upstream_relay *u, upstream_deliver_fn give_up, void *ctx);

#endif
