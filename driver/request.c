/*
 * request.c: parse and validate Docker's request bodies into fabric/ipam
 * structs. Owns every rule about what a request may contain; knows nothing of
 * HTTP, the store or the kernel. Callers: driver/network_api.c,
 * driver/ipam_api.c, tests.
 */
#include "driver/request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr6.h"
#include "driver/api.h"
#include "ipam/pool_id.h"

#define GENERIC_OPTIONS "com.docker.network.generic"
#define ENABLE_IPV6_OPTION "com.docker.network.enable_ipv6"
/* Sent by Docker 28 and later (docker network create --ipv4=false); absent before. */
#define ENABLE_IPV4_OPTION "com.docker.network.enable_ipv4"
#define GATEWAY_TYPE "com.docker.network.gateway"
/* Docker's own drivers' spellings of weft's options, so that commands and compose
 * files written for Docker's overlay or bridge carry over. */
#define DOCKER_MTU_OPTION "com.docker.network.driver.mtu"
#define DOCKER_VNI_OPTION "com.docker.network.driver.overlay.vxlanid_list"
/* --ipam-opt keys Docker itself may set; any other one is the user's, and refused. */
#define DOCKER_OPTION_PREFIX "com.docker."

#define MSG_NEED_IPAM                                                                              \
    "weft networks need weft IPAM: add --ipam-driver " DRIVER_ADDRESS_SPACE                        \
    " to docker network create (addresses must be allocated cluster-wide)"
#define MSG_NEED_SUBNET6                                                                           \
    "weft needs an IPv6 --subnet with --ipv6 (docker network create --ipv6 --subnet "              \
    "10.77.0.0/24 --subnet fd77::/64 ...)"
#define MSG_NEED_IPV4                                                                              \
    "weft overlays need an IPv4 subnet too (IPv6-only overlays are not supported yet): drop "      \
    "--ipv4=false from docker network create and add an IPv4 --subnet"
#define MSG_KNOWN_OPTIONS                                                                          \
    "weft knows vni (1 to 16777214; also " DOCKER_VNI_OPTION "), mtu (576 to 9000; also "     \
    DOCKER_MTU_OPTION ") and encrypted"

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* A missing or null field reads as "" unless required. */
static int get_string(const json_t *obj, const char *key, bool required, char *out, size_t size,
                      struct weft_err *err)
{
    const json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v || json_is_null(v)) {
        if (required)
            return weft_err_set(err, -EINVAL, "missing field \"%s\"", key);
        return 0;
    }
    if (!json_is_string(v))
        return weft_err_set(err, -EINVAL, "field \"%s\" must be a string, not %s", key,
                            type_name(v));
    size_t len = json_string_length(v);
    if (len >= size)
        return weft_err_set(err, -ERANGE, "field \"%s\" is too long (%zu characters, at most %zu)",
                            key, len, size - 1);
    memcpy(out, json_string_value(v), len + 1);
    return 0;
}

/* *out is NULL when the field is missing or null (and not required). */
static int get_object(const json_t *obj, const char *key, bool required, const json_t **out,
                      struct weft_err *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return weft_err_set(err, -EINVAL, "missing field \"%s\"", key);
        return 0;
    }
    if (!json_is_object(v))
        return weft_err_set(err, -EINVAL, "field \"%s\" must be an object, not %s", key,
                            type_name(v));
    *out = v;
    return 0;
}

/* A missing or null field reads as false. */
static int get_bool(const json_t *obj, const char *key, bool *out, struct weft_err *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return weft_err_set(err, -EINVAL, "field \"%s\" must be a boolean, not %s", key,
                            type_name(v));
    *out = json_is_true(v);
    return 0;
}

/* Docker IDs are 64 hex characters; accept any short alphanumeric ID so tools
 * and tests can use readable ones, but nothing that could name a path. */
