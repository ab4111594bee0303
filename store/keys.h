/*
 * keys.h: the one place etcd keys are built. The layout (docs/design.md; the
 * values are the records of store/records.h):
 *
 *   /weft/v1/overlays/<sk>                 overlay record {"subnet","vni","mtu"}
 *   /weft/v1/vnis/<vni>                    "<sk>": which overlay holds a VNI (8 digits)
 *   /weft/v1/addrs/<sk>/<ip>               allocation {"host","kind","claim"?}; kind
 *                                          "endpoint", "gateway" or "aux" (--aux-address)
 *   /weft/v1/addrs/<sk>/pool               the pool's --ip-range {"subnet","range"?}, fixed
 *                                          by the first host (create-if-absent); under
 *                                          addrs/<sk>/ so it goes with the overlay's
 *                                          gateway when the overlay is released
 *   /weft/v1/joined/<sk>/<host>            {"vtep"}: which hosts have joined (leased); a
 *                                          SHARED index, for the overlay's lifecycle (its
 *                                          release) and for which members per-member
 *                                          watches follow; written with the member record
 *                                          in one transaction
 *   /weft/v1/fabric/<host>/<sk>/member     <host> takes part in <sk> {"vtep"}  (leased)
 *   /weft/v1/fabric/<host>/<sk>/peers/<ip> an endpoint on <host> {"ip","mac","vtep"} (leased);
 *                                          without "mac": the address claimed at allocation
 *   /weft/v1/hosts/<host>/alive            {"vtep"} while the host's daemon lives  (leased)
 *   /weft/v1/roles/reaper                  {"vtep"}: the one host that reclaims dead hosts'
 *                                          addresses (leased, create-if-absent: its
 *                                          death frees the role for another host)
 *   /weft/v1/hosts/<host>/networks/<nid>   a Docker network on that host
 *                                          {"network_id","subnet","vni","mtu"}
 *   /weft/v1/hosts/<host>/endpoints/<eid>  an endpoint on that host
 *                                          {"endpoint_id","network_id","ip","mac","ifname"?}
 *
 * <sk> is the subnet key: "10.77.0.0/24" written "10.77.0.0_24", "fd81::/64"
 * (RFC 5952 text, common/addr6.h) written "fd81--_64"; an IPv6 <ip> has its
 * colons written as dashes too ("fd81--5"). <host> is the
 * host's VTEP (advertise) address, IPv6 ones (issue 12) with dashes too ("fd00--5";
 * key_parse_fabric gives the text back with colons, and refuses a host level
 * written with colons). Everything one host alone may write lies under
 * a prefix naming it (fabric/<host>/, hosts/<host>/): etcd grants permissions on
 * key prefixes only, so each host's etcd user can be given its own and no other,
 * and a record under fabric/<host>/ is believed only if its body names <host>.
 * Host-first keys mean no prefix holds one overlay's records of all hosts: the
 * gateway watch reads all of fabric/; the per-member watch (fabric/member_watch.c)
 * reads joined/<sk>/ and fabric/<m>/<sk>/ of each member m. Owns the layout only: no I/O, no state.
 * Callers: fabric/ and ipam/ (and tests), passing a buffer of WEFT_KEY_MAX bytes;
 * key_parse_fabric reads fabric/ keys back for the watch. Pure functions,
 * thread-safe.
 */
#ifndef WEFT_KEYS_H
#define WEFT_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#define WEFT_KEY_MAX 256
#define WEFT_KEY_ROOT "/weft/v1/"
#define WEFT_KEY_FABRIC WEFT_KEY_ROOT "fabric/"

void key_overlay(char *buf, const char *subnet);
void key_vni(char *buf, uint32_t vni);
void key_vni_prefix(char *buf);
void key_addr(char *buf, const char *subnet, const char *ip);
void key_addr_prefix(char *buf, const char *subnet);
void key_pool(char *buf, const char *subnet);
/* Whether the last level of a key under addrs/<sk>/ is the pool record's, not an address. */
bool key_is_pool(const char *key);
/* host: the VTEP address of the host that owns the record. */
void key_member(char *buf, const char *host, const char *subnet);
void key_peer(char *buf, const char *host, const char *subnet, const char *ip);
void key_fabric_host_prefix(char *buf, const char *host);
/* fabric/<host>/<sk>/: one host's records of one overlay subnet (a per-member watch). */
void key_fabric_overlay_prefix(char *buf, const char *host, const char *subnet);
/* The prefixes a host's etcd role is built from (admin/policy.c): its own
 * hosts/<host>/, and the roots of the shared records. */
void key_host_prefix(char *buf, const char *host);
void key_overlays_root(char *buf);
void key_joined_root(char *buf);
void key_joined(char *buf, const char *subnet, const char *host);
void key_joined_prefix(char *buf, const char *subnet);
void key_host_alive(char *buf, const char *host);
/* roles/: keys naming the one host that does a cluster-wide chore (SHARED). */
void key_roles_root(char *buf);
void key_reaper_role(char *buf);
void key_hosts_prefix(char *buf);
void key_addrs_root(char *buf);
void key_host_network(char *buf, const char *host, const char *network_id);
void key_host_networks_prefix(char *buf, const char *host);
void key_host_endpoint(char *buf, const char *host, const char *endpoint_id);
void key_host_endpoints_prefix(char *buf, const char *host);

#define WEFT_KEY_PART_MAX 64

/* A key under WEFT_KEY_FABRIC, read back: the owner's <host> text, the overlay's
 * CIDR ("10.77.0.0/24"), and for a peer its address text (a member's is ""). */
struct fabric_key {
    char host[WEFT_KEY_PART_MAX];
    char subnet[WEFT_KEY_PART_MAX];
    bool is_peer;
    char ip[WEFT_KEY_PART_MAX];
};

/* Parses a key of the two kinds above (the parts' syntax only). Returns 0 or -1. */
int key_parse_fabric(const char *key, struct fabric_key *out);

/* The host text of a joined/<sk>/<host> key of subnet, decoded (colons again); -1
 * when key is not one of subnet's (or is written with colons). */
int key_parse_joined(const char *key, const char *subnet, char host[WEFT_KEY_PART_MAX]);

/* The address text of an addrs/<sk>/<ip> key of subnet, decoded ("fd81::5");
 * -1 when key is not one of subnet's. */
int key_parse_addr(const char *key, const char *subnet, char ip[WEFT_KEY_PART_MAX]);

#endif
