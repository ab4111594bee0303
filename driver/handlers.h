/*
 * handlers.h: private to driver/. The shape every call handler has, so
 * dispatch.c can route paths through one table. Callers: the driver/ sources only.
 */
#ifndef WEFT_DRIVER_HANDLERS_H
#define WEFT_DRIVER_HANDLERS_H

#include <jansson.h>

#include "common/err.h"
#include "driver/api.h"

/* Validates req, calls the domain, and on success sets *answer to a new JSON
 * object (owned by the caller). Returns -1 with a user message in err. A
 * handler touches ctx->fabric / ctx->etcd only after validation, and only
 * through driver_need_fabric / driver_need_etcd. */
typedef int (*driver_handler_fn)(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                 struct weft_err *err);

/* Whether the domain is there (tests and early startup run without it). */
int driver_need_fabric(const struct driver_ctx *ctx, struct weft_err *err);
int driver_need_etcd(const struct driver_ctx *ctx, struct weft_err *err);
/* Takes a json_pack result: -1 ("out of memory") when it is NULL. */
int driver_answer(json_t *built, json_t **answer, struct weft_err *err);

/* NetworkDriver, in network_api.c. */
int handle_network_capabilities(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err);
int handle_network_create(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err);
int handle_network_delete(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err);
int handle_endpoint_create(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err);
int handle_endpoint_delete(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err);
int handle_endpoint_oper_info(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                              struct weft_err *err);
int handle_endpoint_join(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                         struct weft_err *err);
int handle_endpoint_leave(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                          struct weft_err *err);
int handle_network_nothing(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err);
int handle_network_swarm(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                         struct weft_err *err);

/* IpamDriver, in ipam_api.c. */
int handle_ipam_capabilities(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err);
int handle_ipam_address_spaces(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                               struct weft_err *err);
int handle_ipam_pool_request(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err);
int handle_ipam_pool_release(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                             struct weft_err *err);
int handle_ipam_address_request(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err);
int handle_ipam_address_release(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                                struct weft_err *err);

#endif
