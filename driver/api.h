/*
 * api.h: Docker's plugin protocol, one call at a time.
 *
 * Owns the JSON side of every NetworkDriver and IpamDriver call: parsing and
 * validating requests, calling fabric/ or ipam/, and writing the answer.
 * Handlers are thin; no domain logic lives here. Callers: daemon/http.c.
 */
#ifndef WEFT_DRIVER_API_H
#define WEFT_DRIVER_API_H

#include <stddef.h>

#include "fabric/fabric.h"
#include "store/etcd.h"

/* The address space weft IPAM answers; CreateNetwork refuses pools from any other
 * (a weft network on Docker's default IPAM would collide across hosts). */
#define DRIVER_ADDRESS_SPACE "weft"

struct driver_ctx {
    struct fabric *fabric; /* borrowed */
    struct etcd *etcd;     /* borrowed, for IPAM */
    const char *host;      /* this host's VTEP address, the owner of its allocations */
};

struct driver_response {
    int status; /* 200, 404 (unknown call) or 500 ({"Err": ...}) */
    char *body; /* malloc'd JSON text; the caller frees it */
};

/* Handles "POST <path>" with body (may be empty: treated as {}). Never fails:
 * bad input becomes a 500 with {"Err": "..."}; an unknown path a 404. */
void driver_handle(struct driver_ctx *ctx, const char *path, const char *body, size_t body_len,
                   struct driver_response *out);

#endif
