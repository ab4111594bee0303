/*
 * ipam_internal.h: private to ipam/. The record kinds of addrs/<sk>/<ip> and the
 * one create-if-absent step every allocation takes, shared by ipam.c (endpoints,
 * gateways), aux.c (--aux-address) and reaper.c. Callers: ipam/ sources only.
 */
#ifndef WEFT_IPAM_INTERNAL_H
#define WEFT_IPAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"
#include "store/etcd.h"
#include "store/records.h"

#define KIND_ENDPOINT "endpoint"
#define KIND_GATEWAY "gateway"
/* Reserved by --aux-address: shared by every host like the gateway, never an endpoint's. */
#define KIND_AUX "aux"

/* Tries to take ip (of the subnet pool_id) for host as kind. *taken is set when
 * someone holds it; owner (may be NULL) then receives the holder's record. */
int ipam_try_claim(struct etcd *etcd, const char *pool_id, uint32_t ip, const char *host,
                   const char *kind, bool *taken, struct addr_record *owner, struct weft_err *err);

/* The same for an address in canonical text (IPv4 or IPv6: ipam6.c). */
int ipam_try_claim_text(struct etcd *etcd, const char *pool_id, const char *ip_text,
                        const char *host, const char *kind, bool *taken,
                        struct addr_record *owner, struct weft_err *err);

/* Docker's answer for ip: "a.b.c.d/len" with the subnet's prefix. */
void ipam_format_answer(const struct ipv4_subnet *pool, uint32_t ip, char out[ADDR_STR_MAX]);

/* Whether a record of this kind is shared by the hosts and kept while the overlay
 * lives (gateway, aux): never released, reaped or counted as an endpoint's. */
bool ipam_kind_is_shared(const char *kind);

/* addr_records.c, for either family. Frees host's endpoint record at key (a shared one
 * stays, and so does one another host holds; gone is fine). */
int ipam_release_key(struct etcd *etcd, const char *key, const char *host, struct weft_err *err);
/* The endpoint records under addrs/<subnet>/ (subnet canonical). */
int ipam_count_endpoints(struct etcd *etcd, const char *subnet, int *count, struct weft_err *err);

#endif
