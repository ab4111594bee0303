/*
 * overlay.h: one overlay's kernel data plane on this host.
 *
 * Owns, per VNI, the bridge "wbr<vni>" and the VXLAN device "wvx<vni>"
 * enslaved to it, the veth pairs of its endpoints ("wh<id>" host side,
 * "wc<id>" container side, id = first 10 hex chars of the endpoint ID; or a
 * spare pair "ws<n>"/"wt<n>" made ahead and taken by an endpoint), and
 * the static FDB / neighbour / flooding entries for remote peers.
 * Callers: daemon/ (fabric state) and driver/. Uses netlink/ only.
 *
 * All IPv4 addresses (uint32_t) are in network byte order, as in netlink/.
 *
 * Every function is idempotent where a retry or a restart may repeat it:
 * overlay_ensure adopts devices that already exist with the right VNI,
 * and removing something that is gone is not an error.
 */
#ifndef WEFT_OVERLAY_H
#define WEFT_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "common/err.h"
#include "netlink/nl.h"

#define OVERLAY_VXLAN_PORT 4789
/* IPv4 outer header 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
#define OVERLAY_VXLAN_OVERHEAD 50

struct overlay_devices {
    char bridge[IF_NAMESIZE];
    char vxlan[IF_NAMESIZE];
    int bridge_ifindex;
    int vxlan_ifindex;
};

void overlay_names(uint32_t vni, struct overlay_devices *out);

/* Creates (or adopts) bridge + vxlan for vni with local VTEP local_ip (network
 * order) and mtu, both up. On failure, whatever this call created is removed.
 * A vxlan device of that name with another VNI is an error. */
int overlay_ensure(struct nl *nl, uint32_t vni, uint32_t local_ip, int mtu,
                   struct overlay_devices *out, struct weft_err *err);
/* Deletes the vxlan device and the bridge (endpoint veths go with DeleteEndpoint). */
int overlay_remove(struct nl *nl, uint32_t vni, struct weft_err *err);

/* Veth names for an endpoint ID (a pair made for it, not a spare). */
void overlay_endpoint_names(const char *endpoint_id, char host_name[IF_NAMESIZE],
                            char peer_name[IF_NAMESIZE]);
/* The container end's name for a host end's: wh<x> -> wc<x>, ws<n> -> wt<n>. */
void overlay_peer_name(const char *host_name, char peer_name[IF_NAMESIZE]);
/* Creates the endpoint's veth pair attached to the overlay bridge; the peer
 * carries mac and mtu, the host end alias (NULL: none), which the kernel keeps
 * as long as the pair lives. An existing pair of these names is replaced. */
int overlay_endpoint_create(struct nl *nl, uint32_t vni, const char *endpoint_id,
                            const uint8_t mac[6], int mtu, const char *alias,
                            struct weft_err *err);
/* Deletes an endpoint's pair by its host end's name; gone is not an error. */
int overlay_endpoint_delete(struct nl *nl, const char *host_name, struct weft_err *err);

/*
 * Spare veth pairs, made ahead of CreateEndpoint. Making a pair costs the kernel
 * about 1.3 ms (two netdev registrations with their sysfs and sysctl entries, a
 * bridge port); a rename costs most of that again (the sysctl entries are
 * re-registered), so a spare keeps its names: "ws<serial>" (host end, on the
 * overlay bridge, down, alias OVERLAY_SPARE_ALIAS) and "wt<serial>". Taking one
 * is a MAC change and "up": a tenth of the cost.
 */
#define OVERLAY_SPARE_PREFIX "ws"
#define OVERLAY_SPARE_ALIAS "weft spare"
int overlay_spare_create(struct nl *nl, uint32_t vni, unsigned serial, int mtu,
                         char host_name[IF_NAMESIZE], struct weft_err *err);
/* Gives spare host_name's peer mac, and host_name alias and "up". On failure the
 * caller deletes the spare (overlay_endpoint_delete) and makes a pair instead. */
int overlay_spare_take(struct nl *nl, const char *host_name, const uint8_t mac[6],
                       const char *alias, struct weft_err *err);
/* Deletes every spare in the socket's namespace (a restarted daemon's leftovers). */
void overlay_spares_delete_all(struct nl *nl);

/* A remote endpoint: mac -> vtep in the vxlan FDB, ip -> mac in its neighbour table.
 * Deleting also drops what the bridge learned about mac on the vxlan port.
 * The vxlan device is named by ifindex (from overlay_ensure) so these calls need
 * no lookup and can sit in a netlink batch. */
int overlay_peer_add(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     uint32_t vtep, struct weft_err *err);
int overlay_peer_del(struct nl *nl, int vxlan_ifindex, uint32_t ip, const uint8_t mac[6],
                     uint32_t vtep, struct weft_err *err);
/* A remote host in the overlay: an all-zero FDB entry so broadcast reaches it. */
int overlay_flood_add(struct nl *nl, int vxlan_ifindex, uint32_t vtep, struct weft_err *err);
int overlay_flood_del(struct nl *nl, int vxlan_ifindex, uint32_t vtep, struct weft_err *err);

#endif
