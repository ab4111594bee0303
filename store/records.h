/*
 * records.h: the values weft keeps in etcd, as structs, and their JSON text.
 *
 * Owns the encoding of every record under the key layout of keys.h, so the
 * domain (fabric/, ipam/) never touches JSON. Encoders return a malloc'd
 * string (NULL only when out of memory); decoders validate every field and
 * return -1 with a message naming the bad field and the kind -EPROTO (a value
 * in the store that weft cannot read). Pure functions, thread-safe.
 */
#ifndef WEFT_RECORDS_H
#define WEFT_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define RECORD_TEXT_MAX 72 /* a Docker ID or a dotted address, with room */
/* A container's DNS names on one network: lowercase, space-separated (docker/follower.h). */
#define RECORD_NAMES_MAX 1024

/* overlays/<sk>: one per overlay, shared by every host. */
struct overlay_record {
    char subnet[RECORD_TEXT_MAX];
    uint32_t vni;
    int mtu; /* 0: each host uses its underlay MTU minus the VXLAN overhead */
    bool encrypted; /* -o encrypted: weft's own sealed tunnel instead of VXLAN (issue 11) */
    char subnet6[RECORD_TEXT_MAX]; /* dual stack (--ipv6): its IPv6 pool; "" (not written): none */
    /* several --subnet: the IPv4 pools after the first, "a/n b/n"; "" (not written): none */
    char extra_subnets[RECORD_TEXT_MAX];
    char extra_subnets6[RECORD_TEXT_MAX]; /* the IPv6 pools after subnet6, likewise */
};

/* addrs/<sk>/<ip>: an allocated address. kind is "endpoint", "gateway" or "aux"
 * (--aux-address: reserved, shared like the gateway, never an endpoint's). claim is
 * random, unique to the write that made the record, so a retried create that finds
 * it knows the record is its own ("" in records older than the field). */
struct addr_record {
    char host[RECORD_TEXT_MAX];
    char kind[RECORD_TEXT_MAX];
    char claim[RECORD_TEXT_MAX];
};

/* addrs/<sk>/pool: what every host must agree on for the pool, fixed by the first
 * host's RequestPool. range: the --ip-range dynamic addresses come from; "" (not
 * written): the whole subnet. */
struct pool_record {
    char subnet[RECORD_TEXT_MAX];
    char range[RECORD_TEXT_MAX];
};

/* fabric/<host>/<sk>/peers/<ip>: an endpoint anywhere in the cluster. mac "" (not
 * written): the address claimed at its allocation, before its endpoint exists.
 * names "" (not written): none known (yet); else its container's DNS names on the
 * overlay, which the resolver answers (dns/resolver.c). */
struct peer_record {
    char ip[RECORD_TEXT_MAX];
    char mac[RECORD_TEXT_MAX];
    char vtep[RECORD_TEXT_MAX];
    char names[RECORD_NAMES_MAX];
    char ip6[RECORD_TEXT_MAX]; /* dual-stack overlays: its IPv6 address; "" (not written): none */
};

/* fabric/<host>/<sk>/member: a host that has the overlay. */
struct member_record {
    char vtep[RECORD_TEXT_MAX];
    char key[RECORD_TEXT_MAX]; /* encrypted overlays: the host's public key (tunnel/); else "" */
    char ciphers[RECORD_TEXT_MAX]; /* encrypted overlays: the ciphers the host runs, best
                                      first (tunnel/aead.h); "" (not written): older weft */
    char offloads[RECORD_TEXT_MAX]; /* encrypted overlays: what the host's data path does
                                       for its senders, "csum": it takes TCP segments with
                                       partial checksums; "" (not written): older weft */
};

/* hosts/<host>/networks/<nid>: a Docker network on one host, for restart. */
struct host_network_record {
    char network_id[RECORD_TEXT_MAX];
    char subnet[RECORD_TEXT_MAX];
    uint32_t vni;
    int mtu;
    char gateway[RECORD_TEXT_MAX]; /* "" in older records: the first host address */
    bool encrypted;
    char subnet6[RECORD_TEXT_MAX]; /* its IPv6 pool; "" (not written): IPv4 only */
    char extra_subnets[RECORD_TEXT_MAX]; /* as the overlay record's */
    char extra_subnets6[RECORD_TEXT_MAX];
};

/* hosts/<host>/endpoints/<eid>: an endpoint on one host, for restart. */
struct host_endpoint_record {
    char endpoint_id[RECORD_TEXT_MAX];
    char network_id[RECORD_TEXT_MAX];
    char ip[RECORD_TEXT_MAX]; /* "a.b.c.d/len" */
    char mac[RECORD_TEXT_MAX];
    char ifname[RECORD_TEXT_MAX]; /* host end of its veth; "" (older records): "wh" + ID */
    char names[RECORD_NAMES_MAX]; /* its container's DNS names, so a restart keeps them */
    char ip6[RECORD_TEXT_MAX];    /* "addr/len" on a dual-stack overlay; "" (not written): none */
};

char *overlay_record_encode(const struct overlay_record *rec);
int overlay_record_decode(const char *text, struct overlay_record *rec, struct weft_err *err);
char *addr_record_encode(const struct addr_record *rec);
int addr_record_decode(const char *text, struct addr_record *rec, struct weft_err *err);
char *pool_record_encode(const struct pool_record *rec);
int pool_record_decode(const char *text, struct pool_record *rec, struct weft_err *err);
char *peer_record_encode(const struct peer_record *rec);
int peer_record_decode(const char *text, struct peer_record *rec, struct weft_err *err);
char *member_record_encode(const struct member_record *rec);
int member_record_decode(const char *text, struct member_record *rec, struct weft_err *err);
char *host_network_record_encode(const struct host_network_record *rec);
int host_network_record_decode(const char *text, struct host_network_record *rec,
                               struct weft_err *err);
char *host_endpoint_record_encode(const struct host_endpoint_record *rec);
int host_endpoint_record_decode(const char *text, struct host_endpoint_record *rec,
                                struct weft_err *err);

#endif
