/* keys.c: builds and parses the etcd key layout documented in keys.h. */
#include "store/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "10.77.0.0/24" -> "10.77.0.0_24": a slash would add a key level. */
static void subnet_key(char *out, size_t n, const char *subnet)
{
    snprintf(out, n, "%s", subnet);
    char *slash = strchr(out, '/');
    if (slash)
        *slash = '_';
}

#define WITH_SK(subnet)                                                                            \
    char sk[64];                                                                                   \
    subnet_key(sk, sizeof(sk), subnet)

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
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/%s/%s", sk, ip);
}

void key_addr_prefix(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/%s/", sk);
}

void key_member(char *buf, const char *subnet, const char *vtep)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/members/%s", sk, vtep);
}

void key_member_prefix(char *buf, const char *subnet)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/members/", sk);
}

void key_peer(char *buf, const char *subnet, const char *ip)
{
    WITH_SK(subnet);
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_FABRIC "%s/peers/%s", sk, ip);
}

void key_host_alive(char *buf, const char *host)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/alive", host);
}

void key_hosts_prefix(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/");
}

void key_addrs_root(char *buf)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "addrs/");
}

void key_host_network(char *buf, const char *host, const char *network_id)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/networks/%s", host, network_id);
}

void key_host_networks_prefix(char *buf, const char *host)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/networks/", host);
}

void key_host_endpoint(char *buf, const char *host, const char *endpoint_id)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/endpoints/%s", host, endpoint_id);
}

void key_host_endpoints_prefix(char *buf, const char *host)
{
    snprintf(buf, WEFT_KEY_MAX, WEFT_KEY_ROOT "hosts/%s/endpoints/", host);
}

static int copy_part(char *dst, int dst_len, const char *start, const char *end)
{
    int len = (int)(end - start);
    if (len <= 0 || len >= dst_len)
        return -1;
    memcpy(dst, start, (size_t)len);
    dst[len] = '\0';
    return 0;
}

int key_parse_fabric(const char *key, char *subnet, int subnet_len, char *kind, int kind_len,
                     char *name, int name_len)
{
    size_t root_len = strlen(WEFT_KEY_FABRIC);
    if (strncmp(key, WEFT_KEY_FABRIC, root_len) != 0)
        return -1;
    const char *sk = key + root_len;
    const char *kind_start = strchr(sk, '/');
    if (!kind_start)
        return -1;
    const char *name_start = strchr(kind_start + 1, '/');
    if (!name_start || strchr(name_start + 1, '/'))
        return -1;
    if (copy_part(subnet, subnet_len, sk, kind_start) < 0 ||
        copy_part(kind, kind_len, kind_start + 1, name_start) < 0 ||
        copy_part(name, name_len, name_start + 1, name_start + 1 + strlen(name_start + 1)) < 0)
        return -1;
    /* Only the two kinds keys.h documents: anything else is not ours to interpret. */
    if (strcmp(kind, "members") != 0 && strcmp(kind, "peers") != 0)
        return -1;
    char *underscore = strrchr(subnet, '_');
    if (!underscore)
        return -1;
    *underscore = '/';
    return 0;
}
