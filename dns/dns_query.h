/*
 * dns_query.h: one DNS query in, one decision out. Owns the DNS message rules of
 * weft's resolver (dns/resolver.c): which questions are the overlay's, how their
 * answers are built, and which go to the host's resolvers. Messages are parsed and
 * built with ldns, never by hand.
 *
 * The overlay's questions: class IN, one question, opcode QUERY, QR clear.
 *  - A of a name the overlay knows: its addresses (struct dns_names), starting at
 *    rotate % count and wrapping (several containers with one alias take turns, as
 *    Docker's own DNS does), at most DNS_ADDRS_MAX of them: with more, each still
 *    comes first in its turn; TTL 0 (containers come and go). ANY gets the same
 *    (RFC 8482: one RRset may stand for all).
 *  - AAAA of a name the overlay knows: its IPv6 addresses (dual-stack overlays,
 *    addresses6), rotated the same way; ANY gets A and AAAA.
 *  - Any other type (MX, ...), or AAAA of a name without IPv6, of a known name:
 *    NOERROR without records, so a client asking AAAA then A is not sent elsewhere.
 *  - PTR of an address in one of the overlay's subnets (d.c.b.a.in-addr.arpa): the
 *    name (name_of), or NXDOMAIN: those addresses are nobody else's to answer (SERVFAIL
 *    when name_of gives text that is no DNS name). Other names inside the subnet's
 *    reverse zone: NOERROR without records for the zone's own shorter names (names
 *    exist below them), NXDOMAIN for the rest ("x.5.0.77.10.in-addr.arpa").
 *  - PTR of an address in the overlay's IPv6 subnet (dual stack: its 32 nibbles
 *    under ip6.arpa, RFC 3596 2.5; hex digits of either case): the same rules, with
 *    name_of6; a label that is no single hex digit, or a 33rd, is NXDOMAIN inside
 *    the zone. Without an IPv6 subnet, every ip6.arpa name is forwarded.
 *  - Everything else (other names, other reverse zones, other classes, names whose
 *    labels would need escapes): FORWARD, the caller relays the query unchanged.
 * Names are compared lowercase, without the final dot. An answer over UDP fits in 512 bytes
 * unless the query carries EDNS (then in its advertised size, at most out_cap and
 * DNS_MESSAGE_MAX): records that do not fit are left out, from the end, and TC set.
 * A response echoes the query's ID, question, RD and CD bits (and DO), sets QR, AA and RA,
 * and carries an OPT record (our size) when the query did; an EDNS version other
 * than 0 is answered BADVERS. A message that does not parse or is not a query (QR
 * set, opcode not QUERY, not exactly one question, more than two additional
 * records), is DROP (the caller counts it); so is a response that cannot be built
 * for want of memory.
 * Pure: no sockets, no state, no allocation that outlives a call. Thread-safe.
 * Callers: dns/resolver.c, tests/fuzz/fuzz_dns.c, tests.
 */
#ifndef WEFT_DNS_QUERY_H
#define WEFT_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/addr6.h"

/* At most this many addresses of one name go into an answer. */
#define DNS_ADDRS_MAX 64
/* The longest name (text, without the final dot) weft answers for. */
#define DNS_NAME_MAX 253
/* Room for any answer weft builds: a query's EDNS size is capped at this. */
#define DNS_MESSAGE_MAX 4096

/* The names of one overlay, as the caller knows them when the query comes. */
struct dns_names {
    /* Addresses (network order) of name (lowercase, no final dot): returns how many
     * there are (0: not a name of this overlay); at most max into out, the
     * (start % count)-th first, then on, wrapping. */
    size_t (*addresses)(void *ctx, const char *name, size_t start, uint32_t *out, size_t max);
    /* The name of addr (network order), lowercase, into out (out_len bytes); false
     * when no container of the overlay holds addr. */
    bool (*name_of)(void *ctx, uint32_t addr, char *out, size_t out_len);
    void *ctx;
    /* IPv6 addresses of name, as addresses (NULL: the overlay carries no IPv6). */
    size_t (*addresses6)(void *ctx, const char *name, size_t start, struct ipv6_addr *out,
                         size_t max);
    /* The name of an IPv6 address, as name_of (NULL: no IPv6 address has one). */
    bool (*name_of6)(void *ctx, const struct ipv6_addr *addr, char *out, size_t out_len);
};

enum dns_verdict {
    DNS_ANSWER,  /* out holds the response (out_len bytes) */
    DNS_FORWARD, /* not the overlay's: relay the query to the host's resolvers */
    DNS_DROP,    /* malformed or not a query: no response */
};

/* Decides on query (wire format) arriving at the resolver of an overlay: overlay, its
 * overlay_count IPv4 subnets (at least one; several, issue 12: each a reverse zone of
 * its own); overlay6: its IPv6 subnet, NULL for none. out_cap: at least 512. */
enum dns_verdict dns_query_answer(const struct dns_names *names, const struct ipv4_subnet *overlay,
                                  size_t overlay_count, const struct ipv6_subnet *overlay6,
                                  const uint8_t *query, size_t query_len, unsigned rotate,
                                  uint8_t *out, size_t out_cap, size_t *out_len);

/* dns_query_answer for a query that came over TCP (RFC 7766): the answer is limited
 * by out_cap only, not by the client's UDP size, so it is never truncated below it. */
enum dns_verdict dns_query_answer_stream(const struct dns_names *names,
                                         const struct ipv4_subnet *overlay, size_t overlay_count,
                                         const struct ipv6_subnet *overlay6, const uint8_t *query,
                                         size_t query_len, unsigned rotate, uint8_t *out,
                                         size_t out_cap, size_t *out_len);

/* The SERVFAIL response to query (a question the caller relayed to the host's
 * resolvers and got no answer for: none configured, none answered in time, or no
 * room to relay it): ID, question, RD, CD and OPT as above, QR and RA set, AA
 * clear. The client is told at once, rather than waiting out its own timeout, and
 * moves on to its next server, as Docker's embedded DNS does. DNS_DROP for what
 * dns_query_answer drops. */
enum dns_verdict dns_query_servfail(const uint8_t *query, size_t query_len, uint8_t *out,
                                    size_t out_cap, size_t *out_len);

/* "ldns/1.8.3": the DNS library these messages are made with, as it reports itself
 * (daemon/libraries.h). */
void dns_library_version(char *out, size_t size);

#endif
