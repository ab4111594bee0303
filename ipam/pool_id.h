/*
 * pool_id.h: what a weft pool ID says, and how it is written. Pure: no store, no
 * state; thread-safe. Callers: ipam/ and driver/request.c (which checks a PoolID
 * Docker sends back before anything is looked up).
 *
 * A pool ID is the canonical subnet ("10.77.0.0/24"), as it always was, or, for a
 * network created with --ip-range, the subnet and the range joined by '@'
 * ("10.76.0.0/24@10.76.0.128/25"). Docker keeps the ID a network was created with
 * and sends it back in every RequestAddress, so the range travels with it and an
 * allocation needs no extra store read; pools without a range keep their old IDs.
 * IPv6 pools are written alike ("fd73::/64@fd73::100/120", pool_id6.c); the text
 * says the family (addr_text_is_ipv6).
 */
#ifndef WEFT_IPAM_POOL_ID_H
#define WEFT_IPAM_POOL_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/addr6.h"
#include "common/err.h"

/* "subnet@range": two addresses with their prefixes, and the '@' (IPv6: 43 + 1 + 43). */
#define IPAM_POOL_ID_MAX (2 * ADDR_STR_MAX)

struct ipam_pool {
    struct ipv4_subnet subnet;
    char subnet_text[ADDR_STR_MAX]; /* canonical: what fabric/ and the keys name the overlay by */
    bool ranged;
    struct ipv4_subnet range; /* inside subnet; /8 to /32 */
    char range_text[ADDR_STR_MAX]; /* canonical; "" without a range */
};

/* Builds a pool from Docker's RequestPool: subnet ("--subnet") and range
 * ("--ip-range", "" or NULL for none). The range must lie inside the subnet and
 * hold at least one host address of it. */
int ipam_pool_new(const char *subnet, const char *range, struct ipam_pool *out,
                  struct weft_err *err);

/* Reads a pool ID back (either form above); -ENOENT when it names no pool weft
 * could have handed out. */
int ipam_pool_parse(const char *pool_id, struct ipam_pool *out, struct weft_err *err);

/* A pool ID of either family split at its range separator into text: the subnet in
 * text, *range pointing at the range in it ("" for none). -ENOENT when too long or the
 * range is empty. */
int ipam_pool_id_split(const char *pool_id, char text[IPAM_POOL_ID_MAX], const char **range,
                       struct weft_err *err);

/* The canonical pool ID of pool. */
void ipam_pool_format(const struct ipam_pool *pool, char out[IPAM_POOL_ID_MAX]);

/* The addresses handed out dynamically: the subnet's host addresses, or those of
 * them inside the range. *first and *count (at least 1). */
void ipam_pool_span(const struct ipam_pool *pool, uint32_t *first, uint32_t *count);

/* IPv6 (pool_id6.c): the same, with host offsets from the subnet's network
 * address (offset 0, the subnet-router anycast address, is never handed out).
 * A range is any prefix inside the subnet, /subnet to /128. */
struct ipam_pool6 {
    struct ipv6_subnet subnet;
    char subnet_text[ADDR_STR_MAX]; /* canonical */
    bool ranged;
    struct ipv6_addr range_network;
    int range_prefix_len;
    char range_text[ADDR_STR_MAX]; /* canonical; "" without a range */
};

int ipam_pool6_new(const char *subnet, const char *range, struct ipam_pool6 *out,
                   struct weft_err *err);
int ipam_pool6_parse(const char *pool_id, struct ipam_pool6 *out, struct weft_err *err);
void ipam_pool6_format(const struct ipam_pool6 *pool, char out[IPAM_POOL_ID_MAX]);
/* The host offsets handed out dynamically: [*first, *first + *count), count >= 1. */
void ipam_pool6_span(const struct ipam_pool6 *pool, uint64_t *first, uint64_t *count);

#endif
