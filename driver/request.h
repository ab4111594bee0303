/*
 * request.h: Docker plugin requests, parsed from JSON into the structs that
 * fabric/ and ipam/ take. Pure functions: no I/O, no store, no kernel, so every
 * refusal is testable on its own. Callers: driver/ handlers and tests.
 *
 * Every function takes the request object (never NULL), returns 0 with *out
 * filled, or -1 with a message for the user in err. Types are checked: a number
 * where a string belongs is refused, never misread.
 */
#ifndef WEFT_DRIVER_REQUEST_H
#define WEFT_DRIVER_REQUEST_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "fabric/fabric.h"
#include "common/addr.h"
#include "ipam/pool_id.h"

#define REQUEST_MTU_MIN 576
#define REQUEST_MTU_MAX 9000
/* An endpoint's prefix is its network's; weft subnets range /8 to /30 (common/addr.h). */
#define REQUEST_PREFIX_MIN 8
#define REQUEST_PREFIX_MAX 30

/* NetworkDriver.CreateNetwork. */
int request_network_create(const json_t *req, struct fabric_network_spec *out,
                           struct weft_err *err);
/* NetworkDriver.CreateEndpoint. */
int request_endpoint_create(const json_t *req, struct fabric_endpoint_spec *out,
                            struct weft_err *err);

/* Calls naming a network (and an endpoint unless endpoint_id is NULL):
 * DeleteNetwork, DeleteEndpoint, EndpointOperInfo, Join, Leave. */
int request_ids(const json_t *req, char network_id[FABRIC_ID_MAX], char endpoint_id[FABRIC_ID_MAX],
                struct weft_err *err);

/* IpamDriver.RequestPool: the requested texts, still to be validated by ipam/.
 * --ipam-opt options are refused (weft IPAM takes none). */
struct request_pool {
    char pool[ADDR_STR_MAX];     /* --subnet */
    char sub_pool[ADDR_STR_MAX]; /* --ip-range, "" for none */
};
int request_pool(const json_t *req, struct request_pool *out, struct weft_err *err);

struct request_address {
    char pool_id[IPAM_POOL_ID_MAX]; /* canonical (ipam/pool_id.h) */
    char subnet[ADDR_STR_MAX];      /* the pool's subnet: what fabric/ names the overlay by */
    char address[ADDR_STR_MAX];     /* plain IP, "" for any */
    bool gateway;
};
/* IpamDriver.RequestAddress. */
int request_address(const json_t *req, struct request_address *out, struct weft_err *err);
/* IpamDriver.ReleaseAddress: the address is required. */
int request_release_address(const json_t *req, struct request_address *out, struct weft_err *err);
/* IpamDriver.ReleasePool: pool_id and subnet (no address). */
int request_release_pool(const json_t *req, struct request_address *out, struct weft_err *err);

#endif
