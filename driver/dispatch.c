/*
 * dispatch.c: driver_handle (api.h). Routes "/Interface.Method" through one
 * table, turns the body into JSON, and turns a handler's result or error into
 * the answer Docker reads. Callers: daemon/http.c, tests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/weft_metrics.h"
#include "driver/api.h"
#include "driver/handlers.h"

/* A body this large or this deep is no Docker request; refusing it before
 * parsing keeps jansson's recursion shallow. */
#define BODY_MAX (1024 * 1024)
#define DEPTH_MAX 64

struct route {
    const char *path;
    driver_handler_fn handler;
};

static int plugin_activate(struct driver_ctx *ctx, const json_t *req, json_t **answer,
                           struct weft_err *err)
{
    (void)ctx;
    (void)req;
    return driver_answer(json_pack("{s:[s,s]}", "Implements", "NetworkDriver", "IpamDriver"),
                         answer, err);
}

static const struct route routes[] = {
    {"/Plugin.Activate", plugin_activate},
    {"/NetworkDriver.GetCapabilities", handle_network_capabilities},
    {"/NetworkDriver.CreateNetwork", handle_network_create},
    {"/NetworkDriver.DeleteNetwork", handle_network_delete},
    {"/NetworkDriver.CreateEndpoint", handle_endpoint_create},
    {"/NetworkDriver.DeleteEndpoint", handle_endpoint_delete},
    {"/NetworkDriver.EndpointOperInfo", handle_endpoint_oper_info},
    {"/NetworkDriver.Join", handle_endpoint_join},
    {"/NetworkDriver.Leave", handle_endpoint_leave},
    {"/NetworkDriver.DiscoverNew", handle_network_nothing},
    {"/NetworkDriver.DiscoverDelete", handle_network_nothing},
    {"/NetworkDriver.ProgramExternalConnectivity", handle_network_nothing},
    {"/NetworkDriver.RevokeExternalConnectivity", handle_network_nothing},
    {"/NetworkDriver.AllocateNetwork", handle_network_swarm},
    {"/NetworkDriver.FreeNetwork", handle_network_swarm},
    {"/IpamDriver.GetCapabilities", handle_ipam_capabilities},
    {"/IpamDriver.GetDefaultAddressSpaces", handle_ipam_address_spaces},
    {"/IpamDriver.RequestPool", handle_ipam_pool_request},
    {"/IpamDriver.ReleasePool", handle_ipam_pool_release},
    {"/IpamDriver.RequestAddress", handle_ipam_address_request},
    {"/IpamDriver.ReleaseAddress", handle_ipam_address_release},
};

int driver_need_fabric(const struct driver_ctx *ctx, struct weft_err *err)
{
    if (!ctx || !ctx->fabric)
        return weft_err_set(err, -EAGAIN, "weft is not ready: the fabric is not open yet");
    return 0;
}

int driver_need_etcd(const struct driver_ctx *ctx, struct weft_err *err)
{
    if (!ctx || !ctx->etcd || !ctx->host)
        return weft_err_set(err, -EAGAIN, "weft is not ready: not connected to the cluster store");
    return 0;
}

int driver_answer(json_t *built, json_t **answer, struct weft_err *err)
{
    if (!built)
        return weft_err_set(err, -ENOMEM, "out of memory building the answer");
    *answer = built;
    return 0;
}

static const struct route *find_route(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].path, path) == 0)
            return &routes[i];
    }
    return NULL;
}

/* Nesting depth of the JSON text, counting brackets outside strings. */
static size_t json_depth(const char *text, size_t len)
{
    size_t depth = 0, max = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return max;
}

static bool all_space(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return false;
    }
    return true;
}

/* Empty bodies are {} (Docker sends none for argument-less calls). */
static int parse_body(const char *body, size_t len, json_t **out, struct weft_err *err)
{
    if (!body || all_space(body, len)) {
        *out = json_object();
        return *out ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
    }
    if (len > BODY_MAX)
        return weft_err_set(err, -E2BIG, "request body is too large (%zu bytes, at most %d)", len,
                            BODY_MAX);
    if (json_depth(body, len) > DEPTH_MAX)
        return weft_err_set(err, -EINVAL, "request body nests deeper than %d levels", DEPTH_MAX);
    json_error_t jerr;
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        /* jansson's text names its own flag here; say what is wrong instead,
         * deciding on its error code rather than its words */
        if (json_error_code(&jerr) == json_error_null_character)
            return weft_err_set(err, -EINVAL,
                                "request body is not valid JSON: strings may not contain NUL "
                                "(\\u0000) (line %d, column %d)",
                                jerr.line, jerr.column);
        return weft_err_set(err, -EINVAL, "request body is not valid JSON: %s (line %d, column %d)",
                            jerr.text, jerr.line, jerr.column);
    }
    if (!json_is_object(req)) {
        json_decref(req);
        return weft_err_set(err, -EINVAL, "request body must be a JSON object");
    }
    *out = req;
    return 0;
}

