/*
 * names.c: a container's inspect answer read into its endpoints and their DNS
 * names (see names.h). Pure.
 */
#include "docker/names.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

bool docker_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (n >= DOCKER_ID_MAX ||
            !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return n > 0;
}

bool docker_dns_name_valid(const char *name)
{
    size_t label = 0, total = 0;
    for (const char *p = name; *p; p++, total++) {
        char c = *p;
        if (c == '.') {
            if (label == 0)
                return false; /* leading dot or two in a row */
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
        if (++label > DOCKER_DNS_LABEL_MAX)
            return false;
    }
    return label > 0 && total <= DOCKER_DNS_NAME_MAX;
}

/* Whether the space-separated list holds name. */
static bool names_hold(const char *names, const char *name, size_t n)
{
    for (const char *p = names; *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p += len + (end ? 1 : 0);
    }
    return false;
}

/* Adds one name as Docker spelled it (n bytes, maybe with NULs from \u0000):
 * lowercased, checked, once, and only if it fits. */
static void add_name(struct docker_endpoint *ep, const char *name, size_t n)
{
    char lower[DOCKER_DNS_NAME_MAX + 1];
    if (n == 0 || n > DOCKER_DNS_NAME_MAX) {
        ep->dropped_invalid++;
        return;
    }
    for (size_t i = 0; i < n; i++)
        lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    lower[n] = '\0';
    if (strlen(lower) != n || !docker_dns_name_valid(lower)) {
        ep->dropped_invalid++;
        return;
    }
    if (names_hold(ep->names, lower, n))
        return;
    size_t len = strlen(ep->names), need = n + (len > 0);
    if (len + need >= DOCKER_NAMES_MAX) {
        ep->dropped_long++;
        return;
    }
    if (len > 0)
        ep->names[len++] = ' ';
    memcpy(ep->names + len, lower, n + 1);
}

/* Adds every string of a JSON array (anything else in it is skipped); returns how many
 * strings it held. */
static size_t add_array(struct docker_endpoint *ep, const json_t *array)
{
    size_t i, strings = 0;
    const json_t *v;
    if (!json_is_array(array))
        return 0;
    json_array_foreach(array, i, v)
    {
        if (!json_is_string(v)) {
            ep->dropped_invalid++;
            continue;
        }
        strings++;
        add_name(ep, json_string_value(v), json_string_length(v));
    }
    return strings;
}

/* A string member copied into out (size bytes) if it is an ID; "" when absent or empty.
 * -1 when it is there but not an ID. */
static int get_id(const json_t *obj, const char *key, char *out, size_t size)
{
    const json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        !docker_id_valid(json_string_value(v)))
        return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

struct who {
    const char *name; /* the container's name without its "/"; NULL if none */
    size_t name_len;
    const char *short_id;
};

/* One network's entry: 1 read into ep, 0 no endpoint there, -1 unusable. */
static int read_endpoint(const json_t *net, const struct who *who, struct docker_endpoint *ep)
{
    memset(ep, 0, sizeof(*ep));
    if (!json_is_object(net))
        return -1;
    if (get_id(net, "EndpointID", ep->endpoint_id, sizeof(ep->endpoint_id)) < 0)
        return -1;
    if (!ep->endpoint_id[0])
        return 0;
    if (get_id(net, "NetworkID", ep->network_id, sizeof(ep->network_id)) < 0 || !ep->network_id[0])
        return -1;
    /* Docker 25+ (API 1.44) lists every name its own DNS answers to; older ones
     * leave it to the name, the aliases and the short ID. */
    if (add_array(ep, json_object_get(net, "DNSNames")) == 0) {
        if (who->name)
            add_name(ep, who->name, who->name_len);
        add_array(ep, json_object_get(net, "Aliases"));
        add_name(ep, who->short_id, strlen(who->short_id));
    }
    return ep->names[0] ? 1 : -1;
}

static int read_endpoints(struct docker_container *out, const json_t *networks,
                          const struct who *who, struct weft_err *err)
{
    size_t n = json_object_size(networks);
    if (n == 0)
        return 0;
    out->endpoints = calloc(n, sizeof(*out->endpoints));
    if (!out->endpoints)
        return weft_err_set(err, -ENOMEM, "no memory for %zu endpoints", n);
    const char *key;
    const json_t *net;
    json_object_foreach((json_t *)networks, key, net)
    {
        (void)key;
        int rc = read_endpoint(net, who, &out->endpoints[out->count]);
        if (rc > 0)
            out->count++;
        else if (rc < 0)
            out->skipped++;
    }
    return 0;
}

int docker_container_parse(struct docker_container *out, const char *json, size_t len,
                           struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return weft_err_set(err, -EPROTO, "container inspect is not JSON: %s", jerr.text);
    int rc = 0;
    if (!json_is_object(root) || get_id(root, "Id", out->id, sizeof(out->id)) < 0 || !out->id[0]) {
        rc = weft_err_set(err, -EPROTO, "container inspect has no valid Id");
        goto out;
    }
    char short_id[DOCKER_SHORT_ID_LEN + 1] = "";
    size_t short_len =
        strlen(out->id) < DOCKER_SHORT_ID_LEN ? strlen(out->id) : DOCKER_SHORT_ID_LEN;
    memcpy(short_id, out->id, short_len);
    struct who who = {.short_id = short_id};
    const json_t *name = json_object_get(root, "Name");
    if (json_is_string(name)) {
        who.name = json_string_value(name);
        who.name_len = json_string_length(name);
        if (who.name_len > 0 && who.name[0] == '/')
            who.name++, who.name_len--;
    }
    const json_t *networks = json_object_get(json_object_get(root, "NetworkSettings"), "Networks");
    if (json_is_object(networks))
        rc = read_endpoints(out, networks, &who, err);
out:
    json_decref(root);
    return rc;
}

void docker_container_free(struct docker_container *c)
{
    free(c->endpoints);
    c->endpoints = NULL;
    c->count = 0;
}
