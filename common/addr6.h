/*
 * addr6.h: IPv6 addresses and subnets as weft reads and writes them (an
 * overlay's IPv6 pool, issue 12). Text is always written in the canonical form
 * of RFC 5952 (lower case, no leading zeros, the longest run of two or more
 * zero groups as "::"), so one address or subnet has one text, and pool IDs and
 * store keys built from it never differ between hosts.
 *
 * Owns nothing: pure functions, no I/O, no state; thread-safe. Anyone may
 * include this (ipam/, driver/, tests).
 */
#ifndef WEFT_ADDR6_H
#define WEFT_ADDR6_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

/* The pool prefixes weft takes: a /64 (the usual LAN) down to a /120 (255 hosts);
 * a host offset then always fits in 64 bits. */
#define IPV6_POOL_PREFIX_MIN 64
#define IPV6_POOL_PREFIX_MAX 120

struct ipv6_addr {
    uint8_t bytes[16]; /* network byte order */
};

struct ipv6_subnet {
    struct ipv6_addr network; /* host bits zero */
    int prefix_len;           /* IPV6_POOL_PREFIX_MIN..IPV6_POOL_PREFIX_MAX */
};

/* Whether text is written as IPv6 (holds a colon): how pool IDs and addresses
 * say their family. */
bool addr_text_is_ipv6(const char *text);

/* Parses an IPv6 address in any RFC 4291 text form, nothing around it (no
 * brackets, zone or prefix). */
int ipv6_parse(const char *text, struct ipv6_addr *out, struct weft_err *err);
/* Parses "addr/n" (an endpoint's address as Docker passes it), n from 0 to 128. */
int ipv6_parse_with_prefix(const char *text, struct ipv6_addr *out, int *prefix_len,
                           struct weft_err *err);
/* Writes a in RFC 5952 form. */
void ipv6_format(const struct ipv6_addr *a, char out[ADDR_STR_MAX]);

/* Parses a weft IPv6 pool "addr/n" strictly: n from /64 to /120 in decimal,
 * host bits zero ("did you mean ...?"), and global unicast (2000::/3) or unique
 * local (fc00::/7): link-local, multicast, loopback and the like are refused. */
int ipv6_subnet_parse(const char *text, struct ipv6_subnet *out, struct weft_err *err);
/* Writes s as "addr/n", canonical. */
void ipv6_subnet_format(const struct ipv6_subnet *s, char out[ADDR_STR_MAX]);

bool ipv6_subnet_contains(const struct ipv6_subnet *s, const struct ipv6_addr *a);
/* Whether a is one of s's host addresses (inside s, not offset 0). */
bool ipv6_subnet_is_host(const struct ipv6_subnet *s, const struct ipv6_addr *a);
/* Host addresses are offsets 1 .. 2^(128-n) - 1 from the network address; offset 0
 * (the subnet-router anycast address, RFC 4291 2.6.1) is never handed out. */
uint64_t ipv6_subnet_host_count(const struct ipv6_subnet *s);
/* The address at offset (taken modulo the subnet's size) from the network. */
void ipv6_subnet_host(const struct ipv6_subnet *s, uint64_t offset, struct ipv6_addr *out);
/* The offset of a, an address of s, from the network address. */
uint64_t ipv6_subnet_offset(const struct ipv6_subnet *s, const struct ipv6_addr *a);

#endif
