/*
 * fabric.h: what this host has joined, and keeping its data plane in step
 * with the cluster.
 *
 * Owns: the host's Docker networks (network ID -> overlay) and endpoints,
 * their records in etcd (hosts/<host>/..., fabric/<sk>/members|peers), the
 * overlay VNI allocation, and the watch that programs remote peers and
 * flooding entries through vxlan/. Callers: driver/ (one call per Docker
 * request) and daemon/main.c (open/close). Thread-safe: one lock serializes
 * requests and watch events.
 *
 * Each call that changes several things undoes what it did on failure.
 */
#ifndef WEFT_FABRIC_H
#define WEFT_FABRIC_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/addr.h"
#include "common/addr6.h"
#include "store/etcd.h"

#define FABRIC_ID_MAX 65 /* Docker IDs are 64 hex chars */
#define FABRIC_VNI_MAX 16777214u
/* Several --subnet on one network (issue 12): the first and at most this many more, whose
 * canonical texts fit one record field (RECORD_TEXT_MAX). */
#define FABRIC_EXTRA_SUBNETS_MAX 3

struct fabric;
struct tunnel_peer_table;

/* What another module keeps beside each local overlay (daemon/main.c wires weft's
 * resolver, dns/resolver.h): up() once a local network of the overlay exists
 * (created, or restored at start), down() before it goes. An up() that fails fails
 * CreateNetwork, which is undone; at start it is logged and the network kept. Both are
 * called without the fabric's lock, one at a time (CreateNetwork and DeleteNetwork
 * are serialized), and must not call back into the fabric. */
struct fabric_overlay_info {
    char subnet[ADDR_STR_MAX];  /* canonical */
    char subnet6[ADDR_STR_MAX]; /* dual stack: the IPv6 pool (canonical), "" for none */
    uint32_t vni;
    uint32_t gateway; /* host order */
    int prefix_len;
    int bridge_ifindex;
    int mtu;
    uint32_t vtep; /* this host's (network order; of an IPv6 one its last 32 bits): with the
                      VNI, a MAC that outlives restarts */
    /* The network's other IPv4 subnets (canonical, ascending), on the same segment:
     * their containers are the overlay's too (issue 12). */
    char extra_subnets[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX];
    int extra_count;
};
struct fabric_overlay_hooks {
    int (*up)(void *ctx, const struct fabric_overlay_info *info, struct weft_err *err);
    void (*down)(void *ctx, const char *subnet);
    void *ctx;
};

struct fabric_config {
    struct etcd *etcd; /* borrowed; outlives the fabric */
    const char *host;  /* this host's VTEP address: dotted IPv4, or IPv6 (issue 12) */
    int underlay_mtu;  /* MTU of the interface holding the VTEP address */
    int lease_ttl;     /* seconds; the host's liveness lease */
    int reclaim_after; /* seconds a host must look dead before its addresses are freed */
    struct fabric_overlay_hooks hooks; /* optional (NULL up and down: none) */
    /* Encrypted overlays (issue 11): the daemon's sessions with other hosts (borrowed,
     * outliving the fabric), NULL when it has no cluster secret (-o encrypted is then
     * refused); the UDP port their traffic uses (0: DATAPATH_UDP_PORT). */
    struct tunnel_peer_table *tunnel;
    uint16_t tunnel_port;
    /* Per-member watches (--store-watch grpc; fabric/member_watch.c): a host watches
     * joined/<sk>/ of each overlay it has a network on, and fabric/<m>/<sk>/ of each of
     * its members m, on one gRPC stream, instead of all of fabric/; its address claims
     * read their competitors from the store (member_claims.c). false: one list+watch of
     * fabric/ (the gateway's, or etcd.h's over gRPC). */
    bool member_watch;
};

int fabric_open(struct fabric **out, const struct fabric_config *config, struct weft_err *err);
/* Stops the watch and the lease refresher; leaves the data plane running. */
void fabric_close(struct fabric *fabric);

struct fabric_network_spec {
    char network_id[FABRIC_ID_MAX];
    char subnet[ADDR_STR_MAX]; /* canonical pool from weft IPAM */
    uint32_t vni;              /* 0: the overlay's, or allocate one */
    int mtu;                   /* 0: underlay MTU minus VXLAN overhead */
    uint32_t gateway;          /* host order; 0: the subnet's first host address */
    bool encrypted;            /* -o encrypted: sealed by weft's own tunnel (issue 11) */
    char subnet6[ADDR_STR_MAX]; /* --ipv6: the IPv6 pool (canonical), "" for IPv4 only */
    /* The IPv4 pools after the first (canonical), in Docker's order: on the overlay's one
     * segment beside it, each a pool of its own (fabric/subnets.c). */
    char extra_subnets[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX];
    int extra_count;
    char extra_subnets6[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX]; /* the IPv6 ones, likewise */
    int extra6_count;
};

int fabric_network_create(struct fabric *fabric, const struct fabric_network_spec *spec,
                          struct weft_err *err);
