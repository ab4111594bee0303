/*
 * cidr.h: IPv4 address and subnet arithmetic. Pure functions, no I/O.
 * Callers: ipam/, driver/, daemon/. IPv6 is refused with a clear message.
 */
#ifndef WEFT_CIDR_H
#define WEFT_CIDR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define CIDR_STR_MAX 32 /* "255.255.255.255/32" plus room */

struct cidr {
    uint32_t network; /* host byte order, host bits zero */
    int prefix_len;   /* 0..32 */
};

/* Parses "a.b.c.d/n" strictly: host bits must be zero ("10.77.0.5/24" is refused:
 * "did you mean 10.77.0.0/24?"); prefix 8..30 so a pool holds at least two hosts. */
int cidr_parse_subnet(const char *text, struct cidr *out, struct weft_err *err);
/* Parses a plain dotted IPv4 address. */
int cidr_parse_ip(const char *text, uint32_t *ip, struct weft_err *err);
/* Parses "a.b.c.d/n" where host bits may be set (an interface address); gives ip and prefix. */
int cidr_parse_ip_prefix(const char *text, uint32_t *ip, int *prefix_len, struct weft_err *err);
/* Parses "aa:bb:cc:dd:ee:ff" (case-insensitive). Refuses multicast and all-zero. */
int cidr_parse_mac(const char *text, uint8_t mac[6], struct weft_err *err);

void cidr_format_subnet(const struct cidr *c, char out[CIDR_STR_MAX]);
void cidr_format_ip(uint32_t ip, char out[CIDR_STR_MAX]);
void cidr_format_mac(const uint8_t mac[6], char out[18]);

bool cidr_contains(const struct cidr *c, uint32_t ip);
/* Usable host addresses: network+1 .. broadcast-1. */
uint32_t cidr_first_host(const struct cidr *c);
uint32_t cidr_last_host(const struct cidr *c);
uint32_t cidr_host_count(const struct cidr *c);
/* Whether ip is the network or broadcast address of c. */
bool cidr_is_reserved(const struct cidr *c, uint32_t ip);
/* Whether ip (host order) can be one host's own address on a network, such as a
 * VTEP: not in 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) or
 * 240/4 (reserved, and the broadcast address). */
bool cidr_is_unicast(uint32_t ip);

#endif