/* Messages echo request text; keep them printable ASCII so the answer always
 * encodes and a log line stays one line. */
static void sanitize(char *text, bool for_log)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || (for_log && *p == '"'))
            *p = for_log && *p == '"' ? '\'' : '?';
    }
}

void driver_error_answer(int status, const char *msg, struct driver_response *out)
{
    char text[WEFT_ERR_MAX];
    snprintf(text, sizeof(text), "%s", msg ? msg : "");
    sanitize(text, false);
    json_t *obj = json_pack("{s:s}", "Err", text);
    out->status = status;
    out->body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!out->body)
        out->body = strdup(DRIVER_OOM_ANSWER);
}

/* The status is the error's kind: -ENOSYS (no such call) is Docker's 404, which
 * it reads as "not implemented"; every other failure is a 500 with the message. */
static int status_of(const struct weft_err *err)
{
    return err->code == -ENOSYS ? 404 : 500;
}

/* " network=ID endpoint=ID" for the IDs the request names (NetworkID, EndpointID),
 * cut to 12 characters as every log line shows them; letters and digits only, so a
 * hostile ID cannot break the line. "" when it names neither. */
static void request_ids(const json_t *req, char *out, size_t cap)
{
    static const struct {
        const char *member, *key;
    } ids[] = {{"NetworkID", "network"}, {"EndpointID", "endpoint"}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const char *id = json_string_value(json_object_get(req, ids[i].member));
        if (!id || !*id)
            continue;
        char shown[13];
        size_t n = 0;
        for (; n < sizeof(shown) - 1 && id[n]; n++)
            shown[n] = isalnum((unsigned char)id[n]) ? id[n] : '?';
        shown[n] = '\0';
        int w = snprintf(out + len, cap - len, " %s=%s", ids[i].key, shown);
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
    }
}

/* The one place a failed call is logged: handlers and the domain return errors. */
static void answer_error(struct driver_response *out, const char *path, const json_t *req,
                         struct weft_err *err)
{
    int status = status_of(err);
    driver_error_answer(status, err->msg, out);
    char shown_path[128], ids[64];
    snprintf(shown_path, sizeof(shown_path), "%s", path);
    sanitize(shown_path, true);
    sanitize(err->msg, true);
    request_ids(req, ids, sizeof(ids));
    log_info("plugin call failed", "path=%s status=%d%s err=\"%s\"", shown_path, status, ids,
             err->msg);
}

static void dispatch(struct driver_ctx *ctx, const char *path, const char *body, size_t body_len,
                     struct driver_response *out)
{
    struct weft_err err = {0};
    out->status = 500;
    out->body = NULL;
    if (!path)
        path = "";
    const struct route *route = find_route(path);
    if (!route) {
        weft_err_set(&err, -ENOSYS,
                     "unknown call %.100s: weft implements NetworkDriver and IpamDriver", path);
        answer_error(out, path, NULL, &err);
        return;
    }
    json_t *req = NULL, *answer = NULL;
    if (parse_body(body, body_len, &req, &err) < 0 || route->handler(ctx, req, &answer, &err) < 0) {
        answer_error(out, route->path, req, &err);
        json_decref(req);
        return;
    }
    out->body = json_dumps(answer, JSON_COMPACT);
    json_decref(answer);
    if (!out->body) {
        weft_err_set(&err, -ENOMEM, "out of memory encoding the answer");
        answer_error(out, route->path, req, &err);
        json_decref(req);
        return;
    }
    out->status = 200;
    char ids[64];
    request_ids(req, ids, sizeof(ids));
    json_decref(req);
    log_debug("plugin call", "path=%s status=200%s", route->path, ids);
}

/* Every call is counted and timed here, once, whichever way dispatch answered it. */
void driver_handle(struct driver_ctx *ctx, const char *path, const char *body, size_t body_len,
                   struct driver_response *out)
{
    double started = weft_metrics_now();
    dispatch(ctx, path, body, body_len, out);
    weft_metrics_plugin_call(path, out->status == 200, started);
}
