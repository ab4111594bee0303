/*
 * ipam_api.c: the IpamDriver calls. Parse through request.c, allocate through
 * ipam/, answer. Pool IDs carry the subnet and range (ipam/pool_id.h), so no pool
 * state lives here but which pools are being created (creating_pools.h: how aux
 * addresses are told from --ip). Callers: dispatch.c, through the route table.
 */
#include <string.h>

#include "common/addr6.h"
#include "driver/api.h"
#include "driver/creating_pools.h"
#include "driver/handlers.h"
#include "driver/request.h"
#include "fabric/fabric.h"
#include "ipam/ipam.h"

int handle_ipam_capabilities(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err)
{
    (void)ctx;
    (void)req;
    return driver_answer(
        json_pack("{s:b, s:b}", "RequiresMACAddress", 0, "RequiresRequestReplay", 0), answer, err);
}

int handle_ipam_address_spaces(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                               struct weft_err *err)
{
    (void)ctx;
    (void)req;
    return driver_answer(json_pack("{s:s, s:s}", "LocalDefaultAddressSpace", DRIVER_ADDRESS_SPACE,
                                   "GlobalDefaultAddressSpace", DRIVER_ADDRESS_SPACE),
                         answer, err);
}

/* The canonical subnet of a pool ID ipam/ just wrote, of either family. */
static int pool_subnet(const char *pool_id, char subnet[ADDR_STR_MAX], struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id)) {
        struct ipam_pool6 pool6;
        if (ipam_pool6_parse(pool_id, &pool6, err) < 0)
            return -1;
        memcpy(subnet, pool6.subnet_text, ADDR_STR_MAX);
        return 0;
    }
    struct ipam_pool pool;
    if (ipam_pool_parse(pool_id, &pool, err) < 0)
        return -1;
    memcpy(subnet, pool.subnet_text, ADDR_STR_MAX);
    return 0;
}

int handle_ipam_pool_request(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err)
{
    struct request_pool r;
    char pool_id[IPAM_POOL_ID_MAX], subnet[ADDR_STR_MAX];
    /* The range is fixed cluster-wide before Docker goes on to the gateway; then
     * the pool is being created, so that its exact requests are aux addresses.
     * Both families alike. */
    if (request_pool(req, &r, err) < 0 ||
        ipam_request_pool(r.pool, r.sub_pool, pool_id, err) < 0 ||
        pool_subnet(pool_id, subnet, err) < 0 || driver_need_etcd(ctx, err) < 0 ||
        ipam_fix_pool(ctx->etcd, pool_id, err) < 0)
        return -1;
    creating_pool_begin(subnet);
    return driver_answer(json_pack("{s:s, s:s, s:{}}", "PoolID", pool_id, "Pool", subnet, "Data"),
                         answer, err);
}

int handle_ipam_pool_release(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err)
{
    (void)ctx;
    /* Addresses outlive the pool on this host: other hosts may still use the
     * overlay, and the gateway is released by its own ReleaseAddress. */
    struct request_address r;
    if (request_release_pool(req, &r, err) < 0)
        return -1;
    creating_pool_end(r.subnet);
    return driver_answer(json_object(), answer, err);
}

static bool claimed_elsewhere(void *fabric, const char *pool_id, uint32_t ip)
{
    return fabric_address_claimed_elsewhere(fabric, pool_id, ip);
}

static int claim(void *fabric, const char *pool_id, const char *ip, struct weft_err *err)
{
    return fabric_claim_address(fabric, pool_id, ip, err);
}

/* An endpoint address is claimed in the fabric before Docker hears it (fabric.h).
 * An exact address asked while the network is being created is an --aux-address
 * (creating_pools.h): reserved, and no endpoint's, so never claimed. */
int handle_ipam_address_request(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err)
{
    struct request_address r;
    char address[ADDR_STR_MAX];
    struct ipam_claims claims = {claimed_elsewhere, claim, ctx->fabric};
    if (request_address(req, &r, err) < 0 || driver_need_etcd(ctx, err) < 0)
        return -1;
    bool aux = r.address[0] && !r.gateway && creating_pool_is(r.subnet);
    if (aux ? ipam_reserve_aux(ctx->etcd, r.pool_id, ctx->host, r.address, address, err) < 0
            : ipam_request_address_claimed(ctx->etcd, r.pool_id, ctx->host, r.address, r.gateway,
                                           ctx->fabric ? &claims : NULL, address, err) < 0)
        return -1;
    return driver_answer(json_pack("{s:s, s:{}}", "Address", address, "Data"), answer, err);
}

int handle_ipam_address_release(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err)
{
    struct request_address r;
    /* The claim first: an address free in IPAM but still claimed here would be
     * refused to the next host that takes it. */
    if (request_release_address(req, &r, err) < 0 || driver_need_etcd(ctx, err) < 0 ||
        (ctx->fabric && !addr_text_is_ipv6(r.pool_id) && /* IPv6 is never claimed (ipam6.h) */
         fabric_unclaim_address(ctx->fabric, r.subnet, r.address, err) < 0) ||
        ipam_release_address(ctx->etcd, r.pool_id, ctx->host, r.address, err) < 0)
        return -1;
    return driver_answer(json_object(), answer, err);
}