static int get_id(const json_t *obj, const char *key, char out[FABRIC_ID_MAX], struct weft_err *err)
{
    if (get_string(obj, key, true, out, FABRIC_ID_MAX, err) < 0)
        return -1;
    if (out[0] == '\0')
        return weft_err_set(err, -EINVAL, "field \"%s\" is empty", key);
    for (const char *p = out; *p; p++) {
        if (!isascii((unsigned char)*p) || !isalnum((unsigned char)*p))
            return weft_err_set(err, -EINVAL,
                                "%s \"%s\" is not a Docker ID (1 to 64 letters and digits)", key,
                                out);
    }
    return 0;
}

/* Strict decimal: digits only, no sign, no spaces, within [min, max]. */
static int parse_decimal(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
    }
    unsigned long v = strtoul(text, NULL, 10);
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* vni or Docker's overlay's vxlanid_list (a comma list there, one VNI per subnet: a
 * weft network's subnets share one segment, so exactly one). Both spellings must agree. */
static int parse_vni_option(const char *key, const char *text, struct fabric_network_spec *out,
                            struct weft_err *err)
{
    unsigned long v;
    if (strchr(text, ','))
        return weft_err_set(err, -EOPNOTSUPP,
                            "option %s=\"%.32s\" names several VNIs: a weft network has one "
                            "VNI, shared by all its subnets, so pass exactly one",
                            key, text);
    if (parse_decimal(text, 1, FABRIC_VNI_MAX, &v) < 0)
        return weft_err_set(err, -EINVAL,
                            "option %s=\"%.32s\" is not valid: use a number from 1 to %u", key,
                            text, FABRIC_VNI_MAX);
    if (out->vni && out->vni != (uint32_t)v)
        return weft_err_set(err, -EINVAL,
                            "options vni and " DOCKER_VNI_OPTION " disagree (%u and %lu): pass one",
                            out->vni, v);
    out->vni = (uint32_t)v;
    return 0;
}

/* mtu or Docker's com.docker.network.driver.mtu; both spellings must agree. */
static int parse_mtu_option(const char *key, const char *text, struct fabric_network_spec *out,
                            struct weft_err *err)
{
    unsigned long v;
    if (parse_decimal(text, REQUEST_MTU_MIN, REQUEST_MTU_MAX, &v) < 0)
        return weft_err_set(err, -EINVAL,
                            "option %s=\"%.32s\" is not valid: use a number from %d to %d", key,
                            text, REQUEST_MTU_MIN, REQUEST_MTU_MAX);
    if (out->mtu && out->mtu != (int)v)
        return weft_err_set(err, -EINVAL,
                            "options mtu and " DOCKER_MTU_OPTION " disagree (%d and %lu): pass one",
                            out->mtu, v);
    out->mtu = (int)v;
    return 0;
}

static int parse_generic_options(const json_t *generic, struct fabric_network_spec *out,
                                 struct weft_err *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)generic, key, value)
    {
        if (!json_is_string(value))
            return weft_err_set(err, -EINVAL, "option %.64s must be a string, not %s", key,
                                type_name(value));
        const char *text = json_string_value(value);
        int rc = 0;
        if (strcmp(key, "vni") == 0 || strcmp(key, DOCKER_VNI_OPTION) == 0) {
            rc = parse_vni_option(key, text, out, err);
        } else if (strcmp(key, "mtu") == 0 || strcmp(key, DOCKER_MTU_OPTION) == 0) {
            rc = parse_mtu_option(key, text, out, err);
        } else if (strcmp(key, "encrypted") == 0) {
            /* Docker's overlay takes the option's presence ("-o encrypted" passes ""). */
            if (text[0] && strcmp(text, "true") != 0 && strcmp(text, "1") != 0)
                return weft_err_set(err, -EINVAL,
                                    "option encrypted=\"%.32s\" is not valid: pass -o encrypted "
                                    "(or leave it out for a plain overlay)",
                                    text);
            out->encrypted = true;
        } else {
            return weft_err_set(err, -EINVAL, "unknown option \"%.64s\": " MSG_KNOWN_OPTIONS, key);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int parse_network_options(const json_t *options, struct fabric_network_spec *out,
                                 bool *ipv6, struct weft_err *err)
{
    bool ipv4 = true;
    if (get_bool(options, ENABLE_IPV6_OPTION, ipv6, err) < 0)
        return -1;
    const json_t *v4 = json_object_get(options, ENABLE_IPV4_OPTION);
    if (v4 && !json_is_null(v4) && get_bool(options, ENABLE_IPV4_OPTION, &ipv4, err) < 0)
        return -1; /* absent (Docker before 28) means IPv4, as it always was */
    /* Checked first: an IPv6-only network also carries no IPv4Data, which would
     * otherwise be answered with the message about Docker's default IPAM. */
    if (!ipv4)
        return weft_err_set(err, -EOPNOTSUPP, MSG_NEED_IPV4);
    const json_t *generic;
    if (get_object(options, GENERIC_OPTIONS, false, &generic, err) < 0)
        return -1;
    return generic ? parse_generic_options(generic, out, err) : 0;
}

/* The gateway ("a.b.c.d/len", the address IPAM reserved): where the overlay's
 * resolver answers. Absent (older requests): the first host address. */
static int parse_gateway(const json_t *entry, const struct ipv4_subnet *subnet,
                         struct fabric_network_spec *out, struct weft_err *err)
{
    char text[ADDR_STR_MAX];
    if (get_string(entry, "Gateway", false, text, sizeof(text), err) < 0)
        return -1;
    if (!text[0])
        return 0;
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    uint32_t gateway;
    if (ipv4_parse(text, &gateway, err) < 0)
        return weft_err_wrap(err, "field \"Gateway\"");
    if (!ipv4_subnet_contains(subnet, gateway) || ipv4_subnet_is_reserved(subnet, gateway))
        return weft_err_set(err, -EINVAL, "gateway %s is not a host address of %s", text,
                            out->subnet);
    out->gateway = gateway;
    return 0;
}

static int subnet_cmp(const void *a, const void *b)
{
    const struct ipv4_subnet *x = a, *y = b;
    if (x->network != y->network)
        return x->network < y->network ? -1 : 1;
    return x->prefix_len - y->prefix_len;
}

static int parse_ipv4_data(const json_t *req, struct fabric_network_spec *out, struct weft_err *err)
{
    const json_t *data = json_object_get(req, "IPv4Data");
    if (!data || json_is_null(data))
        return weft_err_set(err, -EINVAL, MSG_NEED_IPAM);
    if (!json_is_array(data))
        return weft_err_set(err, -EINVAL, "field \"IPv4Data\" must be an array, not %s",
                            type_name(data));
    size_t n = json_array_size(data);
    if (n == 0)
        return weft_err_set(err, -EINVAL, MSG_NEED_IPAM);
    for (size_t i = 0; i < n; i++) {
        const json_t *entry = json_array_get(data, i);
        if (!json_is_object(entry))
            return weft_err_set(err, -EINVAL, "IPv4Data entries must be objects, not %s",
                                type_name(entry));
        char space[64];
        if (get_string(entry, "AddressSpace", false, space, sizeof(space), err) < 0)
            return -1;
        if (strcmp(space, DRIVER_ADDRESS_SPACE) != 0)
            return weft_err_set(err, -EINVAL, MSG_NEED_IPAM);
    }
    if (n > 1 + FABRIC_EXTRA_SUBNETS_MAX)
        return weft_err_set(err, -EOPNOTSUPP,
                            "weft networks take at most %d IPv4 --subnet, this one has %zu",
                            1 + FABRIC_EXTRA_SUBNETS_MAX, n);
    /* Docker's CLI passes several --subnet in no fixed order (a Go map), so the lowest
     * names the overlay on every host alike; the others share its segment
     * (fabric/subnets.c). */
    struct ipv4_subnet subnets[1 + FABRIC_EXTRA_SUBNETS_MAX];
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        char pool[ADDR_STR_MAX];
        if (get_string(json_array_get(data, i), "Pool", true, pool, sizeof(pool), err) < 0)
            return -1;
        if (ipv4_subnet_parse(pool, &subnets[i], err) < 0)
            return -1;
        if (subnet_cmp(&subnets[i], &subnets[first]) < 0)
            first = i;
    }
    const json_t *first_entry = json_array_get(data, first);
    qsort(subnets, n, sizeof(subnets[0]), subnet_cmp); /* the others in ascending order */
    ipv4_subnet_format(&subnets[0], out->subnet);
    for (size_t i = 1; i < n; i++)
        ipv4_subnet_format(&subnets[i], out->extra_subnets[out->extra_count++]);
    return parse_gateway(first_entry, &subnets[0], out, err);
}

static int subnet6_cmp(const void *a, const void *b)
{
    const struct ipv6_subnet *x = a, *y = b;
    int c = memcmp(x->network.bytes, y->network.bytes, sizeof(x->network.bytes));
    return c ? c : x->prefix_len - y->prefix_len;
}

/* --ipv6: the overlay's IPv6 pool (dual stack), from weft IPAM like the IPv4 one.
 * Its gateway is reserved by IPAM and otherwise unused (weft answers no gateway). */
static int parse_ipv6_data(const json_t *req, struct fabric_network_spec *out,
                           struct weft_err *err)
{
    const json_t *data = json_object_get(req, "IPv6Data");
    if (!data || json_is_null(data))
        return 0;
    if (!json_is_array(data))
        return weft_err_set(err, -EINVAL, "field \"IPv6Data\" must be an array, not %s",
                            type_name(data));
    size_t n = json_array_size(data);
    if (n == 0)
        return 0;
    if (n > 1 + FABRIC_EXTRA_SUBNETS_MAX)
        return weft_err_set(err, -EOPNOTSUPP,
                            "weft networks take at most %d IPv6 --subnet, this one has %zu",
                            1 + FABRIC_EXTRA_SUBNETS_MAX, n);
    struct ipv6_subnet subnets[1 + FABRIC_EXTRA_SUBNETS_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *entry = json_array_get(data, i);
        if (!json_is_object(entry))
            return weft_err_set(err, -EINVAL, "IPv6Data entries must be objects, not %s",
                                type_name(entry));
        char space[64], pool[ADDR_STR_MAX];
        if (get_string(entry, "AddressSpace", false, space, sizeof(space), err) < 0)
            return -1;
        if (strcmp(space, DRIVER_ADDRESS_SPACE) != 0)
            return weft_err_set(err, -EINVAL, MSG_NEED_IPAM);
        if (get_string(entry, "Pool", true, pool, sizeof(pool), err) < 0)
            return -1;
        if (ipv6_subnet_parse(pool, &subnets[i], err) < 0)
            return weft_err_wrap(err, "field \"IPv6Data\"");
    }
    /* As for IPv4: in ascending order, the lowest the network's subnet6, on every host. */
    qsort(subnets, n, sizeof(subnets[0]), subnet6_cmp);
    ipv6_subnet_format(&subnets[0], out->subnet6);
    for (size_t i = 1; i < n; i++)
        ipv6_subnet_format(&subnets[i], out->extra_subnets6[out->extra6_count++]);
    return 0;
}

int request_network_create(const json_t *req, struct fabric_network_spec *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (get_id(req, "NetworkID", out->network_id, err) < 0)
        return -1;
    const json_t *options;
    if (get_object(req, "Options", false, &options, err) < 0)
        return -1;
    bool ipv6 = false;
    if (options && parse_network_options(options, out, &ipv6, err) < 0)
        return -1;
    if (parse_ipv4_data(req, out, err) < 0 || parse_ipv6_data(req, out, err) < 0)
        return -1;
    if (ipv6 && !out->subnet6[0]) /* weft IPAM refuses such a pool: not from Docker */
        return weft_err_set(err, -EINVAL, MSG_NEED_SUBNET6);
    return 0;
}

int request_endpoint_create(const json_t *req, struct fabric_endpoint_spec *out,
                            struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (get_id(req, "NetworkID", out->network_id, err) < 0 ||
        get_id(req, "EndpointID", out->endpoint_id, err) < 0)
        return -1;
    const json_t *iface;
    if (get_object(req, "Interface", false, &iface, err) < 0)
        return -1;
    if (!iface)
        return weft_err_set(err, -EINVAL, "weft needs an IPv4 address for every endpoint");

    char text[ADDR_STR_MAX];
    if (get_string(iface, "AddressIPv6", false, text, sizeof(text), err) < 0)
        return -1;
    if (text[0]) {
        if (ipv6_parse_with_prefix(text, &out->ip6, &out->prefix6_len, err) < 0)
            return -1;
        if (out->prefix6_len < IPV6_POOL_PREFIX_MIN || out->prefix6_len > IPV6_POOL_PREFIX_MAX)
            return weft_err_set(
                err, -EINVAL,
                "address %.48s: prefix length must be the network's (/%d to /%d), not /%d", text,
                IPV6_POOL_PREFIX_MIN, IPV6_POOL_PREFIX_MAX, out->prefix6_len);
        out->has_ip6 = true;
    }
    if (get_string(iface, "Address", false, text, sizeof(text), err) < 0)
        return -1;
    if (!text[0])
        return weft_err_set(err, -EINVAL, "weft needs an IPv4 address for every endpoint");
    if (ipv4_parse_with_prefix(text, &out->ip, &out->prefix_len, err) < 0)
        return -1;
    /* The prefix is the network's, and weft subnets are /8 to /30: anything else
     * (fabric would read /0 as "the network's") is not from Docker. */
    if (out->prefix_len < REQUEST_PREFIX_MIN || out->prefix_len > REQUEST_PREFIX_MAX)
        return weft_err_set(
            err, -EINVAL,
            "address %.32s: prefix length must be the network's (/%d to /%d), not /%d", text,
            REQUEST_PREFIX_MIN, REQUEST_PREFIX_MAX, out->prefix_len);
    if (get_string(iface, "MacAddress", false, text, sizeof(text), err) < 0)
        return -1;
    if (text[0]) {
        if (mac_parse(text, out->mac, err) < 0)
            return -1;
        out->has_mac = true;
    }
    return 0;
}

int request_ids(const json_t *req, char network_id[FABRIC_ID_MAX], char endpoint_id[FABRIC_ID_MAX],
                struct weft_err *err)
{
    if (get_id(req, "NetworkID", network_id, err) < 0)
        return -1;
    if (endpoint_id && get_id(req, "EndpointID", endpoint_id, err) < 0)
        return -1;
    return 0;
}

/* V6 says which family Docker wants; an empty IPv6 pool (--ipv6 without an IPv6
 * --subnet) would otherwise be answered with the IPv4 message. */
static int check_pool_family(const char *pool, bool v6, struct weft_err *err)
{
    if (v6 && !pool[0])
        return weft_err_set(err, -EINVAL, MSG_NEED_SUBNET6);
    if (pool[0] && v6 != addr_text_is_ipv6(pool))
        return weft_err_set(err, -EINVAL, "pool %s is not an IPv%d subnet (field \"V6\" is %s)",
                            pool, v6 ? 6 : 4, v6 ? "true" : "false");
    return 0;
}

/* --ipam-opt: weft's IPAM has no options; keys Docker itself sets pass. */
static int check_ipam_options(const json_t *options, struct weft_err *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)options, key, value)
    {
        (void)value;
        if (strncmp(key, DOCKER_OPTION_PREFIX, strlen(DOCKER_OPTION_PREFIX)) != 0)
            return weft_err_set(err, -EOPNOTSUPP,
                                "--ipam-opt %.64s is not supported: weft IPAM takes no options "
                                "(its pools are set by --subnet, --ip-range, --gateway and "
                                "--aux-address)",
                                key);
    }
    return 0;
}

