/*
 * segment.h: one VXLAN segment, the kernel data plane of an overlay on this host.
 *
 * Naming: an "overlay" is the cluster's record (overlays/<sk> in the store: a
 * subnet with its VNI and MTU, owned by fabric/); a "segment" is this host's
 * kernel device set that carries it. Per VNI a segment is the bridge "wbr<vni>"
 * and the VXLAN device "wvx<vni>" enslaved to it, the veth pairs of its endpoints
 * ("wh<id>" host end, "wc<id>" container end ("ctr"), id = first 10 hex chars of
 * the endpoint ID; or a spare pair "ws<n>"/"wt<n>" made ahead and taken by an
 * endpoint), and the static FDB / neighbour / flooding entries for remote
 * endpoints ("peers": a peer is always an endpoint on another host).
 * Callers: fabric/. Uses netlink/ only; fabric/ reaches netlink only through
 * here (it holds a struct nl as an opaque handle). Not thread-safe: one struct nl
 * per thread, as netlink/ says.
 *
 * All IPv4 addresses (uint32_t) are in network byte order, as in netlink/. VTEPs
 * are struct ip_addr (common/ip_addr.h): IPv4, or IPv6 on an IPv6 underlay; a
 * segment's remote VTEPs are of its local VTEP's family (the kernel's rule).
 *
 * Every function is idempotent where a retry or a restart may repeat it:
 * segment_ensure adopts devices that already exist with the right VNI,
 * and removing something that is gone is not an error.
 */
#ifndef WEFT_SEGMENT_H
#define WEFT_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "common/err.h"
#include "netlink/nl.h"

#define SEGMENT_VXLAN_PORT 4789
/* IPv4 outer header 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
#define SEGMENT_VXLAN_OVERHEAD 50
/* The same over an IPv6 underlay: its outer header is 40. */
#define SEGMENT_VXLAN6_OVERHEAD 70

struct segment_devices {
    char bridge[IF_NAMESIZE];
    char vxlan[IF_NAMESIZE];
    int bridge_ifindex;
    int vxlan_ifindex;
};

void segment_names(uint32_t vni, struct segment_devices *out);

/* Creates (or adopts) bridge + vxlan for vni with local VTEP local and mtu, both
 * up (a vxlan device with another local address is made again). On failure, whatever this call
 * created is removed. A vxlan device of that name with another VNI is an error. */
int segment_ensure(struct nl *nl, uint32_t vni, const struct ip_addr *local, int mtu,
                   struct segment_devices *out, struct weft_err *err);
/* Deletes the bridge and the vxlan device (endpoint veths go with DeleteEndpoint).
 * On failure the segment is as segment_ensure(local, mtu) makes it, its devices
 * in *devices (a bridge deleted before the vxlan device's deletion failed is made
 * again, with a new ifindex; the vxlan device and its entries are untouched). */
int segment_remove(struct nl *nl, uint32_t vni, const struct ip_addr *local, int mtu,
                   struct segment_devices *devices, struct weft_err *err);

/* The netlink socket of one thread (fabric/ keeps one for requests and the watch,
 * one for the spare maker). */
int segment_socket_open(struct nl **out, struct weft_err *err);
void segment_socket_close(struct nl *nl);

/* Between these two, entry changes (segment_peer_*, segment_flood_*) queue and go
 * to the kernel in one send; the end reports the first failure. Begin returns -1
 * when a batch is open already (the caller then sends each change alone). */
int segment_batch_begin(struct nl *nl);
int segment_batch_end(struct nl *nl, struct weft_err *err);

/* Veth names for an endpoint ID (a pair made for it, not a spare). */
void segment_endpoint_names(const char *endpoint_id, char host_name[IF_NAMESIZE],
                            char ctr_name[IF_NAMESIZE]);
/* The container end's name for a host end's: wh<x> -> wc<x>, ws<n> -> wt<n>. */
void segment_ctr_name(const char *host_name, char ctr_name[IF_NAMESIZE]);
/* Whether the endpoint veth whose host end is host_name exists (the host end
 * lives as long as the container end). Only the kernel's "no such link" makes
 * *exists false; a failed lookup returns -1 with *exists true, so a caller that
 * goes on keeps the endpoint rather than forgetting a live one. */
int segment_endpoint_exists(struct nl *nl, const char *host_name, bool *exists,
                            struct weft_err *err);
