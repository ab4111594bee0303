/*
 * addr.h: network addresses as weft reads and writes them: IPv4 addresses,
 * IPv4 subnets (an overlay's pool) and Ethernet MACs. Parsing is strict and
 * says what is wrong, because a typo in --subnet would otherwise name another
 * overlay. Names carry the family (ipv4_*, mac_*) so IPv6 can sit beside them
 * (ipv6_*, struct ipv6_subnet) without renaming callers.
 *
 * Owns nothing: pure functions, no I/O, no state; thread-safe. Anyone may
 * include this (ipam/, driver/, fabric/, daemon/, tests).
 */
#ifndef WEFT_ADDR_H
#define WEFT_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* Room for the text of any address or subnet weft accepts, NUL included: the
 * longest is an IPv6 one in canonical form with its prefix,
 * eight full groups and "/120": 39 + 4 characters (common/addr6.h). */
#define ADDR_STR_MAX 48
/* "aa:bb:cc:dd:ee:ff" and its NUL. */
#define MAC_STR_MAX 18

/* An IPv4 subnet. */
struct ipv4_subnet {
    uint32_t network; /* host byte order, host bits zero */
    int prefix_len;   /* 0..32 */
};

/* Parses a dotted IPv4 address ("10.77.0.5": four decimal octets, no leading
 * zeros, nothing around it) into host byte order. IPv6 text is refused with
 * its own message. */
int ipv4_parse(const char *text, uint32_t *ip, struct weft_err *err);
/* Parses "a.b.c.d/n" where host bits may be set (an interface address). The
 * prefix length is 0..32 in decimal without a leading zero. */
int ipv4_parse_with_prefix(const char *text, uint32_t *ip, int *prefix_len, struct weft_err *err);
/* Parses a weft subnet "a.b.c.d/n" strictly: host bits must be zero
 * ("10.77.0.5/24" is refused: "did you mean 10.77.0.0/24?"); prefix 8..30 so
 * a pool holds at least two hosts. */
int ipv4_subnet_parse(const char *text, struct ipv4_subnet *out, struct weft_err *err);

/* Writes ip (host byte order) as "a.b.c.d". */
void ipv4_format(uint32_t ip, char out[ADDR_STR_MAX]);
/* Writes s as "a.b.c.d/n". */
void ipv4_subnet_format(const struct ipv4_subnet *s, char out[ADDR_STR_MAX]);

bool ipv4_subnet_contains(const struct ipv4_subnet *s, uint32_t ip);
/* Usable host addresses: network+1 .. broadcast-1. */
uint32_t ipv4_subnet_first_host(const struct ipv4_subnet *s);
uint32_t ipv4_subnet_last_host(const struct ipv4_subnet *s);
uint32_t ipv4_subnet_host_count(const struct ipv4_subnet *s);
/* Whether ip is the network or broadcast address of s. */
bool ipv4_subnet_is_reserved(const struct ipv4_subnet *s, uint32_t ip);
/* Whether ip (host order) can be one host's own address on a network, such as a
 * VTEP: not in 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) or
 * 240/4 (reserved, and the broadcast address). */
bool ipv4_is_unicast(uint32_t ip);

/* Parses "aa:bb:cc:dd:ee:ff" (two hex digits each, either case). Refuses
 * multicast and all-zero: weft only reads MACs an endpoint may have. */
int mac_parse(const char *text, uint8_t mac[6], struct weft_err *err);
/* Writes mac as "aa:bb:cc:dd:ee:ff" (lower case). */
void mac_format(const uint8_t mac[6], char out[MAC_STR_MAX]);

#endif
