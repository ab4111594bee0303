/*
 * network_api.c: the NetworkDriver calls. Each handler parses its request
 * through request.c, calls fabric/, and builds the answer; no domain logic
 * lives here. Callers: dispatch.c, through the route table.
 */
#include <errno.h>
#include <string.h>

#include "driver/creating_pools.h"
#include "driver/handlers.h"
#include "driver/request.h"
#include "fabric/fabric.h"

int handle_network_capabilities(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err)
{
    (void)ctx;
    (void)req;
    /* local: Docker wants no cluster store; global: containers reach across hosts. */
    return driver_answer(json_pack("{s:s, s:s}", "Scope", "local", "ConnectivityScope", "global"),
                         answer, err);
}

int handle_network_create(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err)
{
    struct fabric_network_spec spec;
    if (request_network_create(req, &spec, err) < 0)
        return -1;
    /* Docker is past the aux addresses (creating_pools.h) of every pool of the
     * network, whatever happens next: a later exact request is an --ip/--ip6. */
    creating_pool_end(spec.subnet);
    for (int i = 0; i < spec.extra_count; i++)
        creating_pool_end(spec.extra_subnets[i]);
    if (spec.subnet6[0])
        creating_pool_end(spec.subnet6);
    for (int i = 0; i < spec.extra6_count; i++)
        creating_pool_end(spec.extra_subnets6[i]);
    if (driver_need_fabric(ctx, err) < 0 || fabric_network_create(ctx->fabric, &spec, err) < 0)
        return -1;
    return driver_answer(json_object(), answer, err);
}

int handle_network_delete(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err)
{
    char network_id[FABRIC_ID_MAX];
    if (request_ids(req, network_id, NULL, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_network_delete(ctx->fabric, network_id, err) < 0)
        return -1;
    return driver_answer(json_object(), answer, err);
}

int handle_endpoint_create(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err)
{
    struct fabric_endpoint_spec spec;
    uint8_t mac[6];
    if (request_endpoint_create(req, &spec, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_endpoint_create(ctx->fabric, &spec, mac, err) < 0)
        return -1;
    /* Docker refuses an answer that repeats a field the request set. */
    if (spec.has_mac)
        return driver_answer(json_pack("{s:{}}", "Interface"), answer, err);
    char text[18];
    mac_format(mac, text);
    return driver_answer(json_pack("{s:{s:s}}", "Interface", "MacAddress", text), answer, err);
}

int handle_endpoint_delete(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err)
{
    char network_id[FABRIC_ID_MAX], endpoint_id[FABRIC_ID_MAX];
    if (request_ids(req, network_id, endpoint_id, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_endpoint_delete(ctx->fabric, network_id, endpoint_id, err) < 0)
        return -1;
    return driver_answer(json_object(), answer, err);
}

int handle_endpoint_oper_info(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                              struct weft_err *err)
{
    char network_id[FABRIC_ID_MAX], endpoint_id[FABRIC_ID_MAX];
    struct fabric_endpoint_info info;
    memset(&info, 0, sizeof(info));
    if (request_ids(req, network_id, endpoint_id, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_endpoint_info(ctx->fabric, network_id, endpoint_id, &info, err) < 0)
        return -1;
    /* An encrypted overlay's uplink is its TAP: named "tap" there, "vxlan" otherwise. */
    return driver_answer(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:b}}", "Value",
                                   "ip", info.ip, "ip6", info.ip6, "mac", info.mac, "vtep", info.vtep, "bridge",
                                   info.bridge, info.encrypted ? "tap" : "vxlan", info.vxlan,
                                   "vni", (json_int_t)info.vni, "mtu", info.mtu, "encrypted",
                                   info.encrypted),
                         answer, err);
}

int handle_endpoint_join(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                         struct weft_err *err)
{
    char network_id[FABRIC_ID_MAX], endpoint_id[FABRIC_ID_MAX];
    struct fabric_join_info info;
    memset(&info, 0, sizeof(info));
    if (request_ids(req, network_id, endpoint_id, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_join(ctx->fabric, network_id, endpoint_id, &info, err) < 0)
        return -1;
    /* The network's other subnets are on the same segment: connected routes (type 1). */
    json_t *routes = json_array();
    for (int i = 0; routes && i < info.onlink_count; i++)
        if (json_array_append_new(routes, json_pack("{s:s, s:i, s:s}", "Destination",
                                                    info.onlink[i], "RouteType", 1, "NextHop",
                                                    "")) < 0) {
            json_decref(routes);
            routes = NULL;
        }
    if (!routes)
        return weft_err_set(err, -ENOMEM, "out of memory");
    /* No Gateway: Docker adds its gwbridge for outside access unless --internal. */
    return driver_answer(json_pack("{s:{s:s, s:s}, s:s, s:s, s:o, s:b}", "InterfaceName",
                                   "SrcName", info.src_name, "DstPrefix", "eth", "Gateway", "",
                                   "GatewayIPv6", "", "StaticRoutes", routes,
                                   "DisableGatewayService", 0),
                         answer, err);
}

int handle_endpoint_leave(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err)
{
    char network_id[FABRIC_ID_MAX], endpoint_id[FABRIC_ID_MAX];
    if (request_ids(req, network_id, endpoint_id, err) < 0 || driver_need_fabric(ctx, err) < 0 ||
        fabric_leave(ctx->fabric, network_id, endpoint_id, err) < 0)
        return -1;
    return driver_answer(json_object(), answer, err);
}

/* Discovery and external connectivity: weft learns peers from etcd and leaves
 * port publishing to Docker's gwbridge, so these have nothing to do. */
int handle_network_nothing(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err)
{
    (void)ctx;
    (void)req;
    return driver_answer(json_object(), answer, err);
}

int handle_network_swarm(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                         struct weft_err *err)
{
    (void)ctx;
    (void)req;
    (void)answer;
    return weft_err_set(err, -EOPNOTSUPP, "weft does not support Swarm mode");
}
