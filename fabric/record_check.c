/* record_check.c: the checks of fabric/ records described in record_check.h. */
#include "fabric/record_check.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "fabric/fabric.h"
#include "store/keys.h"
#include "store/records.h"
#include "tunnel/aead.h"
#include "tunnel/host_keys.h"
#include "vxlan/segment.h"

_Static_assert(RECORD_KEY_TEXT_MAX == TUNNEL_PUBLIC_KEY_TEXT_MAX, "a member record's key is a public key");

/* A VTEP must be one host's unicast address: a multicast one in the FDB floods
 * every overlay frame to a group; 0.0.0.0, :: or loopback send it nowhere useful.
 * IPv4, or IPv6 on an IPv6 underlay (issue 12). */
static int parse_vtep(const char *text, struct ip_addr *vtep, struct weft_err *err)
{
    if (addr_text_is_ipv6(text)) {
        struct ipv6_addr ip6;
        if (ipv6_parse(text, &ip6, err) < 0)
            return weft_err_wrap(err, "VTEP");
        *vtep = ip_addr_from_ipv6(ip6.bytes);
    } else {
        uint32_t ip;
        if (ipv4_parse(text, &ip, err) < 0)
            return weft_err_wrap(err, "VTEP");
        *vtep = ip_addr_from_ipv4(htonl(ip));
    }
    if (!ip_addr_is_unicast(vtep))
        return weft_err_set(err, -EPROTO, "VTEP %s is not a unicast host address", text);
    return 0;
}

/* The key's <host> as weft writes it (RFC 5952 for IPv6): one host, one prefix. */
static int parse_key_host(const char *text, struct ip_addr *host, struct weft_err *err)
{
    if (parse_vtep(text, host, err) < 0)
        return weft_err_wrap(err, "host in the key");
    char canonical[ADDR_STR_MAX];
    ip_addr_format(host, canonical);
    if (strcmp(canonical, text) != 0)
        return weft_err_set(err, -EPROTO, "host %s in the key is not written as weft writes it",
                            text);
    return 0;
}

int record_check_key(const char *key, struct fabric_record *rec, struct weft_err *err)
{
    struct fabric_key parts;
    memset(rec, 0, sizeof(*rec));
    if (key_parse_fabric(key, &parts) < 0)
        return weft_err_set(err, -EPROTO, "not a key weft writes");
    if (parse_key_host(parts.host, &rec->host, err) < 0)
        return -1;
    struct ipv4_subnet subnet;
    char canonical[ADDR_STR_MAX];
    if (ipv4_subnet_parse(parts.subnet, &subnet, err) < 0)
        return weft_err_wrap(err, "overlay subnet in the key");
    ipv4_subnet_format(&subnet, canonical);
    if (strcmp(canonical, parts.subnet) != 0)
        return weft_err_set(err, -EPROTO,
                            "overlay subnet %s in the key is not written as weft writes it",
                            parts.subnet);
    snprintf(rec->subnet, sizeof(rec->subnet), "%s", canonical);
    rec->is_peer = parts.is_peer;
    if (!rec->is_peer)
        return 0; /* a member's key is its host */
    uint32_t ip;
    if (ipv4_parse(parts.ip, &ip, err) < 0)
        return weft_err_wrap(err, "peer address in the key");
    if (!ipv4_subnet_contains(&subnet, ip) || ipv4_subnet_is_reserved(&subnet, ip))
        return weft_err_set(err, -EPROTO, "peer address %s is not a host address of %s", parts.ip,
                            rec->subnet);
    rec->addr = htonl(ip);
    return 0;
}

