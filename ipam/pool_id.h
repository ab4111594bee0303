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
 */
#ifndef WEFT_IPAM_POOL_ID_H
#define WEFT_IPAM_POOL_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

/* "subnet@range": two addresses with their prefixes, and the '@'. */
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

/* The canonical pool ID of pool. */
void ipam_pool_format(const struct ipam_pool *pool, char out[IPAM_POOL_ID_MAX]);

/* The addresses handed out dynamically: the subnet's host addresses, or those of
 * them inside the range. *first and *count (at least 1). */
void ipam_pool_span(const struct ipam_pool *pool, uint32_t *first, uint32_t *count);

#endif
