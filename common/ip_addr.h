/*
 * ip_addr.h: an underlay address of either family, as weft holds a VTEP (a
 * host's advertise address, issue 12): IPv4 as before, or IPv6 for an
 * IPv6-only underlay. A value type: copy it, compare it with ip_addr_equal.
 * Unused bytes are always zero (every constructor here clears them), so two
 * equal addresses have equal bytes.
 *
 * Owns nothing: pure functions, no I/O, no state; thread-safe. Anyone may
 * include this (netlink/, vxlan/, fabric/, daemon/, tests).
 */
#ifndef WEFT_IP_ADDR_H
#define WEFT_IP_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/addr.h"
#include "common/err.h"

struct ip_addr {
    sa_family_t family; /* AF_INET or AF_INET6; 0: none */
    uint8_t bytes[16];  /* network byte order: 4 for IPv4, 16 for IPv6, the rest zero */
};

/* An IPv4 address from network order (as inet_addr gives it). */
struct ip_addr ip_addr_from_ipv4(uint32_t net_order);
/* An IPv6 address from its 16 bytes. */
struct ip_addr ip_addr_from_ipv6(const uint8_t bytes[16]);
/* 4 or 16 (the bytes netlink carries), 0 for no family. */
int ip_addr_len(const struct ip_addr *a);
bool ip_addr_is_ipv6(const struct ip_addr *a);
/* The IPv4 address in network order; 0 for IPv6 (callers that key by IPv4 check first). */
uint32_t ip_addr_ipv4(const struct ip_addr *a);

/* The address's last 32 bits in network order (an IPv4 address: itself), where a
 * host-specific number is wanted (a MAC derived from the VTEP). */
uint32_t ip_addr_last32(const struct ip_addr *a);

/* Parses a VTEP: dotted IPv4 (common/addr.h's rules) or IPv6 (any RFC 4291 text,
 * no brackets, zone or prefix). Either must be a host's own unicast address:
 * IPv4 as ipv4_is_unicast; IPv6 not unspecified, loopback, multicast,
 * IPv4-mapped or link-local (fe80::/10: meaningless without an interface). */
int ip_addr_parse(const char *text, struct ip_addr *out, struct weft_err *err);
/* Writes a as dotted IPv4 or RFC 5952 IPv6; "" for no family. */
void ip_addr_format(const struct ip_addr *a, char out[ADDR_STR_MAX]);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Orders IPv4 before IPv6, then by the bytes (so IPv4 as by value): <0, 0, >0. */
int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b);
/* Whether a can be one host's own address: see ip_addr_parse. */
bool ip_addr_is_unicast(const struct ip_addr *a);
/* "IPv4" or "IPv6", for messages. */
const char *ip_addr_family_name(const struct ip_addr *a);

#endif
