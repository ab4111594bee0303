/*
 * api.h: Docker's plugin protocol, one call at a time.
 *
 * Owns the JSON side of every NetworkDriver and IpamDriver call: parsing and
 * validating requests, calling fabric/ or ipam/, and writing the answer.
 * Handlers are thin; no domain logic lives here. Also the one encoder of
 * Docker's error answer ({"Err": "..."}), so the HTTP server refuses calls
 * in the same shape without knowing JSON. Callers: daemon/http.c, tests.
 * Thread-safe: calls may run at once (the domain serializes itself).
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
    int status; /* 200, 404 (unknown call: kind -ENOSYS) or 500 ({"Err": ...}) */
    char *body; /* malloc'd JSON text; the caller frees it */
};

/* Handles "POST <path>" with body (may be empty: treated as {}). Never fails:
 * bad input becomes a 500 with {"Err": "..."}; an unknown path a 404. The
 * status follows the error's kind (struct weft_err code), and the failure is
 * logged here, once: handlers and the domain only return their errors. */
void driver_handle(struct driver_ctx *ctx, const char *path, const char *body, size_t body_len,
                   struct driver_response *out);

/* The answer to send when no answer could be allocated (with status 500). */
#define DRIVER_OOM_ANSWER "{\"Err\":\"out of memory\"}"

/* Docker's error answer, {"Err": msg} with status, for refusals decided
 * before a call reaches driver_handle (its HTTP method, its body's size).
 * Control and non-ASCII bytes of msg become '?', so the answer always encodes.
 * out->body is malloc'd: DRIVER_OOM_ANSWER when encoding runs out of memory,
 * NULL only when even that copy fails. */
void driver_error_answer(int status, const char *msg, struct driver_response *out);

#endif
