/* keys.c: builds and parses the etcd key layout documented in keys.h. */
#include "store/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* An address as one key level: IPv6's colons become dashes ("fd81::5" ->
 * "fd81--5"), which neither family's text holds, so the mapping reads back and
 * a key never carries the colons that URLs, etcdctl's prefixes and a future
 * host:port read as separators. IPv4 text is left as it is. */
static void part_encode(char *out, size_t n, const char *text)
{
    snprintf(out, n, "%s", text);
    for (char *p = out; *p; p++)
        if (*p == ':')
            *p = '-';
}

static void part_decode(char *text)
{
    for (char *p = text; *p; p++)
        if (*p == '-')
            *p = ':';
}

/* "10.77.0.0/24" -> "10.77.0.0_24", "fd81::/64" -> "fd81--_64": a slash would
 * add a key level. */
static void subnet_key(char *out, size_t n, const char *subnet)
{
    part_encode(out, n, subnet);
    char *slash = strchr(out, '/');
    if (slash)
        *slash = '_';
}

#define WITH_SK(subnet)                                                                            \
    char sk[64];                                                                                   \
    subnet_key(sk, sizeof(sk), subnet)

#define WITH_IP(ip)                                                                                \
    char ik[64];                                                                                   \
    part_encode(ik, sizeof(ik), ip)

/* A host level is its VTEP's text: an IPv6 one's colons become dashes too. */
#define WITH_HOST(host)                                                                            \
    char hk[64];                                                                                   \
    part_encode(hk, sizeof(hk), host)

void key_overlay(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "overlays/%s", sk);
}

void key_vni(char *buf, uint32_t vni)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "vnis/%08" PRIu32, vni);
}

void key_vni_prefix(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "vnis/");
}

void key_addr(char *buf, const char *subnet, const char *ip)
{
    WITH_SK(subnet);
    WITH_IP(ip);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/%s/%s", sk, ik);
}

void key_addr_prefix(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/%s/", sk);
}

#define POOL_LEAF "pool"

void key_pool(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/%s/" POOL_LEAF, sk);
}

bool key_is_pool(const char *key)
{
    const char *leaf = strrchr(key, '/');
    return leaf && strcmp(leaf + 1, POOL_LEAF) == 0;
}

void key_member(char *buf, const char *host, const char *subnet)
{
    WITH_HOST(host);
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/%s/member", hk, sk);
}

void key_peer(char *buf, const char *host, const char *subnet, const char *ip)
{
    WITH_HOST(host);
    WITH_SK(subnet);
    WITH_IP(ip);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/%s/peers/%s", hk, sk, ik);
}

void key_fabric_host_prefix(char *buf, const char *host)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/", hk);
}

void key_fabric_overlay_prefix(char *buf, const char *host, const char *subnet)
{
    WITH_HOST(host);
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/%s/", hk, sk);
}

void key_joined(char *buf, const char *subnet, const char *host)
{
    WITH_HOST(host);
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "joined/%s/%s", sk, hk);
}

void key_joined_prefix(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "joined/%s/", sk);
}

void key_host_alive(char *buf, const char *host)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/alive", hk);
}

void key_hosts_prefix(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/");
}

void key_host_prefix(char *buf, const char *host)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/", hk);
}

void key_overlays_root(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "overlays/");
}

void key_roles_root(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "roles/");
}

void key_reaper_role(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "roles/reaper");
}

void key_joined_root(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "joined/");
}

void key_addrs_root(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/");
}

void key_host_network(char *buf, const char *host, const char *network_id)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/networks/%s", hk, network_id);
}

void key_host_networks_prefix(char *buf, const char *host)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/networks/", hk);
}

void key_host_endpoint(char *buf, const char *host, const char *endpoint_id)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/endpoints/%s", hk, endpoint_id);
}

void key_host_endpoints_prefix(char *buf, const char *host)
{
    WITH_HOST(host);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/endpoints/", hk);
}

static int copy_part(char *dst, size_t dst_len, const char *start, const char *end)
{
    size_t len = (size_t)(end - start);
    if (end <= start || len >= dst_len)
        return -1;
    memcpy(dst, start, len);
    dst[len] = '\0';
    return 0;
}

/* <host>/<sk>/member or <host>/<sk>/peers/<ip>: exactly these levels, none empty. */
int key_parse_fabric(const char *key, struct fabric_key *out)
{
    memset(out, 0, sizeof(*out));
    size_t root_len = strlen(WEFT_KEY_FABRIC);
    if (strncmp(key, WEFT_KEY_FABRIC, root_len) != 0)
        return -1;
    const char *host = key + root_len;
    const char *sk = strchr(host, '/');
    const char *kind = sk ? strchr(sk + 1, '/') : NULL;
    if (!kind || copy_part(out->host, sizeof(out->host), host, sk) < 0 ||
        copy_part(out->subnet, sizeof(out->subnet), sk + 1, kind) < 0)
        return -1;
    if (strchr(out->host, ':'))
        return -1; /* weft writes an IPv6 host with dashes: another spelling is not its key */
    part_decode(out->host);
    kind++;
    if (strncmp(kind, "peers/", 6) == 0) {
        const char *ip = kind + 6;
        if (strchr(ip, '/') || copy_part(out->ip, sizeof(out->ip), ip, ip + strlen(ip)) < 0)
            return -1;
        part_decode(out->ip);
        out->is_peer = true;
    } else if (strcmp(kind, "member") != 0) {
        return -1; /* only the two kinds keys.h documents are ours to interpret */
    }
    char *underscore = strrchr(out->subnet, '_');
    if (!underscore)
        return -1;
    *underscore = '/';
    part_decode(out->subnet);
    return 0;
}

/* The one part of key after prefix, decoded into out; -1 when key is not under prefix
 * or its part holds one of refused. */
static int parse_last_part(const char *key, const char *prefix, const char *refused,
                           char out[WEFT_KEY_PART_MAX])
{
    size_t prefix_len = strlen(prefix);
    if (strncmp(key, prefix, prefix_len) != 0)
        return -1;
    const char *part = key + prefix_len;
    if (strpbrk(part, refused) || copy_part(out, WEFT_KEY_PART_MAX, part, part + strlen(part)) < 0)
        return -1;
    part_decode(out);
    return 0;
}

int key_parse_joined(const char *key, const char *subnet, char host[WEFT_KEY_PART_MAX])
{
    char prefix[WEFT_KEY_MAX];
    key_joined_prefix(prefix, subnet);
    return parse_last_part(key, prefix, "/:", host);
}

int key_parse_addr(const char *key, const char *subnet, char ip[WEFT_KEY_PART_MAX])
{
    char prefix[WEFT_KEY_MAX];
    key_addr_prefix(prefix, subnet);
    return parse_last_part(key, prefix, "/", ip);
}