/* Calls fn for every endpoint or spare veth host end that has an alias (an
 * endpoint's alias is its record, a spare's SEGMENT_SPARE_ALIAS). fn must not
 * use nl. Not inside a batch. */
typedef void (*segment_veth_fn)(void *ctx, const char *host_name, const char *alias);
int segment_veth_list(struct nl *nl, segment_veth_fn fn, void *ctx, struct weft_err *err);
/* Creates the endpoint's veth pair attached to the segment's bridge; the container
 * end carries mac and mtu, the host end alias (NULL: none), which the kernel keeps
 * as long as the pair lives. An existing pair of these names is replaced. */
int segment_endpoint_create(struct nl *nl, uint32_t vni, const char *endpoint_id,
                            const uint8_t mac[6], int mtu, const char *alias, struct weft_err *err);
/* Deletes an endpoint's pair by its host end's name; gone is not an error. */
int segment_endpoint_delete(struct nl *nl, const char *host_name, struct weft_err *err);

/*
 * Spare veth pairs, made ahead of CreateEndpoint. Making a pair costs the kernel
 * about 1.3 ms (two netdev registrations with their sysfs and sysctl entries, a
 * bridge port); a rename costs most of that again (the sysctl entries are
 * re-registered), so a spare keeps its names: "ws<serial>" (host end, on the
 * segment bridge, down, alias SEGMENT_SPARE_ALIAS) and "wt<serial>". Taking one
 * is a MAC change and "up": a tenth of the cost.
 */
#define SEGMENT_SPARE_PREFIX "ws"
#define SEGMENT_SPARE_ALIAS "weft spare"
/* The serial of a spare's host end name (ws<serial>), or false for another name. */
bool segment_spare_serial(const char *host_name, unsigned *serial);
int segment_spare_create(struct nl *nl, uint32_t vni, unsigned serial, int mtu,
                         char host_name[IF_NAMESIZE], struct weft_err *err);
/* Gives spare host_name's container end mac, and host_name alias and "up". On failure the
 * caller deletes the spare (segment_endpoint_delete) and makes a pair instead. */
int segment_spare_take(struct nl *nl, const char *host_name, const uint8_t mac[6],
                       const char *alias, struct weft_err *err);
/* Makes an endpoint's pair that was a spare (host end ws<serial>) a spare again, when
 * its container end is back in this namespace (Docker's Leave moves it out of the
 * container): the container end down, the host end down with SEGMENT_SPARE_ALIAS. Two
 * link changes where a deletion would hold the kernel's rtnl lock 16-24 ms, all other
 * link changes on the host waiting. Fails (ENODEV) when the container end is not
 * here; on any failure the caller deletes the pair. */
int segment_spare_return(struct nl *nl, const char *host_name, struct weft_err *err);
/* Deletes every spare in the socket's namespace (a restarted daemon's leftovers). */
void segment_spares_delete_all(struct nl *nl);

/* A remote endpoint: mac -> vtep in the vxlan FDB, ip -> mac in its neighbour table.
 * Deleting also drops what the bridge learned about mac on the vxlan port.
 * The vxlan device is named by ifindex (from segment_ensure) so these calls need
 * no lookup and can sit in a netlink batch. */
int segment_peer_add(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     const struct ip_addr *vtep, struct weft_err *err);
int segment_peer_del(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     const struct ip_addr *vtep, struct weft_err *err);
/* A remote endpoint's IPv6 address (dual-stack overlays, issue 12): ip6 (16 bytes,
 * network order) -> mac in the vxlan device's neighbour table, so its proxy answers
 * neighbour solicitations and none cross the underlay. The FDB entry of mac is
 * segment_peer_add's (one per endpoint, whatever its families). */
int segment_peer6_add(struct nl *nl, int vxlan_ifindex, const uint8_t ip6[16],
                      const uint8_t mac[6], struct weft_err *err);
int segment_peer6_del(struct nl *nl, int vxlan_ifindex, const uint8_t ip6[16],
                      struct weft_err *err);
/* A remote host in the segment: an all-zero FDB entry so broadcast reaches it. */
int segment_flood_add(struct nl *nl, int vxlan_ifindex, const struct ip_addr *vtep,
                      struct weft_err *err);
int segment_flood_del(struct nl *nl, int vxlan_ifindex, const struct ip_addr *vtep,
                      struct weft_err *err);

#endif