int fabric_network_delete(struct fabric *fabric, const char *network_id, struct weft_err *err);

/*
 * Address claims (fabric/address_claims.c). An address is claimed in the fabric
 * the moment IPAM allocates it, before Docker creates its endpoint: this host's
 * peer record without a MAC, under its own prefix. Every host programs the older
 * of two claims, so a claim another host (broken into) made first, for an address
 * still free, would win over this host's endpoint; fabric_claim_address therefore
 * waits until the watch has read the new claim back (and so everything older) and
 * refuses the address if another host claimed it earlier.
 * Returns 0; -EADDRINUSE with err naming the older claim's host (the caller frees
 * the address and takes another); -ETIMEDOUT when the watch did not read the claim
 * back in time; or a store error. On any failure this host's claim is withdrawn.
 */
int fabric_claim_address(struct fabric *fabric, const char *subnet, const char *ip,
                         struct weft_err *err);
/* Withdraws this host's claim of ip (ReleaseAddress), unless an endpoint here holds it. */
int fabric_unclaim_address(struct fabric *fabric, const char *subnet, const char *ip,
                           struct weft_err *err);
/* Whether another host's claim of ip on subnet is known (so IPAM need not try it). */
bool fabric_address_claimed_elsewhere(struct fabric *fabric, const char *subnet, uint32_t ip);

/*
 * Names (fabric/names.c). An endpoint's DNS names, from docker/follower.h, travel in
 * its peer record; the resolver asks for them per overlay.
 */
/* Sets the names of an endpoint of this host: space-separated lowercase DNS names
 * (fabric/record_check.h: record_check_names), "" for none. Returns 0; -1 with
 * -ENOENT when network_id is no weft network here, -EAGAIN when the network is but
 * the endpoint is not (yet), -EINVAL for names that do not check. */
int fabric_endpoint_set_names(struct fabric *fabric, const char *network_id,
                              const char *endpoint_id, const char *names, struct weft_err *err);
/* The addresses (network order) named name on the overlay of subnet: this host's
 * endpoints and the peers it programs. Returns how many there are; at most max go
 * into out, the (start % count)-th first, then on, wrapping: a resolver that moves
 * start puts each of them first in turn, however many there are. */
size_t fabric_name_addresses(struct fabric *fabric, const char *subnet, const char *name,
                             size_t start, uint32_t *out, size_t max);
/* The same for IPv6 (dual-stack overlays): the IPv6 addresses of those endpoints
 * that have one. */
size_t fabric_name_addresses6(struct fabric *fabric, const char *subnet, const char *name,
                              size_t start, struct ipv6_addr *out, size_t max);
/* The first name of the endpoint holding addr (network order) on the overlay of
 * subnet, into out: in any of its network's subnets (issue 12). */
bool fabric_address_name(struct fabric *fabric, const char *subnet, uint32_t addr, char *out,
                         size_t out_len);
/* The same for an IPv6 address of the overlay of subnet (dual stack): this host's
 * endpoint holding it, else the peer programmed with it (the addresses
 * fabric_name_addresses6 answers). */
bool fabric_address6_name(struct fabric *fabric, const char *subnet, const struct ipv6_addr *addr,
                          char *out, size_t out_len);

struct fabric_endpoint_spec {
    char network_id[FABRIC_ID_MAX];
    char endpoint_id[FABRIC_ID_MAX];
    uint32_t ip; /* host byte order */
    int prefix_len;
    uint8_t mac[6];
    bool has_mac; /* false: fabric derives one and reports it */
    bool has_ip6; /* dual-stack overlays: its IPv6 address too */
    struct ipv6_addr ip6;
    int prefix6_len;
};

/* Creates the veth pair and publishes the endpoint. mac_out gets the MAC in use. */
int fabric_endpoint_create(struct fabric *fabric, const struct fabric_endpoint_spec *spec,
                           uint8_t mac_out[6], struct weft_err *err);
int fabric_endpoint_delete(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                           struct weft_err *err);

struct fabric_join_info {
    char src_name[IF_NAMESIZE]; /* the veth end Docker moves into the container */
    /* The network's subnets but the endpoint's own, of each family it has (several
     * --subnet): on-link in the container too, as all share one segment. */
    char onlink[2 * FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX];
    int onlink_count;
};
int fabric_join(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                struct fabric_join_info *out, struct weft_err *err);
int fabric_leave(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                 struct weft_err *err);

/* What EndpointOperInfo shows in docker inspect. */
struct fabric_endpoint_info {
    char ip[ADDR_STR_MAX];
    char ip6[ADDR_STR_MAX]; /* "addr/len", "" for none */
    char mac[18];
    char vtep[ADDR_STR_MAX];
    char bridge[IF_NAMESIZE];
    char vxlan[IF_NAMESIZE]; /* an encrypted overlay's TAP */
    uint32_t vni;
    int mtu;
    bool encrypted;
};
int fabric_endpoint_info(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                         struct fabric_endpoint_info *out, struct weft_err *err);

#endif
