/*
 * ipam.h: cluster-wide address allocation in etcd.
 *
 * Owns the keys /weft/v1/addrs/<sk>/<ip>. Every allocation is one
 * create-if-absent transaction, so concurrent requests from any number of
 * hosts never hand out one address twice. The gateway address is shared by
 * every host of an overlay (each host's Docker asks for it) and is reserved
 * once, never handed to an endpoint. Callers: driver/ (the IpamDriver handlers).
 *
 * A pool ID is the canonical subnet ("10.77.0.0/24", "fd81::/64"); every
 * function below takes either family, an IPv6 pool ID going to ipam6.c.
 */
#ifndef WEFT_IPAM_H
#define WEFT_IPAM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/addr.h"
#include "store/etcd.h"

/* Validates a requested pool; writes the canonical subnet to pool_id. An empty
 * request is refused (every host must name the same overlay by its --subnet).
 * IPv6 text is an IPv6 pool: /64 to /120, unique local or global (common/addr6.h). */
int ipam_request_pool(const char *requested, char pool_id[ADDR_STR_MAX], struct weft_err *err);

/*
 * Allocates an address in pool_id for host (the VTEP address, recorded as the owner).
 * wanted: "" or NULL for any free one, else that exact address (--ip / --gateway).
 * gateway: the gateway request; answers the shared gateway (wanted, else the first
 * host address), reserving it if nobody has. out gets "a.b.c.d/len".
 * Errors: pool full, address taken (naming the owning host), outside the pool, store down.
 */
int ipam_request_address(struct etcd *etcd, const char *pool_id, const char *host,
                         const char *wanted, bool gateway, char out[ADDR_STR_MAX],
                         struct weft_err *err);

/*
 * The fabric's say in an endpoint address (fabric.h: address claims), so that IPAM
 * never hands out an address another host claimed first. claimed_elsewhere: a
 * quick look, to skip such addresses (may be NULL). claim: called once the address
 * is allocated here; -EADDRINUSE means another host holds an older claim: the
 * allocation is freed and another address taken (an exact request fails). Any
 * other error frees it and fails the request.
 */
struct ipam_claims {
    bool (*claimed_elsewhere)(void *ctx, const char *pool_id, uint32_t ip);
    int (*claim)(void *ctx, const char *pool_id, const char *ip, struct weft_err *err);
    void *ctx;
};

/* ipam_request_address, each endpoint address also claimed through claims (NULL:
 * none; the gateway never is: it is no endpoint's). */
int ipam_request_address_claimed(struct etcd *etcd, const char *pool_id, const char *host,
                                 const char *wanted, bool gateway, const struct ipam_claims *claims,
                                 char out[ADDR_STR_MAX], struct weft_err *err);

/* Releases an endpoint address (plain IP). The gateway is kept while the overlay
 * lives; releasing a free address is not an error (Docker may repeat itself). */
int ipam_release_address(struct etcd *etcd, const char *pool_id, const char *ip,
                         struct weft_err *err);

/* Re-asserts an address this host still uses (after a restart or a lost lease):
 * creates its allocation if it is free again. Held by another host: a conflict,
 * returned as an error naming that host and never overwritten. */
int ipam_assert_address(struct etcd *etcd, const char *pool_id, const char *host, const char *ip,
                        struct weft_err *err);

/*
 * Reclaiming a dead host's addresses. A host is alive while its leased
 * hosts/<host>/alive key exists; its endpoint addresses are freed only after it
 * has been seen dead for grace_seconds, so a host cut off for a while finds its
 * addresses still its own. Any daemon may reap; deletes are compare-and-swap,
 * so several reaping at once is harmless. The reaper remembers since when a
 * host looks dead; a new reaper starts counting afresh (never early).
 */
struct ipam_reaper;
struct ipam_reaper *ipam_reaper_new(int grace_seconds);
void ipam_reaper_free(struct ipam_reaper *reaper);
/* One pass; *reclaimed (may be NULL) gets the number of addresses freed. */
int ipam_reap(struct etcd *etcd, struct ipam_reaper *reaper, int *reclaimed, struct weft_err *err);

/* Counts allocated endpoint addresses of a pool (tests, bench, overlay teardown). */
int ipam_count_addresses(struct etcd *etcd, const char *pool_id, int *count, struct weft_err *err);

#endif
