/*
 * upstream_stream.h: one relayed question asked of one of the host's resolvers over
 * TCP (RFC 7766), for a client that asked weft over TCP: such a client came because
 * a UDP answer was cut (TC), so asking upstream over UDP again would only bring the
 * cut answer back. Owns that exchange's socket and buffer: a nonblocking connect,
 * the framed question written, the framed answer read, nothing else on the
 * connection. The caller (dns/upstream_relay.c, on the resolver's one thread) polls
 * its socket for the events it asks, steps it on each, and keeps its deadline. Not
 * thread-safe.
 */
#ifndef WEFT_UPSTREAM_STREAM_H
#define WEFT_UPSTREAM_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct upstream_stream;

enum upstream_stream_state {
    UPSTREAM_STREAM_BUSY,   /* poll again for upstream_stream_events() */
    UPSTREAM_STREAM_DONE,   /* the answer is in: upstream_stream_answer() */
    UPSTREAM_STREAM_FAILED, /* refused, reset, closed early, or a broken frame */
};

/* Starts asking server msg (len bytes, at most DNS_MESSAGE_MAX) over a new TCP
 * connection. NULL: no socket or memory, or the connect failed at once. */
struct upstream_stream *upstream_stream_open(const struct sockaddr_storage *server,
                                             const uint8_t *msg, size_t len);
void upstream_stream_free(struct upstream_stream *s);
int upstream_stream_fd(const struct upstream_stream *s);
/* POLLOUT while the question is being written, then POLLIN. */
short upstream_stream_events(const struct upstream_stream *s);
/* Moves the exchange on after its socket was ready. */
enum upstream_stream_state upstream_stream_step(struct upstream_stream *s);
/* Once DONE: the answer, without its length prefix, owned by s. */
uint8_t *upstream_stream_answer(struct upstream_stream *s, size_t *len);

#endif
