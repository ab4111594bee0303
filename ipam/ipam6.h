/*
 * ipam6.h: IPv6 pools (issue 12), behind ipam.h's functions: ipam.c hands every
 * call whose pool ID is IPv6 text here, so callers never choose. Same keys
 * (addrs/<sk>/<ip>, store/keys.h), same records and the same create-if-absent
 * transaction as IPv4, so release, assert, count and the reaper treat both
 * families alike. Private to ipam/; thread-safe as ipam.h is (no state).
 *
 * A /64 cannot be scanned: an address is found by random probes, and only a
 * small pool (/112 to /120) is read whole, when probes keep missing, to pick
 * from what is left or to say it is full. With --ip-range the same is done over
 * the range only (pool_id.h: the span). The fabric's address claims
 * (ipam_claims) are IPv4 only: an endpoint's IPv6 address rides in the record its
 * IPv4 claim keys (docs/design.md, "Dual-stack overlays").
 */
#ifndef WEFT_IPAM6_H
#define WEFT_IPAM6_H

#include <stdbool.h>

#include "common/addr.h"
#include "common/err.h"
#include "ipam/pool_id.h"
#include "store/etcd.h"

/* Pool IDs carry an --ip-range as IPv4 ones do (pool_id.h); the rest of the
 * functions take either form. */
int ipam6_request_pool(const char *requested, const char *sub_pool,
                       char pool_id[IPAM_POOL_ID_MAX], struct weft_err *err);
/* ipam_reserve_aux for an IPv6 pool (ipam.h). */
int ipam6_reserve_aux(struct etcd *etcd, const char *pool_id, const char *host,
                      const char *wanted, char out[ADDR_STR_MAX], struct weft_err *err);
int ipam6_request_address(struct etcd *etcd, const char *pool_id, const char *host,
                          const char *wanted, bool gateway, char out[ADDR_STR_MAX],
                          struct weft_err *err);
int ipam6_release_address(struct etcd *etcd, const char *pool_id, const char *host,
                          const char *ip, struct weft_err *err);
int ipam6_assert_address(struct etcd *etcd, const char *pool_id, const char *host, const char *ip,
                         struct weft_err *err);
int ipam6_count_addresses(struct etcd *etcd, const char *pool_id, int *count,
                          struct weft_err *err);

#endif
