/*
 * record_check.h: what the watch may believe of a record under fabric/.
 *
 * A record in the store is input from whoever can write to etcd, and is checked
 * as strictly as a request from Docker before it reaches the remote table (and
 * from there the kernel). Owns the rules that need nothing but the record: its key
 * is one weft writes (fabric/<host>/<sk>/peers/<ip> or fabric/<host>/<sk>/member,
 * with a unicast <host> and a valid overlay subnet), its body decodes and names the
 * same address as its key and the key's <host> as its VTEP (a record is believed only
 * from its owner's prefix, which only the owner may write: store/keys.h), a peer's
 * address is a host address of that subnet, VTEPs are unicast IPv4 or IPv6 (a key's <host> written
 * as weft writes it, RFC 5952), MACs unicast. Whether a VTEP's family is this host's underlay's is
 * peers.c's to ask. The rules that
 * need this host's state (is the VTEP a member, is the address held here) are peers.c's. Also this
 * host's own records and overlay records (below). Pure functions; callers: fabric/ (peers.c,
 * restore.c, overlay_claim.c) and tests.
 */
#ifndef WEFT_RECORD_CHECK_H
#define WEFT_RECORD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/addr.h"
#include "common/addr6.h"
#include "common/ip_addr.h"
#include "store/records.h"

/* A fabric/ record as the remote table holds it. Addresses in network order. */
/* A public key's text (tunnel/host_keys.h: TUNNEL_PUBLIC_KEY_TEXT_MAX) and its NUL. */
#define RECORD_KEY_TEXT_MAX 44

struct fabric_record {
    struct ip_addr host;       /* from the key: the VTEP of the host whose prefix holds it */
    char subnet[ADDR_STR_MAX]; /* canonical, "10.77.0.0/24" */
    bool is_peer;              /* false: a member */
    uint32_t addr;             /* from the key: the peer's address (0 for a member) */
    uint8_t mac[6];            /* peers; from the body */
    bool claim_only;           /* a peer body without a MAC: the address claimed at its
                                  allocation, before its endpoint exists (never programmed) */
    struct ip_addr vtep;       /* from the body: always host, once the body passed */
    char names[RECORD_NAMES_MAX]; /* peers: its container's DNS names, space-separated */
    char key[RECORD_KEY_TEXT_MAX]; /* members of encrypted overlays: the host's public key
                                      (43 base64url characters, checked); else "" */
    unsigned ciphers; /* members with a key: the ciphers the host runs (tunnel/aead.h) */
    bool partial_csum; /* members with a key: the host takes partial TCP checksums */
    bool has_addr6;   /* peers on dual-stack overlays: their IPv6 address */
    struct ipv6_addr addr6;
};

/* Checks a names text as a peer record carries it: DNS names (labels of a-z, 0-9,
 * '-' and '_', 1 to 63 bytes, joined by dots, at most 253 bytes), lowercase, one
 * space between two, none doubled. "" passes. 0, or -1 with a message. */
int record_check_names(const char *names, struct weft_err *err);
/* Whether names (a text that passed record_check_names) holds name. */
bool record_names_has(const char *names, const char *name);

/* Checks a key and fills host, subnet, is_peer and addr. 0, or -1 with a message. */
int record_check_key(const char *key, struct fabric_record *rec, struct weft_err *err);
/* Checks the body of a record whose key passed record_check_key, and fills mac and
 * vtep. 0, or -1 with a message naming what is wrong. */
int record_check_body(const char *value, struct fabric_record *rec, struct weft_err *err);

/*
 * This host's own records under hosts/<host>/, read back at start-up. They
 * name kernel objects the daemon will later delete, so they are held to the same
 * rules: the ID in the body is the one in the key, addresses and VNIs in range,
 * and an endpoint's interface one weft names (never, say, the underlay's eth0).
 */
/* A hosts/<host>/networks/<nid> record: fills rec and subnet. */
int record_check_host_network(const char *key, const char *value, struct host_network_record *rec,
                              struct ipv4_subnet *subnet, struct weft_err *err);
/* A hosts/<host>/endpoints/<eid> record of a network on subnet: fills rec, ip
 * (host order), prefix_len and mac. */
int record_check_host_endpoint(const char *key, const char *value, const struct ipv4_subnet *subnet,
                               struct host_endpoint_record *rec, uint32_t *ip, int *prefix_len,
                               uint8_t mac[6], struct weft_err *err);
/* An overlays/<sk> record of subnet: fills rec. */
int record_check_overlay(const char *subnet, const char *value, struct overlay_record *rec,
                         struct weft_err *err);

/* Copies text (a key, or a message quoting a record) for a log line: at most
 * out_len - 1 bytes, anything but printable ASCII and every quote made '?', so a
 * record cannot break the line or forge fields (print it quoted). */
void record_check_printable(const char *text, char *out, size_t out_len);

#endif