/* Whether text, words one space apart, has word (words it does not know are a
 * newer weft's: ignored). */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strstr(p, word)); p += n)
        if ((p == text || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

int record_check_body(const char *value, struct fabric_record *rec, struct weft_err *err)
{
    if (!rec->is_peer) {
        struct member_record member;
        struct ip_addr vtep;
        if (member_record_decode(value, &member, err) < 0 ||
            parse_vtep(member.vtep, &vtep, err) < 0)
            return -1;
        if (!ip_addr_equal(&vtep, &rec->host))
            return weft_err_set(err, -EPROTO,
                                "member body names VTEP %s, not the host whose key it is under",
                                member.vtep);
        rec->vtep = vtep;
        /* A key that does not parse would fail every packet to that host: refused here,
         * with the record, instead. */
        unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES];
        if (member.key[0] && tunnel_public_key_parse(member.key, public_key, err) < 0)
            return weft_err_wrap(err, "member body's key");
        snprintf(rec->key, sizeof(rec->key), "%.43s", member.key); /* parsed: 43 characters */
        rec->ciphers = 0;
        if (member.key[0] && tunnel_ciphers_parse(member.ciphers, &rec->ciphers, err) < 0)
            return weft_err_wrap(err, "member body's ciphers");
        rec->partial_csum = member.key[0] && has_word(member.offloads, "csum");
        return 0;
    }
    struct peer_record peer;
    uint32_t ip;
    if (peer_record_decode(value, &peer, err) < 0)
        return -1;
    if (ipv4_parse(peer.ip, &ip, err) < 0)
        return weft_err_wrap(err, "peer address in the body");
    if (htonl(ip) != rec->addr)
        return weft_err_set(err, -EPROTO, "peer body names address %s, its key another", peer.ip);
    /* No MAC: a claim made when the address was allocated (fabric/address_claims.c). */
    rec->claim_only = !peer.mac[0];
    memset(rec->mac, 0, sizeof(rec->mac));
    if ((!rec->claim_only && mac_parse(peer.mac, rec->mac, err) < 0) ||
        parse_vtep(peer.vtep, &rec->vtep, err) < 0)
        return -1;
    if (record_check_names(peer.names, err) < 0)
        return -1;
    memcpy(rec->names, peer.names, sizeof(rec->names));
    /* Whether it lies in the overlay's IPv6 pool is peers.c's to ask (it knows the pool). */
    rec->has_addr6 = peer.ip6[0] != '\0';
    memset(&rec->addr6, 0, sizeof(rec->addr6));
    if (rec->has_addr6 && ipv6_parse(peer.ip6, &rec->addr6, err) < 0)
        return weft_err_wrap(err, "peer IPv6 address in the body");
    /* Believed only from its owner's prefix: another host's key naming this VTEP is a
     * record that host may not write for it (store/keys.h). */
    if (!ip_addr_equal(&rec->vtep, &rec->host))
        return weft_err_set(
            err, -EPROTO, "peer body names VTEP %s, not the host whose key it is under", peer.vtep);
    return 0;
}

/* Whether key's last part is id: a record filed under one ID names no other. */
static bool key_names(const char *key, const char *id)
{
    const char *slash = strrchr(key ? key : "", '/');
    return slash && id[0] && strcmp(slash + 1, id) == 0;
}

static int check_mtu(int mtu, struct weft_err *err)
{
    if (mtu != 0 && (mtu < 68 || mtu > 65535))
        return weft_err_set(err, -EPROTO, "MTU %d out of range", mtu);
    return 0;
}

int record_check_host_network(const char *key, const char *value, struct host_network_record *rec,
                              struct ipv4_subnet *subnet, struct weft_err *err)
{
    if (host_network_record_decode(value, rec, err) < 0)
        return -1;
    if (!key_names(key, rec->network_id))
        return weft_err_set(err, -EPROTO, "network record names another network than its key");
    if (ipv4_subnet_parse(rec->subnet, subnet, err) < 0)
        return weft_err_wrap(err, "network record subnet");
    if (rec->vni == 0 || rec->vni > FABRIC_VNI_MAX)
        return weft_err_set(err, -EPROTO, "network record VNI %u out of range", (unsigned)rec->vni);
    return check_mtu(rec->mtu, err);
}

int record_check_host_endpoint(const char *key, const char *value, const struct ipv4_subnet *subnet,
                               struct host_endpoint_record *rec, uint32_t *ip, int *prefix_len,
                               uint8_t mac[6], struct weft_err *err)
{
    if (host_endpoint_record_decode(value, rec, err) < 0)
        return -1;
    if (!key_names(key, rec->endpoint_id))
        return weft_err_set(err, -EPROTO, "endpoint record names another endpoint than its key");
    if (ipv4_parse_with_prefix(rec->ip, ip, prefix_len, err) < 0)
        return weft_err_wrap(err, "endpoint record address");
    if (*prefix_len != subnet->prefix_len || !ipv4_subnet_contains(subnet, *ip) ||
        ipv4_subnet_is_reserved(subnet, *ip))
        return weft_err_set(err, -EPROTO,
                            "endpoint address %s is not a host address of its network", rec->ip);
    if (mac_parse(rec->mac, mac, err) < 0)
        return -1;
    /* "" is a record from before spares: the pair is named after the endpoint. */
    size_t len = strlen(rec->ifname);
    if (len && (len >= IF_NAMESIZE ||
                (strncmp(rec->ifname, "wh", 2) != 0 &&
                 strncmp(rec->ifname, SEGMENT_SPARE_PREFIX, strlen(SEGMENT_SPARE_PREFIX)) != 0)))
        return weft_err_set(err, -EPROTO, "endpoint interface %s is not one weft makes",
                            rec->ifname);
    return 0;
}

int record_check_overlay(const char *subnet, const char *value, struct overlay_record *rec,
                         struct weft_err *err)
{
    if (overlay_record_decode(value, rec, err) < 0)
        return -1;
    if (strcmp(rec->subnet, subnet) != 0)
        return weft_err_set(err, -EPROTO, "overlay record names another subnet than its key");
    if (rec->vni == 0 || rec->vni > FABRIC_VNI_MAX)
        return weft_err_set(err, -EPROTO, "overlay record VNI %u out of range", (unsigned)rec->vni);
    return check_mtu(rec->mtu, err);
}

void record_check_printable(const char *text, char *out, size_t out_len)
{
    size_t i = 0;
    for (; text && text[i] && i + 1 < out_len; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c >= ' ' && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (out_len)
        out[i] = '\0';
}

/* One DNS name of a names text: [start, end). */
static int check_name(const char *start, size_t len, struct weft_err *err)
{
    if (len == 0 || len > 253)
        return weft_err_set(err, -EPROTO, "names: a name is empty or longer than 253 bytes");
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = start[i];
        if (c == '.') {
            if (label == 0)
                return weft_err_set(err, -EPROTO, "names: %.*s has an empty label", (int)len,
                                    start);
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return weft_err_set(err, -EPROTO,
                                "names: %.*s is not a lowercase DNS name (a-z, 0-9, '-', '_')",
                                (int)(len > 64 ? 64 : len), start);
        if (++label > 63)
            return weft_err_set(err, -EPROTO, "names: a label of %.64s is over 63 bytes", start);
    }
    if (label == 0)
        return weft_err_set(err, -EPROTO, "names: %.*s ends with a dot", (int)len, start);
    return 0;
}

int record_check_names(const char *names, struct weft_err *err)
{
    const char *p = names;
    while (*p) {
        const char *space = strchr(p, ' ');
        size_t len = space ? (size_t)(space - p) : strlen(p);
        if (check_name(p, len, err) < 0)
            return -1;
        if (!space)
            break;
        p = space + 1;
        if (!*p)
            return weft_err_set(err, -EPROTO, "names: a space at the end");
    }
    return 0;
}

bool record_names_has(const char *names, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = names; len && *p;) {
        const char *space = strchr(p, ' ');
        size_t n = space ? (size_t)(space - p) : strlen(p);
        if (n == len && memcmp(p, name, len) == 0)
            return true;
        if (!space)
            break;
        p = space + 1;
    }
    return false;
}
