/*
 * vtep_map.h: where an encrypted overlay's frames go (issue 11): the data path's
 * lookup for one overlay, fed from the same records the plain path programs into
 * the kernel's VXLAN FDB.
 *
 * Owns: per overlay, the remote endpoints' MACs -> their host's VTEP, and the
 * member hosts' VTEPs (broadcast, multicast and unknown unicast go to every one).
 * Callers: fabric/ writes (one writer at a time: under the fabric's lock), the
 * data path's workers read through vtep_map_lookup (a datapath_lookup_fn) from
 * every worker thread at once. Thread-safe: readers never wait for one another,
 * and a writer never frees what a reader may still hold. VTEPs are IPv4 or IPv6
 * (common/ip_addr.h), copied in.
 */
#ifndef WEFT_DATAPATH_VTEP_MAP_H
#define WEFT_DATAPATH_VTEP_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip_addr.h"

struct vtep_map;

int vtep_map_new(struct vtep_map **out, struct weft_err *err);
/* Frees the map; no reader may be left (remove the overlay from the data path first). */
void vtep_map_free(struct vtep_map *map);

/* A remote endpoint's MAC now lives behind vtep (added or moved). -ENOMEM only. */
int vtep_map_set_peer(struct vtep_map *map, const uint8_t mac[6], const struct ip_addr *vtep,
                      struct weft_err *err);
/* Forgets mac; unknown is not an error. */
void vtep_map_del_peer(struct vtep_map *map, const uint8_t mac[6]);
/* A member host of the overlay (flooding); adding one already there is a no-op. */
int vtep_map_add_member(struct vtep_map *map, const struct ip_addr *vtep, struct weft_err *err);
void vtep_map_del_member(struct vtep_map *map, const struct ip_addr *vtep);

/* datapath_lookup_fn (ctx is the map): the peer's VTEP for a known unicast MAC, every
 * member's for group (broadcast, multicast) and unknown unicast MACs. */
size_t vtep_map_lookup(void *ctx, const uint8_t dst_mac[6], struct ip_addr *vteps, size_t max);

#endif
