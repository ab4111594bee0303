/*
 * fake_domain.c: the fuzz build's fabric_* and ipam_* (see fake_domain.h).
 * Linked instead of fabric/ and ipam/ipam.c, never into the daemon or tests.
 */
#include "tests/fuzz/fake_domain.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr6.h"
#include "driver/request.h"
#include "ipam/ipam.h"

/* Only their addresses are used. */
static char fabric_token, etcd_token;

struct fabric *fake_fabric(void)
{
    return (struct fabric *)&fabric_token;
}

struct etcd *fake_etcd(void)
{
    return (struct etcd *)&etcd_token;
}

static void check_handle(const void *handle, const void *token)
{
    if (handle != token)
        abort(); /* the driver must not call the domain without it (driver_need_*) */
}

/* A validated ID: 1 to 64 ASCII letters and digits, terminated. */
static void check_id(const char *id)
{
    size_t len = strnlen(id, FABRIC_ID_MAX);
    if (len == 0 || len >= FABRIC_ID_MAX)
        abort();
    for (size_t i = 0; i < len; i++) {
        if (!isascii((unsigned char)id[i]) || !isalnum((unsigned char)id[i]))
            abort();
    }
}

/* An IPv6 pool ID as ipam/ hands them out (subnet or subnet@range), canonical;
 * out gets its subnet. */
static void check_pool_id6(const char *pool_id, char subnet[ADDR_STR_MAX])
{
    struct ipam_pool6 pool;
    char canonical[IPAM_POOL_ID_MAX];
    if (ipam_pool6_parse(pool_id, &pool, NULL) < 0)
        abort();
    ipam_pool6_format(&pool, canonical);
    if (strcmp(canonical, pool_id) != 0)
        abort();
    memcpy(subnet, pool.subnet_text, ADDR_STR_MAX);
}

/* An IPv6 request: the real ipam6.c is not linked; its inputs are checked and the
 * pool's first host answered. */
static int fake_ipv6_address(const char *pool_id, const char *ip, char out[ADDR_STR_MAX],
                             struct weft_err *err)
{
    struct ipv6_addr a;
    char subnet[ADDR_STR_MAX];
    check_pool_id6(pool_id, subnet);
    if (ip && *ip && ipv6_parse(ip, &a, NULL) < 0)
        abort(); /* request.c parses it first */
    if (out)
        snprintf(out, ADDR_STR_MAX, "%.*s1/%s", (int)(strchr(subnet, '/') - subnet), subnet,
                 strchr(subnet, '/') + 1);
    (void)err;
    return 0;
}

/* A validated pool: parses, and is already in canonical form. */
static void check_pool(const char *pool, struct ipv4_subnet *out)
{
    char canonical[ADDR_STR_MAX];
    if (strnlen(pool, ADDR_STR_MAX) >= ADDR_STR_MAX || ipv4_subnet_parse(pool, out, NULL) < 0)
        abort();
    ipv4_subnet_format(out, canonical);
    if (strcmp(canonical, pool) != 0)
        abort();
}

/* A pool ID as ipam/ hands them out (ipam/pool_id.h), canonical; *out its subnet. */
static void check_pool_id(const char *pool_id, struct ipv4_subnet *out)
{
    struct ipam_pool pool;
    char canonical[IPAM_POOL_ID_MAX];
    if (ipam_pool_parse(pool_id, &pool, NULL) < 0)
        abort();
    ipam_pool_format(&pool, canonical);
    if (strcmp(canonical, pool_id) != 0)
        abort();
    *out = pool.subnet;
}

/* Deterministic outcome: about half the IDs "exist". */
static int outcome(const char *id, const char *what, struct weft_err *err)
{
    unsigned sum = 0;
    for (const char *p = id; *p; p++)
        sum += (unsigned char)*p;
    if (sum & 1)
        return weft_err_set(err, -ENOENT, "fake: %s %s does not exist", what, id);
    return 0;
}