int request_pool(const json_t *req, struct request_pool *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    bool v6;
    if (get_bool(req, "V6", &v6, err) < 0)
        return -1;
    if (get_string(req, "SubPool", false, out->sub_pool, sizeof(out->sub_pool), err) < 0)
        return -1;
    const json_t *options;
    if (get_object(req, "Options", false, &options, err) < 0)
        return -1;
    if (options && check_ipam_options(options, err) < 0)
        return -1;
    char space[64];
    if (get_string(req, "AddressSpace", false, space, sizeof(space), err) < 0)
        return -1;
    if (get_string(req, "Pool", false, out->pool, sizeof(out->pool), err) < 0)
        return -1;
    return check_pool_family(out->pool, v6, err);
}

/* PoolID is one ipam/ handed out (ipam/pool_id.h; an IPv6 one is its canonical
 * subnet); written back canonical, with its subnet beside it. */
static int get_pool_id(const json_t *req, struct request_address *out, struct weft_err *err)
{
    if (get_string(req, "PoolID", true, out->pool_id, sizeof(out->pool_id), err) < 0)
        return -1;
    if (addr_text_is_ipv6(out->pool_id)) {
        struct ipv6_subnet subnet6;
        if (ipv6_subnet_parse(out->pool_id, &subnet6, err) < 0)
            return weft_err_wrap(err, "PoolID");
        ipv6_subnet_format(&subnet6, out->pool_id);
        snprintf(out->subnet, sizeof(out->subnet), "%.47s", out->pool_id); /* canonical: fits */
        return 0;
    }
    struct ipam_pool pool;
    if (ipam_pool_parse(out->pool_id, &pool, err) < 0)
        return weft_err_wrap(err, "PoolID");
    ipam_pool_format(&pool, out->pool_id);
    snprintf(out->subnet, sizeof(out->subnet), "%s", pool.subnet_text);
    return 0;
}

