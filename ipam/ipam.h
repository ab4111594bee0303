/*
 * ipam.h: cluster-wide address allocation in etcd.
 *
 * Owns the keys /weft/v1/addrs/<sk>/<ip>. Every allocation is one
 * create-if-absent transaction, so concurrent requests from any number of
 * hosts never hand out one address twice. The gateway address is shared by
 * every host of an overlay (each host's Docker asks for it) and is reserved
 * once, never handed to an endpoint; so is each --aux-address. With --ip-range,
 * dynamic addresses come from the range only (an exact request may take any host
 * address of the subnet), and every host must pass the same range: the first fixes
 * it in addrs/<sk>/pool. Callers: driver/ (the IpamDriver handlers).
 *
 * A pool ID is the canonical subnet ("10.77.0.0/24", "fd81::/64"), or subnet@range
 * with --ip-range (pool_id.h, IPv4 only); every function below takes either family,
 * an IPv6 pool ID going to ipam6.c.
 */
#ifndef WEFT_IPAM_H
#define WEFT_IPAM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/addr.h"
#include "ipam/pool_id.h"
#include "store/etcd.h"

/* Validates a requested pool (--subnet) and sub_pool (--ip-range; "" or NULL:
 * none); writes the pool ID. An empty request is refused (every host must name the
 * same overlay by its --subnet). Pure: ipam_fix_pool checks it against the cluster.
 * IPv6 text is an IPv6 pool: /64 to /120, unique local or global (common/addr6.h). */
int ipam_request_pool(const char *requested, const char *sub_pool, char pool_id[IPAM_POOL_ID_MAX],
                      struct weft_err *err);

/* Fixes the pool's range for every host (the first host's RequestPool writes it,
 * create-if-absent). A host passing another range, or none where one is fixed, or
 * one where none is, is refused with -EEXIST naming the range in use. */
int ipam_fix_pool(struct etcd *etcd, const char *pool_id, struct weft_err *err);

/* Reserves wanted (plain IP, a host address of the subnet) as an --aux-address:
 * never handed out; shared by every host, as the gateway is (the second host's
 * request for it answers it too). No fabric claim: it is no endpoint's. Refused
 * when an endpoint holds it or it is the gateway. out gets "a.b.c.d/len". */
int ipam_reserve_aux(struct etcd *etcd, const char *pool_id, const char *host, const char *wanted,
                     char out[ADDR_STR_MAX], struct weft_err *err);

/*
 * Allocates an address in pool_id for host (the VTEP address, recorded as the owner).
 * wanted: "" or NULL for any free one, else that exact address (--ip / --gateway).
 * gateway: the gateway request; answers the shared gateway (wanted, else the first
 * host address, of the range if the pool has one, as Docker's own IPAM does),
 * reserving it if nobody has. out gets "a.b.c.d/len".
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
 * other error frees it and fails the request. Both get the pool's subnet as pool_id
 * (what fabric/ names the overlay by), never a pool ID with a range.
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

/* Releases an endpoint address (plain IP) of host's. The gateway and aux addresses are
 * kept while the overlay lives; an address another host holds is kept and logged (after
 * a power cycle Docker releases its containers' old addresses, which the restarted daemon
 * had released already and another host may have taken since); releasing a free address
 * is not an error (Docker may repeat itself). */
int ipam_release_address(struct etcd *etcd, const char *pool_id, const char *host, const char *ip,
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

/* Counts allocated endpoint addresses of a pool (tests, bench, overlay teardown):
 * not the gateway, aux addresses or the pool record. pool_id: either form. */
int ipam_count_addresses(struct etcd *etcd, const char *pool_id, int *count, struct weft_err *err);

#endif