int fabric_network_create(struct fabric *fabric, const struct fabric_network_spec *spec,
                          struct weft_err *err)
{
    struct ipv4_subnet subnet;
    check_handle(fabric, &fabric_token);
    check_id(spec->network_id);
    check_pool(spec->subnet, &subnet);
    if (spec->vni > FABRIC_VNI_MAX)
        abort();
    if (spec->mtu != 0 && (spec->mtu < REQUEST_MTU_MIN || spec->mtu > REQUEST_MTU_MAX))
        abort();
    return outcome(spec->network_id, "network", err);
}

int fabric_network_delete(struct fabric *fabric, const char *network_id, struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(network_id);
    return outcome(network_id, "network", err);
}

int fabric_endpoint_create(struct fabric *fabric, const struct fabric_endpoint_spec *spec,
                           uint8_t mac_out[6], struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(spec->network_id);
    check_id(spec->endpoint_id);
    if (spec->prefix_len < REQUEST_PREFIX_MIN || spec->prefix_len > REQUEST_PREFIX_MAX)
        abort();
    if (spec->has_mac && (spec->mac[0] & 1))
        abort(); /* multicast: mac_parse refuses it */
    static const uint8_t derived[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
    memcpy(mac_out, spec->has_mac ? spec->mac : derived, 6);
    return outcome(spec->endpoint_id, "endpoint", err);
}

int fabric_endpoint_delete(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                           struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(network_id);
    check_id(endpoint_id);
    return outcome(endpoint_id, "endpoint", err);
}

int fabric_join(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                struct fabric_join_info *out, struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(network_id);
    check_id(endpoint_id);
    snprintf(out->src_name, sizeof(out->src_name), "wvc%.8s", endpoint_id);
    return outcome(endpoint_id, "endpoint", err);
}

int fabric_leave(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                 struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(network_id);
    check_id(endpoint_id);
    return outcome(endpoint_id, "endpoint", err);
}

int fabric_endpoint_info(struct fabric *fabric, const char *network_id, const char *endpoint_id,
                         struct fabric_endpoint_info *out, struct weft_err *err)
{
    check_handle(fabric, &fabric_token);
    check_id(network_id);
    check_id(endpoint_id);
    snprintf(out->ip, sizeof(out->ip), "10.77.0.5/24");
    snprintf(out->mac, sizeof(out->mac), "02:42:0a:4d:00:05");
    snprintf(out->vtep, sizeof(out->vtep), "192.168.77.1");
    snprintf(out->bridge, sizeof(out->bridge), "wbr%.8s", network_id);
    snprintf(out->vxlan, sizeof(out->vxlan), "wvx%.8s", network_id);
    out->vni = 4242;
    out->mtu = 1450;
    return outcome(endpoint_id, "endpoint", err);
}

/* The real one is pure; this repeats its contract (refuse empty, canonicalize). */
int ipam_request_pool(const char *requested, const char *sub_pool, char pool_id[IPAM_POOL_ID_MAX],
                      struct weft_err *err)
{
    struct ipam_pool pool;
    if (!requested || !*requested)
        return weft_err_set(err, -EINVAL, "fake: weft needs --subnet");
    if (addr_text_is_ipv6(requested)) {
        struct ipam_pool6 pool6;
        if (ipam_pool6_new(requested, sub_pool, &pool6, err) < 0)
            return -1;
        ipam_pool6_format(&pool6, pool_id);
        return 0;
    }
    if (ipam_pool_new(requested, sub_pool, &pool, err) < 0)
        return -1;
    ipam_pool_format(&pool, pool_id);
    return 0;
}

int ipam_fix_pool(struct etcd *etcd, const char *pool_id, struct weft_err *err)
{
    struct ipv4_subnet subnet;
    check_handle(etcd, &etcd_token);
    if (addr_text_is_ipv6(pool_id)) {
        char subnet6[ADDR_STR_MAX];
        check_pool_id6(pool_id, subnet6);
    } else {
        check_pool_id(pool_id, &subnet);
    }
    return outcome(pool_id, "pool", err);
}

int ipam_reserve_aux(struct etcd *etcd, const char *pool_id, const char *host, const char *wanted,
                     char out[ADDR_STR_MAX], struct weft_err *err)
{
    struct ipv4_subnet pool;
    uint32_t ip;
    check_handle(etcd, &etcd_token);
    if (addr_text_is_ipv6(pool_id)) {
        if (!host || !*host)
            abort();
        return fake_ipv6_address(pool_id, wanted, out, err);
    }
    check_pool_id(pool_id, &pool);
    if (!host || !*host || ipv4_parse(wanted, &ip, NULL) < 0)
        abort(); /* request.c parses it first */
    if (!ipv4_subnet_contains(&pool, ip) || ipv4_subnet_is_reserved(&pool, ip))
        return weft_err_set(err, -ERANGE, "fake: %s is not a host address of %s", wanted, pool_id);
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    snprintf(out, ADDR_STR_MAX, "%.15s/%d", text, pool.prefix_len);
    return 0;
}

int ipam_request_address_claimed(struct etcd *etcd, const char *pool_id, const char *host,
                                 const char *wanted, bool gateway,
                                 const struct ipam_claims *claims, char out[ADDR_STR_MAX],
                                 struct weft_err *err)
{
    struct ipv4_subnet pool;
    uint32_t ip;
    check_handle(etcd, &etcd_token);
    if (claims)
        check_handle(claims->ctx, &fabric_token);
    if (addr_text_is_ipv6(pool_id))
        return fake_ipv6_address(pool_id, wanted, out, err);
    check_pool_id(pool_id, &pool);
    if (!host || !*host)
        abort();
    if (wanted && *wanted) {
        if (ipv4_parse(wanted, &ip, NULL) < 0)
            abort(); /* request.c parses it first */
        if (!ipv4_subnet_contains(&pool, ip) || ipv4_subnet_is_reserved(&pool, ip))
            return weft_err_set(err, -ERANGE, "fake: %s is not a host address of %s", wanted,
                                pool_id);
    } else {
        ip = gateway ? ipv4_subnet_first_host(&pool) : ipv4_subnet_last_host(&pool);
    }
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    snprintf(out, ADDR_STR_MAX, "%.15s/%d", text, pool.prefix_len);
    return 0;
}

int ipam_release_address(struct etcd *etcd, const char *pool_id, const char *host,
                         const char *ip, struct weft_err *err)
{
    struct ipv4_subnet pool;
    uint32_t addr;
    check_handle(etcd, &etcd_token);
    if (!host || !*host)
        abort();
    if (addr_text_is_ipv6(pool_id))
        return fake_ipv6_address(pool_id, ip, NULL, err);
    check_pool_id(pool_id, &pool);
    if (ipv4_parse(ip, &addr, NULL) < 0)
        abort();
    if (!ipv4_subnet_contains(&pool, addr))
        return weft_err_set(err, -ERANGE, "fake: %s is not in pool %s", ip, pool_id);
    return 0;
}

int fabric_claim_address(struct fabric *fabric, const char *subnet, const char *ip,
                         struct weft_err *err)
{
    (void)err;
    check_handle(fabric, &fabric_token);
    if (!subnet || ipv4_parse(ip, &(uint32_t){0}, NULL) < 0)
        abort(); /* IPAM hands over only addresses it formatted */
    return 0;
}

int fabric_unclaim_address(struct fabric *fabric, const char *subnet, const char *ip,
                           struct weft_err *err)
{
    (void)subnet;
    (void)ip;
    (void)err;
    check_handle(fabric, &fabric_token);
    return 0;
}

bool fabric_address_claimed_elsewhere(struct fabric *fabric, const char *subnet, uint32_t ip)
{
    (void)subnet;
    (void)ip;
    check_handle(fabric, &fabric_token);
    return false;
}
