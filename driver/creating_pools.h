/*
 * creating_pools.h: the pools Docker is creating a network on, on this host: from
 * IpamDriver.RequestPool until NetworkDriver.CreateNetwork (or ReleasePool, when
 * the creation failed).
 *
 * Why: Docker reserves each --aux-address with a RequestAddress that carries the
 * address and no options (libnetwork network.go, ipamAllocateVersion:
 * ipam.RequestAddress(d.PoolID, ip, nil), in Docker 20.10 and 28 alike), exactly
 * what `docker run --ip` sends. Only the moment tells them apart: aux addresses
 * are requested while the network is being created, before the driver's
 * CreateNetwork; containers come after it. An entry older than
 * CREATING_POOL_SECONDS is forgotten (a creation Docker abandoned without
 * ReleasePool). State of this process (one per host); thread-safe (a mutex).
 * Callers: driver/ipam_api.c and driver/network_api.c.
 */
#ifndef WEFT_DRIVER_CREATING_POOLS_H
#define WEFT_DRIVER_CREATING_POOLS_H

#include <stdbool.h>

#define CREATING_POOL_SECONDS 120

/* subnet: canonical ("10.76.0.0/24"). A full table forgets its oldest entry. */
void creating_pool_begin(const char *subnet);
void creating_pool_end(const char *subnet);
bool creating_pool_is(const char *subnet);

#endif