/* A plain IP (Docker sends no prefix in IPAM requests), IPv4 or IPv6; written
 * back canonical. */
static int get_address(const json_t *req, bool required, char address[ADDR_STR_MAX],
                       struct weft_err *err)
{
    if (get_string(req, "Address", required, address, ADDR_STR_MAX, err) < 0)
        return -1;
    if (!address[0]) {
        if (required)
            return weft_err_set(err, -EINVAL, "field \"Address\" is empty");
        return 0;
    }
    if (addr_text_is_ipv6(address)) {
        struct ipv6_addr ip6;
        if (ipv6_parse(address, &ip6, err) < 0)
            return -1;
        ipv6_format(&ip6, address);
        return 0;
    }
    uint32_t ip;
    if (ipv4_parse(address, &ip, err) < 0)
        return -1;
    ipv4_format(ip, address);
    return 0;
}

/* An address of the other family than its pool's is refused here, by name. */
static int check_address_family(const struct request_address *r, struct weft_err *err)
{
    bool v6 = addr_text_is_ipv6(r->pool_id);
    if (r->address[0] && addr_text_is_ipv6(r->address) != v6)
        return weft_err_set(err, -EINVAL, "address %s is not an IPv%d address of pool %s",
                            r->address, v6 ? 6 : 4, r->pool_id);
    return 0;
}

int request_address(const json_t *req, struct request_address *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (get_pool_id(req, out, err) < 0 || get_address(req, false, out->address, err) < 0 ||
        check_address_family(out, err) < 0)
        return -1;
    const json_t *options;
    if (get_object(req, "Options", false, &options, err) < 0)
        return -1;
    if (options) {
        char type[64];
        if (get_string(options, "RequestAddressType", false, type, sizeof(type), err) < 0)
            return -1;
        out->gateway = strcmp(type, GATEWAY_TYPE) == 0;
    }
    return 0;
}

int request_release_address(const json_t *req, struct request_address *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (get_pool_id(req, out, err) < 0 || get_address(req, true, out->address, err) < 0)
        return -1;
    return check_address_family(out, err);
}

int request_release_pool(const json_t *req, struct request_address *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    return get_pool_id(req, out, err);
}
